//! The period bundle's layout: its member names, the manifest that lists every member with
//! its SHA-256, and reading and writing the single ustar file that holds them. Building
//! (`build.rs`) and verifying (`verify.rs`) both speak only through this file.

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use evident_core::{Error, Result};

use super::figures::Figures;

/// The `format` of a bundle's manifest.
pub const BUNDLE_FORMAT: &str = "evident.period-bundle/1";
/// The manifest: the bundle's table of contents and its figures.
pub const MANIFEST: &str = "manifest.json";
/// The newest signed checkpoint at or before the period's start (absent when that is the
/// empty tree).
pub const START_CHECKPOINT: &str = "checkpoints/start.txt";
/// The first signed checkpoint at or after the period's end that covers every counted event.
pub const END_CHECKPOINT: &str = "checkpoints/end.txt";
/// The consistency proof from the start checkpoint to the end one: base64 hashes, one a line.
pub const CONSISTENCY: &str = "proofs/consistency.txt";
/// The framework's controls as the catalog in force defined them, with the catalog's hash.
pub const CATALOG: &str = "catalog.json";
/// The human report: one self-contained HTML file.
pub const REPORT: &str = "report.html";
/// Where OSCAL assessment results go, for the writer that adds them through
/// [`super::BundleExtras`]; it is a member like any other (listed, hashed, verified).
pub const OSCAL_ASSESSMENT_RESULTS: &str = "oscal/assessment-results.json";
/// The most a bundle may hold, read or written (members and their headers).
pub const MAX_BUNDLE_BYTES: u64 = 2 << 30;
/// The most members a bundle may hold.
pub const MAX_MEMBERS: usize = 2_000_000;

/// The member holding entry `index`'s exact bytes (what its leaf hash is computed over).
pub fn entry_member(index: u64) -> String {
    format!("entries/{index:012}.json")
}

/// The member holding entry `index`'s C2SP tlog-proof against the end checkpoint.
pub fn proof_member(index: u64) -> String {
    format!("proofs/{index:012}.tlog-proof")
}

/// One member as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// its path in the bundle
    pub path: String,
    /// SHA-256 of its bytes, hex
    pub sha256: String,
    /// its length in bytes
    pub bytes: u64,
}

/// One end of the period as a tree size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// the tree size
    pub size: u64,
    /// the member holding its signed checkpoint (`None` for the empty tree)
    pub checkpoint: Option<String>,
}

/// One ledger event the bundle carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// its ledger index
    pub index: u64,
    /// its action
    pub action: String,
    /// the control it concerns (none for a policy version)
    pub control: Option<String>,
    /// the member with its bytes
    pub entry: String,
    /// the member with its inclusion proof
    pub proof: String,
}

/// A policy version in force during the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyInForce {
    /// its version number
    pub version: u64,
    /// the pack's hash
    pub hash: String,
    /// the ledger index of its `access.policy.applied` event
    pub index: u64,
    /// when it was applied, RFC 3339
    pub applied_at: String,
}

/// A policy document version in force during the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDocInForce {
    /// the document's name (`access-control`)
    pub document: String,
    /// its version number
    pub version: u64,
    /// `sha256:` of its Markdown
    pub sha256: String,
    /// the ledger index of its `controls.policy_doc.published` event
    pub index: u64,
    /// when it was published, RFC 3339
    pub published_at: String,
}

/// The manifest of a period bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`BUNDLE_FORMAT`]
    pub format: String,
    /// the framework id
    pub framework: String,
    /// the period's start, RFC 3339 (inclusive)
    pub from: String,
    /// the period's end, RFC 3339 (exclusive)
    pub to: String,
    /// the log's origin (its checkpoints' first line)
    pub origin: String,
    /// when the bundle was built, RFC 3339
    pub built_at: String,
    /// the start of the period in the log
    pub start: End,
    /// the end of the period in the log
    pub end: End,
    /// the member holding the consistency proof from `start` to `end`
    pub consistency: String,
    /// the hash of the catalog in force when the bundle was built
    pub catalog_hash: String,
    /// the policy versions in force during the period
    pub policies: Vec<PolicyInForce>,
    /// the policy document versions in force during the period (absent when none)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_documents: Vec<PolicyDocInForce>,
    /// every event the bundle carries, by index
    pub events: Vec<Listed>,
    /// the figures the report shows, which a verifier recomputes
    pub figures: Figures,
    /// every member but the manifest, by path
    pub members: Vec<Member>,
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `members` (path → bytes) as one ustar file, the manifest first.
pub fn write_tar(members: &BTreeMap<String, Vec<u8>>, manifest: &[u8]) -> Result<Vec<u8>> {
    let mut out = tar::Builder::new(Vec::new());
    let mut add = |path: &str, bytes: &[u8]| -> Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        out.append_data(&mut header, path, bytes)
            .map_err(|e| Error::Integrity(format!("writing bundle member {path}: {e}")))
    };
    add(MANIFEST, manifest)?;
    for (path, bytes) in members {
        add(path, bytes)?;
    }
    out.into_inner()
        .map_err(|e| Error::Integrity(format!("finishing the bundle: {e}")))
}

