//! The address of the client behind a request, as its TCP connection shows it: set around
//! every request by `observe.rs`, read by `auth.rs` for the login lockout and the
//! `actor.ip` of failed logins. Handlers need not pass it along.
//!
//! It is the direct peer: behind a reverse proxy every client has the proxy's address
//! (forwarded headers are not trusted, as any client can write them).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};

tokio::task_local! {
    static PEER: Option<IpAddr>;
}

/// The peer address of `request`, which the connection loop (`connections.rs`) puts on
/// every request, plain or TLS.
pub(crate) fn of_request(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// Runs `handling` (a request's handler) with `peer` as the client's address.
pub(crate) async fn with_peer<F: Future>(peer: Option<IpAddr>, handling: F) -> F::Output {
    PEER.scope(peer, handling).await
}

/// The client address of the request being handled; `None` outside one (or on a blocking
/// thread) and when the server has no connection info.
pub(crate) fn current() -> Option<IpAddr> {
    PEER.try_with(|peer| *peer).ok().flatten()
}
