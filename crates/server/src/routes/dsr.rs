//! The routes of data-subject requests (GDPR Art. 15–20, CCPA): `POST /v1/dsr` opens one
//! (`writer`: an intake service); `POST /v1/dsr/{id}/verify-identity`, `/approve`, `/deny`,
//! `/extend` and `/run` move it on (`admin`); `GET /v1/dsr` and `GET /v1/dsr/{id}` read them
//! with due dates and overdue flags (`reader`, and the `auditor`: a request holds no personal
//! value, only the subject's keyed hash). A run uses the data directory's active data map.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use evident::event::{now_us, parse_time};
use evident::privacy::datamap::store::MapStore;
use evident::privacy::dsr::export::to_json;
use evident::privacy::dsr::{
    KeyringKeys, Kind, LocalKeys, NewRequest, Regime, Request, RunOptions, RunReport,
};
use evident::privacy::Error as PrivacyError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::{blocking, with_keyring};
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{json_body, Path};
use crate::roles::{ADMINS, EVIDENCE_READERS, WRITERS};
use crate::state::Shared;

/// Opening, moving on, running and reading requests.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .post("/v1/dsr", WRITERS, open)
        .get("/v1/dsr", EVIDENCE_READERS, list)
        .get("/v1/dsr/{id}", EVIDENCE_READERS, get)
        .post("/v1/dsr/{id}/verify-identity", ADMINS, verify_identity)
        .post("/v1/dsr/{id}/approve", ADMINS, approve)
        .post("/v1/dsr/{id}/deny", ADMINS, deny)
        .post("/v1/dsr/{id}/extend", ADMINS, extend)
        .post("/v1/dsr/{id}/run", ADMINS, run)
}

/// The privacy part's error as the engine's (its own engine errors keep their status).
fn engine_error(e: PrivacyError) -> evident::Error {
    match e {
        PrivacyError::Engine(e) => e,
        other => evident::Error::BadRequest(other.to_string()),
    }
}

fn actor(identity: &Identity) -> String {
    format!("{}:{}", identity.method, identity.id)
}

fn answer(r: &Request) -> Json<Value> {
    Json(r.to_json(now_us()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    kind: String,
    subject: String,
    regime: Option<String>,
    received: Option<String>,
    #[serde(default)]
    fields: Vec<String>,
}

async fn open(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: OpenRequest = json_body(body)?;
    let new = NewRequest {
        kind: Kind::parse(&req.kind).ok_or_else(|| {
            ApiError::bad_request(
                "`kind` is access, portability, rectification, erasure or restriction",
            )
        })?,
        regime: Regime::parse(req.regime.as_deref().unwrap_or("gdpr"))
            .ok_or_else(|| ApiError::bad_request("`regime` is gdpr or ccpa"))?,
        subject: req.subject,
        fields: req.fields,
        received_us: match req.received.as_deref() {
            Some(t) => parse_time(t)
                .map_err(|_| ApiError::bad_request("`received` is not an RFC 3339 time"))?,
            None => now_us(),
        },
    };
    let engine = state.engine.clone();
    let actor = actor(&identity);
    let r = blocking(move || engine.dsr().open(&new, &actor).map_err(engine_error)).await?;
    Ok(answer(&r))
}

async fn list(State(state): Shared) -> ApiResult<Json<Value>> {
    let engine = state.engine.clone();
    let all = blocking(move || engine.dsr().list().map_err(engine_error)).await?;
    let now = now_us();
    Ok(Json(json!({
        "requests": all.iter().map(|r| r.to_json(now)).collect::<Vec<_>>(),
    })))
}

async fn get(State(state): Shared, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let engine = state.engine.clone();
    let r = blocking(move || engine.dsr().get(&id).map_err(engine_error)).await?;
    Ok(answer(&r))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRequest {
    method: Option<String>,
    reason: Option<String>,
}

/// A step: `what` is `verify-identity`, `approve`, `deny` or `extend`.
async fn step(
    state: Shared,
    identity: Identity,
    id: String,
    body: Result<Bytes, BytesRejection>,
    what: &'static str,
) -> ApiResult<Json<Value>> {
    let State(state) = state;
    let req: StepRequest = if what == "approve" {
        json_body(body).unwrap_or(StepRequest {
            method: None,
            reason: None,
        })
    } else {
        json_body(body)?
    };
    let text = match what {
        "verify-identity" => req.method.ok_or_else(|| {
            ApiError::bad_request("`method` (how identity was checked) is required")
        })?,
        "approve" => String::new(),
        _ => req
            .reason
            .ok_or_else(|| ApiError::bad_request("`reason` is required"))?,
    };
    let engine = state.engine.clone();
    let actor = actor(&identity);
    let r = blocking(move || {
        let dsr = engine.dsr();
        match what {
            "verify-identity" => dsr.verify_identity(&id, &text, &actor),
            "approve" => dsr.approve(&id, &actor),
            "deny" => dsr.deny(&id, &text, &actor),
            _ => dsr.extend(&id, &text, &actor),
        }
        .map_err(engine_error)
    })
    .await?;
    Ok(answer(&r))
}

async fn verify_identity(
    state: Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    step(state, identity, id, body, "verify-identity").await
}

async fn approve(
    state: Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    step(state, identity, id, body, "approve").await
}

async fn deny(
    state: Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    step(state, identity, id, body, "deny").await
}

async fn extend(
    state: Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    step(state, identity, id, body, "extend").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    #[serde(default)]
    dry_run: bool,
    /// for rectification: `table.column` → value
    #[serde(default)]
    set: serde_json::Map<String, Value>,
}

async fn run(
    State(state): Shared,
    identity: Identity,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: RunRequest = json_body(body)?;
    let mut set = Vec::new();
    for (field, value) in req.set {
        let Value::String(value) = value else {
            return Err(ApiError::bad_request(format!(
                "`set.{field}` must be a string"
            )));
        };
        set.push((field, value));
    }
    let options = RunOptions {
        dry_run: req.dry_run,
        set,
    };
    let actor = actor(&identity);
    let key_actor = actor.clone();
    let engine = state.engine.clone();
    let kind = {
        let engine = engine.clone();
        let id = id.clone();
        blocking(move || engine.dsr().get(&id).map_err(engine_error))
            .await?
            .kind
    };
    let work = move |engine: &evident::Engine, keys: &dyn evident::privacy::dsr::ErasureKeys| {
        let map = MapStore::new(engine.dir())
            .load_active()
            .map_err(engine_error)?
            .ok_or_else(|| {
                evident::Error::BadRequest(
                    "no data map was applied (`evident privacy map apply FILE`)".into(),
                )
            })?;
        engine
            .dsr()
            .run(&id, &map, keys, &options, &actor)
            .map_err(engine_error)
    };
    let report: RunReport = if kind == Kind::Erasure {
        let inner = engine.clone();
        with_keyring(&state, move |keyring| {
            let keys = KeyringKeys::new(keyring, &key_actor);
            work(&inner, &keys)
        })
        .await?
    } else {
        blocking(move || work(&engine, &LocalKeys::new([0; 32]))).await?
    };
    let now = now_us();
    let mut body = json!({
        "request": report.request.to_json(now),
        "systems": report.systems,
    });
    if matches!(kind, Kind::Access | Kind::Portability) && !report.export.is_empty() {
        body["data"] = to_json(&report.export);
    }
    Ok(Json(body))
}
