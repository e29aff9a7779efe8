//! What a period's events say about its controls, computed the same way when a bundle is
//! built and when it is verified: each control's runs and results, the gaps in its checking
//! (longer than its cadence), the failures left without a later pass or a covering
//! exception, and the control × time grid of the report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use evident_core::event::{format_time, parse_time};

use super::events::{Kind, Period, PeriodEvent};

const DAY_US: i64 = 86_400_000_000;
/// Longer than any period RFC 3339 times can bound (years 0 … 9999 are ~3.2e17 µs), short
/// enough that a time plus it and its grace stays in an i64.
const LONGEST_CADENCE_US: i64 = i64::MAX / 4;

/// A control as the bundle's catalog member states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlInfo {
    /// its id
    pub id: String,
    /// its title
    pub title: String,
    /// automated, partly-automated or manual
    pub implementation: String,
    /// its automated check, if any
    pub check: Option<String>,
    /// how often it must be checked, in seconds
    pub cadence_seconds: u64,
    /// the framework's requirement ids it meets
    pub requirements: Vec<String>,
}

/// The bundle's catalog member: the framework's controls in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    /// the catalog's hash
    pub catalog_hash: String,
    /// the framework id
    pub framework: String,
    /// its name
    pub framework_name: String,
    /// its controls, by id
    pub controls: Vec<ControlInfo>,
}

/// A stretch of the period with no check run within the cadence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// the last run before it (or the period's start), RFC 3339
    pub from: String,
    /// the next run after it (or the period's end), RFC 3339
    pub to: String,
}

/// One control's figures for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlFigures {
    /// the control
    pub control: String,
    /// whether it is checked automatically (so must be checked at its cadence)
    pub automated: bool,
    /// check runs in the period
    pub runs: u64,
    /// of which passed
    pub pass: u64,
    /// failed
    pub fail: u64,
    /// could not check
    pub error: u64,
    /// could not decide
    pub inconclusive: u64,
    /// evidence events covering the period
    pub evidence: u64,
    /// exceptions granted covering the period
    pub exceptions: u64,
    /// stretches with no run within the cadence
    pub gaps: Vec<Gap>,
    /// ledger indices of failures with no later pass and no covering exception
    pub unresolved: Vec<u64>,
    /// one letter a column: P pass, F fail or error, I inconclusive, G gap, E evidence
    /// (manual controls), `.` nothing
    pub grid: String,
}

/// The figures of a period bundle: per control, and the grid's columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// how wide a grid column is, in days
    pub column_days: u64,
    /// each column's first day, YYYY-MM-DD
    pub columns: Vec<String>,
    /// one row per control of the framework, by id
    pub controls: Vec<ControlFigures>,
}

impl Figures {
    /// Gaps of all controls.
    pub fn gap_count(&self) -> usize {
        self.controls.iter().map(|c| c.gaps.len()).sum()
    }

    /// Unresolved failures of all controls.
    pub fn unresolved_count(&self) -> usize {
        self.controls.iter().map(|c| c.unresolved.len()).sum()
    }
}

/// The longest a run may be late before its control has a gap: a tenth of the cadence,
/// at least a minute (a scheduler runs what is due on its next tick).
pub fn grace_us(cadence_us: i64) -> i64 {
    (cadence_us / 10).max(60_000_000)
}

/// How wide the grid's columns are: days up to 92 days, weeks up to 120 weeks, then wider.
fn column_days(period: Period) -> u64 {
    let days = u64::try_from((period.to_us - period.from_us + DAY_US - 1) / DAY_US).unwrap_or(1);
    match days {
        0..=92 => 1,
        93..=840 => 7,
        _ => days.div_ceil(120),
    }
}

/// Computes the figures of `catalog`'s controls from the events that count for `period`.
pub fn figures(catalog: &CatalogSnapshot, events: &[PeriodEvent], period: Period) -> Figures {
    let width_days = column_days(period);
    let width = i64::try_from(width_days).unwrap_or(1) * DAY_US;
    let mut columns = Vec::new();
    let mut start = period.from_us;
    while start < period.to_us {
        columns.push((start, (start + width).min(period.to_us)));
        start += width;
    }
    let mut by_control: BTreeMap<&str, Vec<&PeriodEvent>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.counts_for(period)) {
        if let Some(c) = &e.control {
            by_control.entry(c.as_str()).or_default().push(e);
        }
    }
    let controls = catalog
        .controls
        .iter()
        .map(|c| {
            let mine = by_control.get(c.id.as_str()).cloned().unwrap_or_default();
            control_figures(c, &mine, period, &columns)
        })
        .collect();
    Figures {
        column_days: width_days,
        columns: columns
            .iter()
            .map(|(s, _)| format_time(*s).chars().take(10).collect())
            .collect(),
        controls,
    }
}

