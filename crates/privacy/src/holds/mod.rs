//! Legal holds: an order to keep data — for litigation, an investigation, a regulator's
//! request — that overrides retention and erasure (GDPR Art. 17(3)(e), HIPAA 164.316(b)(2)
//! in practice). A hold names a case and a reason and covers data subjects, datasets of the
//! data map (`system` or `system.table`), or both; it lasts until it is lifted or its
//! optional end passes.
//!
//! Placing and lifting are ledger events (`evident.privacy.hold.placed`, `….lifted`, in the
//! reserved family so no client can forge or lift one), and the holds in force are folded
//! back from them, so the ledger alone says what was held when. Subjects are never written in
//! clear: the event carries each subject's keyed name (the one the crypto part names the
//! subject's own key by), which [`Holds::blocking`] recomputes from the raw id, so the ledger
//! reveals neither who is held nor whether a given person is, without the engine's keys.
//!
//! Retention purges and erasure ask [`Holds::blocking`] before they touch a subject's rows or
//! a dataset, and record the holds that stopped them.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use evident_core::event::{format_time, now_us, system_event, ActorType, AuditEvent, Severity};
use evident_core::log::Log;
use evident_core::{Error, Result};
use evident_crypto::host::KeyHost;

use crate::consent::model::check_subject;
use crate::datamap::DataMap;
use crate::events::{all_events, text, texts};

/// The ledger action of a hold placed.
pub const PLACED: &str = "evident.privacy.hold.placed";
/// The ledger action of a hold lifted.
pub const LIFTED: &str = "evident.privacy.hold.lifted";
/// The most subjects one hold names (a larger case is several holds).
pub const MAX_SUBJECTS: usize = 10_000;
/// The longest case name.
pub const MAX_CASE_CHARS: usize = 128;
/// The longest reason.
pub const MAX_REASON_CHARS: usize = 1_000;

/// What placing a hold asks for.
#[derive(Debug, Clone, Default)]
pub struct HoldRequest {
    /// the case it belongs to (a matter number, `Doe v. Clinic`, …)
    pub case: String,
    /// why the data must be kept
    pub reason: String,
    /// the data subjects it covers (raw ids; only their keyed names are recorded)
    pub subjects: Vec<String>,
    /// the datasets it covers: `system` or `system.table` of the data map
    pub datasets: Vec<String>,
    /// when it ends by itself, µs (none: until lifted)
    pub until_us: Option<i64>,
}

/// A hold as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    /// `hold-…`
    pub hold_id: String,
    /// its case
    pub case: String,
    /// why
    pub reason: String,
    /// how many subjects it covers
    pub subjects: usize,
    /// the subjects' keyed names
    #[serde(skip)]
    pub subject_keys: Vec<String>,
    /// the datasets it covers
    pub datasets: Vec<String>,
    /// who placed it
    pub placed_by: String,
    /// when, RFC 3339
    pub placed_at: String,
    /// when it ends by itself, RFC 3339
    pub until: Option<String>,
    /// µs of `until`
    #[serde(skip)]
    pub until_us: Option<i64>,
    /// the ledger index of its placing
    pub index: u64,
    /// its lifting, if lifted
    pub lifted: Option<Lifted>,
}

/// How a hold was lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lifted {
    /// who lifted it
    pub by: String,
    /// when, RFC 3339
    pub at: String,
    /// why
    pub reason: String,
    /// the ledger index of the lifting
    pub index: u64,
}

impl Hold {
    /// Whether it holds at `now_us`: not lifted and not ended.
    pub fn in_force(&self, now_us: i64) -> bool {
        self.lifted.is_none() && self.until_us.is_none_or(|until| until > now_us)
    }

    /// Whether it covers `dataset` (`system.table`): it names the table or its system.
    pub fn covers_dataset(&self, system: &str, table: &str) -> bool {
        self.datasets.iter().any(|d| match d.split_once('.') {
            Some((s, t)) => s == system && t == table,
            None => d == system,
        })
    }
}

/// The legal holds of one engine.
pub struct Holds<'e> {
    engine: KeyHost<'e>,
    log: Log<'e>,
}

impl<'e> Holds<'e> {
    /// The holds of the engine behind `engine`, read through `log`.
    pub fn new(engine: KeyHost<'e>, log: Log<'e>) -> Self {
        Holds { engine, log }
    }

