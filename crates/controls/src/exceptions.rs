//! Exceptions (waivers): a failing control formally accepted until a date, with a reason
//! and a second person's approval — `controls.exception.granted` — and withdrawn early with
//! `controls.exception.revoked`. Both are ledger events; a control's exceptions are read
//! back from them, so status, `controls.monitored` and bundles agree on what was excepted
//! and when.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use evident_core::event::{format_time, Severity};
use evident_core::log::Log;
use evident_core::{Error, Result};

use crate::events::{actor_of, meta_text, meta_time, new_id, person_event, read_all, received_at};
use crate::names::{EXCEPTION_GRANTED, EXCEPTION_REVOKED};
use crate::state::Controls;

/// The default longest exception: a year.
pub const DEFAULT_MAX_DAYS: u64 = 365;

/// An exception as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// `exc-…`
    pub exception_id: String,
    /// the control
    pub control: String,
    /// why the failure is accepted
    pub reason: String,
    /// who approved it
    pub approved_by: String,
    /// who asked for it (the event's actor)
    pub granted_by: String,
    /// when it was granted, RFC 3339
    pub granted_at: String,
    /// when it ends, RFC 3339
    pub until: String,
    /// µs of `until`
    #[serde(skip)]
    pub until_us: i64,
    /// the ledger index of the grant
    pub index: u64,
    /// the ledger index of its revocation, if revoked
    pub revoked: Option<u64>,
}

impl Exception {
    /// Whether it excuses a failure at `now_us`: not revoked and not ended.
    pub fn is_open(&self, now_us: i64) -> bool {
        self.revoked.is_none() && self.until_us > now_us
    }
}

/// What a grant asks for.
#[derive(Debug, Clone)]
pub struct ExceptionRequest {
    /// the control
    pub control: String,
    /// until when, µs
    pub until_us: i64,
    /// why
    pub reason: String,
    /// who approved it (a second person: never the caller)
    pub approved_by: String,
    /// the longest exception allowed, days (0: [`DEFAULT_MAX_DAYS`])
    pub max_days: u64,
    /// the time of the grant, µs
    pub now_us: i64,
}

/// The name a person is known by, with the CLI's `cli:` prefix and case set aside, so that
/// `cli:alice` approving for `Alice` is seen as one person.
fn person(name: &str) -> String {
    let name = name.trim();
    name.strip_prefix("cli:").unwrap_or(name).to_lowercase()
}

/// Every exception ever granted, oldest first, with their revocations.
pub fn all(log: &Log<'_>) -> Result<Vec<Exception>> {
    let revoked: BTreeMap<String, u64> = read_all(log, EXCEPTION_REVOKED, None)?
        .iter()
        .filter_map(|e| Some((meta_text(e, "exception_id")?.to_string(), e.index)))
        .collect();
    Ok(read_all(log, EXCEPTION_GRANTED, None)?
        .iter()
        .filter_map(|e| {
            let id = meta_text(e, "exception_id")?.to_string();
            Some(Exception {
                revoked: revoked.get(&id).copied(),
                exception_id: id,
                control: meta_text(e, "control")?.to_string(),
                reason: meta_text(e, "reason").unwrap_or_default().to_string(),
                approved_by: meta_text(e, "approved_by").unwrap_or_default().to_string(),
                granted_by: actor_of(e),
                granted_at: received_at(e),
                until: meta_text(e, "until")?.to_string(),
                until_us: meta_time(e, "until")?,
                index: e.index,
            })
        })
        .collect())
}

/// Each control's latest-ending exception that was not revoked (open or ended).
pub fn by_control(log: &Log<'_>) -> Result<BTreeMap<String, Exception>> {
    let mut latest: BTreeMap<String, Exception> = BTreeMap::new();
    for e in all(log)?.into_iter().filter(|e| e.revoked.is_none()) {
        match latest.get(&e.control) {
            Some(held) if held.until_us >= e.until_us => {}
            _ => {
                latest.insert(e.control.clone(), e);
            }
        }
    }
    Ok(latest)
}

