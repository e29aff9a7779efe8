//! # evident-access
//!
//! The access part: a Cedar policy decision point behind the OpenID AuthZEN API, where every
//! decision is a ledger event. It stands on `evident-core` alone: the engine it runs in is a
//! [`Recorder`] (append, store), and its own state an [`AccessState`]; the `evident` facade
//! hands one out as `engine.access()`.
//!
//! - [`pack`]: policy packs (schema, policies, entity data, settings), validated strictly,
//!   versioned by content hash; every change is a ledger event with a readable diff.
//! - [`authzen`]: the AuthZEN 1.0 wire types.
//! - [`pdp`]: one request against one pack — Cedar's answer plus break-glass, step-up hints
//!   and the regulated-data flag.
//! - [`review`]: who can do what, by exhaustive evaluation over the entity data.
//!
//! Decisions are logged before they are answered: [`Access::prepare`] decides and builds the
//! events, the caller appends them (async in the server, blocking in the CLI), and
//! [`Access::settle`] turns the append's outcome into the answer. If the ledger cannot record
//! a decision about a regulated resource, the answer is a deny.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod authzen;
pub mod pack;
pub mod pdp;
pub mod review;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use self::authzen::{
    DecisionResponse, EvaluationRequest, EvaluationsRequest, EvaluationsResponse, PageResponse,
    SearchKind, SearchRequest, SearchResponse, Semantic,
};
use self::pack::{CompiledPack, PackDiff, PackFiles};
use self::pdp::{Denial, Verdict};
use evident_core::event::{
    now_us, system_event, Actor, ActorType, AuditEvent, AuthFacts, Outcome, PolicyRef, Resource,
    Severity,
};
use evident_core::recorder::Recorder;
use evident_core::sequencer::BatchReceipt;
use evident_core::store::{BreakGlassRecord, StoredPolicyVersion};
use evident_core::{Error, Result};

/// How long a process trusts its cached active version before asking the store again
/// (another process, `evident policy apply`, may have changed it).
const RECHECK: Duration = Duration::from_secs(1);
/// The most results one search page holds.
pub const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

/// The engine's cache of the active pack.
#[derive(Default)]
pub struct AccessState {
    cached: RwLock<Option<(Arc<CompiledPack>, Instant)>>,
    /// Set while one caller asks the store whether the cached pack is still the active one.
    refreshing: std::sync::atomic::AtomicBool,
    applying: std::sync::Mutex<()>,
}

/// Clears [`AccessState::refreshing`] however the refresh ends.
struct RefreshDone<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for RefreshDone<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Who asked for a decision (the PEP's credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `api_key`, `oidc` or `cli`
    pub method: String,
    /// the key id or token subject
    pub id: String,
}

impl Caller {
    /// The local operator (CLI).
    pub fn cli() -> Self {
        Self {
            method: "cli".into(),
            id: std::env::var("USER").unwrap_or_else(|_| "operator".into()),
        }
    }
}

/// The result of applying or rolling back a pack.
#[derive(Debug, Clone)]
pub struct Applied {
    /// the version now active
    pub version: u64,
    /// its hash
    pub hash: String,
    /// what changed against the previous active version
    pub diff: PackDiff,
    /// validator warnings
    pub warnings: Vec<String>,
    /// false when the pack equals the active one (nothing stored or logged)
    pub changed: bool,
}

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

/// The access part over an engine: its ledger and store ([`Recorder`]) and this process's
/// cache of the active pack ([`AccessState`]).
pub struct Access<'e> {
    recorder: &'e dyn Recorder,
    state: &'e AccessState,
}

impl<'e> Access<'e> {
    /// The access part over `recorder`, caching the active pack in `state` (one per engine).
    pub fn new(recorder: &'e dyn Recorder, state: &'e AccessState) -> Self {
        Access { recorder, state }
    }

    /// The active pack, if one was ever applied.
    pub fn active(&self) -> Result<Option<Arc<CompiledPack>>> {
        self.active_within(RECHECK)
    }