/// Reads a ustar file into its members (path → bytes). A file that is not a tar, is cut
/// short, holds a path twice or anything but regular files is refused.
pub fn read_tar(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let bad = |why: String| Error::BadRequest(format!("not a readable bundle: {why}"));
    let mut archive = tar::Archive::new(bytes);
    let mut members = BTreeMap::new();
    // Where the last member's data ends, padded to a block: the end-of-archive marker
    // follows, so that a file cut at a member's boundary is not read as a shorter bundle.
    let mut end = 0u64;
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        end = entry
            .raw_file_position()
            .saturating_add(entry.size().div_ceil(512).saturating_mul(512));
        let path = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(bad(format!("member {path} is not a regular file")));
        }
        let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 24));
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("member {path} is cut short: {e}")))?;
        if members.len() >= MAX_MEMBERS {
            return Err(bad(format!("more than {MAX_MEMBERS} members")));
        }
        if members.insert(path.clone(), data).is_some() {
            return Err(bad(format!("member {path} appears twice")));
        }
    }
    if members.is_empty() {
        return Err(bad("it holds no members".into()));
    }
    let marker = usize::try_from(end)
        .ok()
        .and_then(|at| bytes.get(at..at.checked_add(1024)?));
    if !marker.is_some_and(|m| m.iter().all(|b| *b == 0)) {
        return Err(bad("it is cut short (no end-of-archive marker)".into()));
    }
    Ok(members)
}

/// Base64 hashes, one a line (the consistency proof member).
pub fn hashes_text(hashes: &[evident_ledger::Hash]) -> String {
    use base64::Engine as _;
    hashes
        .iter()
        .map(|h| format!("{}\n", base64::engine::general_purpose::STANDARD.encode(h)))
        .collect()
}

/// Parses [`hashes_text`].
pub fn parse_hashes(text: &str) -> std::result::Result<Vec<evident_ledger::Hash>, String> {
    use base64::Engine as _;
    text.lines()
        .map(|line| {
            base64::engine::general_purpose::STANDARD
                .decode(line)
                .ok()
                .and_then(|b| evident_ledger::Hash::try_from(b.as_slice()).ok())
                .ok_or_else(|| format!("`{line}` is not base64 of 32 bytes"))
        })
        .collect()
}

/// Whether the tree of `start` is a prefix of the tree of `end`, by `proof`. The empty tree
/// is a prefix of every tree and needs no proof.
pub fn consistent(
    start: &evident_ledger::checkpoint::Checkpoint,
    end: &evident_ledger::checkpoint::Checkpoint,
    proof: &[evident_ledger::Hash],
) -> std::result::Result<(), String> {
    if start.size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err("the empty tree needs no consistency proof, yet one is given".into())
        };
    }
    evident_ledger::proof::verify_consistency(start.size, end.size, &start.root, &end.root, proof)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_damage_is_refused() {
        let mut members = BTreeMap::new();
        members.insert("a.txt".to_string(), b"alpha".to_vec());
        members.insert("dir/b.json".to_string(), b"{}".to_vec());
        let bytes = write_tar(&members, b"{\"m\":1}").unwrap();
        let read = read_tar(&bytes).unwrap();
        assert_eq!(read.get(MANIFEST).unwrap(), b"{\"m\":1}");
        assert_eq!(read.get("dir/b.json").unwrap(), b"{}");
        // Cut at a member's boundary (the last member and the end marker gone): refused,
        // not read as a bundle with fewer members.
        let boundary = bytes.len() - 1024 - 1024;
        let cut = read_tar(&bytes[..boundary]).unwrap_err().to_string();
        assert!(cut.contains("cut short"), "{cut}");
        assert!(read_tar(&bytes[..bytes.len() - 1024]).is_err());
        assert!(read_tar(&bytes[..700]).is_err(), "a cut file is refused");
        assert!(read_tar(b"just some text").is_err());
    }
}
