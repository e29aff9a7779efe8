//! Lockouts in the ledger: the `auth.lockout.locked` and `auth.lockout.unlocked` events, and
//! putting back, when the server starts, the locks an earlier run recorded that have neither
//! ended nor been lifted (so a restart does not unlock anyone).
//!
//! A lock's address is the event's `actor.ip` and an OIDC subject its
//! `metadata.credential`: both personal, so committed in the entry and erasable; an API key
//! id is not personal and stays in clear. A lock whose personal values were erased, or are
//! sealed under a root key this process has not opened, cannot be put back and is skipped
//! with a warning.

use std::collections::HashSet;

use evident::event::{format_time, now_us, parse_time, system_event, Severity};
use evident::{AuditEvent, Engine, EventRecord, Query};
use serde_json::{json, Value};

use super::table::{ClientNet, Credential, Lock, LockoutTable, Scope};
use crate::error::LOG_TARGET;

/// The action of a lock.
pub(crate) const LOCKED: &str = "auth.lockout.locked";
/// The action of a lock lifted by an administrator.
pub(crate) const UNLOCKED: &str = "auth.lockout.unlocked";
/// The resource type both events name, with the lock's id.
const RESOURCE: &str = "auth_lockout";
/// How far back to look for locks at startup, at least.
const LOOKBACK_US: i64 = 24 * 3600 * 1_000_000;

/// The event recording that a lock began.
pub(crate) fn locked_event(lock: &Lock) -> AuditEvent {
    let mut event = system_event(
        LOCKED,
        RESOURCE,
        Some(&lock.id),
        json!({
            "scope": lock.scope.kind(),
            "credential": lock.scope.credential().map(Credential::label),
            "failures": lock.failures,
            "locked_until": format_time(lock.until_us),
        }),
    );
    event.time = Some(format_time(lock.locked_at_us));
    event.severity = Some(Severity::High);
    mark_personal(&mut event, &lock.scope);
    event
}

/// The event recording that `unlocked_by` lifted a lock.
pub(crate) fn unlocked_event(lock: &Lock, unlocked_by: &str) -> AuditEvent {
    let mut event = system_event(
        UNLOCKED,
        RESOURCE,
        Some(&lock.id),
        json!({
            "scope": lock.scope.kind(),
            "credential": lock.scope.credential().map(Credential::label),
            "locked_at": format_time(lock.locked_at_us),
            "locked_until": format_time(lock.until_us),
            "unlocked_by": unlocked_by,
        }),
    );
    event.severity = Some(Severity::Medium);
    mark_personal(&mut event, &lock.scope);
    event
}

/// The address goes in `actor.ip` (always personal); an OIDC subject is personal too and is
/// the data subject; otherwise the address is (so erasing it by name works).
fn mark_personal(event: &mut AuditEvent, scope: &Scope) {
    if let Some(address) = scope.address() {
        event.actor.ip = Some(address.ip().to_string());
        event.data_subject = Some(address.ip().to_string());
    }
    if let Some(Credential::Subject(subject)) = scope.credential() {
        event.personal.push("/metadata/credential".into());
        event.data_subject = Some(subject.clone());
    }
}

/// Puts the locks still in force back into `table`; how many.
pub(crate) fn restore(engine: &Engine, table: &LockoutTable) -> evident::Result<usize> {
    let window_us = i64::try_from(table.policy().duration().as_micros()).unwrap_or(i64::MAX);
    let since = now_us().saturating_sub(window_us.max(LOOKBACK_US));
    let lifted: HashSet<String> = events(engine, UNLOCKED, since)?
        .iter()
        .filter_map(|r| r.entry.pointer("/resource/id").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let mut restored = 0;
    for record in events(engine, LOCKED, since)? {
        let Some(id) = record.entry.pointer("/resource/id").and_then(Value::as_str) else {
            continue;
        };
        if lifted.contains(id) {
            continue;
        }
        let text = |pointer: &str| record.entry.pointer(pointer).and_then(Value::as_str);
        let Some(until_us) = text("/metadata/locked_until").and_then(|t| parse_time(t).ok()) else {
            continue;
        };
        if until_us <= now_us() {
            continue;
        }
        match lock_scope(engine, &record) {
            Ok(Some(scope)) => {
                let failures = record
                    .entry
                    .pointer("/metadata/failures")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0);
                let locked_at = text("/time").and_then(|t| parse_time(t).ok()).unwrap_or(0);
                if table.restore(id.to_string(), scope, failures, locked_at, until_us) {
                    restored += 1;
                }
            }
            Ok(None) => tracing::warn!(
                target: LOG_TARGET,
                lock = id,
                "a lockout recorded in the ledger names an erased address or subject; not restored"
            ),
            Err(e) => tracing::warn!(
                target: LOG_TARGET,
                lock = id,
                error = %e,
                "a lockout recorded in the ledger could not be read back; not restored"
            ),
        }
    }
    Ok(restored)
}

/// What a recorded lock locked, reading its personal values when it has any.
fn lock_scope(engine: &Engine, record: &EventRecord) -> evident::Result<Option<Scope>> {
    let entry = &record.entry;
    let Some(kind) = entry.pointer("/metadata/scope").and_then(Value::as_str) else {
        return Ok(None);
    };
    let personal = entry
        .get("personal")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let revealed = if personal {
        engine.event(record.index, true)?.revealed
    } else {
        Vec::new()
    };
    let value = |pointer: &str| -> Option<String> {
        entry
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                revealed
                    .iter()
                    .find(|p| p.path == pointer)
                    .and_then(|p| serde_json::from_str::<String>(&p.value).ok())
            })
    };
    let credential = value("/metadata/credential").and_then(|l| Credential::from_label(&l));
    let address = value("/actor/ip")
        .and_then(|ip| ip.parse().ok())
        .map(ClientNet::of);
    Ok(Scope::from_parts(kind, credential, address))
}

/// Every event with `action` since `since_us`, oldest first.
fn events(engine: &Engine, action: &str, since_us: i64) -> evident::Result<Vec<EventRecord>> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = engine.query(&Query {
            action: Some(action.to_string()),
            since_us: Some(since_us),
            cursor,
            limit: 1000,
            ..Query::default()
        })?;
        all.extend(page.events);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}
