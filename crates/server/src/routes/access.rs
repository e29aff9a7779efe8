//! The access routes: the AuthZEN API (`/access/v1/…`, discovery), policy versions
//! (`/v1/policy…`), break-glass reviews and access reviews.
//!
//! Every decision is appended to the ledger before it is answered (see
//! [`evident::access`]); a deny is `200 {"decision": false}`, a malformed request a 400.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use evident::access::authzen::{
    EvaluationRequest, EvaluationsRequest, PartialRequest, SearchKind, SearchRequest,
};
use evident::access::pack::PackFiles;
use evident::access::Answer;
use evident::store::BreakGlassRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{json_body, request_id, Path, Query};
use crate::roles::{Access, ADMINS, READERS, WRITERS};
use crate::state::{AppState, Shared};

/// AuthZEN, policy versions, break-glass and access reviews.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get(
            "/.well-known/authzen-configuration",
            Access::Public,
            configuration,
        )
        .post("/access/v1/evaluation", WRITERS, evaluation)
        .post("/access/v1/evaluations", WRITERS, evaluations)
        .post("/access/v1/search/{kind}", WRITERS, search)
        .get("/v1/policy", READERS, show_policy)
        .put("/v1/policy", ADMINS, apply_policy)
        .get("/v1/policy/versions", READERS, policy_versions)
        .get("/v1/policy/versions/{version}", READERS, policy_version)
        .post("/v1/policy/rollback", ADMINS, rollback_policy)
        .get("/v1/access/break-glass", ADMINS, list_break_glass)
        .post(
            "/v1/access/break-glass/{id}/review",
            ADMINS,
            review_break_glass,
        )
        .post("/v1/access/review", ADMINS, access_review)
}

async fn configuration(State(state): Shared, headers: HeaderMap) -> Json<Value> {
    let base = state.public_url().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("{}://{host}", state.scheme())
    });
    Json(evident::access::authzen::configuration(
        base.trim_end_matches('/'),
    ))
}

async fn decide(
    state: &AppState,
    identity: &Identity,
    headers: &HeaderMap,
    batch: EvaluationsRequest,
) -> ApiResult<Answer> {
    let access = state.engine.access();
    let mut pending = access.prepare(&batch, &identity.caller(), request_id(headers).as_deref())?;
    state
        .metrics
        .decisions
        .inc_by(pending.decision_ids.len() as u64);
    let appended = state
        .engine
        .append(std::mem::take(&mut pending.events))
        .await;
    Ok(access.settle(pending, appended))
}

async fn evaluation(
    State(state): Shared,
    identity: Identity,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let request: EvaluationRequest = json_body(body)?;
    let batch = EvaluationsRequest {
        defaults: PartialRequest {
            subject: Some(request.subject),
            action: Some(request.action),
            resource: Some(request.resource),
            context: request.context,
        },
        evaluations: None,
        options: None,
    };
    answer(decide(&state, &identity, &headers, batch).await?)
}

async fn evaluations(
    State(state): Shared,
    identity: Identity,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let batch: EvaluationsRequest = json_body(body)?;
    answer(decide(&state, &identity, &headers, batch).await?)
}

fn answer(answer: Answer) -> ApiResult<Response> {
    Ok(match answer {
        Answer::One(one) => Json(one).into_response(),
        Answer::Many(many) => Json(many).into_response(),
    })
}

async fn search(
    State(state): Shared,
    identity: Identity,
    headers: HeaderMap,
    Path(kind): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let kind = SearchKind::parse(&kind).ok_or_else(|| {
        ApiError::not_found("search is /access/v1/search/subject, /resource or /action")
    })?;
    let request: SearchRequest = json_body(body)?;
    let (response, event) = state.engine.access().search(
        kind,
        &request,
        &identity.caller(),
        request_id(&headers).as_deref(),
    )?;
    state.engine.append(vec![event]).await?;
    Ok(Json(response).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyRequest {
    files: PackFiles,
}

async fn apply_policy(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let request: ApplyRequest = json_body(body)?;
    let engine = state.engine.clone();
    let applied = blocking(move || engine.access().apply(request.files, &identity.id)).await?;
    let status = if applied.changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "version": applied.version,
            "hash": applied.hash,
            "changed": applied.changed,
            "diff": applied.diff,
            "summary": applied.diff.summary(),
            "warnings": applied.warnings,
        })),
    )
        .into_response())
}

