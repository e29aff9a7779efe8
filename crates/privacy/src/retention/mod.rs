//! Retention: rows of the data map's tables past their declared period are deleted or
//! anonymized, legal holds permitting, and each purge is evidence in the ledger.
//!
//! - [`cutoff`]: `now` less a table's period, on the calendar, as the text its column
//!   compares with;
//! - [`purge`]: one system in one transaction: the rows past the cutoff, the holds that keep
//!   some back, deletes (`erasure = "delete_row"`) or each field's erasure strategy, children
//!   first; a dry run rolls back.
//!
//! [`Retention`] runs every system (or those named) as of an injected `now`, and logs each
//! system's purge as `evident.privacy.retention.purged` (counts per table, the holds that
//! held rows back, a SHA-256 over the primary keys of what was removed or anonymized — never
//! a value), or `evident.privacy.retention.failed` with the reason. The `evident.` prefix is
//! the reserved family: no client can forge a purge record. A dry run (`plan`) logs nothing.

pub mod cutoff;
pub mod purge;

use serde::Serialize;
use serde_json::json;

use evident_core::event::{format_time, system_event, ActorType, Severity};
use evident_core::log::Log;
use evident_crypto::host::KeyHost;

use crate::datamap::DataMap;
use crate::dsr::keys::ErasureKeys;
use crate::holds::Holds;
use crate::{Error, Result};

pub use purge::{purge_system, HeldBy, SystemPurge, TablePurge};

/// The ledger action of a system's purge.
pub const PURGED: &str = "evident.privacy.retention.purged";
/// The ledger action of a system whose purge failed (nothing was changed in it).
pub const FAILED: &str = "evident.privacy.retention.failed";
/// The resource type of retention events.
pub const RESOURCE_TYPE: &str = "retention";

/// One system's outcome in a run.
#[derive(Debug, Clone, Serialize)]
pub struct SystemOutcome {
    /// the system
    pub system: String,
    /// the purge, when it ran
    pub purge: Option<SystemPurge>,
    /// why it failed (nothing was changed in it)
    pub error: Option<String>,
    /// the ledger index of its event (a real run)
    pub ledger_index: Option<u64>,
}

/// A run's or a plan's result.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    /// the `now` cutoffs were computed from, RFC 3339
    pub now: String,
    /// nothing was written or logged
    pub dry_run: bool,
    /// the data map's hash
    pub map: String,
    /// per system, in map order
    pub systems: Vec<SystemOutcome>,
}

impl RetentionReport {
    /// Whether some system failed.
    pub fn failed(&self) -> bool {
        self.systems.iter().any(|s| s.error.is_some())
    }
}

/// Retention over one engine: its holds, its ledger.
pub struct Retention<'e> {
    host: KeyHost<'e>,
    holds: Holds<'e>,
}

impl<'e> Retention<'e> {
    /// Retention of the engine behind `host` and `log` (its legal holds are read from it).
    pub fn new(host: KeyHost<'e>, log: Log<'e>) -> Self {
        Self {
            host,
            holds: Holds::new(host, log),
        }
    }

    /// Purges the systems of `map` named in `only` (all when empty) as of `now_us`. A dry run
    /// computes what would be done and writes and logs nothing. An unknown system name is
    /// refused before anything runs; a system that fails is rolled back, reported (and, in a
    /// real run, logged) and the others still run.
    pub fn run(
        &self,
        map: &DataMap,
        only: &[String],
        keys: &dyn ErasureKeys,
        now_us: i64,
        dry_run: bool,
        actor: &str,
    ) -> Result<RetentionReport> {
        for name in only {
            if map.system(name).is_none() {
                return Err(Error::BadRequest(format!(
                    "`{}` is not a system of the data map (its systems: {})",
                    name.chars().take(80).collect::<String>(),
                    map.systems
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let holds = self.holds.in_force(now_us)?;
        let redaction = self.host.redaction();
        let subject_key = |s: &str| redaction.subject_key_name(s);
        let held_by = HeldBy {
            holds: &holds,
            subject_key: &subject_key,
        };
        let mut report = RetentionReport {
            now: format_time(now_us),
            dry_run,
            map: map.hash.clone(),
            systems: Vec::new(),
        };
        for system in &map.systems {
            if !only.is_empty() && !only.contains(&system.name) {
                continue;
            }
            let mut outcome = match purge_system(system, &held_by, keys, now_us, dry_run) {
                Ok(p) => SystemOutcome {
                    system: system.name.clone(),
                    purge: Some(p),
                    error: None,
                    ledger_index: None,
                },
                Err(e) => SystemOutcome {
                    system: system.name.clone(),
                    purge: None,
                    error: Some(e.to_string()),
                    ledger_index: None,
                },
            };
            if !dry_run {
                outcome.ledger_index = Some(self.record(&outcome, map, now_us, actor)?);
            }
            report.systems.push(outcome);
        }
        Ok(report)
    }

    fn record(&self, o: &SystemOutcome, map: &DataMap, now_us: i64, actor: &str) -> Result<u64> {
        let (action, metadata) = match (&o.purge, &o.error) {
            (Some(p), _) => (
                PURGED,
                json!({
                    "system": o.system,
                    "now": format_time(now_us),
                    "map": map.hash,
                    "changed": p.changed,
                    "held": p.held,
                    "tables": p.tables,
                }),
            ),
            (None, error) => (
                FAILED,
                json!({
                    "system": o.system,
                    "now": format_time(now_us),
                    "map": map.hash,
                    "error": error,
                }),
            ),
        };
        let mut event = system_event(action, RESOURCE_TYPE, Some(&o.system), metadata);
        event.actor.id = actor.to_owned();
        event.actor.kind = ActorType::User;
        if action == FAILED {
            event.severity = Some(Severity::Medium);
        }
        let receipt = self.host.append_blocking(vec![event])?;
        receipt
            .receipts
            .first()
            .map(|r| r.index)
            .ok_or_else(|| Error::BadRequest("the ledger answered no receipt".into()))
    }
}
