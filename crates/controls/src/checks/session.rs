//! `access.session_lifetime`: the tokens the server accepts end within the automatic logoff
//! limit (HIPAA 164.312(a)(2)(iii), PCI DSS 8.2.8). It reads the settings the newest server
//! start recorded in the ledger (`evident.serve.started`): a server that accepts OIDC tokens
//! must refuse those living longer than `max_minutes` (`--oidc-max-token-lifetime`); one
//! that accepts only API keys holds no sessions (their age and use are `apikeys.hygiene`'s).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::checks::context::{normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

/// The event a server records when it starts (`evident_server::started`).
const STARTED: &str = "evident.serve.started";

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// the longest a token may live, in minutes
    max_minutes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { max_minutes: 15 }
    }
}

/// The check.
pub const SESSION_LIFETIME: CheckDef = CheckDef {
    name: "access.session_lifetime",
    revision: 1,
    summary: "the server refuses tokens that outlive the automatic logoff limit",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s = match settings::<Settings>(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let started = match cx.latest(STARTED, None) {
        Ok(Some(e)) => e,
        Ok(None) => {
            return Outcome::inconclusive(
                "no server start is recorded in the ledger (`evident serve` records its \
                 settings when it starts), so the settings in force are unknown",
            )
        }
        Err(e) => return e.into(),
    };
    let meta = started
        .entry
        .get("metadata")
        .cloned()
        .unwrap_or(Value::Null);
    let at = started
        .entry
        .get("received_at")
        .cloned()
        .unwrap_or(Value::Null);
    let limit = s.max_minutes * 60;
    let outcome = match meta.get("oidc") {
        None | Some(Value::Null) => Outcome::pass(
            "the server accepts no OIDC tokens: its only credentials are API keys, which hold \
             no session (their age and use are checked by `apikeys.hygiene`)",
        ),
        Some(oidc) => match oidc.get("max_token_lifetime_seconds").and_then(Value::as_u64) {
            None => Outcome::fail(
                "the server accepts OIDC tokens of whatever lifetime the issuer grants",
                format!(
                    "start `evident serve` with `--oidc-max-token-lifetime {}m` (and set the \
                     identity provider's access-token lifespan and idle timeout to match)",
                    s.max_minutes
                ),
            ),
            Some(seconds) if seconds > limit => Outcome::fail(
                format!(
                    "the server accepts OIDC tokens living up to {seconds} s, over the limit of {limit} s"
                ),
                format!("lower `--oidc-max-token-lifetime` to {}m or less", s.max_minutes),
            ),
            Some(seconds) => Outcome::pass(format!(
                "the server refuses OIDC tokens living longer than {seconds} s (limit {limit} s)"
            )),
        },
    };
    outcome
        .with("server_started", at)
        .with("oidc", meta.get("oidc").cloned().unwrap_or(Value::Null))
        .with("limit_seconds", json!(limit))
        .relying_on([started.index])
}
