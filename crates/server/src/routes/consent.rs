//! The routes of consent records (GDPR Art. 6–7): `POST /v1/consent` records a grant or a
//! withdrawal, and a Global Privacy Control signal (`Sec-GPC: 1`) as an opt-out when the
//! caller asks for it (`writer`); `GET /v1/consent/{subject}` answers the current state and
//! `GET /v1/consent/{subject}/history?purpose=` every change with its inclusion proof
//! (`reader`); `POST /v1/consent/import` imports a CSV or JSON-lines file with per-row errors
//! (`admin`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident::event::{now_us, parse_time};
use evident::privacy::consent::import::ImportFormat;
use evident::privacy::consent::{
    notice_hash, record_json, report_json, ConsentChange, LawfulBasis, DEFAULT_GPC_PURPOSES,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{json_body, Path, Query};
use crate::roles::{ADMINS, READERS, WRITERS};
use crate::state::Shared;

/// Recording, reading and importing consent.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .post("/v1/consent", WRITERS, record)
        .post("/v1/consent/import", ADMINS, import)
        .get("/v1/consent/{subject}", READERS, current)
        .get("/v1/consent/{subject}/history", READERS, history)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRequest {
    subject: String,
    purpose: Option<String>,
    /// `granted` or `withdrawn`
    status: Option<String>,
    basis: Option<String>,
    source: Option<String>,
    notice: Option<String>,
    notice_hash: Option<String>,
    time: Option<String>,
    expires: Option<String>,
    /// record a `Sec-GPC: 1` header as an opt-out
    #[serde(default)]
    honor_gpc: bool,
    /// the purposes GPC opts out of (default: sale, share, targeted_advertising)
    gpc_purposes: Option<Vec<String>>,
}

fn time_field(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    value
        .map(|t| {
            parse_time(t)
                .map_err(|_| ApiError::bad_request(format!("`{name}` is not an RFC 3339 time")))
        })
        .transpose()
}

/// The change the request asks for, if it asks for one.
fn change_of(req: &ChangeRequest) -> ApiResult<Option<(ConsentChange, bool)>> {
    let (purpose, status) = match (&req.purpose, &req.status) {
        (None, None) => return Ok(None),
        (Some(p), Some(s)) => (p, s),
        _ => return Err(ApiError::bad_request("`purpose` and `status` go together")),
    };
    let granted = match status.as_str() {
        "granted" => true,
        "withdrawn" => false,
        _ => {
            return Err(ApiError::bad_request(
                "`status` is `granted` or `withdrawn`",
            ))
        }
    };
    let notice = match (&req.notice, &req.notice_hash) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give `notice` or `notice_hash`, not both",
            ))
        }
        (Some(text), None) => Some(notice_hash(text)),
        (None, hash) => hash.clone(),
    };
    let basis = match &req.basis {
        Some(b) => LawfulBasis::parse(b)?,
        None => LawfulBasis::Consent,
    };
    Ok(Some((
        ConsentChange {
            subject: req.subject.clone(),
            purpose: purpose.clone(),
            basis,
            source: req.source.clone().unwrap_or_else(|| "api".into()),
            notice_hash: notice,
            at_us: time_field("time", req.time.as_deref())?,
            expires_us: time_field("expires", req.expires.as_deref())?,
        },
        granted,
    )))
}

async fn record(
    State(state): Shared,
    identity: Identity,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: ChangeRequest = json_body(body)?;
    let gpc = req.honor_gpc
        && headers
            .get("sec-gpc")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "1");
    let mut changes: Vec<(ConsentChange, bool)> = change_of(&req)?.into_iter().collect();
    if gpc {
        let purposes: Vec<String> = match &req.gpc_purposes {
            Some(p) if p.is_empty() => {
                return Err(ApiError::bad_request("`gpc_purposes` is empty"))
            }
            Some(p) => p.clone(),
            None => DEFAULT_GPC_PURPOSES.iter().map(|p| p.to_string()).collect(),
        };
        for purpose in purposes {
            let change = ConsentChange {
                subject: req.subject.clone(),
                purpose,
                basis: LawfulBasis::Consent,
                source: "gpc".into(),
                notice_hash: None,
                at_us: None,
                expires_us: None,
            };
            changes.push((change, false));
        }
    }
    if changes.is_empty() {
        return Err(ApiError::bad_request(if req.honor_gpc {
            "no `Sec-GPC: 1` header and no `purpose` and `status`: nothing to record"
        } else {
            "`purpose` and `status` are required"
        }));
    }
    let engine = state.engine.clone();
    let actor = format!("{}:{}", identity.method, identity.id);
    let records = blocking(move || engine.consent().record_all(&changes, &actor)).await?;
    let now = now_us();
    Ok(Json(json!({
        "gpc": gpc,
        "records": records.iter().map(|r| record_json(r, r.in_force(now))).collect::<Vec<_>>(),
    })))
}

async fn current(State(state): Shared, Path(subject): Path<String>) -> ApiResult<Json<Value>> {
    let engine = state.engine.clone();
    let states = blocking(move || engine.consent().current(&subject)).await?;
    Ok(Json(json!({
        "consents": states.iter().map(|s| record_json(&s.record, s.in_force)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    purpose: String,
}

async fn history(
    State(state): Shared,
    Path(subject): Path<String>,
    Query(p): Query<HistoryParams>,
) -> ApiResult<Json<Value>> {
    let engine = state.engine.clone();
    let changes = blocking(move || {
        let log = engine.log();
        engine.consent().history(&log, &subject, &p.purpose)
    })
    .await?;
    let now = now_us();
    let rows: Vec<Value> = changes
        .iter()
        .map(|c| {
            let mut row = record_json(&c.record, c.record.in_force(now));
            row["proof"] = json!({
                "index": c.proof.index,
                "size": c.proof.size,
                "leaf_hash": hex::encode(c.proof.leaf),
                "root": B64.encode(c.proof.root),
                "proof": c.proof.proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": c.proof.checkpoint,
            });
            row
        })
        .collect();
    Ok(Json(json!({ "history": rows })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportRequest {
    /// `csv` or `jsonl`
    format: String,
    /// the file's text
    data: String,
    #[serde(default)]
    strict: bool,
}

async fn import(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: ImportRequest = json_body(body)?;
    let format = ImportFormat::parse(&req.format)?;
    let engine = state.engine.clone();
    let actor = identity.admin_actor();
    let report = blocking(move || {
        engine
            .consent()
            .import(req.data.as_bytes(), format, req.strict, &actor)
    })
    .await?;
    Ok(Json(report_json(&report)))
}
