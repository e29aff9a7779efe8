//! The routes, their authentication, and the mapping of engine errors to HTTP answers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident::store::EventQuery;
use evident::{AuditEvent, Error, EventRecord, Role};
use evident_ledger::tiles::TilePath;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::oidc::OidcVerifier;
use crate::{AppState, MAX_BODY_BYTES, OPENAPI};

type Shared = State<Arc<AppState>>;

/// An HTTP error with a JSON body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::debug!(code = self.code, message = %self.message, "request refused");
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            Error::InvalidEvent(_) => (StatusCode::BAD_REQUEST, "invalid_event"),
            Error::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::BadRequest(_) | Error::Ledger(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::AppendFailed(_) | Error::ShutDown => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Error::Integrity(_) => (StatusCode::INTERNAL_SERVER_ERROR, "integrity"),
            Error::Crypto(_) => (StatusCode::BAD_REQUEST, "crypto"),
            Error::Denied(_) => (StatusCode::FORBIDDEN, "access_denied"),
            Error::SensitiveAuthenticationData(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "sensitive_authentication_data",
            ),
            Error::Policy(_) => (StatusCode::BAD_REQUEST, "policy_rejected"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() {
            tracing::error!(%message, "request failed");
        }
        Self::new(status, code, message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(format!("bad query parameters: {}", r.body_text()))
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// Builds the router over shared state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/log/checkpoint", get(log_checkpoint))
        .route("/log/tile/{*path}", get(log_tile))
        .route("/v1/events", post(append).get(query))
        .route("/v1/events/{index}", get(get_event))
        .route("/v1/checkpoint", get(checkpoint))
        .route("/v1/proof/inclusion", get(inclusion))
        .route("/v1/proof/consistency", get(consistency))
        .route("/v1/personal/erase", post(erase))
        .route("/v1/personal/encrypt", post(encrypt_for_subject))
        .route("/v1/redact", post(redact))
        .route("/v1/keys", get(list_crypto_keys).post(create_crypto_key))
        .route("/v1/keys/{name}/rotate", post(rotate_crypto_key))
        .route("/v1/keys/{name}/classify", post(classify_crypto_key))
        .route("/v1/keys/{name}/encrypt", post(encrypt))
        .route("/v1/keys/{name}/datakey", post(data_key))
        .route("/v1/decrypt", post(decrypt))
        .route("/v1/rewrap", post(rewrap))
        .route("/v1/apikeys", post(create_key).get(list_keys))
        .route("/v1/apikeys/{id}", delete(revoke_key))
        .merge(crate::access::routes())
        .merge(crate::tokens::routes())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Counts requests by route and status, and echoes `X-Request-ID`.
async fn observe(State(state): Shared, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let request_id = request.headers().get("x-request-id").cloned();
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let started = Instant::now();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut response = if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        // Refuse from the declared length alone: no need to read megabytes of a body we reject.
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than the limit of {MAX_BODY_BYTES} bytes per request"),
        )
        .into_response()
    } else {
        next.run(request).await
    };
    // The access log: every line goes through the redactor on its way out, so a card
    // number in a query string does not reach a log file.
    tracing::debug!(
        %method,
        %uri,
        status = response.status().as_u16(),
        request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("-"),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    if let Some(id) = request_id {
        response.headers_mut().insert("x-request-id", id);
    }
    state
        .metrics
        .requests
        .get_or_create(&vec![
            ("route".to_string(), route),
            ("status".to_string(), response.status().as_u16().to_string()),
        ])
        .inc();
    response
}

/// Who is calling: an API key or an OIDC token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// the key id, or `oidc:SUB`
    pub(crate) id: String,
    /// the role that key or token holds
    pub(crate) role: Role,
    /// `api_key` or `oidc`
    pub(crate) method: &'static str,
}

pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    needed: Role,
) -> ApiResult<Identity> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        unauthorized("this endpoint needs `Authorization: Bearer <API key or OIDC token>`")
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    let identity = match &state.oidc {
        Some(oidc) if OidcVerifier::looks_like_jwt(token) => match oidc.verify(token) {
            Ok(t) => Identity {
                id: format!("oidc:{}", t.subject),
                role: t.role,
                method: "oidc",
            },
            Err(refused) => {
                login_failed(state, "oidc", &refused.0, claimed_subject(token));
                return Err(unauthorized(&refused.0));
            }
        },
        _ => match state.engine.authenticate(token)? {
            Some(key) => Identity {
                id: key.id,
                role: key.role,
                method: "api_key",
            },
            None => {
                let reason = if OidcVerifier::looks_like_jwt(token) {
                    "a JWT was sent but this server has no OIDC issuer configured"
                } else {
                    "unknown or revoked API key"
                };
                login_failed(state, "api_key", reason, None);
                return Err(unauthorized(reason));
            }
        },
    };
    if !identity.role.allows(needed) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this needs the `{}` role; the caller has `{}`",
                needed.as_str(),
                identity.role.as_str()
            ),
        ));
    }
    Ok(identity)
}

