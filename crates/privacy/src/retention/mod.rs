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
//!
//! The engine's own ledger (`--system evident`) follows the map's `[[ledger]]` rules: the
//! personal values of entries of an action older than its period are deleted, the entries
//! themselves kept (so every proof still verifies), logged as
//! `evident.privacy.retention.ledger_purged` with the count. While a hold on data subjects is
//! in force this purge waits (the ledger names subjects by a keyed hash a hold cannot be
//! matched with), and the event says which holds stopped it.

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
/// The ledger action of a purge of the ledger's own personal values by age.
pub const LEDGER_PURGED: &str = "evident.privacy.retention.ledger_purged";
/// The name `--system` gives the engine's own ledger.
pub const LEDGER_SYSTEM: &str = crate::dsr::run::LEDGER_SYSTEM;
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

/// One `[[ledger]]` rule's part of a run: the personal values of entries of `action`
/// received before the cutoff are deleted; the entries stay.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerPurge {
    /// the action, or a prefix ending in `*`
    pub action: String,
    /// the period, as the map writes it
    pub period: String,
    /// entries received before this time lose their personal values, RFC 3339
    pub cutoff: String,
    /// `purged`, `would_purge` (dry run) or `held`
    pub status: &'static str,
    /// personal values deleted (none in a dry run: not counted)
    pub values_deleted: Option<u64>,
    /// the holds that stopped it: while a hold on data subjects is in force the ledger's
    /// personal values are not purged (the ledger stores subjects under a keyed hash a hold
    /// cannot be matched with, so no held subject's value can be told apart)
    pub holds: Vec<String>,
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
    /// the ledger's own personal values, per `[[ledger]]` rule of the map
    pub ledger: Vec<LedgerPurge>,
    /// the ledger index of the ledger purge's event (a real run that deleted something or
    /// was held)
    pub ledger_index: Option<u64>,
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
            if name != LEDGER_SYSTEM && map.system(name).is_none() {
                return Err(Error::BadRequest(format!(
                    "`{}` is not a system of the data map (its systems: {}; `evident` is the ledger)",
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
            ledger: Vec::new(),
            ledger_index: None,
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
        if only.is_empty() || only.iter().any(|s| s == LEDGER_SYSTEM) {
            self.purge_ledger(map, &holds, now_us, dry_run, actor, &mut report)?;
        }
        Ok(report)
    }

    /// The `[[ledger]]` rules: personal values of old entries deleted, entries kept.
    fn purge_ledger(
        &self,
        map: &DataMap,
        holds: &[crate::holds::Hold],
        now_us: i64,
        dry_run: bool,
        actor: &str,
        report: &mut RetentionReport,
    ) -> Result<()> {
        if map.ledger.is_empty() {
            return Ok(());
        }
        let subject_holds: Vec<String> = holds
            .iter()
            .filter(|h| !h.subject_keys.is_empty())
            .map(|h| h.hold_id.clone())
            .collect();
        let mut store = if dry_run || !subject_holds.is_empty() {
            None
        } else {
            Some(self.host.connect_store()?)
        };
        let mut deleted = 0;
        for rule in &map.ledger {
            let cutoff = cutoff::cutoff_us(now_us, &rule.retention);
            let (status, values_deleted) = match store.as_mut() {
                _ if !subject_holds.is_empty() => ("held", None),
                None => ("would_purge", None),
                Some(store) => {
                    let n = store.purge_personal(&rule.action, cutoff)?;
                    deleted += n;
                    ("purged", Some(n))
                }
            };
            report.ledger.push(LedgerPurge {
                action: rule.action.clone(),
                period: rule.retention.to_string(),
                cutoff: format_time(cutoff),
                status,
                values_deleted,
                holds: if status == "held" {
                    subject_holds.clone()
                } else {
                    Vec::new()
                },
            });
        }
        if !dry_run {
            let mut event = system_event(
                LEDGER_PURGED,
                RESOURCE_TYPE,
                Some(LEDGER_SYSTEM),
                json!({
                    "now": format_time(now_us),
                    "map": map.hash,
                    "values_deleted": deleted,
                    "rules": report.ledger,
                }),
            );
            event.actor.id = actor.to_owned();
            event.actor.kind = ActorType::User;
            let receipt = self.host.append_blocking(vec![event])?;
            report.ledger_index = receipt.receipts.first().map(|r| r.index);
        }
        Ok(())
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