fn control_figures(
    control: &ControlInfo,
    events: &[&PeriodEvent],
    period: Period,
    columns: &[(i64, i64)],
) -> ControlFigures {
    let mut runs: Vec<&PeriodEvent> = events
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::Check)
        .collect();
    runs.sort_by_key(|e| (e.time_us, e.index));
    let result = |e: &PeriodEvent| e.result.clone().unwrap_or_default();
    let count = |r: &str| runs.iter().filter(|e| result(e) == r).count() as u64;
    let evidence: Vec<&PeriodEvent> = events
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::Evidence)
        .collect();
    let grants: Vec<&PeriodEvent> = events
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::ExceptionGranted)
        .collect();
    let revokes: Vec<&PeriodEvent> = events
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::ExceptionRevoked)
        .collect();
    let automated = control.check.is_some();
    // A bundle's catalog member states the cadence: one too long for µs in an i64 is longer
    // than any period, so it saturates (with room for the grace and a time added to it).
    let cadence_us = i64::try_from(control.cadence_seconds)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000))
        .map_or(LONGEST_CADENCE_US, |us| us.min(LONGEST_CADENCE_US));

    let mut gaps = Vec::new();
    let mut gap_spans = Vec::new();
    if automated {
        let mut points = vec![period.from_us];
        points.extend(runs.iter().map(|e| e.time_us));
        points.push(period.to_us);
        for pair in points.windows(2) {
            if pair[1] - pair[0] > cadence_us + grace_us(cadence_us) {
                // The grid marks the stretch no run covered: from a cadence after the last.
                gap_spans.push((pair[0] + cadence_us, pair[1]));
                gaps.push(Gap {
                    from: format_time(pair[0]),
                    to: format_time(pair[1]),
                });
            }
        }
    }

    let covered_by_exception = |t: i64| {
        grants.iter().any(|g| {
            g.covers.1 >= t
                && !revokes
                    .iter()
                    .any(|r| r.time_us > g.time_us && r.time_us <= t)
        })
    };
    let unresolved = runs
        .iter()
        .filter(|e| result(e) == "fail")
        .filter(|f| {
            let later_pass = runs
                .iter()
                .any(|p| result(p) == "pass" && (p.time_us, p.index) > (f.time_us, f.index));
            !later_pass && !covered_by_exception(f.time_us)
        })
        .map(|e| e.index)
        .collect();

    let grid = columns
        .iter()
        .map(|&(c0, c1)| {
            if !automated {
                let any = evidence.iter().any(|e| e.covers.0 < c1 && e.covers.1 >= c0);
                return if any { 'E' } else { '.' };
            }
            let inside: Vec<&&PeriodEvent> = runs
                .iter()
                .filter(|e| (c0..c1).contains(&e.time_us))
                .collect();
            let state_before = runs
                .iter()
                .rev()
                .find(|e| e.time_us < c0)
                .map(|e| result(e));
            let failing = |r: &str| r == "fail" || r == "error";
            if inside.iter().any(|e| failing(&result(e)))
                || (inside.is_empty() && state_before.as_deref().is_some_and(failing))
            {
                'F'
            } else if gap_spans.iter().any(|&(a, b)| a < c1 && b > c0) {
                'G'
            } else if inside.iter().any(|e| result(e) == "pass")
                || (inside.is_empty() && state_before.as_deref() == Some("pass"))
            {
                'P'
            } else if inside.is_empty() && state_before.is_none() {
                '.'
            } else {
                'I'
            }
        })
        .collect();

    ControlFigures {
        control: control.id.clone(),
        automated,
        runs: runs.len() as u64,
        pass: count("pass"),
        fail: count("fail"),
        error: count("error"),
        inconclusive: count("inconclusive"),
        evidence: evidence.len() as u64,
        exceptions: grants.len() as u64,
        gaps,
        unresolved,
        grid,
    }
}

