//! Binding a bundle's manifest to the log. Once a bundle is built, the log records an
//! `evidence.bundle.built` event holding the manifest's SHA-256; the bundle carries that
//! entry, its tlog-proof against the checkpoint that covers it, and the consistency proof
//! from the bundle's end checkpoint to that one. The manifest — which lists every event, so
//! every removed one — can then not be edited without the log's key.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use evident_core::event::system_event;
use evident_core::{Error, Result};
use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::tlog_proof::TlogProof;

use super::format::{consistent, hashes_text, parse_hashes, sha256_hex, Manifest};
use crate::state::Controls;

/// The ledger action recording a built bundle.
pub const BUNDLE_BUILT: &str = "evidence.bundle.built";
/// The anchor's entry bytes.
pub const ANCHOR_ENTRY: &str = "anchor/entry.json";
/// Its tlog-proof, against the checkpoint covering it.
pub const ANCHOR_PROOF: &str = "anchor/proof.tlog-proof";
/// The consistency proof from the bundle's end checkpoint to the anchor's.
pub const ANCHOR_CONSISTENCY: &str = "anchor/consistency.txt";
/// The anchor's members, which the manifest cannot list (they hold its hash).
pub const ANCHOR_MEMBERS: [&str; 3] = [ANCHOR_ENTRY, ANCHOR_PROOF, ANCHOR_CONSISTENCY];

impl Controls<'_> {
    /// Records the bundle of `manifest` (encoded as `manifest_json`) in the log and answers
    /// the anchor's members.
    pub(crate) fn anchor(
        &self,
        manifest: &Manifest,
        manifest_json: &[u8],
        actor: &str,
    ) -> Result<BTreeMap<String, Vec<u8>>> {
        let event = system_event(
            BUNDLE_BUILT,
            "evidence_bundle",
            Some(&manifest.framework),
            json!({
                "framework": manifest.framework,
                "from": manifest.from,
                "to": manifest.to,
                "end_size": manifest.end.size,
                "events": manifest.events.len(),
                "manifest_sha256": sha256_hex(manifest_json),
                "requested_by": actor,
            }),
        );
        let receipt = self.recorder.append_blocking(vec![event])?;
        let index = receipt
            .receipts
            .first()
            .ok_or_else(|| Error::Integrity("the bundle's record was not appended".into()))?
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
        let consistency = self.log.consistency_proof(manifest.end.size, size)?;
        let mut members = BTreeMap::new();
        members.insert(ANCHOR_ENTRY.to_string(), self.log.entry_bytes(index)?);
        members.insert(ANCHOR_PROOF.to_string(), proof.to_text().into_bytes());
        members.insert(
            ANCHOR_CONSISTENCY.to_string(),
            hashes_text(&consistency).into_bytes(),
        );
        Ok(members)
    }
}

/// Checks a bundle's anchor: answers the faults, each naming its member.
pub fn check_anchor(
    members: &BTreeMap<String, Vec<u8>>,
    manifest_json: &[u8],
    end: Option<&Checkpoint>,
    verifier: &NoteVerifier,
) -> Vec<String> {
    let mut faults = Vec::new();
    let (Some(entry), Some(proof), Some(consistency)) = (
        members.get(ANCHOR_ENTRY),
        members.get(ANCHOR_PROOF),
        members.get(ANCHOR_CONSISTENCY),
    ) else {
        faults.push(format!(
            "{ANCHOR_ENTRY}: missing: the manifest is not bound to the log"
        ));
        return faults;
    };
    let proof = match std::str::from_utf8(proof)
        .map_err(|e| e.to_string())
        .and_then(|t| TlogProof::parse(t).map_err(|e| e.to_string()))
    {
        Ok(p) => p,
        Err(e) => {
            faults.push(format!("{ANCHOR_PROOF}: {e}"));
            return faults;
        }
    };
    let anchored = match proof.verify(verifier, &leaf_hash(entry)) {
        Ok(cp) => cp,
        Err(e) => {
            faults.push(format!(
                "{ANCHOR_PROOF}: {ANCHOR_ENTRY} is not in the log: {e}"
            ));
            return faults;
        }
    };
    if let Some(end) = end {
        let ok = std::str::from_utf8(consistency)
            .map_err(|e| e.to_string())
            .and_then(parse_hashes)
            .and_then(|p| consistent(end, &anchored, &p));
        if let Err(e) = ok {
            faults.push(format!(
                "{ANCHOR_CONSISTENCY}: the end checkpoint is not a prefix of the anchor's: {e}"
            ));
        }
    }
    let value: Value = serde_json::from_slice(entry).unwrap_or(Value::Null);
    let claimed = value
        .pointer("/metadata/manifest_sha256")
        .and_then(Value::as_str);
    if value.get("action").and_then(Value::as_str) != Some(BUNDLE_BUILT) {
        faults.push(format!("{ANCHOR_ENTRY}: not an `{BUNDLE_BUILT}` event"));
    } else if claimed != Some(sha256_hex(manifest_json).as_str()) {
        faults.push(format!(
            "manifest.json: its SHA-256 is not the one the log recorded when the bundle was built (entry {})",
            proof.index
        ));
    }
    faults
}
