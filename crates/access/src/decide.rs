//! The life of a decision: [`Access::prepare`] decides and builds the ledger events,
//! the caller appends them, and [`Access::settle`] turns the append's outcome into the
//! [`Answer`] (a deny for a regulated decision the ledger could not record).
//! [`Access::evaluate`] and [`Access::evaluate_blocking`] do all three; [`decide_offline`]
//! makes the same decisions with nothing logged.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::authzen::{self, DecisionResponse, EvaluationsRequest, EvaluationsResponse, Semantic};
use crate::batch::decide_all;
use crate::caller::Caller;
use crate::events::{decision_event, error_event};
use crate::pack::CompiledPack;
use crate::pdp::Denial;
use crate::state::Access;
use evident_core::event::{now_us, system_event, AuditEvent, Outcome};
use evident_core::sequencer::BatchReceipt;
use evident_core::store::BreakGlassRecord;
use evident_core::{Error, Result};

/// Decisions made but not yet answered: the events to append first.
pub struct Pending {
    answers: Vec<DecisionResponse>,
    /// one event per answer, to append in one batch
    pub events: Vec<AuditEvent>,
    regulated: Vec<bool>,
    break_glass: Vec<BreakGlassRecord>,
    /// the decision ids, in order
    pub decision_ids: Vec<String>,
    single: bool,
}

/// What `/evaluation` or `/evaluations` answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// a single evaluation
    One(DecisionResponse),
    /// a batch
    Many(EvaluationsResponse),
}