async fn show_policy(State(state): Shared) -> ApiResult<Json<Value>> {
    version_json(&state, None)
}

async fn policy_version(State(state): Shared, Path(version): Path<u64>) -> ApiResult<Json<Value>> {
    version_json(&state, Some(version))
}

fn version_json(state: &AppState, version: Option<u64>) -> ApiResult<Json<Value>> {
    let (stored, files) = state.engine.access().version(version)?;
    Ok(Json(json!({
        "version": stored.version,
        "hash": stored.hash,
        "applied_at": evident::event::format_time(stored.created_us),
        "applied_by": stored.actor,
        "origin": stored.origin,
        "files": files,
    })))
}

async fn policy_versions(State(state): Shared) -> ApiResult<Json<Value>> {
    let active = state.engine.access().active()?.map(|p| p.version);
    let versions: Vec<Value> = state
        .engine
        .access()
        .history()?
        .into_iter()
        .map(|v| {
            json!({
                "version": v.version,
                "hash": v.hash,
                "applied_at": evident::event::format_time(v.created_us),
                "applied_by": v.actor,
                "origin": v.origin,
                "active": Some(v.version) == active,
            })
        })
        .collect();
    Ok(Json(json!({"versions": versions})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    version: u64,
}

async fn rollback_policy(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let request: RollbackRequest = json_body(body)?;
    let engine = state.engine.clone();
    let applied = blocking(move || engine.access().rollback(request.version, &identity.id)).await?;
    Ok(Json(json!({
        "version": applied.version,
        "hash": applied.hash,
        "changed": applied.changed,
        "summary": applied.diff.summary(),
    })))
}

#[derive(Deserialize)]
struct BreakGlassParams {
    #[serde(default)]
    all: bool,
}

async fn list_break_glass(
    State(state): Shared,
    Query(params): Query<BreakGlassParams>,
) -> ApiResult<Json<Value>> {
    let reviews = state.engine.access().break_glass(!params.all)?;
    Ok(Json(json!({
        "reviews": reviews.iter().map(break_glass_json).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewRequest {
    outcome: String,
    note: String,
}

async fn review_break_glass(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let request: ReviewRequest = json_body(body)?;
    let engine = state.engine.clone();
    let closed = blocking(move || {
        engine
            .access()
            .review_break_glass(&id, &identity.id, &request.outcome, &request.note)
    })
    .await?;
    Ok(Json(break_glass_json(&closed)))
}

/// A break-glass review as JSON.
fn break_glass_json(r: &BreakGlassRecord) -> Value {
    json!({
        "id": r.id,
        "decision_id": r.decision_id,
        "subject": r.subject,
        "action": r.action,
        "resource": r.resource,
        "policies": r.policies.split(',').filter(|p| !p.is_empty()).collect::<Vec<_>>(),
        "opened_at": evident::event::format_time(r.opened_us),
        "state": if r.closed_us.is_some() { "closed" } else { "open" },
        "reviewer": r.reviewer,
        "outcome": r.outcome,
        "note": r.note,
        "closed_at": r.closed_us.map(evident::event::format_time),
    })
}

#[derive(Deserialize)]
struct ReviewParams {
    #[serde(default)]
    format: Option<String>,
}

async fn access_review(
    State(state): Shared,
    identity: Identity,
    Query(params): Query<ReviewParams>,
) -> ApiResult<Response> {
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format must be json or csv, got `{other}`"
            )))
        }
    };
    let engine = state.engine.clone();
    let report = blocking(move || engine.access().review(&identity.id)).await?;
    Ok(if csv {
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report.to_csv(),
        )
            .into_response()
    } else {
        Json(report).into_response()
    })
}
