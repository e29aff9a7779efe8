//! The routes of login lockouts (`admin`): `GET /v1/auth/lockouts` lists the locks in force
//! and the policy, `DELETE /v1/auth/lockouts/{id}` lifts one. A lift is recorded in the
//! ledger (`auth.lockout.unlocked`, naming the administrator) before it takes effect.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use evident::event::format_time;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::lockout::{self, Credential};
use crate::request::Path;
use crate::roles::ADMINS;
use crate::state::Shared;

/// Listing and lifting login lockouts.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/v1/auth/lockouts", ADMINS, list_lockouts)
        .delete("/v1/auth/lockouts/{id}", ADMINS, lift_lockout)
}

async fn list_lockouts(State(state): Shared) -> ApiResult<Json<Value>> {
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
    identity: Identity,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
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
