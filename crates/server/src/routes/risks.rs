//! The routes of the risk register: reading it (`GET /v1/risks`, `/v1/risks/{id}`,
//! `/v1/risks/export?format=csv|json`, `/v1/risks/report`), which readers and auditors may,
//! residual risk computed from the linked controls' live status as of the request; and
//! changing it (`POST /v1/risks`, `/v1/risks/{id}`, `/v1/risks/{id}/close`, `admin`: a risk's
//! treatment is a decision of the organisation), each change one `controls.risk.*` event.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use evident::controls::registers::risk::{NewRisk, RiskChange};
use evident::controls::registers::risk_export;
use evident::event::{format_time, now_us};
use serde::Deserialize;
use serde_json::{json, Value};

use super::controls::controls_call;
use crate::auth::Identity;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{json_body, Path, Query};
use crate::roles::{ADMINS, EVIDENCE_READERS};
use crate::state::Shared;

/// Reading and changing the risk register.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/v1/risks", EVIDENCE_READERS, list)
        .get("/v1/risks/export", EVIDENCE_READERS, export)
        .get("/v1/risks/report", EVIDENCE_READERS, report)
        .get("/v1/risks/{id}", EVIDENCE_READERS, show)
        .post("/v1/risks", ADMINS, add)
        .post("/v1/risks/{id}", ADMINS, update)
        .post("/v1/risks/{id}/close", ADMINS, close)
}

async fn list(State(state): Shared) -> ApiResult<Json<Value>> {
    let now = now_us();
    let risks = controls_call(&state.engine, move |engine| engine.controls().risks(now)).await?;
    Ok(Json(json!({"as_of": format_time(now), "risks": risks})))
}

async fn show(State(state): Shared, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let risk = controls_call(&state.engine, move |engine| {
        engine.controls().risk(&id, now_us())
    })
    .await?;
    Ok(Json(json!(risk)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    format: Option<String>,
}

async fn export(State(state): Shared, Query(q): Query<ExportQuery>) -> ApiResult<Response> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::bad_request("`format` is `csv` or `json`")),
    };
    let risks = controls_call(&state.engine, move |engine| {
        engine.controls().risks(now_us())
    })
    .await?;
    if csv {
        Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            risk_export::csv(&risks),
        )
            .into_response())
    } else {
        Ok(Json(json!(risks)).into_response())
    }
}

async fn report(State(state): Shared) -> ApiResult<Response> {
    let now = now_us();
    let risks = controls_call(&state.engine, move |engine| engine.controls().risks(now)).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        risk_export::report(&risks, now),
    )
        .into_response())
}

async fn add(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let new: NewRisk = json_body(body)?;
    let actor = identity.admin_actor();
    let risk = controls_call(&state.engine, move |engine| {
        engine.controls().add_risk(&new, &actor, now_us())
    })
    .await?;
    Ok(Json(json!(risk)))
}

async fn update(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let change: RiskChange = json_body(body)?;
    let actor = identity.admin_actor();
    let risk = controls_call(&state.engine, move |engine| {
        engine
            .controls()
            .update_risk(&id, &change, &actor, now_us())
    })
    .await?;
    Ok(Json(json!(risk)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseRequest {
    reason: String,
}

async fn close(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: CloseRequest = json_body(body)?;
    let actor = identity.admin_actor();
    let risk = controls_call(&state.engine, move |engine| {
        engine
            .controls()
            .close_risk(&id, &req.reason, &actor, now_us())
    })
    .await?;
    Ok(Json(json!(risk)))
}
