//! The routes of API keys (`admin`): `POST /v1/apikeys` creates one and shows its token this
//! once (`Cache-Control: no-store`), `GET /v1/apikeys` lists them without secrets, and
//! `DELETE /v1/apikeys/{id}` revokes one. Each change is recorded in the ledger.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use evident::Role;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::authenticate;
use crate::blocking::blocking;
use crate::error::ApiResult;
use crate::request::json_body;
use crate::state::{AppState, Shared};

/// Creating, listing and revoking API keys.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/apikeys", post(create_key).get(list_keys))
        .route("/v1/apikeys/{id}", delete(revoke_key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyRequest {
    role: String,
    label: Option<String>,
}

async fn create_key(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let identity = authenticate(&state, &headers, Role::Admin)?;
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

async fn list_keys(State(state): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Admin)?;
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
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let identity = authenticate(&state, &headers, Role::Admin)?;
    let engine = state.engine.clone();
    let actor = identity.admin_actor();
    blocking(move || engine.revoke_api_key(&id, &actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}
