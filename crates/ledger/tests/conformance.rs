//! Runs every RFC 6962 proof vector in `../shared/conformance/rfc6962`: each verifier must
//! accept a proof exactly when the vector says it is valid.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident_ledger::proof::{verify_consistency, verify_inclusion};
use evident_ledger::Hash;
use serde::Deserialize;

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/rfc6962");
    assert!(
        dir.is_dir(),
        "conformance data not found at {} (clone with ../shared beside the checkout)",
        dir.display()
    );
    dir
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Undecodable base64 stays as raw bytes, which then fail the 32-byte length check.
fn b64(s: &str) -> Vec<u8> {
    B64.decode(s).unwrap_or_else(|_| s.as_bytes().to_vec())
}

/// Proof elements of the wrong length make the whole proof invalid.
fn hashes(proof: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    proof
        .iter()
        .flatten()
        .map(|p| Hash::try_from(b64(p).as_slice()).ok())
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

#[test]
fn inclusion_vectors() {
    let mut files = Vec::new();
    json_files(&vectors_dir().join("inclusion"), &mut files);
    assert!(
        files.len() > 50,
        "only {} inclusion vectors found",
        files.len()
    );
    for file in &files {
        let v: Inclusion = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let ok = hashes(&v.proof).is_some_and(|proof| {
            verify_inclusion(
                v.leaf_idx,
                v.tree_size,
                &b64(&v.leaf_hash),
                &proof,
                &b64(&v.root),
            )
            .is_ok()
        });
        assert_eq!(ok, !v.want_err, "{} ({})", file.display(), v.desc);
    }
    println!("{} inclusion vectors passed", files.len());
}

#[test]
fn consistency_vectors() {
    let mut files = Vec::new();
    json_files(&vectors_dir().join("consistency"), &mut files);
    assert!(
        files.len() > 50,
        "only {} consistency vectors found",
        files.len()
    );
    for file in &files {
        let v: Consistency = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let ok = hashes(&v.proof).is_some_and(|proof| {
            verify_consistency(v.size1, v.size2, &b64(&v.root1), &b64(&v.root2), &proof).is_ok()
        });
        assert_eq!(ok, !v.want_err, "{} ({})", file.display(), v.desc);
    }
    println!("{} consistency vectors passed", files.len());
}
