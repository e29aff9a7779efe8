//! A request as the ledger holds it: every step is one `privacy.dsr.*` event on the resource
//! `privacy_dsr/<id>`, and [`fold`] reads the request back from those events (no table of its
//! own: the events are few per request, the ledger indexes them by resource, and state that
//! is only ever derived from the log cannot disagree with it).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use evident_core::event::format_time;
use evident_core::log::EventRecord;

use super::deadline::Regime;

/// The ledger resource type of requests.
pub const RESOURCE_TYPE: &str = "privacy_dsr";

/// The events, in lifecycle order.
pub mod action {
    /// a request received (kind, regime, subject as a personal field)
    pub const OPENED: &str = "privacy.dsr.opened";
    /// the requester's identity checked (method)
    pub const IDENTITY_VERIFIED: &str = "privacy.dsr.identity_verified";
    /// approved for execution
    pub const APPROVED: &str = "privacy.dsr.approved";
    /// refused (reason)
    pub const DENIED: &str = "privacy.dsr.denied";
    /// the deadline extended once (reason, new due date)
    pub const EXTENDED: &str = "privacy.dsr.extended";
    /// a run started
    pub const EXECUTING: &str = "privacy.dsr.executing";
    /// one system done (tables, rows, strategies, verification)
    pub const SYSTEM_DONE: &str = "privacy.dsr.system_done";
    /// one system failed and was rolled back (error)
    pub const SYSTEM_FAILED: &str = "privacy.dsr.system_failed";
    /// the subject's processing restricted (Art. 18)
    pub const RESTRICTED: &str = "privacy.dsr.restricted";
    /// every system done
    pub const COMPLETED: &str = "privacy.dsr.completed";
}

/// What the subject asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Art. 15: a copy of their data
    Access,
    /// Art. 20: their data in a machine-readable form
    Portability,
    /// Art. 16: given fields set to given values
    Rectification,
    /// Art. 17: their data erased
    Erasure,
    /// Art. 18: their data's processing restricted
    Restriction,
}

impl Kind {
    /// Every kind with its name.
    pub const ALL: [(Kind, &'static str); 5] = [
        (Kind::Access, "access"),
        (Kind::Portability, "portability"),
        (Kind::Rectification, "rectification"),
        (Kind::Erasure, "erasure"),
        (Kind::Restriction, "restriction"),
    ];

    /// Reads a kind's name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == text).map(|(k, _)| *k)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// opened, identity not yet checked
    Received,
    /// identity checked
    IdentityVerified,
    /// approved, not yet run
    Approved,
    /// refused
    Denied,
    /// a run started and has not finished every system
    Executing,
    /// a run ended with at least one system failed (run again to resume)
    Failed,
    /// every system done
    Completed,
}

/// One system's outcome in a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemOutcome {
    /// `done` or `failed`
    pub status: &'static str,
    /// per table: found, changed, strategies (as recorded)
    pub detail: Value,
    /// why it failed
    pub error: Option<String>,
    /// the ledger index of the outcome
    pub index: u64,
}

/// A request read back from its events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// `dsr-…`
    pub id: String,
    /// what is asked
    pub kind: Kind,
    /// the law it is answered under
    pub regime: Regime,
    /// the subject's keyed hash (the name of their key), never the id itself
    pub subject_key: String,
    /// where it stands
    pub state: State,
    /// received, µs
    pub received_us: i64,
    /// due, µs
    pub due_us: i64,
    /// the reason of the one extension
    pub extension: Option<String>,
    /// the reason of a denial
    pub denial: Option<String>,
    /// how identity was checked
    pub identity: Option<String>,
    /// for rectification: the `table.column`s to set
    pub fields: Vec<String>,
    /// per system, the latest outcome
    pub systems: BTreeMap<String, SystemOutcome>,
    /// every step: action and ledger index, oldest first
    pub steps: Vec<(String, u64)>,
}

impl Request {
    /// Past its due date at `now_us` and not finished.
    pub fn overdue(&self, now_us: i64) -> bool {
        !matches!(self.state, State::Completed | State::Denied) && now_us > self.due_us
    }

    /// The request as JSON, with its due date and overdue flag at `now_us`.
    pub fn to_json(&self, now_us: i64) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("received_at".into(), format_time(self.received_us).into());
            o.insert("due_at".into(), format_time(self.due_us).into());
            o.insert("overdue".into(), self.overdue(now_us).into());
            o.insert("kind".into(), self.kind.name().into());
        }
        v
    }
}

fn meta<'a>(e: &'a EventRecord, field: &str) -> Option<&'a Value> {
    e.entry.get("metadata")?.get(field)
}

fn meta_str(e: &EventRecord, field: &str) -> Option<String> {
    meta(e, field)?.as_str().map(str::to_owned)
}

fn meta_i64(e: &EventRecord, field: &str) -> Option<i64> {
    meta(e, field)?.as_i64()
}

/// Folds one request's events (oldest first) into its state; `None` without an opening.
pub fn fold(events: &[EventRecord]) -> Option<Request> {
    let first = events.first()?;
    let action_of = |e: &EventRecord| {
        e.entry
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if action_of(first) != action::OPENED {
        return None;
    }
    let mut r = Request {
        id: first
            .entry
            .get("resource")
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        kind: meta_str(first, "kind").as_deref().and_then(Kind::parse)?,
        regime: meta_str(first, "regime")
            .as_deref()
            .and_then(Regime::parse)?,
        subject_key: meta_str(first, "subject_key")?,
        state: State::Received,
        received_us: meta_i64(first, "received_us")?,
        due_us: meta_i64(first, "due_us")?,
        extension: None,
        denial: None,
        identity: None,
        fields: meta(first, "fields")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        systems: BTreeMap::new(),
        steps: Vec::new(),
    };
    for e in events {
        let act = action_of(e);
        match act.as_str() {
            action::IDENTITY_VERIFIED => {
                r.state = State::IdentityVerified;
                r.identity = meta_str(e, "method");
            }
            action::APPROVED => r.state = State::Approved,
            action::DENIED => {
                r.state = State::Denied;
                r.denial = meta_str(e, "reason");
            }
            action::EXTENDED => {
                r.extension = meta_str(e, "reason");
                r.due_us = meta_i64(e, "due_us").unwrap_or(r.due_us);
            }
            action::EXECUTING => r.state = State::Executing,
            action::SYSTEM_DONE | action::SYSTEM_FAILED => {
                let done = act == action::SYSTEM_DONE;
                if let Some(system) = meta_str(e, "system") {
                    r.systems.insert(
                        system,
                        SystemOutcome {
                            status: if done { "done" } else { "failed" },
                            detail: meta(e, "detail").cloned().unwrap_or(Value::Null),
                            error: meta_str(e, "error"),
                            index: e.index,
                        },
                    );
                }
                if !done {
                    r.state = State::Failed;
                }
            }
            action::COMPLETED => r.state = State::Completed,
            _ => {}
        }
        r.steps.push((act, e.index));
    }
    Some(r)
}
