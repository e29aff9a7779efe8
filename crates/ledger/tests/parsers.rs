//! Every parser of untrusted text, fed arbitrary and near-valid input: it may refuse, but it
//! never panics, and what it accepts round-trips. (The same properties run as `cargo fuzz`
//! targets under `fuzz/` for deeper searches.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::{Note, NoteVerifier, Signer};
use evident_ledger::proof::inclusion_proof;
use evident_ledger::tiles::{decode_bundle, encode_bundle, TilePath};
use evident_ledger::tlog_proof::TlogProof;
use evident_ledger::tree::Tree;
use proptest::prelude::*;

fn valid_proof_text() -> String {
    let signer = Signer::generate("example.com/log").unwrap();
    let tree = Tree::from_leaves((0u32..9).map(|i| leaf_hash(&i.to_be_bytes())));
    TlogProof {
        extra: None,
        index: 4,
        proof: inclusion_proof(&tree, 4, 9).unwrap(),
        checkpoint: signer
            .sign(&Checkpoint::new("example.com/log", 9, tree.root()).to_body())
            .unwrap(),
    }
    .to_text()
}

/// Near-valid input: a valid text with one character replaced, inserted or removed.
fn mutated() -> impl Strategy<Value = String> {
    let text = valid_proof_text();
    (0..text.len(), any::<char>(), 0..3u8).prop_map(move |(at, c, how)| {
        let mut chars: Vec<char> = text.chars().collect();
        let at = at % chars.len();
        match how {
            0 => chars[at] = c,
            1 => chars.insert(at, c),
            _ => {
                chars.remove(at);
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Note::parse(&text);
        let _ = NoteVerifier::parse(&text);
        let _ = Signer::from_key_string(&text);
        if let Ok(cp) = Checkpoint::parse(&text) {
            prop_assert_eq!(cp.to_body(), text.clone());
        }
        if let Ok(path) = TilePath::parse(&text) {
            prop_assert_eq!(path.to_path(), format!("tile/{text}"));
        }
        if let Ok(p) = TlogProof::parse(&text) {
            prop_assert_eq!(TlogProof::parse(&p.to_text()).unwrap(), p);
        }
        if let Ok(entries) = decode_bundle(&bytes) {
            prop_assert_eq!(encode_bundle(entries).unwrap(), bytes);
        }
    }

    #[test]
    fn near_valid_proofs_never_panic(text in mutated()) {
        if let Ok(p) = TlogProof::parse(&text) {
            prop_assert_eq!(TlogProof::parse(&p.to_text()).unwrap(), p);
        }
    }
}
