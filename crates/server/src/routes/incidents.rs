//! The routes of the incident register: reading it (`GET /v1/incidents`,
//! `/v1/incidents/status`, `/v1/incidents/{id}`), which readers and auditors may, each
//! incident's notification obligations computed as of the request; opening an incident and
//! adding notes (`POST /v1/incidents`, `/v1/incidents/{id}/notes`, `writer`: a service or a
//! responder reports what it sees); and classifying, recording notifications and closing
//! (`POST /v1/incidents/{id}/classify`, `/notify`, `/close`, `admin`: what these decide is
//! what the organisation owes regulators and people). Each change is one
//! `controls.incident.*` event.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use evident::controls::registers::incident::{Classify, NewIncident, Notify, SOURCE_MANUAL};
use evident::event::{format_time, now_us, parse_time};
use serde::Deserialize;
use serde_json::{json, Value};

use super::controls::controls_call;
use crate::auth::Identity;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{json_body, Path};
use crate::roles::{ADMINS, EVIDENCE_READERS, WRITERS};
use crate::state::Shared;

/// Reading and changing the incident register.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/v1/incidents", EVIDENCE_READERS, list)
        .get("/v1/incidents/status", EVIDENCE_READERS, status)
        .get("/v1/incidents/{id}", EVIDENCE_READERS, show)
        .post("/v1/incidents", WRITERS, open)
        .post("/v1/incidents/{id}/notes", WRITERS, note)
        .post("/v1/incidents/{id}/classify", ADMINS, classify)
        .post("/v1/incidents/{id}/notify", ADMINS, notify)
        .post("/v1/incidents/{id}/close", ADMINS, close)
}

fn time_field(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    value
        .map(|t| {
            parse_time(t)
                .map_err(|_| ApiError::bad_request(format!("`{name}` is not an RFC 3339 time")))
        })
        .transpose()
}

async fn list(State(state): Shared) -> ApiResult<Json<Value>> {
    let now = now_us();
    let incidents = controls_call(&state.engine, move |engine| {
        engine.controls().incidents(now)
    })
    .await?;
    Ok(Json(
        json!({"as_of": format_time(now), "incidents": incidents}),
    ))
}

async fn status(State(state): Shared) -> ApiResult<Json<Value>> {
    let now = now_us();
    let incidents = controls_call(&state.engine, move |engine| {
        engine.controls().incidents(now)
    })
    .await?;
    let mut owed = Vec::new();
    for i in &incidents {
        for o in &i.obligations {
            let mut value = json!(o);
            value["incident"] = json!(i.id);
            value["incident_status"] = json!(i.status);
            owed.push(value);
        }
    }
    let overdue = owed.iter().filter(|o| o["state"] == "overdue").count();
    Ok(Json(
        json!({"as_of": format_time(now), "overdue": overdue, "obligations": owed}),
    ))
}

async fn show(State(state): Shared, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let incident = controls_call(&state.engine, move |engine| {
        engine.controls().incident(&id, now_us())
    })
    .await?;
    Ok(Json(json!(incident)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    title: String,
    #[serde(default)]
    description: String,
    discovered_at: Option<String>,
}

async fn open(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: OpenRequest = json_body(body)?;
    let now = now_us();
    let new = NewIncident {
        title: req.title,
        description: req.description,
        discovered_us: time_field("discovered_at", req.discovered_at.as_deref())?.unwrap_or(now),
        source: SOURCE_MANUAL.into(),
    };
    let actor = identity.admin_actor();
    let incident = controls_call(&state.engine, move |engine| {
        engine.controls().open_incident(&new, &actor, now)
    })
    .await?;
    Ok(Json(json!(incident)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteRequest {
    note: String,
}

async fn note(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: NoteRequest = json_body(body)?;
    let actor = identity.admin_actor();
    let incident = controls_call(&state.engine, move |engine| {
        engine
            .controls()
            .note_incident(&id, &req.note, &actor, now_us())
    })
    .await?;
    Ok(Json(json!(incident)))
}

async fn classify(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: Classify = json_body(body)?;
    let actor = identity.admin_actor();
    let incident = controls_call(&state.engine, move |engine| {
        engine
            .controls()
            .classify_incident(&id, &req, &actor, now_us())
    })
    .await?;
    Ok(Json(json!(incident)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyRequest {
    recipient: String,
    at: Option<String>,
    #[serde(default)]
    reference: String,
}

async fn notify(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: NotifyRequest = json_body(body)?;
    let notify = Notify {
        recipient: req.recipient,
        at_us: time_field("at", req.at.as_deref())?,
        reference: req.reference,
    };
    let actor = identity.admin_actor();
    let incident = controls_call(&state.engine, move |engine| {
        engine
            .controls()
            .notify_incident(&id, &notify, &actor, now_us())
    })
    .await?;
    Ok(Json(json!(incident)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseRequest {
    reason: String,
    at: Option<String>,
}

async fn close(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: CloseRequest = json_body(body)?;
    let at = time_field("at", req.at.as_deref())?;
    let actor = identity.admin_actor();
    let incident = controls_call(&state.engine, move |engine| {
        engine
            .controls()
            .close_incident(&id, at, &req.reason, &actor, now_us())
    })
    .await?;
    Ok(Json(json!(incident)))
}
