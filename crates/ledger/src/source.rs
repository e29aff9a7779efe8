//! What proofs are made from: the [`HashSource`] trait, the one thing the proof functions
//! ([`crate::proof`]) ask of a log, and which the in-memory tree ([`crate::tree::Tree`])
//! implements. It lives apart from both so neither depends on the other; it is public as
//! `proof::HashSource`.

use crate::hash::Hash;

/// Anything that can hand out the hashes of complete, aligned subtrees of a log.
pub trait HashSource {
    /// The number of leaves available.
    fn size(&self) -> u64;
    /// The hash of the `2^level` leaves starting at `index << level`, if all are present.
    fn perfect(&self, level: u32, index: u64) -> Option<Hash>;
}
