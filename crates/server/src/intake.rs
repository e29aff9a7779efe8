//! Taking a request body in, before any handler sees it: whole within the body timeout
//! (`408` otherwise: a client dribbling its body does not hold a request open for ever), at
//! most [`MAX_BODY_BYTES`] (`413`), and within the server-wide budget of body memory (`503`
//! with `Retry-After` when many large bodies arrive at once), so that the memory request
//! bodies take stays bounded whoever sends them. A body's buffer is counted at its capacity,
//! and stays counted against the budget until the response is ready.

use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::ApiError;
use crate::request::MAX_BODY_BYTES;
use crate::state::Shared;

/// The budget is counted in units of this many bytes.
const UNIT: usize = 1024;

/// The server-wide budget of request-body memory.
pub(crate) struct BodyBudget {
    units: Arc<Semaphore>,
}

impl BodyBudget {
    /// A budget of `bytes` (at least one body of the largest size).
    pub(crate) fn new(bytes: usize) -> Self {
        Self {
            units: Arc::new(Semaphore::new(bytes.max(MAX_BODY_BYTES) / UNIT)),
        }
    }
}

/// The part of the budget one request holds.
struct Reservation {
    units: Arc<Semaphore>,
    held: Vec<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Reservation {
    /// Holds enough of the budget for `bytes` in all; false when the budget is spent.
    fn cover(&mut self, bytes: usize) -> bool {
        if bytes <= self.bytes {
            return true;
        }
        let more = bytes.div_ceil(UNIT) - self.bytes.div_ceil(UNIT);
        let Ok(more) = u32::try_from(more) else {
            return false;
        };
        if more > 0 {
            match self.units.clone().try_acquire_many_owned(more) {
                Ok(permit) => self.held.push(permit),
                Err(_) => return false,
            }
        }
        self.bytes = bytes;
        true
    }
}

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
    let mut reservation = Reservation {
        units: state.body_budget.units.clone(),
        held: Vec::new(),
        bytes: 0,
    };
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
        "timeout",
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
        "unavailable",
        "the server is reading too many request bodies at once; retry shortly",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_grows_within_the_budget_and_returns_it_when_dropped() {
        let budget = BodyBudget::new(MAX_BODY_BYTES);
        let mut first = Reservation {
            units: budget.units.clone(),
            held: Vec::new(),
            bytes: 0,
        };
        assert!(first.cover(1));
        assert!(first.cover(MAX_BODY_BYTES));
        let mut second = Reservation {
            units: budget.units.clone(),
            held: Vec::new(),
            bytes: 0,
        };
        assert!(!second.cover(1), "the budget is spent");
        drop(first);
        assert!(second.cover(MAX_BODY_BYTES));
        assert!(!second.cover(MAX_BODY_BYTES + UNIT));
    }
}