/// A time as the gap messages show it: `2026-03-04T00:00Z`.
pub fn short_time(rfc3339: &str) -> String {
    match parse_time(rfc3339) {
        Ok(us) => {
            let full = format_time(us - us.rem_euclid(60_000_000));
            format!("{}Z", full.get(..16).unwrap_or(&full))
        }
        Err(_) => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::CHECK_ACTION;

    const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

    fn run(index: u64, day: i64, result: &str) -> PeriodEvent {
        PeriodEvent {
            index,
            kind: Kind::Check,
            action: CHECK_ACTION.into(),
            control: Some("EV-X-01".into()),
            time_us: T0 + day * DAY_US + 3_600_000_000,
            received_us: T0,
            result: Some(result.into()),
            covers: (
                T0 + day * DAY_US + 3_600_000_000,
                T0 + day * DAY_US + 3_600_000_000,
            ),
            catalog: None,
            policy: None,
            document: None,
            declared: None,
        }
    }

    fn catalog() -> CatalogSnapshot {
        CatalogSnapshot {
            catalog_hash: "sha256:00".into(),
            framework: "soc2".into(),
            framework_name: "SOC 2".into(),
            controls: vec![ControlInfo {
                id: "EV-X-01".into(),
                title: "x".into(),
                implementation: "automated".into(),
                check: Some("x.check".into()),
                cadence_seconds: 86_400,
                requirements: vec!["CC1.1".into()],
            }],
        }
    }

    /// Found while writing the `bundle_archive` fuzz target: a bundle's catalog member with a
    /// cadence of more than ~9.2e12 seconds overflowed its conversion to µs (a panic in a
    /// debug build, a wrapped, negative cadence and made-up gaps in a release one).
    #[test]
    fn a_cadence_too_long_for_microseconds_saturates() {
        let period = Period {
            from_us: T0,
            to_us: T0 + 10 * DAY_US,
        };
        let events = vec![run(0, 0, "pass")];
        for seconds in [9_300_000_000_000, i64::MAX as u64, u64::MAX] {
            let mut long = catalog();
            long.controls[0].cadence_seconds = seconds;
            let f = figures(&long, &events, period);
            assert!(f.controls[0].gaps.is_empty(), "{seconds} s: never due");
            assert_eq!(f.controls[0].grid, "PPPPPPPPPP");
        }
    }

    #[test]
    fn gaps_failures_and_the_grid() {
        let period = Period {
            from_us: T0,
            to_us: T0 + 10 * DAY_US,
        };
        let mut events: Vec<PeriodEvent> = (0..10)
            .filter(|d| !(4..7).contains(d))
            .map(|d| run(d as u64, d, if d == 2 { "fail" } else { "pass" }))
            .collect();
        let f = figures(&catalog(), &events, period);
        let c = &f.controls[0];
        assert_eq!((c.runs, c.pass, c.fail), (7, 6, 1));
        assert_eq!(c.gaps.len(), 1, "days 4, 5 and 6 were not checked");
        assert_eq!(short_time(&c.gaps[0].from), "2026-01-04T01:00Z");
        assert_eq!(short_time(&c.gaps[0].to), "2026-01-08T01:00Z");
        assert!(
            c.unresolved.is_empty(),
            "the failure of day 2 passed on day 3"
        );
        assert_eq!(c.grid, "PPFPGGGGPP");

        // A last failure with no pass after it is unresolved, until an exception covers it.
        events.push(run(99, 9, "fail"));
        let f = figures(&catalog(), &events, period);
        assert_eq!(f.controls[0].unresolved, vec![99]);
        let mut grant = run(100, 8, "");
        grant.kind = Kind::ExceptionGranted;
        grant.result = None;
        grant.covers = (grant.time_us, T0 + 30 * DAY_US);
        events.push(grant);
        assert!(figures(&catalog(), &events, period).controls[0]
            .unresolved
            .is_empty());
        let mut revoke = run(101, 9, "");
        revoke.kind = Kind::ExceptionRevoked;
        revoke.time_us -= 1;
        events.push(revoke);
        assert_eq!(
            figures(&catalog(), &events, period).controls[0].unresolved,
            vec![99]
        );
    }
}
