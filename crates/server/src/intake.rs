//! Taking a request body in, before any handler sees it: whole within the body timeout
//! (`408` otherwise: a client dribbling its body does not hold a request open for ever), at
//! most [`MAX_BODY_BYTES`] (`413`), and within the server-wide budget of body memory (`503`
//! with `Retry-After` when many large bodies arrive at once), so that the memory request
//! bodies take stays bounded whoever sends them. A body's buffer is counted at its capacity,
//! and stays counted against the budget until the response is ready.

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::time::Instant;

use crate::error::{ApiError, ErrorCode};
use crate::request::MAX_BODY_BYTES;
use crate::state::Shared;

/// Reads the whole body within the limits, then hands the request on.
pub(crate) async fn take_body(State(state): Shared, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let deadline = Instant::now() + state.limits().body_timeout;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_BODY_BYTES);
    let mut reservation = state.body_budget.reservation();
    if !reservation.cover(declared) {
        return busy();
    }
    let mut bytes = Vec::with_capacity(declared);
    let mut body = body;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return too_slow(&state),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return ApiError::bad_request(format!("reading the body: {e}")).into_response()
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let total = bytes.len() + data.len();
        if total > MAX_BODY_BYTES {
            return ApiError::too_large(format!(
                "the body is larger than the limit of {MAX_BODY_BYTES} bytes per request"
            ))
            .into_response();
        }
        if total > bytes.capacity() {
            // Grow by doubling, as Vec would, but count the capacity against the budget first.
            let capacity = total.max(bytes.capacity() * 2).min(MAX_BODY_BYTES);
            if !reservation.cover(capacity) {
                return busy();
            }
            bytes.reserve_exact(capacity - bytes.len());
        }
        bytes.extend_from_slice(&data);
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    drop(reservation);
    response
}

/// 408, and the connection closed: the client did not send its body in time.
fn too_slow(state: &crate::state::AppState) -> Response {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::Timeout,
        format!(
            "the request body did not arrive within {} s",
            state.limits().body_timeout.as_secs_f64()
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// 503 with `Retry-After`: too many request bodies are being read at once.
fn busy() -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "the server is reading too many request bodies at once; retry shortly",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
