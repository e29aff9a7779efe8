//! The part's events a person causes (evidence added, an exception granted or revoked):
//! built with that person as the actor, and read back from the ledger's own index.

use serde_json::Value;

use evident_core::event::{parse_time, system_event, ActorType, AuditEvent};
use evident_core::log::{EventRecord, Log};
use evident_core::store::EventQuery;
use evident_core::Result;

use crate::names::CONTROL_RESOURCE;

/// The most events one read of the part's own records goes through.
pub const MAX_SCANNED: usize = 1_000_000;

/// An event about `control` caused by `actor` (a person, as the CLI or the server names
/// them), with `metadata`.
pub fn person_event(action: &str, control: &str, actor: &str, metadata: Value) -> AuditEvent {
    let mut event = system_event(action, CONTROL_RESOURCE, Some(control), metadata);
    event.actor.id = actor.to_string();
    event.actor.kind = ActorType::User;
    event
}

/// Every committed event of `action` (of one control when given), oldest first.
pub fn read_all(log: &Log<'_>, action: &str, control: Option<&str>) -> Result<Vec<EventRecord>> {
    let query = EventQuery {
        action: Some(action.into()),
        resource_type: Some(CONTROL_RESOURCE.into()),
        resource_id: control.map(str::to_string),
        ..EventQuery::default()
    };
    log.query_all(&query, MAX_SCANNED, &format!("`{action}` events"))
}

/// A string field of an event's metadata.
pub fn meta_text<'v>(event: &'v EventRecord, field: &str) -> Option<&'v str> {
    event.entry.get("metadata")?.get(field)?.as_str()
}

/// A time field (RFC 3339) of an event's metadata, as µs.
pub fn meta_time(event: &EventRecord, field: &str) -> Option<i64> {
    meta_text(event, field).and_then(|t| parse_time(t).ok())
}

/// An event's actor id.
pub fn actor_of(event: &EventRecord) -> String {
    event
        .entry
        .get("actor")
        .and_then(|a| a.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// When the ledger received an event, RFC 3339.
pub fn received_at(event: &EventRecord) -> String {
    event
        .entry
        .get("received_at")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// A fresh random id with `prefix` (`evd-…`, `exc-…`): 96 random bits, hex.
pub fn new_id(prefix: &str) -> Result<String> {
    let random = evident_core::aead::random_key()?;
    Ok(format!("{prefix}-{}", hex::encode(&random[..12])))
}
