//! # evident-server
//!
//! Evident's HTTP API over an [`evident::Engine`]: appending and reading audit events,
//! checkpoints and proofs, the C2SP tlog-tiles read side under `/log/`, health, Prometheus
//! metrics and an OpenAPI 3.1 document. See `docs/api.md` for every endpoint.
//!
//! Every endpoint except `/healthz`, `/openapi.json` and the public read side
//! (`/log/…`) needs `Authorization: Bearer <API key>`; each route names the least role it needs.
//! Errors are JSON: `{"error": {"code": "...", "message": "..."}}` with a 4xx or 5xx status.
//!
//! The routes live in `routes/`, one file per part of the engine; authentication
//! (`auth.rs`), error mapping (`error.rs`) and request reading (`request.rs`) are written
//! once and shared by all of them.

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
