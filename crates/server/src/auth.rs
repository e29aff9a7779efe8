//! Who is calling, and may they: the bearer token of a request checked as an API key or,
//! when an issuer is configured, an OIDC token; the caller's role against the least role a
//! route needs; and the refusal path, which records every failed login in the ledger.
//!
//! `gate.rs` calls [`authenticate`] for every operation that is not public, before the
//! operation's handler runs.

use axum::http::{header, HeaderMap};
use base64::Engine as _;
use evident::access::Caller;
use evident::Role;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult, LOG_TARGET};
use crate::oidc::OidcVerifier;
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

/// Checks the request's bearer token and that its role allows `needed`: 401 without a valid
/// token (recorded as a failed login), 403 when the role is too low.
pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    needed: Role,
) -> ApiResult<Identity> {
    let unauthorized = |m: &str| ApiError::unauthorized(m);
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        unauthorized("this endpoint needs `Authorization: Bearer <API key or OIDC token>`")
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    let identity = match &state.oidc {
        Some(oidc) if OidcVerifier::looks_like_jwt(token) => match oidc.verify(token) {
            Ok(t) => Identity {
                id: format!("oidc:{}", t.subject),
                role: t.role,
                method: "oidc",
            },
            Err(refused) => {
                login_failed(state, "oidc", &refused.0, claimed_subject(token));
                return Err(unauthorized(&refused.0));
            }
        },
        _ => match state.engine.authenticate(token)? {
            Some(key) => Identity {
                id: key.id,
                role: key.role,
                method: "api_key",
            },
            None => {
                let reason = if OidcVerifier::looks_like_jwt(token) {
                    "a JWT was sent but this server has no OIDC issuer configured"
                } else {
                    "unknown or revoked API key"
                };
                login_failed(state, "api_key", reason, None);
                return Err(unauthorized(reason));
            }
        },
    };
    if !identity.role.allows(needed) {
        return Err(ApiError::forbidden(format!(
            "this needs the `{}` role; the caller has `{}`",
            needed.as_str(),
            identity.role.as_str()
        )));
    }
    Ok(identity)
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

/// Records a failed login in the ledger (PCI DSS 10.2.1.4, HIPAA 164.308(a)(5)(ii)(C)); the
/// token itself is never logged.
fn login_failed(state: &AppState, method: &str, reason: &str, claimed: Option<String>) {
    state.metrics.login_failures.inc();
    let mut event = evident::event::system_event(
        "auth.login.failed",
        "api",
        None,
        json!({"method": method, "reason": reason, "claimed_subject": claimed}),
    );
    event.outcome = evident::event::Outcome::Failure;
    event.severity = Some(evident::event::Severity::Medium);
    if claimed.is_some() {
        event.personal = vec!["/metadata/claimed_subject".into()];
        event.data_subject = claimed;
    }
    let engine = state.engine.clone();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            if let Err(e) = engine.append(vec![event]).await {
                tracing::error!(target: LOG_TARGET, error = %e, "could not record a failed login");
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