/// The `sub` a refused token claims, unverified: evidence of who it pretended to be.
fn claimed_subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("sub")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(256).collect())
}

/// Records a failed login in the ledger (PCI DSS 10.2.1.4, HIPAA 164.308(a)(5)(ii)(C)); the
/// token itself is never logged.
fn login_failed(state: &AppState, method: &str, reason: &str, claimed: Option<String>) {
    state.metrics.login_failures.inc();
    let mut event = evident::event::system_event(
        "auth.login.failed",
        "api",
        None,
        json!({"method": method, "reason": reason, "claimed_subject": claimed}),
    );
    event.outcome = evident::event::Outcome::Failure;
    event.severity = Some(evident::event::Severity::Medium);
    if claimed.is_some() {
        event.personal = vec!["/metadata/claimed_subject".into()];
        event.data_subject = claimed;
    }
    let engine = state.engine.clone();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            if let Err(e) = engine.append(vec![event]).await {
                tracing::error!(error = %e, "could not record a failed login");
            }
        });
    }
}

/// A break-glass review as JSON.
pub(crate) fn break_glass_json(r: &evident::store::BreakGlassRecord) -> Value {
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

async fn healthz(State(state): Shared) -> Json<Value> {
    Json(json!({"status": "ok", "origin": state.engine.origin(), "size": state.engine.size()}))
}

async fn metrics(State(state): Shared, headers: HeaderMap) -> ApiResult<Response> {
    authenticate(&state, &headers, Role::Reader)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(state.engine.size()),
    )
        .into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn log_checkpoint(State(state): Shared) -> ApiResult<Response> {
    let latest = state.engine.checkpoint().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the log is empty: no checkpoint yet",
        )
    })?;
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
    let tile = TilePath::parse(&path)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()))?;
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

fn parse_events(body: Result<Bytes, BytesRejection>) -> ApiResult<Vec<AuditEvent>> {
    let body = body.map_err(|r| {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_request"
        };
        ApiError::new(
            status,
            code,
            format!(
                "{} (limit {MAX_BODY_BYTES} bytes per request)",
                r.body_text()
            ),
        )
    })?;
    std::str::from_utf8(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid UTF-8: {e}")))?;
    let events = AuditEvent::parse_many(&body)?;
    if events.len() > evident::MAX_BATCH_EVENTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "a batch holds at most {} events, got {}",
                evident::MAX_BATCH_EVENTS,
                events.len()
            ),
        ));
    }
    Ok(events)
}

fn checkpoint_json(c: &evident::SignedCheckpoint) -> Value {
    json!({
        "size": c.checkpoint.size,
        "root": B64.encode(c.checkpoint.root),
        "note": c.note,
    })
}

async fn append(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Writer)?;
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
    headers: HeaderMap,
    Path(index): Path<String>,
    params: Result<Query<EventParams>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let key = authenticate(&state, &headers, Role::Reader)?;
    let Query(params) = params?;
    let index: u64 = index.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "`{}` is not an entry index",
            index.chars().take(40).collect::<String>()
        ))
    })?;
    if params.reveal && !key.role.allows(Role::Admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "revealing personal data needs the `admin` role",
        ));
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
    outcome: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<u64>,
    limit: Option<u32>,
    order: Option<String>,
}

async fn query(
    State(state): Shared,
    headers: HeaderMap,
    params: Result<Query<QueryParams>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Reader)?;
    let Query(p) = params?;
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
        outcome: p.outcome,
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

