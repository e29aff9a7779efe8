//! Who is calling, and may they: the bearer token of a request checked as an API key or,
//! when an issuer is configured, an OIDC token; the login lockout consulted (`lockout/`);
//! the caller's role against the least role a route needs; and the refusal paths, which
//! record every refusal in the ledger: a missing, malformed or refused credential as
//! `auth.login.failed` (401 or 429), every lockout it sets off, and a role too low as
//! `auth.role.denied` (403).
//!
//! `gate.rs` calls [`authenticate`] for every operation that is not public, before the
//! operation's handler runs.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use base64::Engine as _;
use evident::access::Caller;
use evident::Role;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult, LOG_TARGET};
use crate::lockout::{self, ClientNet, Credential, Lock, Verdict};
use crate::oidc::OidcVerifier;
use crate::peer;
use crate::roles::Access;
use crate::state::AppState;

/// Who is calling: an API key or an OIDC token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// the key id, or `oidc:SUB`
    pub(crate) id: String,
    /// the role that key or token holds
    pub(crate) role: Role,
    /// `api_key` or `oidc`
    pub(crate) method: &'static str,
}

impl Identity {
    /// The caller as the access engine records it with each decision.
    pub(crate) fn caller(&self) -> Caller {
        Caller {
            method: self.method.to_string(),
            id: self.id.clone(),
        }
    }

    /// The caller as the subject of an access request: `User` and the token's `sub` for an
    /// OIDC token, `Service` and the key id for an API key.
    pub(crate) fn subject(&self) -> (&'static str, &str) {
        match self.method {
            "oidc" => ("User", self.id.trim_start_matches("oidc:")),
            _ => ("Service", self.id.as_str()),
        }
    }

    /// The actor that key, data-key and erasure administration records in the ledger:
    /// `apikey:<id>` for an API key, `oidc:<sub>` for an OIDC token's subject (it was once
    /// recorded as `apikey:oidc:<sub>`, naming a key that does not exist).
    pub(crate) fn admin_actor(&self) -> String {
        match self.method {
            "oidc" => self.id.clone(),
            _ => format!("apikey:{}", self.id),
        }
    }
}

/// Checks the request's bearer token and that its role is one `needed` admits: 401 without a valid
/// token (recorded as a failed login), 429 while a login lockout or pause covers the
/// credential or the client's address (the right credential too), 403 when the role is too
/// low. Both refusals carry `Retry-After` when waiting will help.
pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    needed: Access,
) -> ApiResult<Identity> {
    let peer = peer::current();
    // No credential, or one in no form we read: refused and recorded like a wrong one.
    let no_credential = |reason: &str| {
        let refusal = Refusal {
            method: "none",
            reason: reason.to_string(),
            claimed: None,
            key_id: None,
        };
        login_failed(state, &refusal, peer, None, Vec::new());
        unauthorized(reason)
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        no_credential("this endpoint needs `Authorization: Bearer <API key or OIDC token>`")
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| no_credential("the Authorization header must be `Bearer <token>`"))?;
    let Checked {
        outcome,
        credential,
    } = check(state, token)?;
    let verdict = state.lockout.judge(
        credential.as_ref(),
        peer.map(ClientNet::of),
        outcome.is_ok(),
    );
    let identity = match (outcome, verdict) {
        (outcome, Verdict::Blocked { retry_after, lock }) => {
            let reason = "a login lockout or pause is in force".to_string();
            let refusal = match outcome {
                Ok(identity) => Refusal {
                    method: identity.method,
                    reason,
                    claimed: None,
                    key_id: (identity.method == "api_key").then_some(identity.id),
                },
                Err(refusal) => Refusal { reason, ..refusal },
            };
            login_failed(state, &refusal, peer, lock.as_deref(), Vec::new());
            return Err(ApiError::too_many_attempts(
                format!(
                    "too many failed logins with this credential or from this address; \
                     try again in {} s{}",
                    retry_after.as_secs().max(1),
                    lock.map(|id| format!(" (lockout `{id}`; an administrator can lift it)"))
                        .unwrap_or_default()
                ),
                retry_after,
            ));
        }
        (Ok(identity), _) => identity,
        (Err(refusal), verdict) => {
            let (pause, locked) = match verdict {
                Verdict::Counted { pause, locked } => (pause, locked),
                _ => (None, Vec::new()),
            };
            login_failed(state, &refusal, peer, None, locked);
            let error = unauthorized(&refusal.reason);
            return Err(match pause {
                Some(pause) => error.retry_after(pause),
                None => error,
            });
        }
    };
    require_role(state, &identity, needed, "this")?;
    Ok(identity)
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::unauthorized(message)
}

/// A bearer token checked: who it is, or why not; and the credential its failures count
/// against, when one can be told without trusting the sender.
struct Checked {
    outcome: Result<Identity, Refusal>,
    credential: Option<Credential>,
}

/// Why a token was refused, for the client and the ledger.
struct Refusal {
    /// `api_key` or `oidc`
    method: &'static str,
    reason: String,
    /// the `sub` a refused JWT claims, unverified
    claimed: Option<String>,
    /// the API key id the token names (not secret), whether or not such a key exists
    key_id: Option<String>,
}

