//! Who is calling, and may they: the bearer token of a request checked as an API key or,
//! when an issuer is configured, an OIDC token; the caller's role against the least role a
//! route needs; and the refusal paths, which record every refusal in the ledger: a missing,
//! malformed or refused credential as `auth.login.failed` (401), a role too low as
//! `auth.role.denied` (403).
//!
//! Every route that is not public starts with [`authenticate`].

use axum::http::{header, HeaderMap, StatusCode};
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
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    // No credential, or one in no form we read: refused and recorded like a wrong one.
    let no_credential = |reason: &str| {
        login_failed(state, "none", reason, None);
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
    require_role(state, &identity, needed, "this")?;
    Ok(identity)
}

/// 403 when the caller's role does not allow `needed` for `what` (the operation, in words),
/// recorded in the ledger as `auth.role.denied` (PCI DSS 10.2.1.4: invalid access attempts).
pub(crate) fn require_role(
    state: &AppState,
    identity: &Identity,
    needed: Role,
    what: &str,
) -> ApiResult<()> {
    if identity.role.allows(needed) {
        return Ok(());
    }
    let reason = format!(
        "{what} needs the `{}` role; the caller has `{}`",
        needed.as_str(),
        identity.role.as_str()
    );
    let mut event = evident::event::system_event(
        "auth.role.denied",
        "api",
        None,
        json!({
            "method": identity.method,
            "caller": identity.id,
            "needed": needed.as_str(),
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
    record_refusal(state, event, "a refused role");
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
    record_refusal(state, event, "a failed login");
}

/// Appends a refusal's event without holding up the refusal: a flood of bad requests must
/// not queue behind the ledger, and the event is in it moments later.
fn record_refusal(state: &AppState, event: evident::AuditEvent, what: &'static str) {
    let engine = state.engine.clone();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            if let Err(e) = engine.append(vec![event]).await {
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
