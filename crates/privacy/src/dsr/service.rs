//! Requests over one engine: open, verify identity, approve or deny, extend the deadline,
//! run against every system of the data map (and the engine's own ledger), status and list.
//! Every step appends one `privacy.dsr.*` event; state is read back from them ([`fold`]).
//!
//! The subject's id is a personal field of the opening event (erasable like any other); a
//! run reads it back from there. Only one run per subject at a time: an advisory lock on a
//! file named by the subject's keyed hash in `privacy/dsr/running/` of the data directory,
//! released by the kernel however the run ends.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use evident_core::event::{system_event, ActorType, AuditEvent};
use evident_core::log::{EventRecord, Log};
use evident_core::store::EventQuery;
use evident_crypto::host::KeyHost;

use crate::{Error, Result};

use super::deadline::Regime;
use super::request::{action, fold, Kind, Request, State, RESOURCE_TYPE};

/// The most requests `list` reads.
pub const MAX_EVENTS: usize = 1_000_000;

/// What opening a request takes.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// what is asked
    pub kind: Kind,
    /// under which law
    pub regime: Regime,
    /// the subject's id, as the identity table holds it
    pub subject: String,
    /// for rectification: the `table.column`s to set (the values themselves are given to
    /// the run: the ledger records which fields changed, never the new personal values)
    pub fields: Vec<String>,
    /// when it was received, µs
    pub received_us: i64,
}

/// Requests over one engine.
pub struct Dsr<'e> {
    pub(crate) host: KeyHost<'e>,
    pub(crate) log: Log<'e>,
    pub(crate) running: PathBuf,
}

fn person_event(action: &str, id: &str, actor: &str, metadata: Value) -> AuditEvent {
    let mut event = system_event(action, RESOURCE_TYPE, Some(id), metadata);
    event.actor.id = actor.to_owned();
    event.actor.kind = ActorType::User;
    event
}

impl<'e> Dsr<'e> {
    /// Requests of the engine behind `host` and `log`, with lock files under `data_dir`.
    pub fn new(host: KeyHost<'e>, log: Log<'e>, data_dir: &Path) -> Self {
        Self {
            host,
            log,
            running: data_dir.join("privacy").join("dsr").join("running"),
        }
    }

    pub(crate) fn append(&self, event: AuditEvent) -> Result<u64> {
        let receipt = self.host.append_blocking(vec![event])?;
        receipt
            .receipts
            .first()
            .map(|r| r.index)
            .ok_or_else(|| Error::BadRequest("the ledger answered no receipt".into()))
    }

    /// Opens a request; answers it as recorded.
    pub fn open(&self, new: &NewRequest, actor: &str) -> Result<Request> {
        if new.subject.is_empty() || new.subject.len() > 256 {
            return Err(Error::BadRequest(
                "the subject id must be 1–256 characters".into(),
            ));
        }
        if new.kind == Kind::Rectification && new.fields.is_empty() {
            return Err(Error::BadRequest(
                "a rectification names at least one `table.column`".into(),
            ));
        }
        if new.fields.iter().any(|f| {
            f.split_once('.')
                .is_none_or(|(t, c)| t.is_empty() || c.is_empty())
        }) {
            return Err(Error::BadRequest(
                "a field to set is written `table.column`".into(),
            ));
        }
        if new.kind != Kind::Rectification && !new.fields.is_empty() {
            return Err(Error::BadRequest(
                "only a rectification takes values to set".into(),
            ));
        }
        let id = format!(
            "dsr-{}",
            hex::encode(&evident_core::aead::random_key()?[..8])
        );
        let redaction = self.host.redaction();
        let mut event = person_event(
            action::OPENED,
            &id,
            actor,
            json!({
                "kind": new.kind.name(),
                "regime": new.regime.name(),
                "subject": new.subject,
                "subject_key": redaction.subject_key_name(&new.subject),
                "fields": new.fields,
                "received_us": new.received_us,
                "due_us": new.regime.due(new.received_us),
            }),
        );
        event.data_subject = Some(new.subject.clone());
        event.personal = vec!["/metadata/subject".into()];
        self.append(event)?;
        self.get(&id)
    }

    /// The request `id`.
    pub fn get(&self, id: &str) -> Result<Request> {
        check_id(id)?;
        let events = self.events(Some(id))?;
        fold(&events).ok_or_else(|| {
            Error::Engine(evident_core::Error::NotFound(format!("no request `{id}`")))
        })
    }