/// Checks a bearer token as an OIDC token (when an issuer is configured and it looks like a
/// JWT) or as an API key. The credential of an API key is its id, of an OIDC token its
/// subject, the latter only when the issuer's signature verified.
fn check(state: &AppState, token: &str) -> ApiResult<Checked> {
    if let Some(oidc) = state
        .oidc
        .as_ref()
        .filter(|_| OidcVerifier::looks_like_jwt(token))
    {
        return Ok(match oidc.verify_attributed(token) {
            Ok(t) => Checked {
                credential: Some(Credential::Subject(t.subject.clone())),
                outcome: Ok(Identity {
                    id: format!("oidc:{}", t.subject),
                    role: t.role,
                    method: "oidc",
                }),
            },
            Err((refused, signed_subject)) => Checked {
                credential: signed_subject.map(Credential::Subject),
                outcome: Err(Refusal {
                    method: "oidc",
                    reason: refused.0,
                    claimed: claimed_subject(token),
                    key_id: None,
                }),
            },
        });
    }
    let key_id = evident::apikey::split_token(token).map(|(id, _)| id.to_ascii_lowercase());
    let outcome = match state.engine.authenticate(token)? {
        Some(key) => Ok(Identity {
            id: key.id,
            role: key.role,
            method: "api_key",
        }),
        None => Err(Refusal {
            method: "api_key",
            reason: if OidcVerifier::looks_like_jwt(token) {
                "a JWT was sent but this server has no OIDC issuer configured".into()
            } else {
                "unknown or revoked API key".into()
            },
            claimed: None,
            key_id: key_id.clone(),
        }),
    };
    Ok(Checked {
        outcome,
        credential: key_id.map(Credential::ApiKey),
    })
}

/// 403 when `needed` does not admit the caller's role for `what` (the operation, in words),
/// recorded in the ledger as `auth.role.denied` (PCI DSS 10.2.1.4: invalid access attempts).
pub(crate) fn require_role(
    state: &AppState,
    identity: &Identity,
    needed: Access,
    what: &str,
) -> ApiResult<()> {
    if needed.admits(identity.role) {
        return Ok(());
    }
    let least = needed.least().join("` or `");
    let reason = format!(
        "{what} needs the `{least}` role; the caller has `{}`",
        identity.role.as_str()
    );
    let mut event = evident::event::system_event(
        "auth.role.denied",
        "api",
        None,
        json!({
            "method": identity.method,
            "caller": identity.id,
            "needed": needed.least().join(" or "),
            "held": identity.role.as_str(),
            "reason": reason,
        }),
    );
    event.outcome = evident::event::Outcome::Denied;
    event.severity = Some(evident::event::Severity::Medium);
    if identity.method == "oidc" {
        // a person's subject: erasable like every personal value
        event.personal = vec!["/metadata/caller".into()];
        event.data_subject = Some(identity.subject().1.to_string());
    }
    record_refusal(state, vec![event], "a refused role");
    Err(ApiError::forbidden(reason))
}

/// The `sub` a refused token claims, unverified: evidence of who it pretended to be.
fn claimed_subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("sub")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(256).collect())
}

/// Records a failed login in the ledger (PCI DSS 10.2.1.4, HIPAA 164.308(a)(5)(ii)(C)) with
/// the client's address (`actor.ip`, personal), the API key id tried, the lockout that
/// refused it if one did, and the locks it set off; the token itself is never logged. The 401 or 429 is not held up.
fn login_failed(
    state: &AppState,
    refusal: &Refusal,
    peer: Option<IpAddr>,
    lockout: Option<&str>,
    locked: Vec<Lock>,
) {
    state.metrics.login_failures.inc();
    let mut metadata = json!({
        "method": refusal.method,
        "reason": refusal.reason,
        "claimed_subject": refusal.claimed,
    });
    if let Some(id) = &refusal.key_id {
        metadata["key_id"] = json!(id);
    }
    if let Some(id) = lockout {
        metadata["lockout"] = json!(id);
    }
    let mut event = evident::event::system_event("auth.login.failed", "api", None, metadata);
    event.outcome = evident::event::Outcome::Failure;
    event.severity = Some(evident::event::Severity::Medium);
    if let Some(ip) = peer {
        event.actor.ip = Some(ip.to_string());
        event.data_subject = Some(ip.to_string());
    }
    if refusal.claimed.is_some() {
        event.personal = vec!["/metadata/claimed_subject".into()];
        event.data_subject = refusal.claimed.clone();
    }
    let mut events = vec![event];
    for lock in &locked {
        state.metrics.login_lockouts.inc();
        tracing::warn!(
            target: LOG_TARGET,
            lock = %lock.id,
            scope = lock.scope.kind(),
            failures = lock.failures,
            "login lockout"
        );
        events.push(lockout::locked_event(lock));
    }
    record_refusal(state, events, "a failed login");
}

/// Appends a refusal's event without holding up the refusal: a flood of bad requests must
/// not queue behind the ledger, and the event is in it moments later.
fn record_refusal(state: &AppState, events: Vec<evident::AuditEvent>, what: &'static str) {
    let engine = state.engine.clone();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            if let Err(e) = engine.append(events).await {
                tracing::error!(target: LOG_TARGET, error = %e, "could not record {what}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administration_names_the_credential_that_was_used() {
        let key = Identity {
            id: "1f3a9c0b7d2e".into(),
            role: Role::Admin,
            method: "api_key",
        };
        assert_eq!(key.admin_actor(), "apikey:1f3a9c0b7d2e");
        let token = Identity {
            id: "oidc:dr.ames".into(),
            role: Role::Admin,
            method: "oidc",
        };
        assert_eq!(token.admin_actor(), "oidc:dr.ames");
    }
}
