//! Where each control stands: its last result, since when, and its trend, kept in the store
//! as each run is recorded ([`advance`]) so that `evident controls status` reads one row per
//! control however long the ledger is; for manual and partly automated controls their
//! evidence standing, and any open exception; and a control's history over a period, read
//! from the ledger's own index of `controls.check` events.
//!
//! [`ControlStatus`] is also the JSON of `evident controls status --json` (one object per
//! line), which `evident controls diff --baseline` reads back: its field names are stable.

use serde::Serialize;
use serde_json::Value;

use evident_core::event::format_time;
use evident_core::store::{ControlStatusRecord, EventQuery, LogStore};
use evident_core::{Error, Result};

use crate::catalog::Implementation;
use crate::checks::Verdict;
use crate::evidence::{standings, EvidenceStanding};
use crate::exceptions::{self, Exception};
use crate::names::{CHECK_ACTION, CONTROL_RESOURCE};
use crate::state::Controls;

/// How many results a trend keeps.
pub const TREND_LENGTH: usize = 30;
/// The most runs one history call answers.
pub const MAX_HISTORY: usize = 100_000;

/// Moves a control's stored status on by one run (unless a later run is already stored).
pub fn advance(
    store: &mut dyn LogStore,
    control: &str,
    verdict: Verdict,
    at_us: i64,
    index: u64,
    check_version: &str,
) -> Result<bool> {
    let previous = store.control_status(control)?;
    let (since_us, mut trend, runs) = match &previous {
        Some(p) if p.index >= index => return Ok(false),
        Some(p) if p.result == verdict.as_str() => (p.since_us, p.trend.clone(), p.runs),
        Some(p) => (at_us, p.trend.clone(), p.runs),
        None => (at_us, String::new(), 0),
    };
    trend.push(verdict.letter());
    let excess = trend.chars().count().saturating_sub(TREND_LENGTH);
    let trend: String = trend.chars().skip(excess).collect();
    store.put_control_status(&ControlStatusRecord {
        control: control.to_string(),
        result: verdict.as_str().to_string(),
        since_us,
        checked_us: at_us,
        index,
        check_version: check_version.to_string(),
        trend,
        runs: runs + 1,
    })
}

/// One control's standing.
#[derive(Debug, Clone, Serialize)]
pub struct ControlStatus {
    /// the control
    pub control: String,
    /// its title
    pub title: String,
    /// how it is tested
    pub implementation: Implementation,
    /// its cadence
    pub cadence: String,
    /// the last result (`never checked` when none, `manual` for a manual control)
    pub result: String,
    /// since when the result has held, RFC 3339
    pub since: Option<String>,
    /// when it was last checked, RFC 3339
    pub checked: Option<String>,
    /// whether the last check is older than the cadence, or for a manual control whether its
    /// evidence is not current (either way its evidence has lapsed)
    pub overdue: bool,
    /// the latest results, oldest first (`P`, `F`, `E`, `I`)
    pub trend: String,
    /// `improving`, `worsening`, `steady` or `new`
    pub direction: &'static str,
    /// the ledger index of the last run
    pub index: Option<u64>,
    /// runs recorded
    pub runs: u64,
    /// manual and partly automated controls: the evidence that stands longest and whether
    /// it is `current`, `expired` or `missing` (absent for automated controls)
    pub evidence: Option<EvidenceStanding>,
    /// an open exception (waiver) for the control, if one is in force
    pub exception: Option<Exception>,
}

impl ControlStatus {
    /// Whether the last result is a failure or an error.
    pub fn failing(&self) -> bool {
        matches!(self.result.as_str(), "fail" | "error")
    }

    /// The result as a person reads it: `failing (excepted until …)` when an open exception
    /// covers a failure.
    pub fn shown_result(&self) -> String {
        match &self.exception {
            Some(e) if self.failing() => format!("failing (excepted until {})", e.until),
            _ => self.result.clone(),
        }
    }

    /// The evidence gap, named: `evidence expired …`, `no evidence`; `None` when current or
    /// not a manual or partly automated control.
    pub fn evidence_gap(&self) -> Option<String> {
        let e = self.evidence.as_ref()?;
        match e.state.as_str() {
            "current" => None,
            "missing" => Some("no evidence".into()),
            _ => Some(format!(
                "evidence expired {}",
                e.valid_until.as_deref().unwrap_or("")
            )),
        }
    }
}