async fn checkpoint(State(state): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Reader)?;
    let latest = state.engine.checkpoint().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the log is empty: no checkpoint yet",
        )
    })?;
    Ok(Json(checkpoint_json(&latest)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionParams {
    index: u64,
    size: Option<u64>,
    format: Option<String>,
}

async fn inclusion(
    State(state): Shared,
    headers: HeaderMap,
    params: Result<Query<InclusionParams>, QueryRejection>,
) -> ApiResult<Response> {
    authenticate(&state, &headers, Role::Reader)?;
    let Query(p) = params?;
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
    headers: HeaderMap,
    params: Result<Query<ConsistencyParams>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Reader)?;
    let Query(p) = params?;
    let to = p.to.unwrap_or_else(|| state.engine.size());
    let proof = state.engine.consistency_proof(p.from, to)?;
    Ok(Json(json!({
        "from": p.from,
        "to": to,
        "proof": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
    })))
}

pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    let body = body.map_err(|r| ApiError::new(r.status(), "bad_request", r.body_text()))?;
    // Well-formed bodies (nearly all) skip the path tracking, which cost a third of parsing
    // an AuthZEN request; a body that fails is parsed again with it, for the message.
    if let Ok(value) = serde_json::from_slice(&body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(&body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("malformed request: {inner}"))
        } else {
            ApiError::bad_request(format!("malformed request: `{path}`: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed request: {e}")))?;
    Ok(value)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseRequest {
    subject: String,
}

async fn erase(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let key = authenticate(&state, &headers, Role::Admin)?;
    let req: EraseRequest = json_body(body)?;
    let engine = state.engine.clone();
    let actor = format!("apikey:{}", key.id);
    let report = tokio::task::spawn_blocking(move || engine.erase_subject(&req.subject, &actor))
        .await
        .map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })??;
    Ok(Json(json!({
        "values_destroyed": report.removed,
        "key_versions_destroyed": report.keys_destroyed,
        "record": {"index": report.receipt.index, "leaf_hash": hex::encode(report.receipt.leaf)},
    })))
}

/// The most plaintext one encrypt call takes (larger data: use a data key).
const MAX_CRYPT_BYTES: usize = 4 << 20;

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

/// Runs a keyring operation off the async threads (the first one opens the root key).
async fn with_keyring<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&evident::crypto::keyring::Keyring<'_>) -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || {
        let keys = engine.keyring(false)?;
        f(&keys)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
    .map_err(ApiError::from)
}

async fn encrypt(
    State(state): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Writer)?;
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

/// A request's base64 plaintext, within the per-call limit.
fn plaintext_of(b64: &str) -> ApiResult<zeroize::Zeroizing<Vec<u8>>> {
    let plaintext = zeroize::Zeroizing::new(
        B64.decode(b64)
            .map_err(|_| ApiError::bad_request("`plaintext` must be base64"))?,
    );
    if plaintext.len() > MAX_CRYPT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {MAX_CRYPT_BYTES} bytes per call; use a data key for larger data"),
        ));
    }
    Ok(plaintext)
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let identity = authenticate(&state, &headers, Role::Writer)?;
    let req: SubjectEncryptRequest = json_body(body)?;
    let plaintext = plaintext_of(&req.plaintext)?;
    let actor = format!("{}:{}", identity.method, identity.id);
    let ciphertext = with_keyring(&state, move |k| {
        k.encrypt_for_subject(&req.subject, &plaintext, req.context.as_bytes(), &actor)
    })
    .await?;
    Ok(Json(json!({"ciphertext": ciphertext})))
}

async fn decrypt(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let identity = authenticate(&state, &headers, Role::Writer)?;
    let mut req: CiphertextRequest = json_body(body)?;
    let (_, name, _) = evident::crypto::keyring::parse_ciphertext(&req.ciphertext)?;
    if state.engine.key_is_regulated(name)? {
        let (kind, id) = match identity.method {
            "oidc" => ("User", identity.id.trim_start_matches("oidc:")),
            _ => ("Service", identity.id.as_str()),
        };
        let request = evident::access::decrypt_request(kind, id, name, req.access_context.take());
        let caller = evident::access::Caller {
            method: identity.method.to_string(),
            id: identity.id.clone(),
        };
        let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
        evident::access::require_allow(
            state
                .engine
                .access()
                .evaluate(&request, &caller, request_id)
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Writer)?;
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Writer)?;
    let req: ContextRequest = json_body(body)?;
    let (key, ciphertext) =
        with_keyring(&state, move |k| k.data_key(&name, req.context.as_bytes())).await?;
    Ok(Json(
        json!({"plaintext": B64.encode(key.as_ref()), "ciphertext": ciphertext}),
    ))
}