    fn active_within(&self, staleness: Duration) -> Result<Option<Arc<CompiledPack>>> {
        let state = &self.state;
        let mut _refresh = None;
        if let Some((pack, checked)) = state.cached.read().ok().and_then(|c| c.clone()) {
            if checked.elapsed() < staleness {
                return Ok(Some(pack));
            }
            // One caller asks the store; under load the others keep deciding with the cached
            // pack, a moment staler, rather than all asking at once and stalling the server.
            // A caller that needs the current version (staleness zero) always asks.
            if !staleness.is_zero() {
                if state
                    .refreshing
                    .swap(true, std::sync::atomic::Ordering::AcqRel)
                {
                    return Ok(Some(pack));
                }
                _refresh = Some(RefreshDone(&state.refreshing));
            }
        }
        let store = self.recorder.pooled_store()?;
        let Some(active) = store.meta("policy_active")? else {
            return Ok(None);
        };
        let version: u64 = active
            .parse()
            .map_err(|_| Error::Integrity(format!("policy_active is `{active}`")))?;
        let cached = state.cached.read().ok().and_then(|c| c.clone());
        let pack = match cached {
            Some((pack, _)) if pack.version == version => pack,
            _ => {
                let stored = store.policy_version(version)?.ok_or_else(|| {
                    Error::Integrity(format!("the active policy version {version} is missing"))
                })?;
                Arc::new(load_stored(&stored)?)
            }
        };
        if let Ok(mut c) = state.cached.write() {
            *c = Some((pack.clone(), Instant::now()));
        }
        Ok(Some(pack))
    }

    /// The active pack, or a clear error saying how to get one.
    pub fn require_active(&self) -> Result<Arc<CompiledPack>> {
        self.active()?.ok_or_else(|| {
            Error::NotFound(
                "no policy pack is active; apply one with `evident policy apply DIR`".into(),
            )
        })
    }

    /// Validates `files` and makes them the active version; logged with the hash and diff.
    /// An invalid pack is refused with Cedar's diagnostics and the active one stays.
    pub fn apply(&self, files: PackFiles, actor: &str) -> Result<Applied> {
        self.activate(files, actor, "apply".into())
    }

    /// Makes an earlier version's content active again, as a new version.
    pub fn rollback(&self, version: u64, actor: &str) -> Result<Applied> {
        let (_, files) = self.version(Some(version))?;
        self.activate(files, actor, format!("rollback to {version}"))
    }

    fn activate(&self, files: PackFiles, actor: &str, origin: String) -> Result<Applied> {
        let mut compiled = pack::compile(files)?;
        // One change at a time in this process, so two applies never claim one version number.
        let _one_at_a_time = self
            .state
            .applying
            .lock()
            .map_err(|_| Error::Integrity("policy apply lock poisoned".into()))?;
        let previous = self.active_within(Duration::ZERO)?;
        if let Some(prev) = &previous {
            if prev.hash == compiled.hash {
                return Ok(Applied {
                    version: prev.version,
                    hash: prev.hash.clone(),
                    diff: PackDiff::default(),
                    warnings: compiled.warnings,
                    changed: false,
                });
            }
        }
        let mut store = self.recorder.connect_store()?;
        let version = store.policy_versions()?.last().map_or(0, |v| v.version) + 1;
        compiled.version = version;
        let diff = PackDiff::between(previous.as_deref(), &compiled);
        let mut event = system_event(
            "access.policy.applied",
            "policy_set",
            Some(&format!("v{version}")),
            json!({
                "version": version,
                "hash": compiled.hash,
                "previous": previous.as_ref().map(|p| json!({"version": p.version, "hash": p.hash})),
                "origin": origin,
                "requested_by": actor,
                "diff": diff,
                "summary": diff.summary(),
                "controls": controls_of(&compiled),
            }),
        );
        event.severity = Some(Severity::Medium);
        event.policy = Some(PolicyRef {
            id: Some(format!("v{version}")),
            version: Some(compiled.hash.clone()),
        });
        // Evidence first: a version is only activated once its change is in the log.
        self.recorder.append_blocking(vec![event])?;
        let files_json = serde_json::to_string(&compiled.files)
            .map_err(|e| Error::Integrity(format!("encoding the pack: {e}")))?;
        store.insert_policy_version(&StoredPolicyVersion {
            version,
            hash: compiled.hash.clone(),
            files: Some(files_json),
            created_us: now_us(),
            actor: actor.into(),
            origin,
        })?;
        let hash = compiled.hash.clone();
        let warnings = compiled.warnings.clone();
        if let Ok(mut c) = self.state.cached.write() {
            *c = Some((Arc::new(compiled), Instant::now()));
        }
        Ok(Applied {
            version,
            hash,
            diff,
            warnings,
            changed: true,
        })
    }

