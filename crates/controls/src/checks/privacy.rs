//! `privacy.retention` and `privacy.consent`: these depend on the privacy part's retention
//! schedules and consent records, which do not exist yet (it does erasure only). Until they
//! do, both checks answer *inconclusive* and say so: they never pass by default.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checks::context::normalize;
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {}

/// Retention schedules applied to personal data.
pub const RETENTION: CheckDef = CheckDef {
    name: "privacy.retention",
    revision: 1,
    summary:
        "personal data is kept no longer than its retention schedule (depends on the privacy part)",
    available: false,
    normalize: normalize::<Settings>,
    run: |_cx, _params| depends_on("retention schedules"),
};

/// Consent recorded before processing that needs it.
pub const CONSENT: CheckDef = CheckDef {
    name: "privacy.consent",
    revision: 1,
    summary: "processing that needs consent has it recorded (depends on the privacy part)",
    available: false,
    normalize: normalize::<Settings>,
    run: |_cx, _params| depends_on("consent records"),
};

fn depends_on(what: &str) -> Outcome {
    Outcome::inconclusive(format!(
        "this check depends on the privacy part's {what}, which Evident does not have yet; \
         attest the control manually until it does"
    ))
    .with("depends_on", "evident-privacy")
    .with("available", Value::Bool(false))
}
