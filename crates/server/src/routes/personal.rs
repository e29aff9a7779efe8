//! The routes of personal data: `POST /v1/personal/encrypt` encrypts under a key of the data
//! subject's own (`writer`), and `POST /v1/personal/erase` erases a subject (`admin`): their
//! stored values are destroyed and their keys shredded, and the erasure is recorded.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::{blocking, with_keyring};
use crate::error::ApiResult;
use crate::gate::Operations;
use crate::request::{json_body, plaintext_of};
use crate::roles::{ADMINS, WRITERS};
use crate::state::Shared;

/// Encrypting for a data subject and erasing one.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .post("/v1/personal/erase", ADMINS, erase)
        .post("/v1/personal/encrypt", WRITERS, encrypt_for_subject)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseRequest {
    subject: String,
}

async fn erase(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: EraseRequest = json_body(body)?;
    let engine = state.engine.clone();
    let actor = identity.admin_actor();
    let report = blocking(move || engine.erase_subject(&req.subject, &actor)).await?;
    Ok(Json(json!({
        "values_destroyed": report.removed,
        "key_versions_destroyed": report.keys_destroyed,
        "record": {"index": report.receipt.index, "leaf_hash": hex::encode(report.receipt.leaf)},
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectEncryptRequest {
    subject: String,
    /// base64
    plaintext: String,
    #[serde(default)]
    context: String,
}

async fn encrypt_for_subject(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: SubjectEncryptRequest = json_body(body)?;
    let plaintext = plaintext_of(&req.plaintext)?;
    let actor = format!("{}:{}", identity.method, identity.id);
    let ciphertext = with_keyring(&state, move |k| {
        k.encrypt_for_subject(&req.subject, &plaintext, req.context.as_bytes(), &actor)
    })
    .await?;
    Ok(Json(json!({"ciphertext": ciphertext})))
}
