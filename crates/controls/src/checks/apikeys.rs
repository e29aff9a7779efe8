//! `apikeys.hygiene`: no active API key is older than its allowed age, and none went unused
//! for longer than allowed (an unused credential is attack surface with no owner watching).
//! Last use comes from the store, where authentication records it (at most every ten
//! minutes per key and process).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use evident_core::event::format_time;
use evident_core::store::EventQuery;

use crate::checks::context::{days, in_days, normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// the oldest an active key may be
    max_age_days: u64,
    /// the longest an active key may go unused (since its creation when never used)
    max_unused_days: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_age_days: 365,
            max_unused_days: 90,
        }
    }
}

/// The check.
pub const HYGIENE: CheckDef = CheckDef {
    name: "apikeys.hygiene",
    revision: 1,
    summary: "no active API key is older than max_age_days or unused for max_unused_days",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: Settings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let read = cx
        .recorder
        .pooled_store()
        .and_then(|st| Ok((st.api_keys()?, st.api_key_uses()?)));
    let (keys, uses) = match read {
        Ok(r) => r,
        Err(e) => return e.into(),
    };
    let uses: BTreeMap<String, i64> = uses.into_iter().collect();
    let active: Vec<_> = keys.iter().filter(|k| k.revoked_us.is_none()).collect();
    let mut too_old = Vec::new();
    let mut unused = Vec::new();
    let mut flagged = Vec::new();
    for key in &active {
        let age = cx.now_us - key.created_us;
        let last = uses.get(&key.id).copied();
        let idle = cx.now_us - last.unwrap_or(key.created_us);
        let summary = json!({
            "id": key.id,
            "role": key.role,
            "label": key.label,
            "created": format_time(key.created_us),
            "age_days": in_days(age),
            "last_used": last.map(format_time),
        });
        if age > days(s.max_age_days) {
            too_old.push(summary.clone());
            flagged.push(key.id.clone());
        }
        if idle > days(s.max_unused_days) {
            unused.push(summary);
            flagged.push(key.id.clone());
        }
    }
    let mut evidence = Vec::new();
    for id in &flagged {
        let found = cx.log.query(&EventQuery {
            action: Some("evident.apikey.created".into()),
            resource_type: Some("api_key".into()),
            resource_id: Some(id.clone()),
            limit: 1,
            ..EventQuery::default()
        });
        match found {
            Ok(page) => evidence.extend(page.events.iter().map(|e| e.index)),
            Err(e) => return e.into(),
        }
    }
    let o = Outcome::pass("")
        .with("active_keys", active.len())
        .with("revoked_keys", keys.len() - active.len())
        .with("older_than_allowed", Value::Array(too_old.clone()))
        .with("unused_longer_than_allowed", Value::Array(unused.clone()))
        .with("max_age_days", s.max_age_days)
        .with("max_unused_days", s.max_unused_days)
        .relying_on(evidence);
    if too_old.is_empty() && unused.is_empty() {
        return Outcome {
            reason: format!(
                "{} active API key(s), none older than {} days or unused for {} days",
                active.len(),
                s.max_age_days,
                s.max_unused_days
            ),
            ..o
        };
    }
    Outcome {
        verdict: crate::checks::outcome::Verdict::Fail,
        reason: format!(
            "{} key(s) older than {} days, {} unused for more than {} days",
            too_old.len(),
            s.max_age_days,
            unused.len(),
            s.max_unused_days
        ),
        remedy: Some(
            "revoke unused keys (`evident apikey revoke ID`); replace old ones: create a new key, move the service to it, revoke the old one".into(),
        ),
        ..o
    }
}
