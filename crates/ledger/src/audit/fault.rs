//! What an audit reports when a log is wrong: the [`Fault`], one variant per kind of
//! tampering or damage an audit can tell apart, each with a message that says where to look.

use std::fmt;

/// The first thing found wrong with a log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// An index is missing from the stored entries (a deleted row).
    MissingEntry {
        /// the first missing index
        index: u64,
    },
    /// Entries are stored out of order or duplicated.
    OutOfOrder {
        /// the index expected next
        expected: u64,
        /// the index found
        found: u64,
    },
    /// A stored entry does not hash to the leaf hash stored beside it.
    LeafHashMismatch {
        /// the entry's index
        index: u64,
    },
    /// A stored checkpoint's signature is missing or wrong, or its body is malformed.
    BadCheckpointSignature {
        /// the size the checkpoint is filed under
        size: u64,
        /// why it was refused
        reason: String,
    },
    /// A checkpoint is filed under a size other than the one it states.
    CheckpointSizeMismatch {
        /// the size it is filed under
        filed: u64,
        /// the size its body states
        stated: u64,
    },
    /// The root of the stored entries differs from a signed checkpoint's root: some entry in
    /// `from..to` was changed, reordered or replaced.
    RootMismatch {
        /// the checkpoint's size
        size: u64,
        /// the size of the last checkpoint that still matched
        from: u64,
    },
    /// A [`Segment`] was given an entry beyond its capacity (a store answered a range scan
    /// with a row outside the range).
    ///
    /// [`Segment`]: super::Segment
    OutsideSegment {
        /// the entry's index
        index: u64,
        /// the first index past the segment
        end: u64,
    },
    /// A [`Segment`] was built without a checkpoint size it reaches, so the checkpoint could
    /// not be checked (the segment was built for another auditor).
    ///
    /// [`Segment`]: super::Segment
    UncheckedCheckpoint {
        /// the checkpoint's size
        size: u64,
    },
    /// A signed checkpoint covers more entries than are stored (entries were removed).
    CheckpointBeyondLog {
        /// the checkpoint's size
        size: u64,
        /// the number of stored entries
        entries: u64,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingEntry { index } => write!(f, "entry {index} is missing (deleted row)"),
            Self::OutOfOrder { expected, found } => write!(
                f,
                "entries out of order: expected entry {expected}, found entry {found}"
            ),
            Self::LeafHashMismatch { index } => write!(
                f,
                "entry {index} was modified: its content does not match its leaf hash"
            ),
            Self::BadCheckpointSignature { size, reason } => {
                write!(
                    f,
                    "checkpoint at size {size} is not validly signed: {reason}"
                )
            }
            Self::CheckpointSizeMismatch { filed, stated } => write!(
                f,
                "checkpoint filed at size {filed} states size {stated} (checkpoints swapped)"
            ),
            Self::RootMismatch { size, from } => write!(
                f,
                "the entries do not match the signed checkpoint at size {size}: an entry in \
                 {from}..{size} was changed, reordered or replaced"
            ),
            Self::OutsideSegment { index, end } => write!(
                f,
                "entry {index} was read for a segment of the log that ends before {end}"
            ),
            Self::UncheckedCheckpoint { size } => write!(
                f,
                "the checkpoint at size {size} was not checked: the segment that reaches it \
                 was built without it"
            ),
            Self::CheckpointBeyondLog { size, entries } => write!(
                f,
                "signed checkpoint at size {size} covers more than the {entries} stored entries \
                 (entries removed)"
            ),
        }
    }
}
