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

mod access;
mod api;
pub mod floor;
mod metrics;
pub mod oidc;
pub mod tls;
mod tokens;

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
    pub(crate) oidc: Option<Arc<oidc::OidcVerifier>>,
    options: ServerOptions,
}

/// What a server is configured with beyond its engine.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// accept OIDC bearer tokens from this issuer (API keys keep working)
    pub oidc: Option<oidc::OidcConfig>,
    /// the URL clients reach this server at (AuthZEN discovery); from `Host` when absent
    pub public_url: Option<String>,
    /// whether the server speaks TLS (for discovery URLs)
    pub tls: bool,
}

impl AppState {
    /// Wraps an engine, with no OIDC issuer.
    pub fn new(engine: Arc<Engine>) -> Arc<Self> {
        Self::with_options(engine, ServerOptions::default())
    }

    /// Wraps an engine with options.
    pub fn with_options(engine: Arc<Engine>, options: ServerOptions) -> Arc<Self> {
        Arc::new(Self {
            engine,
            metrics: metrics::Metrics::new(),
            oidc: options
                .oidc
                .clone()
                .map(|c| Arc::new(oidc::OidcVerifier::new(c))),
            options,
        })
    }

    /// The OIDC verifier, if an issuer is configured.
    pub fn oidc(&self) -> Option<&oidc::OidcVerifier> {
        self.oidc.as_deref()
    }

    pub(crate) fn public_url(&self) -> Option<String> {
        self.options.public_url.clone()
    }

    pub(crate) fn scheme(&self) -> &'static str {
        if self.options.tls {
            "https"
        } else {
            "http"
        }
    }
}

/// A server on a free loopback port, running in its own runtime: for demos, benchmarks and
/// tests that need a real HTTP endpoint in process.
pub struct LoopbackServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    runtime: tokio::runtime::Runtime,
}

impl LoopbackServer {
    /// Starts serving `engine` on `127.0.0.1:0`.
    pub fn start(engine: Arc<Engine>) -> std::io::Result<Self> {
        Self::start_with(engine, ServerOptions::default())
    }

    /// Starts serving `engine` with `options` on `127.0.0.1:0`.
    pub fn start_with(engine: Arc<Engine>, options: ServerOptions) -> std::io::Result<Self> {
        let state = AppState::with_options(engine, options);
        Self::start_router(router(state))
    }

    /// Starts serving the HTTP floor (see [`floor`]) on `127.0.0.1:0`: the same runtime and
    /// HTTP stack as [`LoopbackServer::start`], answering a fixed decision and doing nothing else.
    pub fn start_http_floor() -> std::io::Result<Self> {
        Self::start_router(floor::router())
    }

    fn start_router(app: axum::Router) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(serve_router(app, listener, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base,
            stop: Some(stop),
            task: Some(task),
            runtime,
        })
    }

    /// Stops accepting, drains in-flight requests, and returns the server's result.
    pub fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => self.runtime.block_on(task).map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

/// Serves the API over TLS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    tls: tls::ReloadingConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let listener = tls::TlsListener::new(listener, tls)?;
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(router(state), listener, shutdown).await
}

/// Serves any router on `listener` without TLS until `shutdown`, with the peer's address
/// available to handlers.
async fn serve_router(
    app: axum::Router,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
