//! Holding connections within [`Limits`]: the accept loop, the gate that admits at most
//! `max_connections` at once, and the HTTP/1 connection each admitted client gets.
//!
//! When every place is taken, a newcomer takes the place of the oldest connection with no
//! request in progress: an idle keep-alive connection, or one still dribbling its headers.
//! So a crowd of idle or slow clients (slowloris) cannot lock out a well-behaved one; a
//! newcomer waits only while every connection has a request in progress. Each connection has
//! `header_timeout` to send a request head, which also ends idle keep-alive connections.
//! Request bodies are limited by [`crate::intake`].

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};

use crate::error::LOG_TARGET;
use crate::limits::{Limits, MAX_HEADER_BYTES};

/// How often a newcomer waiting for a place looks again for an idle connection to replace.
const EVICT_RETRY: Duration = Duration::from_millis(100);

/// How long to wait after a failed accept (out of file descriptors, …) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Admits connections up to the limit, replacing idle ones when full.
pub(crate) struct Gate {
    places: Arc<Semaphore>,
    max: usize,
    open: Mutex<BTreeMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
}

/// What the gate knows of one open connection.
struct Slot {
    /// requests in progress on it
    busy: AtomicUsize,
    /// asked to make room already
    evicting: AtomicBool,
    /// wakes the connection to make room
    evict: Notify,
}

/// One admitted connection's place; dropping it frees the place.
pub(crate) struct Admission {
    gate: Arc<Gate>,
    id: u64,
    slot: Arc<Slot>,
    _place: OwnedSemaphorePermit,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Ok(mut open) = self.gate.open.lock() {
            open.remove(&self.id);
        }
    }
}

impl Gate {
    /// A gate admitting at most `max` connections at once.
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            places: Arc::new(Semaphore::new(max)),
            max,
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
        })
    }

    /// A place for a new connection: a free one, else the place of the oldest connection with
    /// no request in progress, once it has closed.
    pub(crate) async fn admit(self: &Arc<Self>) -> Admission {
        let place = loop {
            if let Ok(place) = self.places.clone().try_acquire_owned() {
                break place;
            }
            self.evict_oldest_idle();
            tokio::select! {
                place = self.places.clone().acquire_owned() => match place {
                    Ok(place) => break place,
                    // The semaphore is never closed.
                    Err(_) => std::future::pending().await,
                },
                _ = tokio::time::sleep(EVICT_RETRY) => {}
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            evicting: AtomicBool::new(false),
            evict: Notify::new(),
        });
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, slot.clone());
        }
        Admission {
            gate: self.clone(),
            id,
            slot,
            _place: place,
        }
    }

    /// Asks the oldest connection with no request in progress to close.
    fn evict_oldest_idle(&self) {
        let Ok(open) = self.open.lock() else { return };
        let idle = open.values().find(|slot| {
            slot.busy.load(Ordering::Acquire) == 0 && !slot.evicting.load(Ordering::Acquire)
        });
        if let Some(slot) = idle {
            slot.evicting.store(true, Ordering::Release);
            slot.evict.notify_one();
            tracing::debug!(target: LOG_TARGET, "connection limit reached; closing the oldest idle connection");
        }
    }

    /// Waits until every admitted connection has closed, for at most `patience`.
    async fn drained(&self, patience: Duration) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        if tokio::time::timeout(patience, self.places.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(target: LOG_TARGET, "stopping with connections still open");
        }
    }
}

/// Where admitted connections come from: a TCP listener, or the TLS handshakes.
pub(crate) trait Accept: Send {
    /// the stream of one connection
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The next admitted connection; `None` when there will be no more.
    fn next(&mut self) -> impl Future<Output = Option<(Self::Io, SocketAddr, Admission)>> + Send;
}

/// Plain TCP: accept, then wait for a place.
pub(crate) struct PlainAccept {
    pub(crate) listener: TcpListener,
    pub(crate) gate: Arc<Gate>,
}

impl Accept for PlainAccept {
    type Io = tokio::net::TcpStream;

