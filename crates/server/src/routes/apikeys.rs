//! The routes of API keys (`admin`): `POST /v1/apikeys` creates one and shows its token this
//! once (`Cache-Control: no-store`), `GET /v1/apikeys` lists them without secrets, and
//! `DELETE /v1/apikeys/{id}` revokes one. Each change is recorded in the ledger.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use evident::Role;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::blocking;
use crate::error::ApiResult;
use crate::gate::Operations;
use crate::request::{json_body, Path};
use crate::roles::ADMINS;
use crate::state::Shared;

/// Creating, listing and revoking API keys.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .post("/v1/apikeys", ADMINS, create_key)
        .get("/v1/apikeys", ADMINS, list_keys)
        .delete("/v1/apikeys/{id}", ADMINS, revoke_key)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyRequest {
    role: String,
    label: Option<String>,
}

async fn create_key(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let req: CreateKeyRequest = json_body(body)?;
    let role = Role::parse(&req.role)?;
    let engine = state.engine.clone();
    let actor = identity.admin_actor();
    let created =
        blocking(move || engine.create_api_key(role, req.label.as_deref(), &actor)).await?;
    let body =
        json!({"id": created.id, "role": created.role.as_str(), "token": created.token.as_str()});
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn list_keys(State(state): Shared) -> ApiResult<Json<Value>> {
    let keys: Vec<Value> = state
        .engine
        .api_keys()?
        .into_iter()
        .map(|k| {
            json!({
                "id": k.id,
                "role": k.role,
                "label": k.label,
                "created_at": evident::event::format_time(k.created_us),
                "revoked_at": k.revoked_us.map(evident::event::format_time),
            })
        })
        .collect();
    Ok(Json(json!({"keys": keys})))
}

async fn revoke_key(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let engine = state.engine.clone();
    let actor = identity.admin_actor();
    blocking(move || engine.revoke_api_key(&id, &actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}
