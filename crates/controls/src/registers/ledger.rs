//! How the registers meet the ledger: each change an event filed under the resource type
//! `risk` or `incident` with the record's id, made by a person; reading a register's events
//! back in ledger order; and the checks every id and free text passes before anything is
//! appended.

use serde_json::Value;

use evident_core::event::{system_event, ActorType, AuditEvent, Severity};
use evident_core::log::{EventRecord, Log};
use evident_core::store::EventQuery;
use evident_core::{Error, Result};

use crate::events::MAX_SCANNED;

/// The longest id of a risk or incident, in bytes.
pub const MAX_ID_BYTES: usize = 64;
/// The longest free text (a title, a note, a reason), in bytes.
pub const MAX_TEXT_BYTES: usize = 4000;

/// An event about the register record `id` of `resource_type`, caused by `actor`.
pub(crate) fn register_event(
    action: &str,
    resource_type: &str,
    id: &str,
    actor: &str,
    metadata: Value,
    severity: Severity,
) -> AuditEvent {
    let mut event = system_event(action, resource_type, Some(id), metadata);
    event.actor.id = actor.to_string();
    event.actor.kind = ActorType::User;
    event.severity = Some(severity);
    event
}

/// Every committed event filed under `resource_type` (of one record when `id` is given),
/// oldest first.
pub(crate) fn read_register(
    log: &Log<'_>,
    resource_type: &str,
    id: Option<&str>,
) -> Result<Vec<EventRecord>> {
    let query = EventQuery {
        resource_type: Some(resource_type.into()),
        resource_id: id.map(str::to_string),
        ..EventQuery::default()
    };
    log.query_all(&query, MAX_SCANNED, &format!("`{resource_type}` events"))
}

/// An event's action.
pub(crate) fn action_of(event: &EventRecord) -> &str {
    event
        .entry
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// An event's metadata (`null` when it has none).
pub(crate) fn metadata(event: &EventRecord) -> &Value {
    event.entry.get("metadata").unwrap_or(&Value::Null)
}

/// Whether `id` is a register id: 1 to [`MAX_ID_BYTES`] bytes of letters, digits, `.`, `_`
/// and `-`, starting with a letter or digit.
pub(crate) fn check_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "a {what} id is 1 to {MAX_ID_BYTES} letters, digits, `.`, `_` or `-`, starting with a letter or digit"
        )))
    }
}

/// `text` trimmed, refused when empty (if `required`) or longer than [`MAX_TEXT_BYTES`].
pub(crate) fn check_text(field: &str, text: &str, required: bool) -> Result<String> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(Error::BadRequest(format!("`{field}` is required")));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::BadRequest(format!(
            "`{field}` is {} bytes; at most {MAX_TEXT_BYTES}",
            text.len()
        )));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(check_id("risk", "R-1.a_b").is_ok());
        assert!(check_id("risk", "").is_err());
        assert!(check_id("risk", "-x").is_err());
        assert!(check_id("risk", "a/b").is_err());
        assert!(check_id("risk", &"a".repeat(65)).is_err());
    }

    #[test]
    fn texts_are_checked() {
        assert_eq!(check_text("title", "  t ", true).ok().as_deref(), Some("t"));
        assert!(check_text("title", "  ", true).is_err());
        assert!(check_text("note", "", false).is_ok());
        assert!(check_text("note", &"x".repeat(4001), false).is_err());
    }
}
