//! The routes that read the ledger as a transparency log: the latest signed checkpoint and
//! inclusion and consistency proofs under `/v1/` (`reader`), and the C2SP tlog-tiles read
//! side under `/log/` (public, cacheable), which lets anyone verify the log without a key.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident::SignedCheckpoint;
use evident_ledger::tiles::TilePath;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{Path, Query};
use crate::roles::{Access, EVIDENCE_READERS};
use crate::state::{AppState, Shared};

/// Checkpoints, proofs and tiles.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/log/checkpoint", Access::Public, log_checkpoint)
        .get("/log/tile/{*path}", Access::Public, log_tile)
        .get("/v1/checkpoint", EVIDENCE_READERS, checkpoint)
        .get("/v1/proof/inclusion", EVIDENCE_READERS, inclusion)
        .get("/v1/proof/consistency", EVIDENCE_READERS, consistency)
}

/// A signed checkpoint as JSON: size, base64 root and the signed note.
pub(crate) fn checkpoint_json(c: &SignedCheckpoint) -> Value {
    json!({
        "size": c.checkpoint.size,
        "root": B64.encode(c.checkpoint.root),
        "note": c.note,
    })
}

/// The latest checkpoint, or a 404 while the log is empty.
fn latest_checkpoint(state: &AppState) -> ApiResult<Arc<SignedCheckpoint>> {
    state
        .engine
        .checkpoint()
        .ok_or_else(|| ApiError::not_found("the log is empty: no checkpoint yet"))
}

async fn log_checkpoint(State(state): Shared) -> ApiResult<Response> {
    let latest = latest_checkpoint(&state)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=2"),
        ],
        latest.note.clone(),
    )
        .into_response())
}

async fn log_tile(State(state): Shared, Path(path): Path<String>) -> ApiResult<Response> {
    let tile = TilePath::parse(&path).map_err(|e| ApiError::not_found(e.to_string()))?;
    let bytes = state.engine.tile(&tile)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

async fn checkpoint(State(state): Shared) -> ApiResult<Json<Value>> {
    let latest = latest_checkpoint(&state)?;
    Ok(Json(checkpoint_json(&latest)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionParams {
    index: u64,
    size: Option<u64>,
    format: Option<String>,
}

async fn inclusion(State(state): Shared, Query(p): Query<InclusionParams>) -> ApiResult<Response> {
    match p.format.as_deref() {
        None | Some("json") => {
            let proof = state.engine.inclusion_proof(p.index, p.size)?;
            Ok(Json(json!({
                "index": proof.index,
                "size": proof.size,
                "leaf_hash": hex::encode(proof.leaf),
                "root": B64.encode(proof.root),
                "proof": proof.proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": proof.checkpoint,
            }))
            .into_response())
        }
        Some("tlog-proof") => {
            if p.size.is_some() {
                return Err(ApiError::bad_request(
                    "a tlog-proof is always against the latest checkpoint; drop `size`",
                ));
            }
            let proof = state.engine.tlog_proof(p.index)?;
            Ok((
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                proof.to_text(),
            )
                .into_response())
        }
        Some(other) => Err(ApiError::bad_request(format!(
            "`format` is `json` or `tlog-proof`, not `{other}`"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyParams {
    from: u64,
    to: Option<u64>,
}

async fn consistency(
    State(state): Shared,
    Query(p): Query<ConsistencyParams>,
) -> ApiResult<Json<Value>> {
    let to = p.to.unwrap_or_else(|| state.engine.size());
    let proof = state.engine.consistency_proof(p.from, to)?;
    Ok(Json(json!({
        "from": p.from,
        "to": to,
        "proof": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
    })))
}