fn direction(trend: &str) -> &'static str {
    let mut letters = trend.chars().rev();
    match (letters.next(), letters.next()) {
        (None, _) | (Some(_), None) => "new",
        (Some(a), Some(b)) if a == b => "steady",
        (Some('P'), Some(_)) => "improving",
        (Some(_), Some('P')) => "worsening",
        _ => "steady",
    }
}

/// One run from the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryItem {
    /// its ledger index
    pub index: u64,
    /// when it ran (received), RFC 3339
    pub time: String,
    /// pass, fail, error or inconclusive
    pub result: String,
    /// why
    pub reason: String,
    /// what to change (failures)
    pub remedy: Option<String>,
    /// the check's version
    pub check_version: String,
    /// the ledger indices it relied on
    pub evidence: Vec<u64>,
}

impl Controls<'_> {
    /// Every control of the catalog with its standing, as of `now_us`.
    pub fn status(&self, now_us: i64) -> Result<Vec<ControlStatus>> {
        let catalog = self.catalog()?;
        let stored = self.recorder.pooled_store()?.control_statuses()?;
        let exceptions = exceptions::by_control(&self.log)?;
        let standings = standings(&self.log, now_us)?;
        catalog
            .controls
            .iter()
            .map(|c| {
                let evidence =
                    match c.implementation {
                        Implementation::Automated => None,
                        _ => Some(standings.get(&c.id).cloned().unwrap_or_else(|| {
                            EvidenceStanding {
                                state: "missing".into(),
                                evidence_id: None,
                                index: None,
                                added_at: None,
                                valid_until: None,
                            }
                        })),
                    };
                let lapsed = evidence.as_ref().is_some_and(|e| e.state != "current");
                let record = stored.iter().find(|s| s.control == c.id);
                let (result, trend) = match (record, c.check.is_some()) {
                    (Some(r), _) => (r.result.clone(), r.trend.clone()),
                    (None, true) => ("never checked".to_string(), String::new()),
                    (None, false) => ("manual".to_string(), String::new()),
                };
                Ok(ControlStatus {
                    control: c.id.clone(),
                    title: c.title.clone(),
                    implementation: c.implementation,
                    cadence: c.cadence.to_string(),
                    since: record.map(|r| format_time(r.since_us)),
                    checked: record.map(|r| format_time(r.checked_us)),
                    overdue: match c.check {
                        Some(_) => {
                            record.is_none_or(|r| now_us - r.checked_us > c.cadence.micros())
                        }
                        None => lapsed,
                    },
                    direction: direction(&trend),
                    trend,
                    result,
                    index: record.map(|r| r.index),
                    runs: record.map_or(0, |r| r.runs),
                    evidence,
                    exception: exceptions.get(&c.id).filter(|e| e.is_open(now_us)).cloned(),
                })
            })
            .collect()
    }

    /// The controls whose check is due at `now_us` (never run, or last run a cadence ago):
    /// what a scheduler runs next.
    pub fn due(&self, now_us: i64) -> Result<Vec<String>> {
        Ok(self
            .status(now_us)?
            .into_iter()
            .filter(|s| s.overdue && s.implementation != Implementation::Manual)
            .map(|s| s.control)
            .collect())
    }

    /// A control's check runs received in `from_us..to_us`, oldest first.
    pub fn history(&self, control: &str, from_us: i64, to_us: i64) -> Result<Vec<HistoryItem>> {
        check_period(from_us, to_us)?;
        let catalog = self.catalog()?;
        catalog.known(control)?;
        let mut query = EventQuery {
            action: Some(CHECK_ACTION.into()),
            resource_type: Some(CONTROL_RESOURCE.into()),
            resource_id: Some(control.to_string()),
            since_us: Some(from_us),
            until_us: Some(to_us),
            limit: 1000,
            ..EventQuery::default()
        };
        let mut items = Vec::new();
        loop {
            let page = self.log.query(&query)?;
            for e in &page.events {
                let meta = e.entry.get("metadata");
                let text = |f: &str| meta.and_then(|m| m.get(f)).and_then(Value::as_str);
                items.push(HistoryItem {
                    index: e.index,
                    time: e
                        .entry
                        .get("received_at")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    result: text("result").unwrap_or("unknown").to_string(),
                    reason: text("reason").unwrap_or("").to_string(),
                    remedy: text("remedy").map(str::to_string),
                    check_version: text("check_version").unwrap_or("").to_string(),
                    evidence: meta
                        .and_then(|m| m.get("evidence"))
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_u64).collect())
                        .unwrap_or_default(),
                });
            }
            if items.len() >= MAX_HISTORY {
                return Err(Error::BadRequest(format!(
                    "more than {MAX_HISTORY} runs of `{control}` in the period; ask for a shorter one"
                )));
            }
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => return Ok(items),
            }
        }
    }

    /// Rebuilds every control's stored status from the ledger's `controls.check` events (after
    /// a lost status table, or a crash between an append and its status update); answers
    /// how many runs were replayed and how many controls' rows moved on.
    pub fn rebuild_status(&self) -> Result<(u64, u64)> {
        let _running = self
            .state
            .running
            .lock()
            .map_err(|_| Error::Integrity("a check run panicked while recording".into()))?;
        let mut store = self.recorder.connect_store()?;
        let mut query = EventQuery {
            action: Some(CHECK_ACTION.into()),
            resource_type: Some(CONTROL_RESOURCE.into()),
            limit: 1000,
            ..EventQuery::default()
        };
        let mut replayed = 0u64;
        let mut fresh: std::collections::BTreeMap<String, ControlStatusRecord> = Default::default();
        loop {
            let page = self.log.query(&query)?;
            for e in &page.events {
                let meta = e.entry.get("metadata");
                let text = |f: &str| meta.and_then(|m| m.get(f)).and_then(Value::as_str);
                let (Some(control), Some(verdict)) =
                    (text("control"), text("result").and_then(Verdict::parse))
                else {
                    continue;
                };
                let at = e
                    .entry
                    .get("received_at")
                    .and_then(Value::as_str)
                    .and_then(|t| evident_core::event::parse_time(t).ok())
                    .unwrap_or_default();
                let entry =
                    fresh
                        .entry(control.to_string())
                        .or_insert_with(|| ControlStatusRecord {
                            control: control.to_string(),
                            result: verdict.as_str().into(),
                            since_us: at,
                            checked_us: at,
                            index: e.index,
                            check_version: String::new(),
                            trend: String::new(),
                            runs: 0,
                        });
                if entry.result != verdict.as_str() {
                    entry.since_us = at;
                    entry.result = verdict.as_str().into();
                }
                entry.checked_us = at;
                entry.index = e.index;
                entry.check_version = text("check_version").unwrap_or("").to_string();
                entry.trend.push(verdict.letter());
                let excess = entry.trend.len().saturating_sub(TREND_LENGTH);
                entry.trend.drain(..excess);
                entry.runs += 1;
                replayed += 1;
            }
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        let mut updated = 0u64;
        for record in fresh.values() {
            // The store keeps a row of a later or the same run; only rows behind the ledger
            // (lost, or left behind by a crash before the status update) move on.
            if store.put_control_status(record)? {
                updated += 1;
            }
        }
        Ok((replayed, updated))
    }
}