    /// Every version, oldest first.
    pub fn history(&self) -> Result<Vec<StoredPolicyVersion>> {
        self.recorder.connect_store()?.policy_versions()
    }

    /// One version (the active one if `None`) and its files.
    pub fn version(&self, version: Option<u64>) -> Result<(StoredPolicyVersion, PackFiles)> {
        let store = self.recorder.connect_store()?;
        let version = match version {
            Some(v) => v,
            None => self.require_active()?.version,
        };
        let stored = store
            .policy_version(version)?
            .ok_or_else(|| Error::NotFound(format!("no policy version {version}")))?;
        let files = files_of(&stored)?;
        Ok((stored, files))
    }

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
        let (items, verdicts) = decide_all(&pack, items, now);
        for (item, verdict) in items.iter().zip(verdicts) {
            let id = decision_id()?;
            let (answer, event, regulated) = match item {
                Ok(req) => match verdict {
                    Ok(verdict) => {
                        let event = decision_event(&pack, req, &verdict, &id, caller, request_id);
                        if let Some(justification) = &verdict.break_glass {
                            pending.break_glass.push(BreakGlassRecord {
                                id: id.clone(),
                                decision_id: id.clone(),
                                subject: format!("{}::\"{}\"", req.subject.kind, req.subject.id),
                                action: req.action.name.clone(),
                                resource: format!("{}::\"{}\"", req.resource.kind, req.resource.id),
                                justification: justification.clone(),
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

    /// Runs a search and builds its one ledger event (the caller appends it).
    pub fn search(
        &self,
        kind: SearchKind,
        req: &SearchRequest,
        caller: &Caller,
        request_id: Option<&str>,
    ) -> Result<(SearchResponse, AuditEvent)> {
        let pack = self.require_active()?;
        let now = now_us() / 1_000_000;
        let limit = req
            .page
            .as_ref()
            .and_then(|p| p.limit)
            .map_or(DEFAULT_PAGE, |l| l as usize);
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::BadRequest(format!(
                "page.limit must be 1 to {MAX_PAGE}, got {limit}"
            )));
        }
        let offset = match req.page.as_ref().and_then(|p| p.token.as_deref()) {
            Some(token) if !token.is_empty() => parse_token(token, &pack.hash)?,
            _ => 0,
        };
        let action = req.action.clone();
        let candidates: Vec<(Value, EvaluationRequest)> = match kind {
            SearchKind::Subject | SearchKind::Resource => {
                let searched = if kind == SearchKind::Subject {
                    &req.subject
                } else {
                    &req.resource
                };
                let action = action.ok_or_else(|| {
                    Error::BadRequest(format!("a {} search needs `action`", kind.as_str()))
                })?;
                let mut ids: Vec<String> = pack
                    .entities
                    .iter()
                    .filter(|e| e.uid().type_name().to_string() == searched.kind)
                    .map(|e| e.uid().id().unescaped().to_string())
                    .collect();
                ids.sort();
                ids.into_iter()
                    .map(|id| {
                        let found = authzen::Subject {
                            kind: searched.kind.clone(),
                            id: id.clone(),
                            properties: searched.properties.clone(),
                        };
                        let other =
                            |e: &authzen::SearchEntity, what: &str| -> Result<authzen::Subject> {
                                Ok(authzen::Subject {
                                    kind: e.kind.clone(),
                                    id: e.id.clone().ok_or_else(|| {
                                        Error::BadRequest(format!(
                                            "{what}.id is required in a {} search",
                                            kind.as_str()
                                        ))
                                    })?,
                                    properties: e.properties.clone(),
                                })
                            };
                        let (subject, resource) = if kind == SearchKind::Subject {
                            (found, other(&req.resource, "resource")?)
                        } else {
                            (other(&req.subject, "subject")?, found)
                        };
                        Ok((
                            json!({"type": searched.kind, "id": id}),
                            EvaluationRequest {
                                subject,
                                action: action.clone(),
                                resource,
                                context: req.context.clone(),
                            },
                        ))
                    })
                    .collect::<Result<_>>()?
            }
            SearchKind::Action => {
                let need = |e: &authzen::SearchEntity, what: &str| -> Result<authzen::Subject> {
                    Ok(authzen::Subject {
                        kind: e.kind.clone(),
                        id: e.id.clone().ok_or_else(|| {
                            Error::BadRequest(format!("{what}.id is required in an action search"))
                        })?,
                        properties: e.properties.clone(),
                    })
                };
                let subject = need(&req.subject, "subject")?;
                let resource = need(&req.resource, "resource")?;
                let p = pack.uid(&subject.kind, &subject.id, "subject")?;
                let r = pack.uid(&resource.kind, &resource.id, "resource")?;
                let mut names: Vec<String> = pack
                    .schema
                    .actions_for_principal_and_resource(p.type_name(), r.type_name())
                    .map(|a| a.id().unescaped().to_string())
                    .collect();
                names.sort();
                names.dedup();
                names
                    .into_iter()
                    .map(|name| {
                        (
                            json!({"name": name}),
                            EvaluationRequest {
                                subject: subject.clone(),
                                action: authzen::Action {
                                    name,
                                    properties: None,
                                },
                                resource: resource.clone(),
                                context: req.context.clone(),
                            },
                        )
                    })
                    .collect()
            }
        };
        let mut matches = Vec::new();
        for (result, request) in candidates {
            let verdict = pdp::decide(&pack, &request, now)?;
            // Search answers who is normally allowed; emergency access is not a standing grant.
            if verdict.allowed && verdict.break_glass.is_none() {
                matches.push(result);
            }
        }
        let total = matches.len();
        let page: Vec<Value> = matches.into_iter().skip(offset).take(limit).collect();
        let next = offset + page.len();
        let next_token = if next < total {
            make_token(next, &pack.hash)
        } else {
            String::new()
        };
        let mut event = system_event(
            "access.search",
            "policy_set",
            Some(&format!("v{}", pack.version)),
            json!({
                "search": kind.as_str(),
                "request": req,
                "results": page,
                "total": total,
                "caller": {"method": caller.method, "id": caller.id},
            }),
        );
        event.personal = vec!["/metadata/request".into(), "/metadata/results".into()];
        event.data_subject = Some(caller.id.clone());
        event.request_id = request_id.map(str::to_string);
        event.policy = Some(PolicyRef {
            id: Some(format!("v{}", pack.version)),
            version: Some(pack.hash.clone()),
        });
        Ok((
            SearchResponse {
                page: PageResponse {
                    next_token,
                    count: page.len(),
                    total,
                },
                results: page,
            },
            event,
        ))
    }

    /// Runs an access review of the active pack; the run is logged with the report's hash.
    pub fn review(&self, actor: &str) -> Result<review::Report> {
        use sha2::Digest as _;
        let pack = self.require_active()?;
        let report = review::review(&pack, now_us() / 1_000_000)?;
        let json = serde_json::to_value(&report)
            .map_err(|e| Error::Integrity(format!("encoding the review: {e}")))?;
        let digest = sha2::Sha256::digest(evident_core::canonical::to_vec(&json));
        let mut event = system_event(
            "access.review.generated",
            "policy_set",
            Some(&format!("v{}", pack.version)),
            json!({
                "requested_by": actor,
                "report_sha256": hex::encode(digest),
                "type_rows": report.by_type.len(),
                "regulated_rows": report.regulated.len(),
                "evaluations": report.evaluations,
            }),
        );
        event.policy = Some(PolicyRef {
            id: Some(format!("v{}", pack.version)),
            version: Some(pack.hash.clone()),
        });
        self.recorder.append_blocking(vec![event])?;
        Ok(report)
    }

    /// Break-glass reviews (only open ones if `open_only`).
    pub fn break_glass(&self, open_only: bool) -> Result<Vec<BreakGlassRecord>> {
        self.recorder.connect_store()?.break_glass(open_only)
    }

    /// Closes a break-glass review. The reviewer must be a second person: not the one who
    /// broke the glass. Logged.
    pub fn review_break_glass(
        &self,
        id: &str,
        reviewer: &str,
        outcome: &str,
        note: &str,
    ) -> Result<BreakGlassRecord> {
        if !matches!(outcome, "approved" | "violation") {
            return Err(Error::BadRequest(format!(
                "the outcome must be `approved` or `violation`, got `{outcome}`"
            )));
        }
        if note.trim().is_empty() {
            return Err(Error::BadRequest("a review needs a note".into()));
        }
        let mut store = self.recorder.connect_store()?;
        let record = store
            .break_glass(false)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::NotFound(format!("no break-glass review `{id}`")))?;
        if record.closed_us.is_some() {
            return Err(Error::BadRequest(format!(
                "the review `{id}` was already closed by {}",
                record.reviewer.as_deref().unwrap_or("?")
            )));
        }
        let subject_id = record
            .subject
            .split_once("::")
            .map(|(_, id)| id.trim_matches('"'))
            .unwrap_or(&record.subject);
        if reviewer == subject_id || reviewer == record.subject {
            return Err(Error::BadRequest(
                "a break-glass access must be reviewed by a second person, not the one who used it"
                    .into(),
            ));
        }
        let mut event = system_event(
            "access.break_glass.reviewed",
            "break_glass_review",
            Some(id),
            json!({
                "decision_id": record.decision_id,
                "reviewer": reviewer,
                "outcome": outcome,
                "note": note,
                "subject": record.subject,
                "resource": record.resource,
            }),
        );
        event.severity = Some(if outcome == "violation" {
            Severity::High
        } else {
            Severity::Medium
        });
        event.personal = vec!["/metadata/note".into(), "/metadata/subject".into()];
        event.data_subject = Some(subject_id.to_string());
        self.recorder.append_blocking(vec![event])?;
        let at = now_us();
        if !store.close_break_glass(id, reviewer, outcome, note, at)? {
            return Err(Error::BadRequest(format!(
                "the review `{id}` was closed by someone else meanwhile"
            )));
        }
        Ok(BreakGlassRecord {
            reviewer: Some(reviewer.into()),
            outcome: Some(outcome.into()),
            note: Some(note.into()),
            closed_us: Some(at),
            ..record
        })
    }
}

/// The AuthZEN request by which Evident asks its own policy whether `subject` may decrypt
/// with the regulated key `key`: action `decrypt` on `EncryptionKey::"KEY"`. The subject is
/// `User::"SUB"` for an OIDC caller or the CLI's user, `Service::"KEY_ID"` for an API key.
pub fn decrypt_request(
    subject_type: &str,
    subject_id: &str,
    key: &str,
    context: Option<Map<String, Value>>,
) -> EvaluationsRequest {
    EvaluationsRequest {
        defaults: authzen::PartialRequest {
            subject: Some(authzen::Subject {
                kind: subject_type.into(),
                id: subject_id.into(),
                properties: None,
            }),
            action: Some(authzen::Action {
                name: "decrypt".into(),
                properties: None,
            }),
            resource: Some(authzen::Subject {
                kind: "EncryptionKey".into(),
                id: key.into(),
                properties: None,
            }),
            context,
        },
        evaluations: None,
        options: None,
    }
}

/// The request Evident evaluates before revealing what a card token stands for: action
/// `detokenize` on `CardToken::"TOKEN"`, with `reveal` (`full` or `masked`) set in the
/// context over whatever the caller sent.
pub fn detokenize_request(
    subject_type: &str,
    subject_id: &str,
    token: &str,
    reveal: &str,
    context: Option<Map<String, Value>>,
) -> EvaluationsRequest {
    let mut context = context.unwrap_or_default();
    context.insert("reveal".into(), Value::String(reveal.into()));
    let mut request = decrypt_request(subject_type, subject_id, token, Some(context));
    if let Some(action) = request.defaults.action.as_mut() {
        action.name = "detokenize".into();
    }
    if let Some(resource) = request.defaults.resource.as_mut() {
        resource.kind = "CardToken".into();
    }
    request
}

/// Turns the answer to a single request into `Ok` for an allow, or [`Error::Denied`] saying
/// what was refused (`what`: "decrypting with the regulated key `phi`") and why.
pub fn require_allow(answer: Result<Answer>, what: &str) -> Result<()> {
    let why = match answer {
        Ok(Answer::One(d)) if d.decision => return Ok(()),
        Ok(Answer::One(d)) => match d.context {
            Some(c) => format!("denied ({c})"),
            None => "denied".into(),
        },
        Ok(Answer::Many(_)) => "denied".into(),
        Err(e) => e.to_string(),
    };
    Err(Error::Denied(format!(
        "{what} needs an allow from the access policy: {why}"
    )))
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

/// Items per thread below which a batch is decided on the caller's thread.
const PARALLEL_CHUNK: usize = 16;

/// One evaluation of a batch: well-formed, or the message saying why not.
type Item = std::result::Result<EvaluationRequest, String>;

fn decide_item(pack: &CompiledPack, item: &Item, now: i64) -> Result<Verdict> {
    match item {
        Ok(req) => pdp::decide(pack, req, now),
        Err(m) => Err(Error::BadRequest(m.clone())),
    }
}

/// The verdict of an item whose part of a batch panicked while being decided.
fn panicked() -> Error {
    Error::Integrity("a decision thread panicked".into())
}

/// Items a thread claims at a time from a large batch: small enough that a helper the host
/// does not run for a while holds back at most this many, large enough to cost little.
const CLAIM: usize = 8;

/// Threads that help decide large batches. They are started once per process: spawning
/// threads for every batch cost about a third of a 100-item batch's time on two cores.
struct DecisionHelpers {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl DecisionHelpers {
    /// The process's helpers (one fewer than the cores), or `None` if they cannot be started.
    fn get(cores: usize) -> Option<&'static DecisionHelpers> {
        static HELPERS: std::sync::OnceLock<Option<DecisionHelpers>> = std::sync::OnceLock::new();
        HELPERS
            .get_or_init(|| {
                let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
                let queue = Arc::new(std::sync::Mutex::new(queue));
                let mut started = 0;
                for i in 1..cores {
                    let queue = queue.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("evident-decide-{i}"))
                        .spawn(move || loop {
                            let job = match queue.lock() {
                                Ok(queue) => queue.recv(),
                                Err(_) => return,
                            };
                            let Ok(job) = job else { return };
                            job();
                        });
                    if spawned.is_ok() {
                        started += 1;
                    }
                }
                (started > 0).then_some(DecisionHelpers { jobs })
            })
            .as_ref()
    }
}

/// A large batch being decided: whoever is free claims the next [`CLAIM`] items.
struct BatchWork {
    pack: Arc<CompiledPack>,
    items: Arc<Vec<Item>>,
    now: i64,
    next: std::sync::atomic::AtomicUsize,
}

impl BatchWork {
    /// Claims and decides parts until none is left, sending each part's verdicts with the
    /// index of its first item. A part whose decision panics answers errors for its items.
    fn drain(&self, done: &std::sync::mpsc::Sender<(usize, Vec<Result<Verdict>>)>) {
        let len = self.items.len();
        loop {
            let first = self
                .next
                .fetch_add(CLAIM, std::sync::atomic::Ordering::Relaxed);
            if first >= len {
                return;
            }
            let part = &self.items[first..(first + CLAIM).min(len)];
            let verdicts = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                part.iter()
                    .map(|i| decide_item(&self.pack, i, self.now))
                    .collect::<Vec<_>>()
            }))
            .unwrap_or_else(|_| part.iter().map(|_| Err(panicked())).collect());
            if done.send((first, verdicts)).is_err() {
                return;
            }
        }
    }
}

/// Decides every well-formed item; a batch large enough is shared with the helper threads
/// (decisions are pure, so the answers are the same in any order). The caller decides too
/// and never waits for a helper that has not started: it only waits for parts a helper is
/// deciding at that moment. A malformed item's slot holds an error that the caller
/// replaces with the item's own message. Verdicts come back in the items' order.
fn decide_all(
    pack: &Arc<CompiledPack>,
    items: Vec<Item>,
    now: i64,
) -> (Arc<Vec<Item>>, Vec<Result<Verdict>>) {
    let items = Arc::new(items);
    let inline = |items: Arc<Vec<Item>>| {
        let verdicts = items.iter().map(|i| decide_item(pack, i, now)).collect();
        (items, verdicts)
    };
    if items.len() < 2 * PARALLEL_CHUNK {
        return inline(items);
    }
    // available_parallelism reads cgroup files: ask once per process
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let helpers_wanted = cores.min(items.len() / PARALLEL_CHUNK).saturating_sub(1);
    let Some(helpers) = (helpers_wanted > 0)
        .then(|| DecisionHelpers::get(cores))
        .flatten()
    else {
        return inline(items);
    };
    let len = items.len();
    let work = Arc::new(BatchWork {
        pack: pack.clone(),
        items: items.clone(),
        now,
        next: std::sync::atomic::AtomicUsize::new(0),
    });
    let (done, results) = std::sync::mpsc::channel::<(usize, Vec<Result<Verdict>>)>();
    for _ in 0..helpers_wanted {
        let (work, done) = (work.clone(), done.clone());
        // A helper that starts after the work is gone finds nothing left to claim.
        let _ = helpers.jobs.send(Box::new(move || work.drain(&done)));
    }
    work.drain(&done);
    drop(done);
    let mut verdicts: Vec<Option<Result<Verdict>>> = Vec::with_capacity(len);
    verdicts.resize_with(len, || None);
    let mut missing = len;
    // Every claimed part answers once; stop as soon as all have, not when every helper has
    // run (one the host has not scheduled yet would find nothing left to claim).
    while missing > 0 {
        let Ok((first, part)) = results.recv() else {
            break;
        };
        missing = missing.saturating_sub(part.len());
        for (slot, verdict) in verdicts.iter_mut().skip(first).zip(part) {
            *slot = Some(verdict);
        }
    }
    let verdicts = verdicts
        .into_iter()
        .map(|v| v.unwrap_or_else(|| Err(panicked())))
        .collect();
    (items, verdicts)
}

fn load_stored(stored: &StoredPolicyVersion) -> Result<CompiledPack> {
    let files = files_of(stored)?;
    let mut pack = pack::compile(files)?;
    if pack.hash != stored.hash {
        return Err(Error::Integrity(format!(
            "policy version {} hashes to {} but was stored as {}",
            stored.version, pack.hash, stored.hash
        )));
    }
    pack.version = stored.version;
    Ok(pack)
}

fn files_of(stored: &StoredPolicyVersion) -> Result<PackFiles> {
    serde_json::from_str(stored.files.as_deref().unwrap_or("{}")).map_err(|e| {
        Error::Integrity(format!(
            "policy version {} is not readable: {e}",
            stored.version
        ))
    })
}

fn controls_of(pack: &CompiledPack) -> Value {
    let mut map = Map::new();
    for (id, info) in &pack.info {
        if !info.controls.is_empty() {
            map.insert(id.clone(), info.controls.clone().into());
        }
    }
    Value::Object(map)
}

fn decision_id() -> Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| Error::Crypto(format!("no randomness: {e}")))?;
    Ok(format!("dec_{}", hex::encode(bytes)))
}