async fn list_crypto_keys(State(state): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Admin)?;
    let keys = with_keyring(&state, |k| k.list()).await?;
    Ok(Json(json!({"keys": keys})))
}

async fn create_crypto_key(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let key = authenticate(&state, &headers, Role::Admin)?;
    let req: CreateCryptoKeyRequest = json_body(body)?;
    let actor = format!("apikey:{}", key.id);
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
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let key = authenticate(&state, &headers, Role::Admin)?;
    let req: ClassifyRequest = json_body(body)?;
    let actor = format!("apikey:{}", key.id);
    let shown = name.clone();
    with_keyring(&state, move |k| k.classify(&name, req.regulated, &actor)).await?;
    Ok(Json(json!({"name": shown, "regulated": req.regulated})))
}

async fn rotate_crypto_key(
    State(state): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let key = authenticate(&state, &headers, Role::Admin)?;
    let actor = format!("apikey:{}", key.id);
    let shown = name.clone();
    let version = with_keyring(&state, move |k| k.rotate(&name, &actor)).await?;
    Ok(Json(json!({"name": shown, "version": version})))
}

/// The most text one `POST /v1/redact` takes.
const MAX_REDACT_BYTES: usize = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactRequest {
    text: String,
    #[serde(default)]
    mode: evident_detect::RedactMode,
    #[serde(default)]
    entities: Option<Vec<String>>,
}

async fn redact(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Reader)?;
    let req: RedactRequest = json_body(body)?;
    if req.text.len() > MAX_REDACT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "`text` is {} bytes; the limit is {MAX_REDACT_BYTES}",
                req.text.len()
            ),
        ));
    }
    let mut redactor = state.engine.redaction().redactor(req.mode);
    if let Some(names) = &req.entities {
        let mut entities = Vec::with_capacity(names.len());
        for name in names {
            entities.push(evident_detect::Entity::parse(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown entity `{}`; one of: {}",
                    name.chars().take(40).collect::<String>(),
                    evident_detect::Entity::ALL
                        .map(evident_detect::Entity::as_str)
                        .join(", ")
                ))
            })?);
        }
        redactor = redactor.only(&entities);
    }
    let (text, findings) = tokio::task::spawn_blocking(move || redactor.redact_str(&req.text))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let findings: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule,
                "entity": f.entity,
                "start": f.start,
                "end": f.end,
                "masked": f.masked,
                "fingerprint": f.fingerprint,
            })
        })
        .collect();
    Ok(Json(json!({"text": text, "findings": findings})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyRequest {
    role: String,
    label: Option<String>,
}

async fn create_key(
    State(state): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let key = authenticate(&state, &headers, Role::Admin)?;
    let req: CreateKeyRequest = json_body(body)?;
    let role = Role::parse(&req.role)?;
    let engine = state.engine.clone();
    let actor = format!("apikey:{}", key.id);
    let created = tokio::task::spawn_blocking(move || {
        engine.create_api_key(role, req.label.as_deref(), &actor)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    let body =
        json!({"id": created.id, "role": created.role.as_str(), "token": created.token.as_str()});
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn list_keys(State(state): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authenticate(&state, &headers, Role::Admin)?;
    let keys: Vec<Value> = state
        .engine
        .api_keys()?
        .into_iter()
        .map(|k| {
            json!({
                "id": k.id,
                "role": k.role,
                "label": k.label,
                "created_at": evident::event::format_time(k.created_us),
                "revoked_at": k.revoked_us.map(evident::event::format_time),
            })
        })
        .collect();
    Ok(Json(json!({"keys": keys})))
}

async fn revoke_key(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let key = authenticate(&state, &headers, Role::Admin)?;
    let engine = state.engine.clone();
    let actor = format!("apikey:{}", key.id);
    tokio::task::spawn_blocking(move || engine.revoke_api_key(&id, &actor))
        .await
        .map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })??;
    Ok(StatusCode::NO_CONTENT)
}