    async fn next(&mut self) -> Option<(Self::Io, SocketAddr, Admission)> {
        let (stream, peer) = accept(&self.listener).await;
        let admission = self.gate.admit().await;
        Some((stream, peer, admission))
    }
}

/// The next TCP connection, riding out failed accepts.
pub(crate) async fn accept(listener: &TcpListener) -> (tokio::net::TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            // The client gave up before we took it: nothing to wait for.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => {}
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(target: LOG_TARGET, error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Serves `app` on every connection `incoming` admits until `shutdown`, then lets requests in
/// progress finish.
pub(crate) async fn serve_connections<A: Accept>(
    mut incoming: A,
    gate: Arc<Gate>,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (closing, closed) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let next = tokio::select! {
            next = incoming.next() => next,
            () = &mut shutdown => break,
        };
        let Some((io, peer, admission)) = next else {
            break;
        };
        tokio::spawn(serve_connection(
            io,
            peer,
            admission,
            app.clone(),
            limits.clone(),
            closed.clone(),
        ));
    }
    let _ = closing.send(());
    gate.drained(limits.header_timeout + limits.body_timeout)
        .await;
}

/// One connection: HTTP/1 with the header timeout, until it ends, the server stops, or the
/// gate needs its place.
async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    admission: Admission,
    app: Router,
    limits: Limits,
    mut closing: watch::Receiver<()>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slot = admission.slot.clone();
    let service = PerConnection {
        app,
        peer,
        slot: slot.clone(),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEADER_BYTES);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut ending = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(target: LOG_TARGET, %peer, error = %e, "connection ended");
                }
                break;
            }
            _ = closing.changed(), if !ending => {
                ending = true;
                connection.as_mut().graceful_shutdown();
            }
            () = slot.evict.notified(), if !ending => {
                if slot.busy.load(Ordering::Acquire) == 0 {
                    break; // dropping the connection closes it
                }
                ending = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
    drop(admission);
}

/// The router as one connection sees it: each request carries the peer's address (for
/// `ConnectInfo`) and counts as in progress until its response is ready.
#[derive(Clone)]
struct PerConnection {
    app: Router,
    peer: SocketAddr,
    slot: Arc<Slot>,
}

/// A request in progress on a connection, for as long as it lives.
struct Busy(Arc<Slot>);

impl Busy {
    fn start(slot: Arc<Slot>) -> Self {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        Self(slot)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

impl hyper::service::Service<hyper::Request<Incoming>> for PerConnection {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let busy = Busy::start(self.slot.clone());
        let mut app = self.app.clone();
        Box::pin(async move {
            let _busy = busy;
            tower_service::Service::call(&mut app, request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_replaces_the_oldest_idle_connection() {
        let gate = Gate::new(2);
        let first = gate.admit().await;
        let second = gate.admit().await;
        let _in_progress = Busy::start(first.slot.clone());
        // The newcomer waits; the gate asks the oldest idle connection (the second) to go.
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.admit().await }
        });
        tokio::time::timeout(Duration::from_secs(5), second.slot.evict.notified())
            .await
            .expect("the idle connection was not asked to close");
        assert!(!first.slot.evicting.load(Ordering::Acquire));
        drop(second);
        let third = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the newcomer was not admitted")
            .expect("admit panicked");
        assert_eq!(gate.open.lock().map(|o| o.len()).unwrap_or(0), 2);
        drop((first, third));
        gate.drained(Duration::from_secs(1)).await;
        assert_eq!(gate.places.available_permits(), 2);
    }

    #[tokio::test]
    async fn a_newcomer_waits_while_every_connection_is_busy() {
        let gate = Gate::new(1);
        let only = gate.admit().await;
        let busy = Busy::start(only.slot.clone());
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.admit().await }
        });
        tokio::time::sleep(EVICT_RETRY * 3).await;
        assert!(!waiting.is_finished());
        assert!(!only.slot.evicting.load(Ordering::Acquire));
        // The request ends: the connection is idle now, and makes room.
        drop(busy);
        tokio::time::timeout(Duration::from_secs(5), only.slot.evict.notified())
            .await
            .expect("the now idle connection was not asked to close");
        drop(only);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the newcomer was not admitted")
            .expect("admit panicked");
    }
}
