//! The routes of audit events: `POST /v1/events` appends one event or a batch (`writer`),
//! answering once they are durable and signed; `GET /v1/events` queries them and
//! `GET /v1/events/{index}` reads one (`reader`; revealing personal data needs `admin`).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident::event::Outcome;
use evident::store::EventQuery;
use evident::{AuditEvent, EventRecord};
use serde::Deserialize;
use serde_json::{json, Value};

use super::log::checkpoint_json;
use crate::auth::{require_role, Identity};
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{body_refused, Path, Query};
use crate::roles::{ADMINS, READERS, WRITERS};
use crate::state::Shared;

/// Appending, querying and reading events.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .post("/v1/events", WRITERS, append)
        .get("/v1/events", READERS, query)
        .get("/v1/events/{index}", READERS, get_event)
}

/// The body as one event or a batch, within the body and batch limits.
fn parse_events(body: Result<Bytes, BytesRejection>) -> ApiResult<Vec<AuditEvent>> {
    let body = body.map_err(body_refused)?;
    std::str::from_utf8(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid UTF-8: {e}")))?;
    let events = AuditEvent::parse_many(&body)?;
    if events.len() > evident::MAX_BATCH_EVENTS {
        return Err(ApiError::too_large(format!(
            "a batch holds at most {} events, got {}",
            evident::MAX_BATCH_EVENTS,
            events.len()
        )));
    }
    for (i, event) in events.iter().enumerate() {
        if let Some(family) = evident::event::reserved_action(&event.action) {
            return Err(ApiError::bad_request(format!(
                "event {i}: actions starting with `{family}` are written by Evident itself \
                 (access decisions, logins, control checks, evidence, key operations); \
                 name your application's action otherwise"
            )));
        }
    }
    Ok(events)
}

async fn append(
    State(state): Shared,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let started = Instant::now();
    let events = parse_events(body)?;
    let receipt = state.engine.append(events).await?;
    state
        .metrics
        .events_appended
        .inc_by(receipt.receipts.len() as u64);
    state
        .metrics
        .append_seconds
        .observe(started.elapsed().as_secs_f64());
    let events: Vec<Value> = receipt
        .receipts
        .iter()
        .map(|r| json!({"index": r.index, "leaf_hash": hex::encode(r.leaf)}))
        .collect();
    Ok(Json(json!({
        "events": events,
        "checkpoint": checkpoint_json(&receipt.checkpoint),
        "redacted": receipt.redacted,
    })))
}

/// A stored event as JSON, with the personal values it reveals when asked to.
fn record_json(record: &EventRecord) -> Value {
    let mut out = json!({
        "index": record.index,
        "leaf_hash": hex::encode(&record.leaf),
        "event": record.entry,
    });
    if !record.revealed.is_empty() {
        out["personal"] = record
            .revealed
            .iter()
            .map(|p| {
                json!({
                    "path": p.path,
                    "value": serde_json::from_str::<Value>(&p.value).unwrap_or(Value::Null),
                    "salt": B64.encode(&p.salt),
                    "subject": p.subject,
                })
            })
            .collect();
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventParams {
    #[serde(default)]
    reveal: bool,
}

async fn get_event(
    State(state): Shared,
    key: Identity,
    Path(index): Path<String>,
    Query(params): Query<EventParams>,
) -> ApiResult<Json<Value>> {
    let index: u64 = index.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "`{}` is not an entry index",
            index.chars().take(40).collect::<String>()
        ))
    })?;
    if params.reveal {
        require_role(&state, &key, ADMINS, "revealing personal data")?;
    }
    Ok(Json(record_json(
        &state.engine.event(index, params.reveal)?,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryParams {
    actor: Option<String>,
    action: Option<String>,
    resource_type: Option<String>,
    resource_id: Option<String>,
    outcome: Option<Outcome>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<u64>,
    limit: Option<u32>,
    order: Option<String>,
}

async fn query(State(state): Shared, Query(p): Query<QueryParams>) -> ApiResult<Json<Value>> {
    let time = |t: &Option<String>| t.as_deref().map(evident::event::parse_time).transpose();
    let descending = match p.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`order` is `asc` or `desc`, not `{other}`"
            )))
        }
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` is between 1 and 1000"));
    }
    let q = EventQuery {
        actor: p.actor,
        action: p.action,
        resource_type: p.resource_type,
        resource_id: p.resource_id,
        outcome: p.outcome.map(|o| o.as_str().to_string()),
        since_us: time(&p.since).map_err(|e| ApiError::bad_request(format!("`since`: {e}")))?,
        until_us: time(&p.until).map_err(|e| ApiError::bad_request(format!("`until`: {e}")))?,
        cursor: p.cursor,
        descending,
        limit,
    };
    let page = state.engine.query(&q)?;
    let events: Vec<Value> = page.events.iter().map(record_json).collect();
    Ok(Json(
        json!({"events": events, "next_cursor": page.next_cursor}),
    ))
}
