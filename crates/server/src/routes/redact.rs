//! The redaction route: `POST /v1/redact` (`reader`) finds personal data and secrets in a
//! text with the engine's detectors and answers the text masked, pseudonymised or with them
//! removed, and what was found (never the values found).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use evident_detect::{Entity, RedactMode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::json_body;
use crate::roles::READERS;
use crate::state::Shared;

/// The most text one `POST /v1/redact` takes.
const MAX_REDACT_BYTES: usize = 1 << 20;

/// Redacting a text.
pub(crate) fn routes() -> Operations {
    Operations::new().post("/v1/redact", READERS, redact)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactRequest {
    text: String,
    #[serde(default)]
    mode: RedactMode,
    #[serde(default)]
    entities: Option<Vec<String>>,
}

async fn redact(
    State(state): Shared,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: RedactRequest = json_body(body)?;
    if req.text.len() > MAX_REDACT_BYTES {
        return Err(ApiError::too_large(format!(
            "`text` is {} bytes; the limit is {MAX_REDACT_BYTES}",
            req.text.len()
        )));
    }
    let mut redactor = state.engine.redaction().redactor(req.mode);
    if let Some(names) = &req.entities {
        let mut entities = Vec::with_capacity(names.len());
        for name in names {
            entities.push(Entity::parse(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown entity `{}`; one of: {}",
                    name.chars().take(40).collect::<String>(),
                    Entity::ALL.map(Entity::as_str).join(", ")
                ))
            })?);
        }
        redactor = redactor.only(&entities);
    }
    let (text, findings) = blocking(move || Ok(redactor.redact_str(&req.text))).await?;
    let findings: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule,
                "entity": f.entity,
                "start": f.start,
                "end": f.end,
                "masked": f.masked,
                "fingerprint": f.fingerprint,
            })
        })
        .collect();
    Ok(Json(json!({"text": text, "findings": findings})))
}
