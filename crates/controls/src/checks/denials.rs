//! `access.denied_spike`: denied access decisions and failed logins in the last window,
//! against the average window of the baseline before it. A spike is an attack, a broken
//! client, or a policy change that locked people out: someone should look.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use evident_core::store::EventQuery;

use crate::checks::context::{days, normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// the window looked at, in minutes
    window_minutes: u64,
    /// the baseline before it, in days
    baseline_days: u64,
    /// a spike is more than `factor` times the baseline's average window …
    factor: f64,
    /// … and at least this many events
    min_events: u64,
    /// counting stops here (per window), so a flood cannot stall the check
    count_cap: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window_minutes: 60,
            baseline_days: 7,
            factor: 5.0,
            min_events: 20,
            count_cap: 200_000,
        }
    }
}

/// The check.
pub const DENIED_SPIKE: CheckDef = CheckDef {
    name: "access.denied_spike",
    revision: 1,
    summary:
        "denied decisions and failed logins in the last window stay within factor × the baseline",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

/// What is counted: (name, action, outcome).
const SERIES: &[(&str, &str, Option<&str>)] = &[
    ("denied_decisions", "access.evaluate", Some("denied")),
    ("failed_logins", "auth.login.failed", None),
];

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: Settings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    if s.window_minutes == 0 || s.factor.is_nan() || s.factor < 1.0 || s.baseline_days == 0 {
        return Outcome::error(
            "window_minutes and baseline_days must be positive and factor at least 1",
        );
    }
    let window = i64::try_from(s.window_minutes).unwrap_or(i64::MAX / 60_000_000) * 60_000_000;
    let baseline = days(s.baseline_days);
    if baseline <= window {
        return Outcome::error("the baseline must be longer than the window");
    }
    let windows = ((baseline - window) / window).max(1) as f64;
    let mut observed = serde_json::Map::new();
    let mut spikes = Vec::new();
    let mut evidence = Vec::new();
    for (name, action, outcome) in SERIES {
        let query = |since: i64, until: i64| EventQuery {
            action: Some((*action).to_string()),
            outcome: outcome.map(str::to_string),
            since_us: Some(since),
            until_us: Some(until),
            ..EventQuery::default()
        };
        let now = cx.now_us;
        let (current, newest) = match cx.count(&query(now - window, now + 1), s.count_cap, 50) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let (before, _) = match cx.count(&query(now - baseline, now - window), s.count_cap, 0) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let average = before as f64 / windows;
        let threshold = (average * s.factor).max(s.min_events as f64);
        observed.insert(
            (*name).to_string(),
            json!({"last_window": current, "baseline_average": (average * 10.0).round() / 10.0, "threshold": threshold.round()}),
        );
        if current as f64 > threshold {
            spikes.push(format!(
                "{current} {} in the last {} min (baseline average {:.1})",
                name.replace('_', " "),
                s.window_minutes,
                average
            ));
            evidence.extend(newest);
        }
    }
    let mut o = if spikes.is_empty() {
        Outcome::pass(format!(
            "no spike of denied decisions or failed logins in the last {} min",
            s.window_minutes
        ))
    } else {
        Outcome::fail(
            spikes.join("; "),
            "find who is refused: `evident log query --action access.evaluate --outcome denied --since …` (and `auth.login.failed`); block an attacker, fix a broken client, or roll back a policy change that locked people out (`evident policy rollback`)",
        )
    };
    o.observed = observed;
    o.with("window_minutes", s.window_minutes)
        .with("baseline_days", s.baseline_days)
        .with("factor", s.factor)
        .relying_on(evidence)
}
