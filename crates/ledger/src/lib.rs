//! # evident-ledger
//!
//! The evidence ledger of Evident as a library that needs no server: an append-only
//! [RFC 6962] Merkle tree over SHA-256, its inclusion and consistency proofs, and the
//! [C2SP] text formats that let anyone check the log with no Evident code.
//!
//! - [`hash`]: leaf and node hashing (`H(0x00‖entry)`, `H(0x01‖left‖right)`).
//! - [`tree::Tree`]: the in-memory hash tree a sequencer appends to; it answers roots at any
//!   earlier size, proofs and tiles.
//! - [`proof`]: proof generation over any [`proof::HashSource`] and the RFC 9162 verifiers.
//! - [`note`] and [`checkpoint`]: C2SP `signed-note` with Ed25519 and `tlog-checkpoint`.
//! - [`tiles`]: C2SP `tlog-tiles` paths, tiles and entry bundles.
//! - [`tlog_proof`]: offline-verifiable C2SP `tlog-proof` files.
//! - [`audit`]: replay a whole log (entries and signed checkpoints) and name the first fault.
//!
//! ```
//! use evident_ledger::{hash::leaf_hash, tree::Tree, proof, note::Signer, checkpoint::Checkpoint};
//!
//! let mut tree = Tree::new();
//! for entry in [&b"first"[..], b"second", b"third"] {
//!     tree.push(leaf_hash(entry));
//! }
//! let proof = proof::inclusion_proof(&tree, 1, 3).unwrap();
//! proof::verify_inclusion(1, 3, &leaf_hash(b"second"), &proof, &tree.root()).unwrap();
//!
//! let signer = Signer::generate("example.com/log").unwrap();
//! let checkpoint = Checkpoint::new("example.com/log", tree.size(), tree.root());
//! let signed = signer.sign(&checkpoint.to_body()).unwrap();
//! let verified = signer.verifier().verify_checkpoint(&signed).unwrap();
//! assert_eq!(verified.size, 3);
//! ```
//!
//! [RFC 6962]: https://www.rfc-editor.org/rfc/rfc6962
//! [C2SP]: https://c2sp.org

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod checkpoint;
mod error;
pub mod hash;
pub mod note;
pub mod proof;
mod source;
pub mod tiles;
pub mod tlog_proof;
pub mod tree;

pub use error::{Error, NoteError, ProofError, TileError};
pub use hash::Hash;
