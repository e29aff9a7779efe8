//! `backup.restore_tested`: the newest restore test (`evident backup test`, an
//! `evident.backup.tested` event) passed and is younger than the allowed age.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checks::context::{days, in_days, normalize, received_us, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// the oldest a passing restore test may be
    max_age_days: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_age_days: 30 }
    }
}

/// The check.
pub const RESTORE_TESTED: CheckDef = CheckDef {
    name: "backup.restore_tested",
    revision: 1,
    summary: "the last backup restore test passed and is younger than max_age_days",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

const ACTION: &str = "evident.backup.tested";

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: Settings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let remedy = "run `evident backup FILE` and `evident backup test FILE` (a restore into a scratch directory, verified)";
    let latest = match cx.latest(ACTION, None) {
        Ok(e) => e,
        Err(e) => return e.into(),
    };
    let Some(test) = latest else {
        return Outcome::fail("no backup restore test is recorded in the ledger", remedy)
            .with("max_age_days", s.max_age_days);
    };
    let Some(at) = received_us(&test) else {
        return Outcome::error(format!(
            "the restore test at index {} has no readable time",
            test.index
        ))
        .relying_on([test.index]);
    };
    let outcome = test
        .entry
        .get("outcome")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let age = cx.now_us - at;
    let base = |o: Outcome| {
        o.with("tested_at", evident_core::event::format_time(at))
            .with("age_days", in_days(age))
            .with("max_age_days", s.max_age_days)
            .with("outcome", outcome)
            .with(
                "backup_sha256",
                test.entry
                    .pointer("/resource/id")
                    .cloned()
                    .unwrap_or(Value::Null),
            )
            .relying_on([test.index])
    };
    if outcome != "success" {
        let why = test
            .entry
            .pointer("/metadata/error")
            .and_then(Value::as_str)
            .unwrap_or("no reason recorded");
        return base(Outcome::fail(
            format!("the newest restore test failed: {why}"),
            "find why the backup does not restore, fix it, then back up and test again",
        ));
    }
    if age > days(s.max_age_days) {
        return base(Outcome::fail(
            format!(
                "the newest passing restore test is {} days old (allowed: {})",
                in_days(age),
                s.max_age_days
            ),
            remedy,
        ));
    }
    base(Outcome::pass(format!(
        "the newest restore test passed {} days ago",
        in_days(age)
    )))
}
