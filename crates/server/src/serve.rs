//! Running a router: [`serve`] over plain HTTP and [`serve_tls`] over TLS until a shutdown
//! signal, within the server's [`Limits`], with the control-check scheduler beside them when
//! the options ask for it; and [`LoopbackServer`], a server on a free loopback port in a
//! runtime of its own for demos, benchmarks and tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use evident::Engine;

use crate::connections::{serve_connections, Gate, PlainAccept};
use crate::limits::Limits;
use crate::retention_schedule::RetentionSchedule;
use crate::schedule::Schedule;
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

    /// Starts serving `engine` with `options` on `127.0.0.1:0` (with the control-check
    /// scheduler when the options ask for it).
    pub fn start_with(engine: Arc<Engine>, options: ServerOptions) -> std::io::Result<Self> {
        let state = AppState::with_options(engine, options);
        Self::spawn(move |listener, shutdown| serve(state, listener, shutdown))
    }

    /// Starts serving any router on `127.0.0.1:0`, in a runtime of its own.
    pub(crate) fn start_router(app: axum::Router, limits: Limits) -> std::io::Result<Self> {
        Self::spawn(move |listener, shutdown| serve_router(app, listener, limits, shutdown))
    }

    /// Binds `127.0.0.1:0` in a runtime of its own and runs `serve` there until stopped.
    fn spawn<S, F>(serve: S) -> std::io::Result<Self>
    where
        S: FnOnce(tokio::net::TcpListener, Pin<Box<dyn Future<Output = ()> + Send>>) -> F,
        F: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = Box::pin(async {
            let _ = stopped.await;
        });
        let task = {
            let _entered = runtime.enter();
            runtime.spawn(serve(listener, shutdown))
        };
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

/// Serves the API over TLS on `listener` until `shutdown` completes, then lets requests in
/// progress finish.
pub async fn serve_tls(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    tls: tls::ReloadingConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits().clone();
    let gate = Gate::new(limits.effective_max_connections());
    let schedule = Schedule::start(&state);
    let retention = RetentionSchedule::start(&state);
    let app = router(state);
    let listener = tls::TlsListener::new(listener, tls, gate.clone())?;
    serve_connections(listener, gate, app, limits, shutdown).await;
    if let Some(schedule) = schedule {
        schedule.stop().await;
    }
    if let Some(retention) = retention {
        retention.stop().await;
    }
    Ok(())
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in progress
/// finish.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits().clone();
    let schedule = Schedule::start(&state);
    let retention = RetentionSchedule::start(&state);
    let served = serve_router(router(state), listener, limits, shutdown).await;
    if let Some(schedule) = schedule {
        schedule.stop().await;
    }
    if let Some(retention) = retention {
        retention.stop().await;
    }
    served
}

/// Serves any router on `listener` without TLS until `shutdown`, with the peer's address
/// available to handlers.
async fn serve_router(
    app: axum::Router,
    listener: tokio::net::TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let gate = Gate::new(limits.effective_max_connections());
    let incoming = PlainAccept {
        listener,
        gate: gate.clone(),
    };
    serve_connections(incoming, gate, app, limits, shutdown).await;
    Ok(())
}
