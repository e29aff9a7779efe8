//! The routes of login lockouts (`admin`): `GET /v1/auth/lockouts` lists the locks in force
//! and the policy, `DELETE /v1/auth/lockouts/{id}` lifts one. A lift is recorded in the
//! ledger (`auth.lockout.unlocked`, naming the administrator) before it takes effect.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};
use evident::event::format_time;
use evident::Role;
use serde_json::{json, Value};

use crate::auth::authenticate;
use crate::error::{ApiError, ApiResult};
use crate::lockout::{self, Credential};
use crate::state::{AppState, Shared};

/// Listing and lifting login lockouts.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/auth/lockouts", get(list_lockouts))
        .route("/v1/auth/lockouts/{id}", delete(lift_lockout))
}

async fn list_lockouts(State(state): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Admin)?;
    let now = Instant::now();
    let lockouts: Vec<Value> = state
        .lockout
        .locks()
        .iter()
        .map(|lock| {
            json!({
                "id": lock.id,
                "scope": lock.scope.kind(),
                "credential": lock.scope.credential().map(Credential::label),
                "address": lock.scope.address().map(|a| a.to_string()),
                "failures": lock.failures,
                "locked_at": format_time(lock.locked_at_us),
                "locked_until": format_time(lock.until_us),
                "retry_after_seconds": lock.remaining(now).as_secs().max(1),
            })
        })
        .collect();
    let policy = state.lockout.policy();
    Ok(Json(json!({
        "lockouts": lockouts,
        "policy": {
            "max_attempts": policy.max_attempts(),
            "address_max_attempts": policy.address_max_attempts(),
            "duration_seconds": policy.duration().as_secs(),
            "max_tracked": policy.max_tracked(),
            "weaker_than_pci": policy.is_weaker_than_pci(),
        },
    })))
}

async fn lift_lockout(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let identity = authenticate(&state, &headers, Role::Admin)?;
    let lock = state
        .lockout
        .find(&id)
        .ok_or_else(|| ApiError::not_found("no lockout with this id is in force"))?;
    // recorded first: a lift the ledger could not record does not happen
    state
        .engine
        .append(vec![lockout::unlocked_event(
            &lock,
            &identity.admin_actor(),
        )])
        .await?;
    state.lockout.unlock(&id);
    Ok(StatusCode::NO_CONTENT)
}