fn make_token(offset: usize, hash: &str) -> String {
    use base64::Engine as _;
    let text = format!(
        "{}:{offset}",
        hash.trim_start_matches("sha256:").get(..16).unwrap_or("")
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn parse_token(token: &str, hash: &str) -> Result<usize> {
    use base64::Engine as _;
    let bad = || Error::BadRequest("page.token is not a token this PDP issued".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (prefix, offset) = text.split_once(':').ok_or_else(bad)?;
    if prefix != hash.trim_start_matches("sha256:").get(..16).unwrap_or("") {
        return Err(Error::BadRequest(
            "page.token belongs to an earlier policy version; start the search again".into(),
        ));
    }
    offset.parse().map_err(|_| bad())
}

/// Authentication facts the PEP passed in `context.authn`.
fn auth_facts(context: Option<&Map<String, Value>>) -> Option<AuthFacts> {
    let authn = context?.get("authn")?.as_object()?;
    let text = |k: &str| authn.get(k).and_then(Value::as_str).map(str::to_string);
    Some(AuthFacts {
        method: text("method").or(Some("oidc".into())),
        mfa: authn.get("mfa").and_then(Value::as_bool),
        amr: authn
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        acr: text("acr"),
        auth_time: authn
            .get("auth_time")
            .and_then(Value::as_i64)
            .map(|t| evident_core::event::format_time(t * 1_000_000)),
        issuer: text("iss").or_else(|| text("issuer")),
    })
}

fn actor_of(req: &EvaluationRequest) -> Actor {
    let kind = req.subject.kind.to_ascii_lowercase();
    Actor {
        id: req.subject.id.clone(),
        kind: if kind.contains("service") || kind.contains("workload") {
            ActorType::Service
        } else {
            ActorType::User
        },
        roles: Vec::new(),
        ip: None,
        session: None,
        auth: auth_facts(req.context.as_ref()),
    }
}

fn request_metadata(req: &EvaluationRequest) -> (Map<String, Value>, Vec<String>) {
    let mut request = Map::new();
    let mut personal = Vec::new();
    for (key, value) in [
        ("subject_properties", req.subject.properties.as_ref()),
        ("resource_properties", req.resource.properties.as_ref()),
        ("action_properties", req.action.properties.as_ref()),
        ("context", req.context.as_ref()),
    ] {
        if let Some(v) = value.filter(|m| !m.is_empty()) {
            request.insert(key.into(), Value::Object(v.clone()));
            personal.push(format!("/metadata/request/{key}"));
        }
    }
    (request, personal)
}

/// The ledger event of one decision: personal request fields are committed, not stored in
/// the clear; break-glass grants are high severity.
pub fn decision_event(
    pack: &CompiledPack,
    req: &EvaluationRequest,
    verdict: &Verdict,
    id: &str,
    caller: &Caller,
    request_id: Option<&str>,
) -> AuditEvent {
    let (request, personal) = request_metadata(req);
    let reason = match (verdict.allowed, verdict.denial) {
        (true, _) if verdict.break_glass.is_some() => {
            format!("break-glass: {}", verdict.determining.join(", "))
        }
        (true, _) => format!("permitted by {}", verdict.determining.join(", ")),
        (false, Some(d)) if !verdict.determining.is_empty() => {
            format!(
                "{}: forbidden by {}",
                d.code(),
                verdict.determining.join(", ")
            )
        }
        (false, Some(d)) => d.code().to_string(),
        (false, None) => "denied".into(),
    };
    let mut metadata = Map::new();
    metadata.insert("decision_id".into(), id.into());
    metadata.insert("decision".into(), verdict.allowed.into());
    metadata.insert("action_name".into(), req.action.name.clone().into());
    metadata.insert("subject_type".into(), req.subject.kind.clone().into());
    metadata.insert(
        "determining_policies".into(),
        verdict.determining.clone().into(),
    );
    metadata.insert("errors".into(), verdict.errors.clone().into());
    metadata.insert("regulated".into(), verdict.regulated.into());
    metadata.insert("break_glass".into(), verdict.break_glass.is_some().into());
    if !verdict.controls.is_empty() {
        metadata.insert("controls".into(), verdict.controls.clone().into());
    }
    if let Some(step) = &verdict.step_up {
        metadata.insert(
            "step_up".into(),
            json!({"acr_values": step.acr_values, "amr_values": step.amr_values}),
        );
    }
    metadata.insert(
        "caller".into(),
        json!({"method": caller.method, "id": caller.id}),
    );
    if !request.is_empty() {
        metadata.insert("request".into(), Value::Object(request));
    }
    AuditEvent {
        time: None,
        actor: actor_of(req),
        action: "access.evaluate".into(),
        resource: Resource {
            kind: req.resource.kind.clone(),
            id: Some(req.resource.id.clone()),
        },
        outcome: if verdict.allowed {
            Outcome::Success
        } else {
            Outcome::Denied
        },
        reason: Some(reason),
        policy: Some(PolicyRef {
            id: Some(format!("v{}", pack.version)),
            version: Some(pack.hash.clone()),
        }),
        request_id: request_id.map(str::to_string),
        trace_id: None,
        severity: Some(if verdict.break_glass.is_some() {
            Severity::High
        } else {
            Severity::Info
        }),
        data_subject: Some(req.subject.id.clone()),
        personal,
        metadata: Some(metadata),
    }
}

fn error_event(
    pack: &CompiledPack,
    req: &EvaluationRequest,
    message: &str,
    id: &str,
    caller: &Caller,
    request_id: Option<&str>,
) -> AuditEvent {
    let verdict = Verdict {
        allowed: false,
        determining: Vec::new(),
        errors: vec![message.to_string()],
        denial: Some(Denial::EvaluationError),
        break_glass: None,
        step_up: None,
        regulated: false,
        controls: Vec::new(),
    };
    let mut event = decision_event(pack, req, &verdict, id, caller, request_id);
    event.outcome = Outcome::Error;
    event
}
