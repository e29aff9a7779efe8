//! `controls.monitored`: the controls themselves are watched — every automated and partly
//! automated control was checked within its cadence, and none has been failing (or unable to
//! decide) for longer than allowed without being fixed or formally excepted. Reads each
//! control's status in the store against the catalog in force, and the exceptions in the
//! ledger: a failing control with an open exception (approved by a second person, not
//! revoked, not ended) is excused; one whose exception has ended fails the check at once,
//! however recent the failure, because its acceptance ran out.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use evident_core::event::format_time;

use crate::checks::context::{days, normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;
use crate::exceptions;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// how long a control may stay failing or in error before this check fails
    max_failing_days: u64,
    /// controls left out (this check's own control, say)
    except: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_failing_days: 30,
            except: Vec::new(),
        }
    }
}

/// The check.
pub const MONITORED: CheckDef = CheckDef {
    name: "controls.monitored",
    revision: 2,
    summary: "every automated control was checked within its cadence and none fails for longer than max_failing_days, unless under an open exception",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: Settings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let stored = match cx
        .recorder
        .pooled_store()
        .and_then(|st| st.control_statuses())
    {
        Ok(rows) => rows,
        Err(e) => return e.into(),
    };
    let exceptions = match exceptions::by_control(cx.log) {
        Ok(found) => found,
        Err(e) => return e.into(),
    };
    let mut excepted = Vec::new();
    let mut exception_ended = Vec::new();
    let mut lapsed = Vec::new();
    let mut failing = Vec::new();
    let mut watched = 0u64;
    let mut evidence = Vec::new();
    for control in &cx.catalog.controls {
        if control.check.is_none()
            || control.check.as_deref() == Some(MONITORED.name)
            || s.except.contains(&control.id)
        {
            continue;
        }
        watched += 1;
        let Some(status) = stored.iter().find(|r| r.control == control.id) else {
            lapsed.push(json!({"control": control.id, "last_checked": null, "cadence": control.cadence.to_string()}));
            continue;
        };
        evidence.push(status.index);
        if cx.now_us - status.checked_us > control.cadence.micros() {
            lapsed.push(json!({"control": control.id, "last_checked": format_time(status.checked_us), "cadence": control.cadence.to_string()}));
        }
        if !matches!(status.result.as_str(), "fail" | "error") {
            continue;
        }
        match exceptions.get(&control.id) {
            Some(e) if e.is_open(cx.now_us) => {
                evidence.push(e.index);
                excepted.push(json!({"control": control.id, "exception_id": e.exception_id, "until": e.until, "approved_by": e.approved_by}));
                continue;
            }
            // An exception that ended after the failure began covered it; the failure now stands alone.
            Some(e) if e.until_us > status.since_us => {
                evidence.push(e.index);
                exception_ended.push(json!({"control": control.id, "exception_id": e.exception_id, "ended": e.until, "result": status.result}));
                continue;
            }
            _ => {}
        }
        if cx.now_us - status.since_us > days(s.max_failing_days) {
            failing.push(json!({"control": control.id, "result": status.result, "since": format_time(status.since_us)}));
        }
    }
    let o = if lapsed.is_empty() && failing.is_empty() && exception_ended.is_empty() {
        Outcome::pass(format!(
            "all {watched} automated controls were checked within their cadence; none fails for more than {} days{}",
            s.max_failing_days,
            if excepted.is_empty() {
                String::new()
            } else {
                format!(" ({} failing under an open exception)", excepted.len())
            }
        ))
    } else {
        Outcome::fail(
            format!(
                "{} control(s) not checked within their cadence, {} failing for more than {} days, {} failing after their exception ended",
                lapsed.len(),
                failing.len(),
                s.max_failing_days,
                exception_ended.len()
            ),
            "run the lapsed checks on their cadence (`evident controls check`, or the scheduler) and fix the failing controls or grant a reviewed exception (`evident controls except`)",
        )
    };
    o.with("watched", watched)
        .with("lapsed", Value::Array(lapsed))
        .with("failing_too_long", Value::Array(failing))
        .with("excepted", Value::Array(excepted))
        .with("exception_ended", Value::Array(exception_ended))
        .with("max_failing_days", s.max_failing_days)
        .relying_on(evidence)
}
