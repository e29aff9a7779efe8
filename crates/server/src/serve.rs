//! Running a router: [`serve`] over plain HTTP and [`serve_tls`] over TLS until a shutdown
//! signal, and [`LoopbackServer`], a server on a free loopback port in a runtime of its own
//! for demos, benchmarks and tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use evident::Engine;

use crate::peer::TlsPeer;
use crate::state::{AppState, ServerOptions};
use crate::{router, tls};

/// A server on a free loopback port, running in its own runtime: for demos, benchmarks and
/// tests that need a real HTTP endpoint in process. (The HTTP floor's constructor,
/// `LoopbackServer::start_http_floor`, lives with the floor in [`crate::floor`].)
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

    /// Starts serving any router on `127.0.0.1:0`, in a runtime of its own.
    pub(crate) fn start_router(app: axum::Router) -> std::io::Result<Self> {
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

/// Serves the API over TLS on `listener` until `shutdown` completes, with the peer's address
/// available to handlers.
pub async fn serve_tls(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    tls: tls::ReloadingConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let listener = tls::TlsListener::new(listener, tls)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<TlsPeer>(),
    )
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
