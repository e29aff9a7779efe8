//! The routes about the server itself: `GET /healthz` and `GET /openapi.json` (public) and
//! `GET /metrics` (Prometheus, `reader`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use evident::Role;
use serde_json::{json, Value};

use crate::auth::authenticate;
use crate::error::ApiResult;
use crate::state::{AppState, Shared};

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Health, metrics and the OpenAPI document.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

async fn healthz(State(state): Shared) -> Json<Value> {
    Json(json!({"status": "ok", "origin": state.engine.origin(), "size": state.engine.size()}))
}

async fn metrics(State(state): Shared, headers: HeaderMap) -> ApiResult<Response> {
    authenticate(&state, &headers, Role::Reader)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(state.engine.size()),
    )
        .into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
