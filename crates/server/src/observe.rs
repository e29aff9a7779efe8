//! What happens around every request, whatever its route: a body declared larger than
//! [`MAX_BODY_BYTES`] is refused before it is read, each request is counted by route and
//! status, written to the access log, and its `X-Request-ID` echoed; the client's address is
//! made known to the handler (`peer.rs`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use crate::error::{ApiError, LOG_TARGET};
use crate::peer;
use crate::request::MAX_BODY_BYTES;
use crate::state::Shared;

/// Counts requests by route and status, and echoes `X-Request-ID`.
pub(crate) async fn observe(State(state): Shared, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let request_id = request.headers().get("x-request-id").cloned();
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let started = Instant::now();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut response = if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        // Refuse from the declared length alone: no need to read megabytes of a body we reject.
        // The body stays unread, so the connection cannot carry another request: say so.
        let mut refused = ApiError::too_large(format!(
            "the body is larger than the limit of {MAX_BODY_BYTES} bytes per request"
        ))
        .into_response();
        refused
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        refused
    } else {
        let peer = peer::of_request(&request);
        peer::with_peer(peer, next.run(request)).await
    };
    // The access log: every line goes through the redactor on its way out, so a card
    // number in a query string does not reach a log file. The redactor reads the URI as
    // the server does, decoded (`4111%201111…` and `4111+1111…` are card numbers too);
    // `?` quotes it, so a decoded line break cannot forge a log line.
    tracing::debug!(
        target: LOG_TARGET,
        %method,
        uri = ?decoded(&uri),
        status = response.status().as_u16(),
        request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("-"),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    if let Some(id) = request_id {
        response.headers_mut().insert("x-request-id", id);
    }
    state
        .metrics
        .requests
        .get_or_create(&vec![
            ("route".to_string(), route),
            ("status".to_string(), response.status().as_u16().to_string()),
        ])
        .inc();
    response
}

/// The URI as the handlers read it: the path percent-decoded, the query form-decoded (`+` is
/// a space); bytes that are not UTF-8 become U+FFFD.
fn decoded(uri: &Uri) -> String {
    let path = percent_decode_str(uri.path()).decode_utf8_lossy();
    match uri.query() {
        Some(query) => {
            let query = query.replace('+', " ");
            format!("{path}?{}", percent_decode_str(&query).decode_utf8_lossy())
        }
        None => path.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_uri_is_the_one_the_handlers_read() {
        let uri: Uri = "/v1/keys/card%204111%201111/rotate?actor=536%2D22+1234&x=%0Ay%FF"
            .parse()
            .unwrap_or_default();
        assert_eq!(
            decoded(&uri),
            "/v1/keys/card 4111 1111/rotate?actor=536-22 1234&x=\ny\u{FFFD}"
        );
        assert_eq!(decoded(&Uri::from_static("/healthz")), "/healthz");
    }
}