    /// Every request, oldest first.
    pub fn list(&self) -> Result<Vec<Request>> {
        let mut by_id: std::collections::BTreeMap<String, Vec<EventRecord>> = Default::default();
        for e in self.events(None)? {
            let id = e
                .entry
                .get("resource")
                .and_then(|r| r.get("id"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            by_id.entry(id).or_default().push(e);
        }
        let mut all: Vec<Request> = by_id.values().filter_map(|e| fold(e)).collect();
        all.sort_by_key(|r| r.steps.first().map_or(0, |s| s.1));
        Ok(all)
    }

    fn events(&self, id: Option<&str>) -> Result<Vec<EventRecord>> {
        let query = EventQuery {
            resource_type: Some(RESOURCE_TYPE.into()),
            resource_id: id.map(str::to_owned),
            ..EventQuery::default()
        };
        Ok(self.log.query_all(&query, MAX_EVENTS, "request events")?)
    }

    fn step(
        &self,
        id: &str,
        allowed: &[State],
        act: &str,
        actor: &str,
        meta: Value,
    ) -> Result<Request> {
        let r = self.get(id)?;
        if !allowed.contains(&r.state) {
            return Err(Error::BadRequest(format!(
                "request `{id}` is {}; `{}` needs it {}",
                state_name(r.state),
                act.trim_start_matches("privacy.dsr."),
                allowed
                    .iter()
                    .map(|s| state_name(*s))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
        self.append(person_event(act, id, actor, meta))?;
        self.get(id)
    }

    /// Records how the requester's identity was checked.
    pub fn verify_identity(&self, id: &str, method: &str, actor: &str) -> Result<Request> {
        non_empty("the verification method", method)?;
        self.step(
            id,
            &[State::Received],
            action::IDENTITY_VERIFIED,
            actor,
            json!({"method": method}),
        )
    }

    /// Approves a verified request for execution.
    pub fn approve(&self, id: &str, actor: &str) -> Result<Request> {
        self.step(
            id,
            &[State::IdentityVerified],
            action::APPROVED,
            actor,
            json!({}),
        )
    }

    /// Refuses a request, with the reason told to the subject.
    pub fn deny(&self, id: &str, reason: &str, actor: &str) -> Result<Request> {
        non_empty("the reason", reason)?;
        self.step(
            id,
            &[State::Received, State::IdentityVerified, State::Approved],
            action::DENIED,
            actor,
            json!({"reason": reason}),
        )
    }

    /// Extends the deadline, once (GDPR: two more months; CCPA: 45 more days).
    pub fn extend(&self, id: &str, reason: &str, actor: &str) -> Result<Request> {
        non_empty("the reason", reason)?;
        let r = self.get(id)?;
        if r.extension.is_some() {
            return Err(Error::BadRequest(format!(
                "request `{id}` was already extended; the law allows one extension"
            )));
        }
        let open = [
            State::Received,
            State::IdentityVerified,
            State::Approved,
            State::Executing,
            State::Failed,
        ];
        self.step(
            id,
            &open,
            action::EXTENDED,
            actor,
            json!({"reason": reason, "due_us": r.regime.extended(r.received_us)}),
        )
    }

    /// The subject's id, from the opening event.
    pub(crate) fn subject(&self, r: &Request) -> Result<String> {
        let first = r.steps.first().map(|s| s.1).unwrap_or(0);
        let event = self.log.event(first, true)?;
        event
            .revealed
            .iter()
            .find(|p| p.path == "/metadata/subject")
            .and_then(|p| serde_json::from_str::<Value>(&p.value).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "request `{}`: the subject's id is no longer stored (erased)",
                    r.id
                ))
            })
    }
}

fn non_empty(what: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() || text.len() > 2000 {
        return Err(Error::BadRequest(format!(
            "{what} must be 1–2000 characters"
        )));
    }
    Ok(())
}

/// A request id is `dsr-` and 16 hex digits.
pub fn check_id(id: &str) -> Result<()> {
    let ok = id.strip_prefix("dsr-").is_some_and(|h| {
        h.len() == 16
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "`{}` is not a request id (`dsr-` and 16 hex digits)",
            id.chars().take(40).collect::<String>()
        )))
    }
}

/// A state's name.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::Received => "received",
        State::IdentityVerified => "identity_verified",
        State::Approved => "approved",
        State::Denied => "denied",
        State::Executing => "executing",
        State::Failed => "failed",
        State::Completed => "completed",
    }
}
