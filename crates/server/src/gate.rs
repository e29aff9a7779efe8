//! Who may reach each operation, decided before the operation reads anything of the request.
//!
//! Routes are registered through [`Operations`], which takes each operation's method, path,
//! [`Access`] and handler together, so no route exists without a declared access. The table it
//! keeps beside the router is what [`gate`] enforces, in front of every handler: a protected
//! operation authenticates the caller and checks its role before any of its path, query or
//! body extractors run, so an unauthenticated caller learns nothing from validation errors
//! (401 always comes first). The same table is what the tests compare with the OpenAPI
//! document, so an operation cannot be served undocumented or documented with another access.
//!
//! A handler that needs the caller takes [`Identity`] as an argument: the gate put it in the
//! request's extensions.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;

use crate::auth::{authenticate, Identity};
use crate::error::ApiError;
use crate::roles::Access;
use crate::state::AppState;

/// One operation as registered: its method, its path as the router writes it, and who may
/// call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    /// `GET`, `POST`, `PUT` or `DELETE`
    pub(crate) method: Method,
    /// the router's path template, e.g. `/v1/events/{index}` or `/log/tile/{*path}`
    pub(crate) path: &'static str,
    /// who may call it
    pub(crate) access: Access,
}

/// The API's operations: the router and the table of who may call each operation, built
/// together so they cannot disagree.
pub(crate) struct Operations {
    router: Router<Arc<AppState>>,
    table: Vec<Operation>,
}

impl Operations {
    /// No operations yet.
    pub(crate) fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    /// Adds `GET path`.
    pub(crate) fn get<H, T>(self, path: &'static str, access: impl Into<Access>, h: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::GET, MethodFilter::GET, path, access.into(), h)
    }

    /// Adds `POST path`.
    pub(crate) fn post<H, T>(self, path: &'static str, access: impl Into<Access>, h: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::POST, MethodFilter::POST, path, access.into(), h)
    }

    /// Adds `PUT path`.
    pub(crate) fn put<H, T>(self, path: &'static str, access: impl Into<Access>, h: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::PUT, MethodFilter::PUT, path, access.into(), h)
    }

    /// Adds `DELETE path`.
    pub(crate) fn delete<H, T>(self, path: &'static str, access: impl Into<Access>, h: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::DELETE, MethodFilter::DELETE, path, access.into(), h)
    }

    fn add<H, T>(
        mut self,
        method: Method,
        filter: MethodFilter,
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.router = self.router.route(path, on(filter, h));
        self.table.push(Operation {
            method,
            path,
            access,
        });
        self
    }

    /// Both sets of operations.
    pub(crate) fn merge(mut self, other: Self) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// Every operation registered, in order.
    #[cfg(test)]
    pub(crate) fn table(&self) -> &[Operation] {
        &self.table
    }

    /// The router, with [`gate`] in front of every operation.
    pub(crate) fn into_router(self, state: Arc<AppState>) -> Router<Arc<AppState>> {
        let access: HashMap<(Method, &'static str), Access> = self
            .table
            .into_iter()
            .map(|op| ((op.method, op.path), op.access))
            .collect();
        self.router.route_layer(middleware::from_fn_with_state(
            (state, Arc::new(access)),
            gate,
        ))
    }
}

/// What [`gate`] needs: the state (to authenticate) and the access of every operation.
type GateState = (Arc<AppState>, Arc<HashMap<(Method, &'static str), Access>>);

/// Authenticates and authorizes a request to a protected operation before its handler (and
/// any of the handler's extractors) runs; a public operation passes as it is.
async fn gate(
    State((state, access)): State<GateState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(path) = request.extensions().get::<MatchedPath>().cloned() else {
        return ApiError::internal("a route without a matched path").into_response();
    };
    // axum answers HEAD with the GET handler: it needs what GET needs.
    let method = match request.method() {
        &Method::HEAD => Method::GET,
        other => other.clone(),
    };
    let needed = match access.get(&(method, path.as_str())) {
        Some(Access::Public) => return next.run(request).await,
        Some(needed) => *needed,
        // A method this path does not have: the router answers 405 without running a handler.
        None => return next.run(request).await,
    };
    match authenticate(&state, request.headers(), needed) {
        Ok(identity) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Err(refused) => refuse(request, refused).await,
    }
}

/// The most of a refused request's body that is read (and dropped) so its connection can
/// carry the client's next request.
const DRAIN_LIMIT: usize = 64 * 1024;

/// A refusal. The body was not read; a small one is read now, so the connection stays usable.
/// A larger one is left unread and the answer says `Connection: close`: otherwise the client
/// may send its next request on a connection the server is about to drop.
async fn refuse(request: Request, refused: ApiError) -> Response {
    let mut response = refused.into_response();
    if axum::body::to_bytes(request.into_body(), DRAIN_LIMIT)
        .await
        .is_err()
    {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ApiError;

    /// The caller [`gate`] authenticated; a handler of a public operation that asks for one
    /// is a fault of the server, refused rather than served anonymously.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .ok_or_else(|| ApiError::internal("this operation has no authenticated caller"))
    }
}
