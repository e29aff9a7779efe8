//! What a check reads: the engine (ledger and store), the access part, the log, facts about
//! the host that only the facade knows, and the time of the run. Plus the few reads many
//! checks share: the newest event of an action, counting events in a window.

use evident_access::Access;
use evident_core::log::{EventRecord, Log};
use evident_core::recorder::Recorder;
use evident_core::store::EventQuery;
use evident_core::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::model::Catalog;
use crate::checks::outcome::Outcome;

/// Facts about the engine that only the facade knows.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// whether the data directory's own keys (signing, redaction) are sealed by the root key
    pub own_keys_sealed: bool,
}

/// Everything a check reads.
pub struct CheckContext<'a> {
    /// the engine: ledger appends and the store
    pub recorder: &'a dyn Recorder,
    /// the access part (the active policy pack)
    pub access: &'a Access<'a>,
    /// the log: reads, queries, verification
    pub log: &'a Log<'a>,
    /// what the facade knows
    pub host: &'a HostFacts,
    /// the catalog in force (for checks about the controls themselves)
    pub catalog: &'a Catalog,
    /// the time of the run, µs since the epoch
    pub now_us: i64,
}

/// µs in a day.
pub const DAY_US: i64 = 86_400_000_000;
/// µs in an hour.
pub const HOUR_US: i64 = 3_600_000_000;

impl CheckContext<'_> {
    /// The newest committed event of `action` (optionally of one outcome).
    pub fn latest(&self, action: &str, outcome: Option<&str>) -> Result<Option<EventRecord>> {
        let page = self.log.query(&EventQuery {
            action: Some(action.to_string()),
            outcome: outcome.map(str::to_string),
            descending: true,
            limit: 1,
            ..EventQuery::default()
        })?;
        Ok(page.events.into_iter().next())
    }

    /// How many committed events match `query` (paged through; stops counting at `cap`),
    /// with the indices of the newest `keep` of them.
    pub fn count(&self, query: &EventQuery, cap: u64, keep: usize) -> Result<(u64, Vec<u64>)> {
        let mut q = query.clone();
        q.descending = true;
        q.limit = 1000;
        let mut total = 0u64;
        let mut newest = Vec::new();
        loop {
            let page = self.log.query(&q)?;
            for e in &page.events {
                if newest.len() < keep {
                    newest.push(e.index);
                }
            }
            total += page.events.len() as u64;
            match page.next_cursor {
                Some(cursor) if total < cap => q.cursor = Some(cursor),
                _ => return Ok((total, newest)),
            }
        }
    }
}

/// Days as µs.
pub fn days(n: u64) -> i64 {
    i64::try_from(n)
        .unwrap_or(i64::MAX / DAY_US)
        .saturating_mul(DAY_US)
}

/// An age in µs as days with one decimal.
pub fn in_days(us: i64) -> f64 {
    (us as f64 / DAY_US as f64 * 10.0).round() / 10.0
}

/// A check's settings with every default filled in, or why they are wrong.
pub fn normalize<P: Serialize + DeserializeOwned>(given: &Value) -> Result<Value, String> {
    let params: P = serde_json::from_value(given.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(params).map_err(|e| e.to_string())
}

/// A check's settings, already normalized by [`normalize`] when the catalog loaded.
pub fn settings<P: DeserializeOwned>(params: &Value) -> Result<P, Box<Outcome>> {
    serde_json::from_value(params.clone()).map_err(|e| {
        Box::new(Outcome::error(format!(
            "the check's settings do not read: {e}"
        )))
    })
}

/// A string field of an event's metadata.
pub fn meta_str<'v>(event: &'v EventRecord, field: &str) -> Option<&'v str> {
    event.entry.get("metadata")?.get(field)?.as_str()
}

/// An event's receive time (µs), from its `received_at`.
pub fn received_us(event: &EventRecord) -> Option<i64> {
    let text = event.entry.get("received_at")?.as_str()?;
    evident_core::event::parse_time(text).ok()
}
