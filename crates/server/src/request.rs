//! Reading what a request carries, the same way for every route: the body size limit, JSON
//! bodies with messages that name the offending field, path and query parameters whose
//! faults are JSON errors like every other (axum's own are plain text), base64 plaintext
//! within the per-call limit, and the caller's `X-Request-ID`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident::objects::Object;
use serde::de::DeserializeOwned;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{ApiError, ApiResult, ErrorCode};

/// The body limit of one request: a batch of up to 10,000 events.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The most plaintext one encrypt call takes (larger data: use a data key).
const MAX_CRYPT_BYTES: usize = 4 << 20;

/// The body as JSON of type `T`; a 400 naming the field and the fault when it is not.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    let body = body.map_err(body_refused)?;
    // Well-formed bodies (nearly all) skip the path tracking, which cost a third of parsing
    // an AuthZEN request; a body that fails is parsed again with it, for the message.
    // Every body is a JSON object: `Object` refuses the array serde would read a struct from.
    if let Ok(Object(value)) = serde_json::from_slice(&body) {
        return Ok(value);
    }
    // `3.0` is the number 3 (RFC 8259; JSON Schema's `integer` admits it): where the body
    // failed only for writing an integer that way, read it as the integer.
    if let Ok(mut tree) = serde_json::from_slice::<Value>(&body) {
        if integral_floats_to_integers(&mut tree) {
            if let Ok(Object(value)) = serde_json::from_value(tree) {
                return Ok(value);
            }
        }
    }
    let mut de = serde_json::Deserializer::from_slice(&body);
    let Object(value) = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("malformed request: {inner}"))
        } else {
            ApiError::bad_request(format!("malformed request: `{path}`: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed request: {e}")))?;
    Ok(value)
}

/// Rewrites every number written with a zero fraction (`3.0`, `-2e3`) as the integer it
/// equals, where a float holds that integer exactly; answers whether it rewrote any.
fn integral_floats_to_integers(value: &mut Value) -> bool {
    /// 2^53: past it, a float no longer holds every integer exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < EXACT => {
                *value = Value::from(f as i64);
                true
            }
            _ => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| integral_floats_to_integers(v) | changed),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |changed, v| integral_floats_to_integers(v) | changed),
        _ => false,
    }
}

/// Why a body could not be read, as an error answer: 413 `too_large` over the body limit,
/// 400 `bad_request` for a body that broke off.
pub(crate) fn body_refused(r: BytesRejection) -> ApiError {
    let status = r.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    ApiError::new(
        status,
        code,
        format!(
            "{} (limit {MAX_BODY_BYTES} bytes per request)",
            r.body_text()
        ),
    )
}

/// A route's path parameters; one that does not parse is a 400 naming it.
pub(crate) struct Path<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(r) if r.status().is_server_error() => Err(ApiError::internal(r.body_text())),
            Err(r) => Err(ApiError::bad_request(format!(
                "bad path parameter: {}",
                r.body_text()
            ))),
        }
    }
}

/// A route's query parameters; an unknown, missing or malformed one is a 400 naming it.
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|r| ApiError::bad_request(format!("bad query parameters: {}", r.body_text())))
    }
}

/// A request's base64 plaintext, within the per-call limit.
pub(crate) fn plaintext_of(b64: &str) -> ApiResult<Zeroizing<Vec<u8>>> {
    let plaintext = Zeroizing::new(
        B64.decode(b64)
            .map_err(|_| ApiError::bad_request("`plaintext` must be base64"))?,
    );
    if plaintext.len() > MAX_CRYPT_BYTES {
        return Err(ApiError::too_large(format!(
            "at most {MAX_CRYPT_BYTES} bytes per call; use a data key for larger data"
        )));
    }
    Ok(plaintext)
}

/// The caller's `X-Request-ID`, cut to 256 characters, for the decision it is recorded with.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Limits {
        limit: u32,
        offset: i64,
    }

    fn parse<T: DeserializeOwned>(body: &str) -> ApiResult<T> {
        json_body(Ok(Bytes::from(body.to_string())))
    }

    #[test]
    fn an_integer_written_with_a_zero_fraction_is_that_integer() {
        let read: Limits = parse(r#"{"limit": 91.0, "offset": -2e3}"#).unwrap_or_else(|e| {
            panic!("refused: {e:?}");
        });
        assert_eq!(
            read,
            Limits {
                limit: 91,
                offset: -2000
            }
        );
    }

    #[test]
    fn a_fraction_is_still_refused_naming_the_field() {
        let Err(refused) = parse::<Limits>(r#"{"limit": 91.5, "offset": 0}"#) else {
            panic!("91.5 read as an integer");
        };
        assert!(format!("{refused:?}").contains("limit"), "{refused:?}");
    }
}