impl Controls<'_> {
    /// Grants an exception to a control of the catalog: until a date after now and within
    /// `max_days`, with a reason, approved by someone other than `actor`. Recorded as one
    /// `controls.exception.granted` event; nothing is recorded when a check fails.
    pub fn grant_exception(&self, request: &ExceptionRequest, actor: &str) -> Result<Exception> {
        let catalog = self.catalog()?;
        let control = catalog.known(&request.control)?;
        let reason = request.reason.trim();
        if reason.is_empty() {
            return Err(Error::BadRequest(
                "an exception needs a reason (--reason)".into(),
            ));
        }
        let approver = request.approved_by.trim();
        if approver.is_empty() {
            return Err(Error::BadRequest(
                "an exception needs an approver (--approved-by)".into(),
            ));
        }
        if person(approver) == person(actor) {
            return Err(Error::BadRequest(format!(
                "`{approver}` cannot approve their own exception: a second person approves (--approved-by)"
            )));
        }
        if request.until_us <= request.now_us {
            return Err(Error::BadRequest(format!(
                "--until ({}) is not in the future",
                format_time(request.until_us)
            )));
        }
        let max_days = if request.max_days == 0 {
            DEFAULT_MAX_DAYS
        } else {
            request.max_days
        };
        let latest = request.now_us.saturating_add(
            i64::try_from(max_days)
                .unwrap_or(i64::MAX / 86_400_000_000)
                .saturating_mul(86_400_000_000),
        );
        if request.until_us > latest {
            return Err(Error::BadRequest(format!(
                "--until ({}) is more than {max_days} days ahead; exceptions are reviewed at least that often (--max-days changes the limit)",
                format_time(request.until_us)
            )));
        }
        let id = new_id("exc")?;
        let mut event = person_event(
            EXCEPTION_GRANTED,
            &control.id,
            actor,
            json!({
                "control": control.id,
                "exception_id": id,
                "reason": reason,
                "approved_by": approver,
                "until": format_time(request.until_us),
            }),
        );
        event.severity = Some(Severity::Medium);
        event.reason = Some(reason.chars().take(400).collect());
        self.recorder.append_blocking(vec![event])?;
        all(&self.log)?
            .into_iter()
            .find(|e| e.exception_id == id)
            .ok_or_else(|| Error::Integrity(format!("the exception {id} was not read back")))
    }

    /// Revokes an exception before its end, with a reason; recorded as one
    /// `controls.exception.revoked` event. An unknown or already revoked exception is refused.
    pub fn revoke_exception(&self, id: &str, reason: &str, actor: &str) -> Result<Exception> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::BadRequest(
                "revoking an exception needs a reason (--reason)".into(),
            ));
        }
        let found = all(&self.log)?
            .into_iter()
            .find(|e| e.exception_id == id)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no exception `{id}` (`evident controls exceptions` lists them)"
                ))
            })?;
        if let Some(index) = found.revoked {
            return Err(Error::Conflict(format!(
                "the exception {id} was already revoked (ledger entry {index})"
            )));
        }
        let mut event = person_event(
            EXCEPTION_REVOKED,
            &found.control,
            actor,
            json!({"control": found.control, "exception_id": id, "reason": reason}),
        );
        event.severity = Some(Severity::Medium);
        event.reason = Some(reason.chars().take(400).collect());
        let receipt = self.recorder.append_blocking(vec![event])?;
        Ok(Exception {
            revoked: receipt.receipts.first().map(|r| r.index),
            ..found
        })
    }

    /// Every exception granted, oldest first, with their revocations.
    pub fn exceptions(&self) -> Result<Vec<Exception>> {
        all(&self.log)
    }
}

#[cfg(test)]
mod tests {
    use super::person;

    #[test]
    fn one_person_under_two_spellings_is_one_person() {
        assert_eq!(person("cli:Alice"), person("alice"));
        assert_ne!(person("cli:alice"), person("bob"));
    }
}
