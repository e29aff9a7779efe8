//! The routes of the encryption service: managing named keys (`/v1/keys`, create, rotate,
//! classify; `admin`) and using them (`encrypt`, `datakey`, `/v1/decrypt`, `/v1/rewrap`;
//! `writer`). Decrypting with a regulated key first needs an allow from the access policy,
//! and that decision is recorded in the ledger.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::with_keyring;
use crate::error::ApiResult;
use crate::gate::Operations;
use crate::request::{json_body, plaintext_of, request_id, Path};
use crate::roles::{ADMINS, WRITERS};
use crate::state::Shared;

/// Key management and the encrypt, data-key, decrypt and rewrap calls.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/v1/keys", ADMINS, list_crypto_keys)
        .post("/v1/keys", ADMINS, create_crypto_key)
        .post("/v1/keys/{name}/rotate", ADMINS, rotate_crypto_key)
        .post("/v1/keys/{name}/classify", ADMINS, classify_crypto_key)
        .post("/v1/keys/{name}/encrypt", WRITERS, encrypt)
        .post("/v1/keys/{name}/datakey", WRITERS, data_key)
        .post("/v1/decrypt", WRITERS, decrypt)
        .post("/v1/rewrap", WRITERS, rewrap)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EncryptRequest {
    /// base64
    plaintext: String,
    #[serde(default)]
    context: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CiphertextRequest {
    ciphertext: String,
    #[serde(default)]
    context: String,
    /// the access-policy context for a regulated key (purpose of use, authentication facts)
    #[serde(default)]
    access_context: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextRequest {
    #[serde(default)]
    context: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCryptoKeyRequest {
    name: String,
    /// decrypting needs an allow from the access policy
    #[serde(default)]
    regulated: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyRequest {
    regulated: bool,
}

async fn encrypt(
    State(state): Shared,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: EncryptRequest = json_body(body)?;
    let plaintext = plaintext_of(&req.plaintext)?;
    // Most calls find the key in memory: no blocking thread needed.
    if let Some(keys) = state.engine.keyring_if_open() {
        if let Some(done) = keys.encrypt_if_cached(&name, &plaintext, req.context.as_bytes()) {
            return Ok(Json(json!({"ciphertext": done?})));
        }
    }
    let ciphertext = with_keyring(&state, move |k| {
        k.encrypt(&name, &plaintext, req.context.as_bytes())
    })
    .await?;
    Ok(Json(json!({"ciphertext": ciphertext})))
}

async fn decrypt(
    State(state): Shared,
    identity: Identity,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let mut req: CiphertextRequest = json_body(body)?;
    let (_, name, _) = evident::crypto::keyring::parse_ciphertext(&req.ciphertext)?;
    if state.engine.key_is_regulated(name)? {
        let (kind, id) = identity.subject();
        let request = evident::access::decrypt_request(kind, id, name, req.access_context.take());
        // Cut to 256 characters like every other route's, so a caller cannot bloat the
        // decision event with a huge header.
        let request_id = request_id(&headers);
        evident::access::require_allow(
            state
                .engine
                .access()
                .evaluate(&request, &identity.caller(), request_id.as_deref())
                .await,
            &format!("decrypting with the regulated key `{name}`"),
        )?;
    }
    if let Some(keys) = state.engine.keyring_if_open() {
        if let Some(done) = keys.decrypt_if_cached(&req.ciphertext, req.context.as_bytes()) {
            return Ok(Json(json!({"plaintext": B64.encode(done?.as_slice())})));
        }
    }
    let plaintext = with_keyring(&state, move |k| {
        k.decrypt(&req.ciphertext, req.context.as_bytes())
    })
    .await?;
    Ok(Json(json!({"plaintext": B64.encode(plaintext.as_slice())})))
}

async fn rewrap(
    State(state): Shared,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: CiphertextRequest = json_body(body)?;
    let ciphertext = with_keyring(&state, move |k| {
        k.rewrap(&req.ciphertext, req.context.as_bytes())
    })
    .await?;
    Ok(Json(json!({"ciphertext": ciphertext})))
}

async fn data_key(
    State(state): Shared,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: ContextRequest = json_body(body)?;
    let (key, ciphertext) =
        with_keyring(&state, move |k| k.data_key(&name, req.context.as_bytes())).await?;
    Ok(Json(
        json!({"plaintext": B64.encode(key.as_ref()), "ciphertext": ciphertext}),
    ))
}

async fn list_crypto_keys(State(state): Shared) -> ApiResult<Json<Value>> {
    let keys = with_keyring(&state, |k| k.list()).await?;
    Ok(Json(json!({"keys": keys})))
}

async fn create_crypto_key(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let req: CreateCryptoKeyRequest = json_body(body)?;
    let actor = identity.admin_actor();
    let name = req.name.clone();
    let regulated = req.regulated;
    let version = with_keyring(&state, move |k| {
        let version = k.create(&req.name, &actor)?;
        if req.regulated {
            k.classify(&req.name, true, &actor)?;
        }
        Ok(version)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": name, "version": version, "regulated": regulated})),
    )
        .into_response())
}

async fn classify_crypto_key(
    State(state): Shared,
    identity: Identity,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: ClassifyRequest = json_body(body)?;
    let actor = identity.admin_actor();
    let shown = name.clone();
    with_keyring(&state, move |k| k.classify(&name, req.regulated, &actor)).await?;
    Ok(Json(json!({"name": shown, "regulated": req.regulated})))
}

async fn rotate_crypto_key(
    State(state): Shared,
    identity: Identity,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = identity.admin_actor();
    let shown = name.clone();
    let version = with_keyring(&state, move |k| k.rotate(&name, &actor)).await?;
    Ok(Json(json!({"name": shown, "version": version})))
}
