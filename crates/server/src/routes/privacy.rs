//! The privacy part's routes: `POST /v1/pseudonymize` (a batch of values to keyed-hash or
//! format-preserving pseudonyms under a domain's key; `writer`, like tokenization). The
//! domain's key must exist (`POST /v1/keys` with the name `pseudonym.<domain>`, admin): a
//! missing one is a 404 naming how to create it. Each request is one ledger record with the
//! domain, key version, mode and counts, never a value.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use evident::privacy::pseudonymize::{
    Alphabet, ColumnRecord, Mode, Normalization, OpenOptions, Pseudonymizer, RunRecord,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::with_keyring;
use crate::error::{ApiError, ApiResult};
use crate::gate::Operations;
use crate::request::json_body;
use crate::roles::WRITERS;
use crate::state::Shared;

/// Values one request may carry.
pub(crate) const MAX_VALUES: usize = 10_000;
/// Bytes one value may hold.
pub(crate) const MAX_VALUE_BYTES: usize = 1024;

/// Pseudonymizing values.
pub(crate) fn routes() -> Operations {
    Operations::new().post("/v1/pseudonymize", WRITERS, pseudonymize)
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ModeName {
    Hmac,
    Fpe,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum NormalizeName {
    Trim,
    Lowercase,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PseudonymizeRequest {
    domain: String,
    values: Vec<String>,
    #[serde(default)]
    mode: Option<ModeName>,
    #[serde(default)]
    alphabet: Option<String>,
    #[serde(default)]
    normalize: Vec<NormalizeName>,
    #[serde(default)]
    key_version: Option<u32>,
}

async fn pseudonymize(
    State(state): Shared,
    identity: Identity,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let req: PseudonymizeRequest = json_body(body)?;
    if req.values.is_empty() || req.values.len() > MAX_VALUES {
        return Err(ApiError::bad_request(format!(
            "`values` holds 1 to {MAX_VALUES} strings"
        )));
    }
    if let Some(i) = req.values.iter().position(|v| v.len() > MAX_VALUE_BYTES) {
        return Err(ApiError::bad_request(format!(
            "`values[{i}]`: longer than {MAX_VALUE_BYTES} bytes"
        )));
    }
    if req.key_version == Some(0) {
        return Err(ApiError::bad_request("`key_version`: versions start at 1"));
    }
    let mode = match (req.mode.unwrap_or(ModeName::Hmac), req.alphabet.as_deref()) {
        (ModeName::Hmac, None) => Mode::Hmac,
        (ModeName::Hmac, Some(_)) => {
            return Err(ApiError::bad_request(
                "`alphabet` applies to `mode: fpe` only",
            ))
        }
        (ModeName::Fpe, alphabet) => Mode::Fpe(Alphabet::parse(alphabet.unwrap_or("digits"))?),
    };
    let mut normalization = Normalization::NONE;
    for n in &req.normalize {
        match n {
            NormalizeName::Trim => normalization.trim = true,
            NormalizeName::Lowercase => normalization.lowercase = true,
        }
    }
    let actor = identity.admin_actor();
    let engine = state.engine.clone();
    let answer = with_keyring(&state, move |keyring| {
        let options = OpenOptions {
            version: req.key_version,
            create: false,
        };
        let p = Pseudonymizer::open(keyring, &req.domain, &options, &actor)?;
        let mut skipped = 0u64;
        let mut pseudonyms = Vec::with_capacity(req.values.len());
        for (i, value) in req.values.iter().enumerate() {
            if value.is_empty() {
                skipped += 1;
                pseudonyms.push(String::new());
                continue;
            }
            pseudonyms.push(match mode {
                Mode::Hmac => p.pseudonym(value, normalization),
                Mode::Fpe(alphabet) => {
                    p.fpe(value, alphabet, normalization).map_err(|e| match e {
                        evident::Error::BadRequest(m) => {
                            evident::Error::BadRequest(format!("`values[{i}]`: {m}"))
                        }
                        other => other,
                    })?
                }
            });
        }
        let count = req.values.len() as u64;
        let record = RunRecord {
            domain: req.domain.clone(),
            key_version: p.version(),
            columns: vec![ColumnRecord {
                name: "values".into(),
                mode: mode.label(),
            }],
            normalization,
            rows: count,
            values: count - skipped,
            skipped,
            via: "http",
            requested_by: actor.clone(),
        };
        // Recorded before answering: no pseudonym leaves without its record.
        engine.append_blocking(vec![record.event()])?;
        Ok(json!({
            "domain": req.domain,
            "key": format!("pseudonym.{}", req.domain),
            "key_version": p.version(),
            "mode": mode.label(),
            "pseudonyms": pseudonyms,
        }))
    })
    .await?;
    Ok(Json(answer))
}