/// A period's bounds must be in order and within years 1970 … 9999.
pub fn check_period(from_us: i64, to_us: i64) -> Result<()> {
    const MAX_US: i64 = 253_402_300_799_000_000; // 9999-12-31T23:59:59Z
    if from_us < 0 || to_us > MAX_US + 1_000_000 {
        return Err(Error::BadRequest(
            "the period must lie between 1970-01-01 and 9999-12-31".into(),
        ));
    }
    if from_us >= to_us {
        return Err(Error::BadRequest(format!(
            "the period starts ({}) at or after it ends ({})",
            format_time(from_us),
            format_time(to_us)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_read_the_last_two_results() {
        assert_eq!(direction(""), "new");
        assert_eq!(direction("P"), "new");
        assert_eq!(direction("FP"), "improving");
        assert_eq!(direction("PF"), "worsening");
        assert_eq!(direction("PFF"), "steady");
        assert_eq!(direction("EI"), "steady");
    }

    #[test]
    fn periods_out_of_order_or_range_are_refused() {
        assert!(check_period(10, 5).is_err());
        assert!(check_period(5, 5).is_err());
        assert!(check_period(-1, 5).is_err());
        assert!(check_period(0, i64::MAX).is_err());
        assert!(check_period(0, 1).is_ok());
    }
}
