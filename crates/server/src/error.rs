//! Every error answer the API gives: an HTTP status and a JSON body
//! `{"error": {"code": "...", "message": "..."}}`, and the one mapping from the engine's
//! [`evident::Error`] to them. Handlers return [`ApiResult`] and let `?` do the mapping.

use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use evident::Error;
use serde_json::json;

/// The tracing target of the API's own log lines (refusals, failures, the access log): the
/// module they were first written in, kept so an `EVIDENT_LOG=evident_server::api=debug`
/// filter still selects them.
pub(crate) const LOG_TARGET: &str = "evident_server::api";

/// An HTTP error with a JSON body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

/// What every handler returns.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with any status and code.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `bad_request`: the request itself is wrong.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 403 `forbidden`: the caller is known but its role does not allow this.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 413 `too_large`: a body, batch or field over its limit.
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 500 `internal`: a fault of the server, not of the request.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::debug!(target: LOG_TARGET, code = self.code, message = %self.message, "request refused");
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            // Whatever was being written (an event, a key, a token): the disk is full.
            _ if e.is_storage_full() => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
            Error::InvalidEvent(_) => (StatusCode::BAD_REQUEST, "invalid_event"),
            Error::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::BadRequest(_) | Error::Ledger(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::AppendFailed(_) | Error::ShutDown => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Error::Integrity(_) => (StatusCode::INTERNAL_SERVER_ERROR, "integrity"),
            Error::Crypto(_) => (StatusCode::BAD_REQUEST, "crypto"),
            Error::Denied(_) => (StatusCode::FORBIDDEN, "access_denied"),
            Error::SensitiveAuthenticationData(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "sensitive_authentication_data",
            ),
            Error::Policy(_) => (StatusCode::BAD_REQUEST, "policy_rejected"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() {
            tracing::error!(target: LOG_TARGET, %message, "request failed");
        }
        Self::new(status, code, message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(format!("bad query parameters: {}", r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_a_507_with_its_own_code() {
        let answer = ApiError::from(Error::StorageFull("database or disk is full".into()));
        assert_eq!(answer.status, StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(answer.code, "storage_full");
        let io = Error::io("writing")(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(ApiError::from(io).status, StatusCode::INSUFFICIENT_STORAGE);
    }
}
