//! Every error answer the API gives: an HTTP status and a JSON body
//! `{"error": {"code": "...", "message": "..."}}`, and the one mapping from the engine's
//! [`evident::Error`] to them. Handlers return [`ApiResult`] and let `?` do the mapping.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use evident::Error;
use serde_json::json;

/// The tracing target of the API's own log lines (refusals, failures, the access log): the
/// module they were first written in, kept so an `EVIDENT_LOG=evident_server::api=debug`
/// filter still selects them.
pub(crate) const LOG_TARGET: &str = "evident_server::api";

/// Declares [`ErrorCode`] and the list of all its codes from one table, so the list cannot
/// miss a code (the OpenAPI document's `Error.code` enum is checked against it).
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// The `code` of an error answer: what kind of refusal or failure it is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order declared.
            #[cfg(test)]
            pub(crate) const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in the JSON body.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    /// 400: the request is malformed or out of range
    BadRequest = "bad_request",
    /// 400: an audit event does not validate
    InvalidEvent = "invalid_event",
    /// 400: a key is missing, disabled or destroyed, or a ciphertext does not open
    Crypto = "crypto",
    /// 400: a policy pack does not parse or validate
    PolicyRejected = "policy_rejected",
    /// 401: no credential, or one that is unknown, revoked or invalid
    Unauthorized = "unauthorized",
    /// 403: the caller's role does not allow the operation
    Forbidden = "forbidden",
    /// 403: the access policy denied it (the decision is in the ledger)
    AccessDenied = "access_denied",
    /// 404: no such endpoint or resource
    NotFound = "not_found",
    /// 405: the path exists but not with this method
    MethodNotAllowed = "method_not_allowed",
    /// 408: the request body did not arrive within the body timeout
    Timeout = "timeout",
    /// 409: the request collides with what is stored (a key that exists, a closed review)
    Conflict = "conflict",
    /// 413: a body, batch, entry or field over its limit
    TooLarge = "too_large",
    /// 422: card verification codes, PIN blocks or track data, which are never stored
    SensitiveAuthenticationData = "sensitive_authentication_data",
    /// 429: too many failed logins with this credential or from this address (a lockout or
    /// a pause; `Retry-After` says how long)
    TooManyAttempts = "too_many_attempts",
    /// 500: the stored log does not match its own signed checkpoints
    Integrity = "integrity",
    /// 500: a fault of the server, not of the request
    Internal = "internal",
    /// 503: the ledger cannot record now (a failed append, or shutting down), or the server
    /// is busy (its budget of request-body memory is spent)
    Unavailable = "unavailable",
    /// 507: the disk is full; nothing was stored, and writes resume once space returns
    StorageFull = "storage_full",
}

/// An HTTP error with a JSON body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    /// seconds for a `Retry-After` header
    retry_after: Option<u64>,
}

/// What every handler returns.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with any status and code.
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 `too_many_attempts`: a login lockout or pause is in force for `retry_after`.
    pub(crate) fn too_many_attempts(
        message: impl Into<String>,
        retry_after: std::time::Duration,
    ) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
            message,
        )
        .retry_after(retry_after)
    }

    /// Adds `Retry-After`: whole seconds, rounded up, at least 1.
    pub(crate) fn retry_after(mut self, wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// 400 `bad_request`: the request itself is wrong.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// 403 `forbidden`: the caller is known but its role does not allow this.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    /// 404 `not_found`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 413 `too_large`: a body, batch or field over its limit.
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge, message)
    }

    /// 401 `unauthorized`: no credential, or one not accepted.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 500 `internal`: a fault of the server, not of the request.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            message,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code.as_str();
        tracing::debug!(target: LOG_TARGET, code, message = %self.message, "request refused");
        let body = json!({"error": {"code": code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            // Whatever was being written (an event, a key, a token): the disk is full.
            _ if e.is_storage_full() => (StatusCode::INSUFFICIENT_STORAGE, ErrorCode::StorageFull),
            Error::InvalidEvent(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidEvent),
            Error::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            Error::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            Error::BadRequest(_) | Error::Ledger(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
            }
            Error::AppendFailed(_) | Error::ShutDown => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable)
            }
            Error::Integrity(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Integrity),
            Error::Crypto(_) => (StatusCode::BAD_REQUEST, ErrorCode::Crypto),
            Error::Denied(_) => (StatusCode::FORBIDDEN, ErrorCode::AccessDenied),
            Error::SensitiveAuthenticationData(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::SensitiveAuthenticationData,
            ),
            Error::Policy(_) => (StatusCode::BAD_REQUEST, ErrorCode::PolicyRejected),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        };
        if status.is_server_error() {
            tracing::error!(target: LOG_TARGET, %message, "request failed");
        }
        Self::new(status, code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_a_507_with_its_own_code() {
        let answer = ApiError::from(Error::StorageFull("database or disk is full".into()));
        assert_eq!(answer.status, StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(answer.code, ErrorCode::StorageFull);
        let io = Error::io("writing")(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(ApiError::from(io).status, StatusCode::INSUFFICIENT_STORAGE);
    }
}
