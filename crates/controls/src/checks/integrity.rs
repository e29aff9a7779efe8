//! `log.integrity`: the whole log verifies now (every entry against its leaf hash, every
//! signed checkpoint's signature and root, every stored personal value against its
//! commitment), the newest signed checkpoint covers every stored entry, and it is fresh.
//!
//! A checkpoint is signed with each batch appended, so its age is the age of the newest
//! entry it covers; a log nobody (not even these checks) appended to for longer than the
//! allowed age means the engine is not recording.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use evident_core::Error;

use crate::checks::context::{normalize, received_us, settings, CheckContext, HOUR_US};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// the oldest the newest signed checkpoint may be
    max_checkpoint_age_hours: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_checkpoint_age_hours: 25,
        }
    }
}

/// The check.
pub const LOG_INTEGRITY: CheckDef = CheckDef {
    name: "log.integrity",
    revision: 1,
    summary: "the whole log verifies now and its newest signed checkpoint covers it and is fresh",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: Settings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let started = std::time::Instant::now();
    let report = match cx.log.verify(|_| {}) {
        Ok(r) => r,
        Err(Error::Integrity(why)) => {
            return Outcome::fail(
                format!("the log does not verify: {why}"),
                "stop writing to this data directory, keep it as it is for investigation, and restore the last backup that verifies (`evident restore`)",
            )
        }
        Err(e) => return e.into(),
    };
    let with_report = |o: Outcome| {
        o.with("entries", report.entries)
            .with("checkpoints_checked", report.checkpoints)
            .with("personal_values_checked", report.personal)
            .with("personal_values_sealed", report.personal_sealed)
            .with("root", hex::encode(report.root))
            .with("verify_ms", started.elapsed().as_millis() as u64)
            .with("max_checkpoint_age_hours", s.max_checkpoint_age_hours)
    };
    let Some(latest) = cx.log.checkpoint() else {
        return with_report(Outcome::inconclusive(
            "the log is empty: there is no signed checkpoint to judge",
        ));
    };
    let size = latest.checkpoint.size;
    let stored = match cx
        .recorder
        .pooled_store()
        .and_then(|st| Ok((st.size()?, st.latest_checkpoint()?.map(|c| c.size))))
    {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    if stored.1.unwrap_or(0) < stored.0 {
        return with_report(Outcome::fail(
            format!(
                "{} stored entries but the newest stored checkpoint covers {}",
                stored.0,
                stored.1.unwrap_or(0)
            ),
            "entries without a signed checkpoint were written outside the sequencer: investigate the data directory",
        ));
    }
    let newest = match cx.log.event(size.saturating_sub(1), false) {
        Ok(e) => e,
        Err(e) => return e.into(),
    };
    let Some(at) = received_us(&newest) else {
        return Outcome::error(format!(
            "entry {} has no readable receive time",
            newest.index
        ));
    };
    let age = cx.now_us - at;
    let allowed = i64::try_from(s.max_checkpoint_age_hours).unwrap_or(i64::MAX / HOUR_US) * HOUR_US;
    let o = with_report(Outcome::pass(""))
        .with("checkpoint_size", size)
        .with(
            "checkpoint_age_hours",
            (age as f64 / HOUR_US as f64 * 10.0).round() / 10.0,
        );
    let o = o.relying_on([newest.index]);
    if age > allowed {
        return Outcome {
            verdict: crate::checks::outcome::Verdict::Fail,
            reason: format!(
                "the newest signed checkpoint is {} h old (allowed: {} h): nothing was recorded since",
                age / HOUR_US,
                s.max_checkpoint_age_hours
            ),
            remedy: Some(
                "check that `evident serve` is running and that applications and scheduled checks reach it".into(),
            ),
            ..o
        };
    }
    Outcome {
        reason: format!(
            "{} entries and {} checkpoints verify; the newest checkpoint (size {size}) is {} h old",
            report.entries,
            report.checkpoints,
            age / HOUR_US
        ),
        ..o
    }
}
