//! The card-token routes: `POST /v1/tokens` (tokenize one card or a batch) and
//! `POST /v1/tokens/detokenize` (reveal, after an access decision the ledger records).
//!
//! Requests carrying card verification codes, PIN blocks or track data are refused whole with
//! 422 `sensitive_authentication_data`, naming the rule and the field (never the value),
//! before anything is parsed further or stored (PCI DSS 3.3.1).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use evident::crypto::tokens::{Keep, Pan, Requester, Reveal, TokenFormat};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::with_token_vault;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::{json_body, request_id};
use crate::roles::WRITERS;
use crate::state::Shared;

/// Cards one tokenize request may carry.
const MAX_BATCH: usize = 1000;

/// Tokenizing and detokenizing card numbers.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .post("/v1/tokens", WRITERS, tokenize)
        .post("/v1/tokens/detokenize", WRITERS, detokenize)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenizeRequest {
    #[serde(default)]
    pan: Option<String>,
    #[serde(default)]
    pans: Option<Vec<String>>,
    #[serde(default)]
    format: Option<TokenFormat>,
    #[serde(default)]
    keep: Option<Keep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetokenizeRequest {
    token: String,
    #[serde(default)]
    reveal: Option<Reveal>,
    #[serde(default)]
    access_context: Option<serde_json::Map<String, Value>>,
}

/// The body as JSON, refused whole if it carries sensitive authentication data, then typed.
fn screened<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    let value: Value = json_body(body)?;
    evident::crypto::sad::refuse_in_json(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::bad_request(format!("malformed request: `{path}`: {}", e.into_inner()))
    })
}

async fn tokenize(
    State(state): Shared,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: TokenizeRequest = screened(body)?;
    let format = req.format.unwrap_or(TokenFormat::Random);
    let (pans, single) = match (req.pan, req.pans) {
        (Some(pan), None) => (vec![pan], true),
        (None, Some(pans)) if !pans.is_empty() && pans.len() <= MAX_BATCH => (pans, false),
        (None, Some(_)) => {
            return Err(ApiError::bad_request(format!(
                "`pans` holds 1 to {MAX_BATCH} card numbers"
            )))
        }
        _ => {
            return Err(ApiError::bad_request(
                "give `pan` (one card number) or `pans` (a list), not both",
            ))
        }
    };
    // Parse every card before tokenizing any, so a bad one stores nothing.
    let parsed = pans
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Pan::parse(p).map_err(|e| {
                let at = if single {
                    "`pan`".to_string()
                } else {
                    format!("`pans[{i}]`")
                };
                match e {
                    evident::Error::BadRequest(m) => {
                        evident::Error::BadRequest(format!("{at}: {m}"))
                    }
                    other => other,
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let made = with_token_vault(&state, true, move |vault| {
        vault.tokenize_many(&parsed, format, req.keep)
    })
    .await?;
    Ok(Json(if single {
        json!(made[0])
    } else {
        json!({ "tokens": made })
    }))
}

async fn detokenize(
    State(state): Shared,
    identity: Identity,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: DetokenizeRequest = screened(body)?;
    let reveal = req.reveal.unwrap_or(Reveal::Full);
    let (subject_type, subject_id) = identity.subject();
    let requester = Requester {
        subject_type: subject_type.into(),
        subject_id: subject_id.to_string(),
        caller: identity.caller(),
        context: req.access_context,
        request_id: request_id(&headers),
    };
    let token = req.token;
    let value = with_token_vault(&state, false, move |vault| {
        vault.detokenize(&token, reveal, &requester)
    })
    .await?;
    Ok(Json(match reveal {
        Reveal::Full => json!({"pan": value.as_str(), "reveal": "full"}),
        Reveal::Masked => json!({"masked": value.as_str(), "reveal": "masked"}),
    }))
}
