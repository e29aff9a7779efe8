//! C2SP `tlog-proof`: a self-contained, offline-verifiable proof that an entry is in a log,
//! made of an index, an inclusion proof and the log's signed checkpoint.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::note::NoteVerifier;
use crate::proof::verify_inclusion;
use crate::{Error, NoteError};

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed `.tlog-proof` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// optional unauthenticated extra data
    pub extra: Option<Vec<u8>>,
    /// the entry's index in the log
    pub index: u64,
    /// the inclusion proof, leaf side first
    pub proof: Vec<Hash>,
    /// the signed checkpoint, verbatim
    pub checkpoint: String,
}

impl TlogProof {
    /// Renders the proof file.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.proof {
            out.push_str(&B64.encode(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a proof file strictly.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::Malformed(format!("tlog-proof: {why}"));
        if text.len() > crate::note::MAX_NOTE_BYTES {
            return Err(bad("file is too large"));
        }
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(bad("first line must be `c2sp.org/tlog-proof@v1`"));
        }
        let mut line = lines.next().ok_or_else(|| bad("missing index line"))?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(B64.decode(b64).map_err(|_| bad("extra is not base64"))?);
            line = lines.next().ok_or_else(|| bad("missing index line"))?;
        }
        let digits = line
            .strip_prefix("index ")
            .ok_or_else(|| bad("expected `index N`"))?;
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || (digits.len() > 1 && digits.starts_with('0'))
        {
            return Err(bad("index must be a decimal number without leading zeros"));
        }
        let index = digits.parse().map_err(|_| bad("index out of range"))?;
        let mut proof = Vec::new();
        for line in lines {
            let hash = B64
                .decode(line)
                .ok()
                .and_then(|h| Hash::try_from(h.as_slice()).ok())
                .ok_or_else(|| bad("proof line is not base64 of 32 bytes"))?;
            if proof.len() == 64 {
                return Err(bad("proof is too long"));
            }
            proof.push(hash);
        }
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: checkpoint.to_string(),
        })
    }

    /// Verifies the checkpoint's signature with `verifier` and the inclusion of `leaf`.
    pub fn verify(&self, verifier: &NoteVerifier, leaf: &Hash) -> Result<Checkpoint, Error> {
        let checkpoint = verifier.verify_checkpoint(&self.checkpoint)?;
        verify_inclusion(
            self.index,
            checkpoint.size,
            leaf,
            &self.proof,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::note::Signer;
    use crate::proof::inclusion_proof;
    use crate::tree::Tree;

    #[test]
    fn round_trip_verify_and_tamper() {
        let signer = Signer::generate("example.com/log").unwrap();
        let tree = Tree::from_leaves((0u32..10).map(|i| leaf_hash(&i.to_be_bytes())));
        let cp = Checkpoint::new("example.com/log", 10, tree.root());
        let proof = TlogProof {
            extra: Some(b"ctx".to_vec()),
            index: 3,
            proof: inclusion_proof(&tree, 3, 10).unwrap(),
            checkpoint: signer.sign(&cp.to_body()).unwrap(),
        };
        let text = proof.to_text();
        let parsed = TlogProof::parse(&text).unwrap();
        assert_eq!(parsed, proof);
        let leaf = leaf_hash(&3u32.to_be_bytes());
        assert_eq!(parsed.verify(&signer.verifier(), &leaf).unwrap().size, 10);
        assert!(parsed.verify(&signer.verifier(), &leaf_hash(b"x")).is_err());
        let other = Signer::generate("example.com/log").unwrap();
        assert!(parsed.verify(&other.verifier(), &leaf).is_err());
        for bad in [
            text.replace("index 3", "index 03"),
            text.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
            text.replacen("\n\n", "\n", 1),
            text.replace("extra Y3R4", "extra !!"),
        ] {
            assert!(TlogProof::parse(&bad).is_err(), "accepted {bad:?}");
        }
    }
}