    /// Places a hold. `map` is the active data map, which every dataset must be in.
    pub fn place(&self, request: &HoldRequest, map: Option<&DataMap>, actor: &str) -> Result<Hold> {
        self.place_at(request, map, actor, now_us())
    }

    /// [`Holds::place`] as of `now` (tests).
    pub fn place_at(
        &self,
        request: &HoldRequest,
        map: Option<&DataMap>,
        actor: &str,
        now: i64,
    ) -> Result<Hold> {
        let (case, reason) = check_request(request, map, now)?;
        let redaction = self.engine.redaction();
        let mut subject_keys = Vec::with_capacity(request.subjects.len());
        for subject in &request.subjects {
            check_subject(subject)?;
            let key = redaction.subject_key_name(subject);
            if !subject_keys.contains(&key) {
                subject_keys.push(key);
            }
        }
        let mut datasets = request.datasets.clone();
        datasets.sort();
        datasets.dedup();
        let hold_id = new_id()?;
        let event = placed_event(
            &hold_id,
            &case,
            &redaction.text(&reason),
            &subject_keys,
            &datasets,
            request.until_us,
            actor,
        );
        let receipt = self.engine.append_blocking(vec![event])?;
        let index = receipt.receipts.first().map_or(0, |r| r.index);
        Ok(Hold {
            hold_id,
            case,
            reason: redaction.text(&reason),
            subjects: subject_keys.len(),
            subject_keys,
            datasets,
            placed_by: actor.to_owned(),
            placed_at: format_time(now),
            until: request.until_us.map(format_time),
            until_us: request.until_us,
            index,
            lifted: None,
        })
    }

    /// Lifts hold `hold_id`: unknown → not found, lifted already → conflict.
    pub fn lift(&self, hold_id: &str, reason: &str, actor: &str) -> Result<Hold> {
        let reason = check_reason(reason)?;
        let mut hold = self
            .all()?
            .into_iter()
            .find(|h| h.hold_id == hold_id)
            .ok_or_else(|| Error::NotFound(format!("no legal hold `{}`", clip(hold_id))))?;
        if let Some(l) = &hold.lifted {
            return Err(Error::Conflict(format!(
                "hold `{hold_id}` was lifted already, at {} by {}",
                l.at, l.by
            )));
        }
        let reason = self.engine.redaction().text(&reason);
        let mut event = system_event(
            LIFTED,
            "legal_hold",
            Some(hold_id),
            json!({ "hold_id": hold_id, "case": hold.case, "reason": reason }),
        );
        event.actor.id = actor.to_owned();
        event.actor.kind = ActorType::User;
        event.severity = Some(Severity::Medium);
        event.reason = Some(reason.clone());
        let receipt = self.engine.append_blocking(vec![event])?;
        hold.lifted = Some(Lifted {
            by: actor.to_owned(),
            at: format_time(now_us()),
            reason,
            index: receipt.receipts.first().map_or(0, |r| r.index),
        });
        Ok(hold)
    }

    /// Every hold ever placed, oldest first, with its lifting if lifted.
    pub fn all(&self) -> Result<Vec<Hold>> {
        let mut holds: Vec<Hold> = Vec::new();
        for record in all_events(&self.log, |q| q.action = Some(PLACED.into()))? {
            let until = text(&record, "/metadata/until");
            let until_us = if until.is_empty() {
                None
            } else {
                Some(evident_core::event::parse_time(&until)?)
            };
            holds.push(Hold {
                hold_id: text(&record, "/metadata/hold_id"),
                case: text(&record, "/metadata/case"),
                reason: text(&record, "/metadata/reason"),
                subject_keys: texts(&record, "/metadata/subject_keys"),
                subjects: texts(&record, "/metadata/subject_keys").len(),
                datasets: texts(&record, "/metadata/datasets"),
                placed_by: text(&record, "/actor/id"),
                placed_at: text(&record, "/received_at"),
                until: (!until.is_empty()).then_some(until),
                until_us,
                index: record.index,
                lifted: None,
            });
        }
        let by_id: BTreeMap<String, usize> = holds
            .iter()
            .enumerate()
            .map(|(i, h)| (h.hold_id.clone(), i))
            .collect();
        for record in all_events(&self.log, |q| q.action = Some(LIFTED.into()))? {
            let id = text(&record, "/metadata/hold_id");
            if let Some(&i) = by_id.get(&id) {
                // The first lifting counts; `lift` refuses a second.
                if holds[i].lifted.is_none() {
                    holds[i].lifted = Some(Lifted {
                        by: text(&record, "/actor/id"),
                        at: text(&record, "/received_at"),
                        reason: text(&record, "/metadata/reason"),
                        index: record.index,
                    });
                }
            }
        }
        Ok(holds)
    }

