//! # evident-server
//!
//! Evident's HTTP API over an [`evident::Engine`]: appending and reading audit events,
//! checkpoints and proofs, the C2SP tlog-tiles read side under `/log/`, access decisions
//! (AuthZEN) and policy, keys and encryption, card tokens, personal-data erasure, redaction,
//! API keys, health, Prometheus metrics and an OpenAPI 3.1 document ([`OPENAPI`]). See
//! `docs/api.md` for every endpoint.
//!
//! The crate is a thin layer: it authenticates, reads the request, calls the engine and writes
//! the answer. Every decision about evidence (what is stored, signed, redacted, allowed) is
//! the engine's.
//!
//! ## Running it
//!
//! [`router`] builds the whole API over an [`AppState`] (the engine plus [`ServerOptions`]);
//! [`serve()`] and [`serve_tls`] run it on a listener until a shutdown signal; [`tls`] holds
//! the rustls configuration that reloads its certificate files; [`oidc`] verifies OpenID
//! Connect bearer tokens. [`LoopbackServer`] runs the API on a free loopback port in its own
//! runtime, for demos, benchmarks and tests:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let engine = std::sync::Arc::new(evident::Engine::open(dir.path(), true)?);
//! let server = evident_server::LoopbackServer::start(engine)?;
//! let health: serde_json::Value = ureq::get(format!("{}/healthz", server.base))
//!     .call()?
//!     .body_mut()
//!     .read_json()?;
//! assert_eq!(health["status"], "ok");
//! server.stop()?;
//! # Ok(()) }
//! ```
//!
//! [`floor`] is a measuring instrument, not a server: the same HTTP stack answering a fixed
//! decision, so `evident bench access` can show what HTTP alone costs on the host.
//!
//! ## How a request flows
//!
//! 1. **Around every route** (`observe.rs`): a body declared larger than [`MAX_BODY_BYTES`]
//!    is refused at once; every request is counted by route and status, written to the
//!    access log and has its `X-Request-ID` echoed.
//! 2. **The router** sends the request to the handler of one part of the engine, in
//!    `routes/`: one file per part (`events.rs`, `log.rs`, `access.rs`, `keys.rs`,
//!    `personal.rs`, `tokens.rs`, `redact.rs`, `apikeys.rs`, `meta.rs`), so the file name
//!    says where an endpoint lives. Anything else is a JSON 404.
//! 3. **Authentication** (`auth.rs`): the handler first calls `authenticate` with the least
//!    role it needs. The bearer token is an API key, or an OIDC token when an issuer is
//!    configured; a missing, malformed or refused one is a 401 and an `auth.login.failed`
//!    event in the ledger, a too-low role a 403 and an `auth.role.denied` event. Only
//!    `/healthz`, `/openapi.json`, AuthZEN discovery and `/log/…` are public.
//! 4. **Reading the request** (`request.rs`): JSON bodies are parsed with messages naming
//!    the offending field; query strings by axum, their faults made 400s.
//! 5. **The engine**: the handler calls one engine operation; one that blocks (SQLite, the
//!    root key, Cedar) runs on a blocking thread (`blocking.rs`).
//! 6. **The ledger**: what the engine records (events, decisions, key changes, erasures) is
//!    durable and signed before the handler answers; only a refused credential or role is
//!    recorded without holding up its 401 or 403.
//! 7. **The answer**: JSON on success; on failure the engine's [`evident::Error`] becomes a
//!    status and `{"error": {"code": "...", "message": "..."}}` in one place (`error.rs`).
//!
//! The state every handler shares is in `state.rs`, the counters behind `/metrics` in
//! `metrics.rs`.
//!
//! ## Adding an endpoint
//!
//! Write the handler in the `routes/` file of the engine part it serves (a new part gets a
//! new file there, merged in [`router`]) and add its path to that file's `routes()`. Start
//! with `authenticate` and the least role that suffices, read the body with `json_body`,
//! return `ApiResult` and let `?` map engine errors. Then describe it in `src/openapi.json`
//! and `docs/api.md`, and test it in `tests/`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod blocking;
mod error;
pub mod floor;
mod metrics;
mod observe;
pub mod oidc;
mod request;
mod routes;
mod serve;
mod state;
pub mod tls;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};

pub use request::MAX_BODY_BYTES;
pub use routes::meta::OPENAPI;
pub use serve::{serve, serve_tls, LoopbackServer};
pub use state::{AppState, ServerOptions};

/// Builds the router over shared state: every part's routes, a JSON 404 for any other path,
/// the body limit, and the observing middleware around them all.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(routes::meta::routes())
        .merge(routes::log::routes())
        .merge(routes::events::routes())
        .merge(routes::personal::routes())
        .merge(routes::redact::routes())
        .merge(routes::keys::routes())
        .merge(routes::apikeys::routes())
        .merge(routes::access::routes())
        .merge(routes::tokens::routes())
        .fallback(|| async { error::ApiError::not_found("no such endpoint; see /openapi.json") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}
