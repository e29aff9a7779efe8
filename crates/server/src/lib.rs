//! # evident-server
//!
//! Evident's HTTP API over an [`evident::Engine`]: appending and reading audit events,
//! checkpoints and proofs, the C2SP tlog-tiles read side under `/log/`, health, Prometheus
//! metrics and an OpenAPI 3.1 document. See `docs/api.md` for every endpoint.
//!
//! Every endpoint except `/healthz`, `/openapi.json` and the public read side
//! (`/log/…`) needs `Authorization: Bearer <API key>`; each route names the least role it needs.
//! Errors are JSON: `{"error": {"code": "...", "message": "..."}}` with a 4xx or 5xx status.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod metrics;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use api::router;
use evident::Engine;

/// The body limit of one request: a batch of up to 10,000 events.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// State shared by every handler.
pub struct AppState {
    /// the engine
    pub engine: Arc<Engine>,
    pub(crate) metrics: metrics::Metrics,
}

impl AppState {
    /// Wraps an engine.
    pub fn new(engine: Arc<Engine>) -> Arc<Self> {
        Arc::new(Self {
            engine,
            metrics: metrics::Metrics::new(),
        })
    }
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(AppState::new(engine));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