    /// The holds in force at `now`.
    pub fn in_force(&self, now: i64) -> Result<Vec<Hold>> {
        Ok(self
            .all()?
            .into_iter()
            .filter(|h| h.in_force(now))
            .collect())
    }

    /// The holds in force at `now` that stop touching `subject` (when given) or the dataset
    /// `system.table` (when given): a hold naming the subject, or the table or its system.
    pub fn blocking(
        &self,
        subject: Option<&str>,
        dataset: Option<(&str, &str)>,
        now: i64,
    ) -> Result<Vec<Hold>> {
        let key = subject.map(|s| self.engine.redaction().subject_key_name(s));
        Ok(self
            .in_force(now)?
            .into_iter()
            .filter(|h| {
                key.as_ref().is_some_and(|k| h.subject_keys.contains(k))
                    || dataset.is_some_and(|(s, t)| h.covers_dataset(s, t))
            })
            .collect())
    }
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

fn check_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::BadRequest("a legal hold needs a reason".into()));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::BadRequest(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    if reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::BadRequest(
            "the reason holds a control character".into(),
        ));
    }
    Ok(reason.to_owned())
}

/// Checks a request: the case and reason, something covered, datasets in the map, an end in
/// the future. Answers the trimmed case and reason.
fn check_request(
    request: &HoldRequest,
    map: Option<&DataMap>,
    now: i64,
) -> Result<(String, String)> {
    let case = request.case.trim();
    if case.is_empty() {
        return Err(Error::BadRequest("a legal hold needs a case name".into()));
    }
    if case.chars().count() > MAX_CASE_CHARS || case.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "the case name must be at most {MAX_CASE_CHARS} characters without control characters"
        )));
    }
    let reason = check_reason(&request.reason)?;
    if request.subjects.is_empty() && request.datasets.is_empty() {
        return Err(Error::BadRequest(
            "a legal hold covers at least one subject or dataset".into(),
        ));
    }
    if request.subjects.len() > MAX_SUBJECTS {
        return Err(Error::BadRequest(format!(
            "one hold names at most {MAX_SUBJECTS} subjects; place several"
        )));
    }
    if !request.datasets.is_empty() {
        let map = map.ok_or_else(|| {
            Error::BadRequest(
                "no data map is applied: a dataset is `system` or `system.table` of the active map \
                 (`evident privacy map apply FILE`)"
                    .into(),
            )
        })?;
        for dataset in &request.datasets {
            let known = match dataset.split_once('.') {
                Some((system, table)) => {
                    map.system(system).is_some_and(|s| s.table(table).is_some())
                }
                None => map.system(dataset).is_some(),
            };
            if !known {
                return Err(Error::BadRequest(format!(
                    "`{}` is not a system or `system.table` of the active data map",
                    clip(dataset)
                )));
            }
        }
    }
    if let Some(until) = request.until_us {
        if until <= now {
            return Err(Error::BadRequest(format!(
                "the hold would end at {}, which is not in the future",
                format_time(until)
            )));
        }
    }
    Ok((case.to_owned(), reason))
}

fn placed_event(
    hold_id: &str,
    case: &str,
    reason: &str,
    subject_keys: &[String],
    datasets: &[String],
    until_us: Option<i64>,
    actor: &str,
) -> AuditEvent {
    let mut metadata = json!({
        "hold_id": hold_id,
        "case": case,
        "reason": reason,
        "subject_keys": subject_keys,
        "datasets": datasets,
    });
    if let (Some(until), Some(object)) = (until_us, metadata.as_object_mut()) {
        object.insert("until".into(), format_time(until).into());
    }
    let mut event = system_event(PLACED, "legal_hold", Some(hold_id), metadata);
    event.actor.id = actor.to_owned();
    event.actor.kind = ActorType::User;
    event.severity = Some(Severity::Medium);
    event.reason = Some(reason.to_owned());
    event
}

/// `hold-` and 96 random bits, hex.
fn new_id() -> Result<String> {
    let random = evident_core::aead::random_key()?;
    Ok(format!("hold-{}", hex::encode(&random[..12])))
}
