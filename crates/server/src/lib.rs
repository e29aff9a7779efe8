//! # evident-server
//!
//! Evident's HTTP API over an [`evident::Engine`]: appending and reading audit events,
//! checkpoints and proofs, the C2SP tlog-tiles read side under `/log/`, access decisions
//! (AuthZEN) and policy, keys and encryption, card tokens, personal-data erasure, redaction,
//! API keys, the controls (catalog, status, history, coverage, running checks, and running
//! the due ones on their cadence), health, Prometheus metrics and an OpenAPI 3.1 document
//! ([`OPENAPI`]). See
//! `docs/api.md` for every endpoint.
//!
//! The crate is a thin layer: it authenticates, reads the request, calls the engine and writes
//! the answer. Every decision about evidence (what is stored, signed, redacted, allowed) is
//! the engine's.
//!
//! ## Running it
//!
//! [`router`] builds the whole API over an [`AppState`] (the engine plus [`ServerOptions`]);
//! [`serve()`] and [`serve_tls`] run it on a listener until a shutdown signal, with the
//! control-check scheduler (`schedule.rs`) beside it when [`ServerOptions::controls_schedule`]
//! asks for one (the due checks run as [`SCHEDULER_ACTOR`]), and the retention scheduler
//! (`retention_schedule.rs`) when [`ServerOptions::retention_schedule`] does; [`tls`] holds
//! the rustls configuration that reloads its certificate files; [`oidc`] verifies OpenID
//! Connect bearer tokens; [`lockout`] holds the login lockout's policy
//! ([`ServerOptions::lockout`]). [`LoopbackServer`] runs the API on a free loopback port in its own
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
//! 0. **The connection** (`connections.rs`): at most [`Limits::max_connections`] are held,
//!    the oldest idle one making room for a newcomer; a request head must arrive within
//!    [`Limits::header_timeout`] and be at most [`MAX_HEADER_BYTES`].
//! 1. **Around every route** (`observe.rs`): a body declared larger than [`MAX_BODY_BYTES`]
//!    is refused at once; every request is counted by route and status, written to the
//!    access log and has its `X-Request-ID` echoed. Then (`intake.rs`) the body is read
//!    whole within [`Limits::body_timeout`] and the server-wide [`Limits::body_memory`].
//! 2. **The router** sends the request to the handler of one part of the engine, in
//!    `routes/`: one file per part (`events.rs`, `log.rs`, `access.rs`, `keys.rs`,
//!    `personal.rs`, `tokens.rs`, `redact.rs`, `apikeys.rs`, `controls.rs`, `meta.rs`), so
//!    the file name says where an endpoint lives; `routes/all.rs` gathers them. Anything
//!    else is a JSON 404, a method a path does not take a JSON 405.
//! 3. **The gate** (`gate.rs`), before the handler and any of its extractors: each operation
//!    was registered with its access, public or the roles it admits (`roles.rs`: `READERS`,
//!    `EVIDENCE_READERS` — readers and the `auditor` —, `WRITERS`, `ADMINS`), and a
//!    protected one has its
//!    caller authenticated (`auth.rs`: the bearer token is an API key, or an OIDC token when
//!    an issuer is configured; a missing, malformed or refused one is a 401 and an
//!    `auth.login.failed` event in the ledger) and its role checked (a 403 and an
//!    `auth.role.denied` event) before anything else of the request is read.
//!    Repeated failures are slowed, then locked out ([`lockout`]): a 429 with
//!    `Retry-After`. Only `/healthz`, `/openapi.json`, AuthZEN discovery and `/log/…` are
//!    public.
//! 4. **Reading the request** (`request.rs`): JSON bodies (objects only) are parsed with
//!    messages naming the offending field; path and query parameters through extractors whose
//!    faults are JSON 400s.
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
//! new file there, merged in `routes/all.rs`) and register it in that file's `routes()` with
//! the roles it admits (`.post(path, WRITERS, handler)`; `Access::Public` only for what anyone
//! may read; an admitted role's betters are admitted too, which a unit test holds). A handler that needs the caller takes `Identity`; it reads the
//! body with `json_body` and parameters with `request::{Path, Query}`, returns `ApiResult`
//! and lets `?` map engine errors. Then describe it in `src/openapi.json` (with
//! `x-evident-roles` and every status it can answer: `openapi_tests.rs` fails until the
//! document and the registered operations agree) and `docs/api.md`, and test it in `tests/`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod blocking;
mod budget;
mod connections;
mod error;
pub mod floor;
mod gate;
mod intake;
mod limits;
pub mod lockout;
mod metrics;
mod observe;
pub mod oidc;
#[cfg(test)]
mod openapi_tests;
mod peer;
mod request;
mod retention_schedule;
mod roles;
mod routes;
mod schedule;
mod serve;
pub mod started;
mod state;
pub mod tls;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{middleware, Router};

pub use limits::{Limits, MAX_HEADER_BYTES};
pub use request::MAX_BODY_BYTES;
pub use routes::meta::OPENAPI;
pub use schedule::SCHEDULER_ACTOR;
pub use serve::{serve, serve_tls, LoopbackServer};
pub use state::{AppState, ServerOptions};

/// Builds the router over shared state: every part's routes, a JSON 404 for any other path,
/// the body limits, and the observing middleware around them all.
pub fn router(state: Arc<AppState>) -> Router {
    routes::all::operations()
        .into_router(state.clone())
        .fallback(|| async { error::ApiError::not_found("no such endpoint; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                error::ErrorCode::MethodNotAllowed,
                "this path does not take this method; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            intake::take_body,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}
