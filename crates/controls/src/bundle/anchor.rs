//! Binding what a bundle or sample claims to the log. Once a bundle is built (a sample
//! drawn), the log records an event holding its digest (`evidence.bundle.built` with the
//! manifest's SHA-256; `evidence.sample.drawn` with the population's); the file carries that
//! entry, its tlog-proof against the checkpoint covering it, and the consistency proof from
//! the file's end checkpoint to that one. The claim — every event listed, the population —
//! can then not be edited without the log's key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use evident_core::event::system_event;
use evident_core::{Error, Result};
use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::tlog_proof::TlogProof;

use super::format::{consistent, hashes_text, parse_hashes, sha256_hex};
use crate::state::Controls;

/// The ledger action recording a built bundle.
pub const BUNDLE_BUILT: &str = "evidence.bundle.built";
/// The ledger action recording a drawn sample.
pub const SAMPLE_DRAWN: &str = "evidence.sample.drawn";
/// A bundle's anchor entry bytes.
pub const ANCHOR_ENTRY: &str = "anchor/entry.json";
/// Its tlog-proof, against the checkpoint covering it.
pub const ANCHOR_PROOF: &str = "anchor/proof.tlog-proof";
/// The consistency proof from the bundle's end checkpoint to the anchor's.
pub const ANCHOR_CONSISTENCY: &str = "anchor/consistency.txt";
/// A bundle's anchor members, which its manifest cannot list (they hold its hash).
pub const ANCHOR_MEMBERS: [&str; 3] = [ANCHOR_ENTRY, ANCHOR_PROOF, ANCHOR_CONSISTENCY];

/// The log's record of a bundle or sample, with its proofs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// the record's exact bytes
    pub entry: String,
    /// its C2SP tlog-proof
    pub proof: String,
    /// the consistency proof from the end checkpoint to the proof's: base64 hashes, one a line
    pub consistency: String,
}

impl Anchor {
    /// As a bundle's members.
    pub fn into_members(self) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            (ANCHOR_ENTRY.to_string(), self.entry.into_bytes()),
            (ANCHOR_PROOF.to_string(), self.proof.into_bytes()),
            (
                ANCHOR_CONSISTENCY.to_string(),
                self.consistency.into_bytes(),
            ),
        ])
    }

    /// From a bundle's members, when all three are there as text.
    pub fn from_members(members: &BTreeMap<String, Vec<u8>>) -> Option<Self> {
        let text = |p: &str| {
            members
                .get(p)
                .and_then(|b| String::from_utf8(b.clone()).ok())
        };
        Some(Anchor {
            entry: text(ANCHOR_ENTRY)?,
            proof: text(ANCHOR_PROOF)?,
            consistency: text(ANCHOR_CONSISTENCY)?,
        })
    }
}

impl Controls<'_> {
    /// Appends a record (`action`, filed under `resource`, with `metadata`) and answers it
    /// with its proofs from the end checkpoint at `end_size`.
    pub(crate) fn record_anchor(
        &self,
        action: &str,
        resource: (&str, &str),
        metadata: Value,
        end_size: u64,
    ) -> Result<Anchor> {
        let event = system_event(action, resource.0, Some(resource.1), metadata);
        let receipt = self.recorder.append_blocking(vec![event])?;
        let index = receipt
            .receipts
            .first()
            .ok_or_else(|| Error::Integrity(format!("the `{action}` record was not appended")))?
            .index;
        let included = self.log.inclusion_proof(index, None)?;
        let size = included.size;
        let proof = TlogProof {
            extra: None,
            index,
            proof: included.proof,
            checkpoint: included
                .checkpoint
                .ok_or_else(|| Error::Integrity(format!("no signed checkpoint at size {size}")))?,
        };
        let entry = String::from_utf8(self.log.entry_bytes(index)?)
            .map_err(|_| Error::Integrity(format!("entry {index} is not UTF-8")))?;
        Ok(Anchor {
            entry,
            proof: proof.to_text(),
            consistency: hashes_text(&self.log.consistency_proof(end_size, size)?),
        })
    }
}

/// Checks an anchor: its entry is an `action` event in the log of `verifier`, later than
/// `end` (when it could be read); answers the entry's metadata, or the faults (each naming
/// `name`, the anchor's place in the file).
pub fn check_anchor(
    anchor: Option<&Anchor>,
    action: &str,
    end: Option<&Checkpoint>,
    verifier: &NoteVerifier,
    name: &str,
) -> std::result::Result<Value, String> {
    let anchor = anchor
        .ok_or_else(|| format!("{name}: missing: the log's record of this file is not in it"))?;
    let proof = TlogProof::parse(&anchor.proof).map_err(|e| format!("{name} proof: {e}"))?;
    let anchored = proof
        .verify(verifier, &leaf_hash(anchor.entry.as_bytes()))
        .map_err(|e| format!("{name}: its entry is not in the log: {e}"))?;
    if let Some(end) = end {
        parse_hashes(&anchor.consistency)
            .and_then(|p| consistent(end, &anchored, &p))
            .map_err(|e| {
                format!(
                    "{name} consistency: the end checkpoint is not a prefix of the record's: {e}"
                )
            })?;
    }
    let value: Value = serde_json::from_str(&anchor.entry).unwrap_or(Value::Null);
    if value.get("action").and_then(Value::as_str) != Some(action) {
        return Err(format!("{name}: its entry is not an `{action}` event"));
    }
    Ok(value.get("metadata").cloned().unwrap_or(Value::Null))
}

/// The SHA-256 the log records of a manifest.
pub fn manifest_digest(manifest_json: &[u8]) -> String {
    sha256_hex(manifest_json)
}
