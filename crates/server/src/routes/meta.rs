//! The routes about the server itself: `GET /healthz` and `GET /openapi.json` (public) and
//! `GET /metrics` (Prometheus, `reader`).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::gate::Operations;
use crate::roles::{Access, READERS};
use crate::state::Shared;

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Health, metrics and the OpenAPI document.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/healthz", Access::Public, healthz)
        .get("/metrics", READERS, metrics)
        .get("/openapi.json", Access::Public, openapi)
}

async fn healthz(State(state): Shared) -> Json<Value> {
    Json(json!({"status": "ok", "origin": state.engine.origin(), "size": state.engine.size()}))
}

async fn metrics(State(state): Shared) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(state.engine.size()),
    )
        .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
