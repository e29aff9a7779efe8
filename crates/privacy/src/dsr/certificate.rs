//! The erasure certificate: a JSON document that a completed erasure request was carried out —
//! per system its tables, row counts, strategies and verification result, and the ledger
//! index of every step — anchored in the log the way evidence bundles are. Issuing appends
//! `privacy.dsr.certified` holding the SHA-256 of the certificate's canonical JSON; the file
//! carries that entry's exact bytes and its C2SP tlog-proof against a signed checkpoint, so
//! anyone with the log's verifier key checks it offline, and no edit of the certificate
//! survives the check without the log's key.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use evident_core::event::{format_time, system_event};
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::tlog_proof::TlogProof;

use crate::{Error, Result};

use super::request::{Kind, State, RESOURCE_TYPE};
use super::service::Dsr;

/// The ledger action recording an issued certificate.
pub const CERTIFIED: &str = "privacy.dsr.certified";
/// The certificate format's name.
pub const FORMAT: &str = "evident-erasure-certificate/v1";

fn digest(body: &Value) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(evident_core::canonical::to_vec(body)))
    )
}

impl Dsr<'_> {
    /// Issues the certificate of completed erasure request `id` (by `actor`).
    pub fn certificate(&self, id: &str, actor: &str) -> Result<Value> {
        let r = self.get(id)?;
        if r.kind != Kind::Erasure || r.state != State::Completed {
            return Err(Error::BadRequest(format!(
                "request `{id}` is not a completed erasure; only those are certified"
            )));
        }
        let body = json!({
            "format": FORMAT,
            "request": r.id,
            "regime": r.regime.name(),
            "subject_key": r.subject_key,
            "received_at": format_time(r.received_us),
            "due_at": format_time(r.due_us),
            "systems": r.systems.iter().map(|(name, o)| json!({
                "system": name,
                "status": o.status,
                "ledger_index": o.index,
                "detail": o.detail,
            })).collect::<Vec<_>>(),
            "steps": r.steps.iter().map(|(a, i)| json!({"action": a, "ledger_index": i})).collect::<Vec<_>>(),
        });
        let sha = digest(&body);
        let mut event = system_event(
            CERTIFIED,
            RESOURCE_TYPE,
            Some(id),
            json!({"certificate_sha256": sha}),
        );
        event.actor.id = actor.to_owned();
        event.actor.kind = evident_core::event::ActorType::User;
        let index = self.append(event)?;
        let included = self.log.inclusion_proof(index, None)?;
        let checkpoint = included.checkpoint.ok_or_else(|| {
            Error::Engine(evident_core::Error::Integrity(format!(
                "no signed checkpoint covers entry {index}"
            )))
        })?;
        let proof = TlogProof {
            extra: None,
            index,
            proof: included.proof,
            checkpoint,
        };
        let entry = String::from_utf8(self.log.entry_bytes(index)?).map_err(|_| {
            Error::Engine(evident_core::Error::Integrity(format!(
                "entry {index} is not UTF-8"
            )))
        })?;
        Ok(json!({
            "certificate": body,
            "anchor": {"entry": entry, "proof": proof.to_text()},
        }))
    }
}

/// What checking a certificate found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// the request it certifies
    pub request: String,
    /// the ledger index of its `privacy.dsr.certified` entry
    pub index: u64,
    /// the size of the signed checkpoint the proof is against
    pub checkpoint_size: u64,
}

/// Checks a certificate offline against the log's verifier key (`name+hex8+base64`): the
/// anchor entry is in the log that key signs, it is a `privacy.dsr.certified` event of the
/// same request, and it holds the SHA-256 of this certificate's canonical JSON.
pub fn verify(document: &Value, verifier_key: &str) -> Result<Checked> {
    let bad = |m: String| Error::BadRequest(format!("the certificate does not verify: {m}"));
    let verifier =
        NoteVerifier::parse(verifier_key).map_err(|e| bad(format!("the verifier key: {e}")))?;
    let body = document
        .get("certificate")
        .ok_or_else(|| bad("no `certificate`".into()))?;
    if body.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(format!("its format is not `{FORMAT}`")));
    }
    let entry = document["anchor"]["entry"]
        .as_str()
        .ok_or_else(|| bad("no `anchor.entry`".into()))?;
    let proof = TlogProof::parse(
        document["anchor"]["proof"]
            .as_str()
            .ok_or_else(|| bad("no `anchor.proof`".into()))?,
    )
    .map_err(|e| bad(format!("the proof: {e}")))?;
    let checkpoint = proof
        .verify(&verifier, &leaf_hash(entry.as_bytes()))
        .map_err(|e| bad(format!("its entry is not in the log this key signs: {e}")))?;
    let entry: Value =
        serde_json::from_str(entry).map_err(|_| bad("its entry is not JSON".into()))?;
    if entry["action"] != CERTIFIED {
        return Err(bad(format!("its entry is not a `{CERTIFIED}` event")));
    }
    let request = body["request"].as_str().unwrap_or("");
    if entry["resource"]["id"] != request {
        return Err(bad("its entry certifies another request".into()));
    }
    if entry["metadata"]["certificate_sha256"] != digest(body) {
        return Err(bad(
            "the certificate was changed after it was issued (its SHA-256 is not the logged one)"
                .into(),
        ));
    }
    Ok(Checked {
        request: request.to_owned(),
        index: proof.index,
        checkpoint_size: checkpoint.size,
    })
}
