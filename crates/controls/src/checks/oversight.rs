//! Oversight of access: `access.break_glass_reviewed` (every emergency access closed by a
//! second person within the allowed time) and `access.review_recent` (an access review of
//! the active policy ran within N days).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use evident_core::event::format_time;
use evident_core::store::EventQuery;

use crate::checks::context::{
    days, in_days, meta_str, normalize, received_us, settings, CheckContext, HOUR_US,
};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BreakGlassSettings {
    /// how long a break-glass access may wait for its review
    max_review_hours: u64,
    /// how far back accesses are looked at
    lookback_days: u64,
}

impl Default for BreakGlassSettings {
    fn default() -> Self {
        BreakGlassSettings {
            max_review_hours: 24,
            lookback_days: 90,
        }
    }
}

/// The break-glass check.
pub const BREAK_GLASS_REVIEWED: CheckDef = CheckDef {
    name: "access.break_glass_reviewed",
    revision: 1,
    summary: "every break-glass access was reviewed by a second person within max_review_hours",
    available: true,
    normalize: normalize::<BreakGlassSettings>,
    run: run_break_glass,
};

fn run_break_glass(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: BreakGlassSettings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let records = match cx
        .recorder
        .pooled_store()
        .and_then(|st| st.break_glass(false))
    {
        Ok(r) => r,
        Err(e) => return e.into(),
    };
    let allowed = i64::try_from(s.max_review_hours).unwrap_or(i64::MAX / HOUR_US) * HOUR_US;
    let since = cx.now_us - days(s.lookback_days);
    let mut late = Vec::new();
    let mut overdue = Vec::new();
    let mut self_reviewed = Vec::new();
    let mut violations = 0u64;
    let mut reviewed = 0u64;
    let mut open_in_time = 0u64;
    let mut considered = 0u64;
    for r in records.iter().filter(|r| r.opened_us >= since) {
        considered += 1;
        match (r.closed_us, &r.reviewer) {
            (Some(closed), Some(reviewer)) => {
                reviewed += 1;
                let subject_id = r
                    .subject
                    .split_once("::")
                    .map_or(r.subject.as_str(), |(_, id)| id.trim_matches('"'));
                if reviewer == subject_id || *reviewer == r.subject {
                    self_reviewed.push(r.id.clone());
                }
                if closed - r.opened_us > allowed {
                    late.push(json!({"review": r.id, "opened": format_time(r.opened_us), "closed": format_time(closed), "hours": (closed - r.opened_us) / HOUR_US}));
                }
                if r.outcome.as_deref() == Some("violation") {
                    violations += 1;
                }
            }
            _ if cx.now_us - r.opened_us > allowed => {
                overdue.push(json!({"review": r.id, "opened": format_time(r.opened_us), "hours_open": (cx.now_us - r.opened_us) / HOUR_US}));
            }
            _ => open_in_time += 1,
        }
    }
    let evidence = match cx.count(
        &EventQuery {
            action: Some("access.break_glass.reviewed".into()),
            since_us: Some(since),
            ..EventQuery::default()
        },
        100_000,
        crate::checks::outcome::MAX_EVIDENCE,
    ) {
        Ok((_, indices)) => indices,
        Err(e) => return e.into(),
    };
    let with = |o: Outcome| {
        o.with("accesses", considered)
            .with("reviewed", reviewed)
            .with("open_within_time", open_in_time)
            .with("overdue", Value::Array(overdue.clone()))
            .with("reviewed_late", Value::Array(late.clone()))
            .with("reviewed_by_the_user", json!(self_reviewed.clone()))
            .with("violations_found", violations)
            .with("max_review_hours", s.max_review_hours)
            .with("lookback_days", s.lookback_days)
            .relying_on(evidence.clone())
    };
    if !self_reviewed.is_empty() {
        return with(Outcome::fail(
            format!("{} break-glass access(es) were reviewed by the person who used them", self_reviewed.len()),
            "have a second person review them again; find how the review bypassed the second-person rule",
        ));
    }
    if !overdue.is_empty() || !late.is_empty() {
        return with(Outcome::fail(
            format!(
                "{} break-glass access(es) wait for review past {} h, {} were reviewed late",
                overdue.len(),
                s.max_review_hours,
                late.len()
            ),
            "review the open accesses now: `evident access break-glass list`, then `evident access break-glass review ID --outcome approved|violation --note …`",
        ));
    }
    with(Outcome::pass(format!(
        "{considered} break-glass access(es) in {} days: {reviewed} reviewed in time by a second person, {open_in_time} still within the review time",
        s.lookback_days
    )))
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ReviewSettings {
    /// the oldest an access review may be
    max_age_days: u64,
    /// whether the review must be of the policy version in force now
    require_active_version: bool,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            max_age_days: 90,
            require_active_version: true,
        }
    }
}

/// The access review check.
pub const REVIEW_RECENT: CheckDef = CheckDef {
    name: "access.review_recent",
    revision: 1,
    summary: "an access review of the active policy ran within max_age_days",
    available: true,
    normalize: normalize::<ReviewSettings>,
    run: run_review,
};

fn run_review(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: ReviewSettings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let remedy = "run `evident access review` and have the report reviewed and signed off";
    let active = match cx.access.active() {
        Ok(a) => a,
        Err(e) => return e.into(),
    };
    let latest = match cx.latest("access.review.generated", None) {
        Ok(e) => e,
        Err(e) => return e.into(),
    };
    let Some(review) = latest else {
        return Outcome::fail("no access review is recorded in the ledger", remedy)
            .with("max_age_days", s.max_age_days);
    };
    let Some(at) = received_us(&review) else {
        return Outcome::error(format!(
            "the access review at index {} has no readable time",
            review.index
        ));
    };
    let reviewed_version = review
        .entry
        .pointer("/resource/id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let active_version = active.as_ref().map(|p| format!("v{}", p.version));
    let age = cx.now_us - at;
    let with = |o: Outcome| {
        o.with("reviewed_at", format_time(at))
            .with("age_days", in_days(age))
            .with("max_age_days", s.max_age_days)
            .with("reviewed_policy", reviewed_version.clone())
            .with(
                "active_policy",
                active_version.clone().map_or(Value::Null, Value::from),
            )
            .with(
                "report_sha256",
                meta_str(&review, "report_sha256").unwrap_or(""),
            )
            .relying_on([review.index])
    };
    if age > days(s.max_age_days) {
        return with(Outcome::fail(
            format!(
                "the newest access review is {} days old (allowed: {})",
                in_days(age),
                s.max_age_days
            ),
            remedy,
        ));
    }
    if s.require_active_version && active_version.as_deref() != Some(reviewed_version.as_str()) {
        return with(Outcome::fail(
            format!(
                "the newest access review covers policy {reviewed_version}, but {} is in force",
                active_version.as_deref().unwrap_or("no policy")
            ),
            "review the policy version in force: `evident access review`",
        ));
    }
    with(Outcome::pass(format!(
        "policy {reviewed_version} was reviewed {} days ago",
        in_days(age)
    )))
}