impl Access<'_> {
    /// Decides a single evaluation or a batch and builds the events that must be durable
    /// before anything is answered. A malformed single evaluation is an error (HTTP 400);
    /// in a batch it is that item's error.
    pub fn prepare(
        &self,
        batch: &EvaluationsRequest,
        caller: &Caller,
        request_id: Option<&str>,
    ) -> Result<Pending> {
        let pack = self.require_active()?;
        let items = batch.items();
        if items.len() > authzen::MAX_EVALUATIONS {
            return Err(Error::BadRequest(format!(
                "a batch holds at most {} evaluations, got {}",
                authzen::MAX_EVALUATIONS,
                items.len()
            )));
        }
        let single = batch.is_single();
        let semantic = batch.semantic();
        let now = now_us() / 1_000_000;
        let mut pending = Pending {
            answers: Vec::with_capacity(items.len()),
            events: Vec::with_capacity(items.len()),
            regulated: Vec::with_capacity(items.len()),
            break_glass: Vec::new(),
            decision_ids: Vec::with_capacity(items.len()),
            single,
        };
        let items = self.with_consent(&pack, items)?;
        let (items, verdicts) = decide_all(&pack, items, now);
        for (item, verdict) in items.iter().zip(verdicts) {
            let id = decision_id()?;
            let (answer, event, regulated) = match item {
                Ok(req) => match verdict {
                    Ok(verdict) => {
                        let event = decision_event(&pack, req, &verdict, &id, caller, request_id);
                        if let Some(justification) = &verdict.break_glass {
                            // The review queue is kept beside the ledger: what the
                            // decision event masks, it masks too.
                            let mask = |text: &str| self.recorder.redaction().text(text);
                            pending.break_glass.push(BreakGlassRecord {
                                id: id.clone(),
                                decision_id: id.clone(),
                                subject: mask(&format!(
                                    "{}::\"{}\"",
                                    req.subject.kind, req.subject.id
                                )),
                                action: mask(&req.action.name),
                                resource: mask(&format!(
                                    "{}::\"{}\"",
                                    req.resource.kind, req.resource.id
                                )),
                                justification: mask(justification),
                                policies: verdict.determining.join(","),
                                opened_us: now_us(),
                                reviewer: None,
                                outcome: None,
                                note: None,
                                closed_us: None,
                            });
                        }
                        let answer = DecisionResponse {
                            decision: verdict.allowed,
                            context: verdict.response_context(&pack),
                        };
                        (answer, event, verdict.regulated)
                    }
                    Err(e) if single => return Err(e),
                    Err(e) => {
                        let event =
                            error_event(&pack, req, &e.to_string(), &id, caller, request_id);
                        (DecisionResponse::error(400, e.to_string()), event, false)
                    }
                },
                Err(message) if single => return Err(Error::BadRequest(message.clone())),
                Err(message) => {
                    let mut event = system_event(
                        "access.evaluate",
                        "unknown",
                        None,
                        json!({"decision_id": id, "decision": false, "errors": [message]}),
                    );
                    event.outcome = Outcome::Error;
                    event.request_id = request_id.map(str::to_string);
                    (DecisionResponse::error(400, message.clone()), event, false)
                }
            };
            let decided = answer.decision;
            pending.answers.push(answer);
            pending.events.push(event);
            pending.regulated.push(regulated);
            pending.decision_ids.push(id);
            match semantic {
                Semantic::DenyOnFirstDeny if !decided => break,
                Semantic::PermitOnFirstPermit if decided => break,
                _ => {}
            }
        }
        Ok(pending)
    }

    /// Turns the append's outcome into the answer: regulated decisions that were not
    /// recorded become denies; break-glass grants enter the review queue.
    pub fn settle(&self, mut pending: Pending, appended: Result<BatchReceipt>) -> Answer {
        match appended {
            Ok(_) => {
                if !pending.break_glass.is_empty() {
                    let stored = self.recorder.connect_store().and_then(|mut s| {
                        pending
                            .break_glass
                            .iter()
                            .try_for_each(|r| s.insert_break_glass(r))
                    });
                    if let Err(e) = stored {
                        // The grant is in the ledger; the queue is rebuilt from it if needed.
                        tracing::error!(error = %e, "could not queue a break-glass review");
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the ledger could not record access decisions");
                for (answer, regulated) in pending.answers.iter_mut().zip(&pending.regulated) {
                    if *regulated {
                        *answer = DecisionResponse {
                            decision: false,
                            context: Some(json!({"reason": Denial::NotRecorded.code()})),
                        };
                    } else {
                        let mut ctx = answer
                            .context
                            .take()
                            .and_then(|c| c.as_object().cloned())
                            .unwrap_or_default();
                        ctx.insert("recorded".into(), false.into());
                        answer.context = Some(Value::Object(ctx));
                    }
                }
            }
        }
        if pending.single {
            Answer::One(
                pending
                    .answers
                    .into_iter()
                    .next()
                    .unwrap_or(DecisionResponse {
                        decision: false,
                        context: None,
                    }),
            )
        } else {
            Answer::Many(EvaluationsResponse {
                evaluations: pending.answers,
            })
        }
    }

    /// Decide, log (blocking) and answer: for the CLI and tests.
    pub fn evaluate_blocking(
        &self,
        batch: &EvaluationsRequest,
        caller: &Caller,
        request_id: Option<&str>,
    ) -> Result<Answer> {
        let mut pending = self.prepare(batch, caller, request_id)?;
        let appended = self
            .recorder
            .append_blocking(std::mem::take(&mut pending.events));
        Ok(self.settle(pending, appended))
    }

    /// Decide, log and answer, in an async runtime.
    pub async fn evaluate(
        &self,
        batch: &EvaluationsRequest,
        caller: &Caller,
        request_id: Option<&str>,
    ) -> Result<Answer> {
        let mut pending = self.prepare(batch, caller, request_id)?;
        let appended = self
            .recorder
            .append(std::mem::take(&mut pending.events))
            .await;
        Ok(self.settle(pending, appended))
    }
}

/// Decides a request against a pack without logging: for `evident policy test` and
/// benchmarks of the decision core. A malformed item is that item's error.
pub fn decide_offline(
    pack: &Arc<CompiledPack>,
    batch: &EvaluationsRequest,
    now: i64,
) -> Result<Answer> {
    let single = batch.is_single();
    let semantic = batch.semantic();
    let mut answers = Vec::new();
    let (items, verdicts) = decide_all(pack, batch.items(), now);
    for (item, verdict) in items.iter().zip(verdicts) {
        let answer = match item
            .as_ref()
            .map_err(|m| Error::BadRequest(m.clone()))
            .and(verdict)
        {
            Ok(verdict) => DecisionResponse {
                decision: verdict.allowed,
                context: verdict.response_context(pack),
            },
            Err(e) if single => return Err(e),
            Err(e) => DecisionResponse::error(400, e.to_string()),
        };
        let decided = answer.decision;
        answers.push(answer);
        match semantic {
            Semantic::DenyOnFirstDeny if !decided => break,
            Semantic::PermitOnFirstPermit if decided => break,
            _ => {}
        }
    }
    Ok(if single {
        Answer::One(answers.into_iter().next().unwrap_or(DecisionResponse {
            decision: false,
            context: None,
        }))
    } else {
        Answer::Many(EvaluationsResponse {
            evaluations: answers,
        })
    })
}

/// A fresh decision id: `dec_` and 24 random hex digits.
fn decision_id() -> Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| Error::Crypto(format!("no randomness: {e}")))?;
    Ok(format!("dec_{}", hex::encode(bytes)))
}
