//! The ledger's one error type, made of focused sub-enums.

use thiserror::Error;

/// Everything that can go wrong in the ledger crate.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A proof could not be generated or did not verify.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A signed note or checkpoint is malformed or its signature does not verify.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A tile path, tile or entry bundle is malformed.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// An [`crate::audit::Segment`] that could not be joined to the log before it.
    #[error(
        "a segment of {capacity} entries cannot start at {start}: its capacity must be a power \
         of two that divides its start"
    )]
    Segment {
        /// the first index asked for
        start: u64,
        /// the capacity asked for
        capacity: u64,
    },
    /// The checkpoint sizes given to a [`crate::audit::Segment`] are not ascending.
    #[error("the checkpoint sizes given to a segment are not in ascending order")]
    SegmentSizesUnordered,
    /// The operating system's random source failed.
    #[error("random source unavailable: {0}")]
    Random(String),
}

/// Why a proof was refused or could not be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The index is not below the tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// the requested leaf index
        index: u64,
        /// the tree size it was checked against
        size: u64,
    },
    /// The requested tree size is larger than the tree.
    #[error("tree size {requested} is larger than the log ({available} entries)")]
    SizeTooLarge {
        /// the size asked for
        requested: u64,
        /// the size the tree has
        available: u64,
    },
    /// The sizes of a consistency proof are not `0 < first <= second`.
    #[error("no consistency proof from size {first} to size {second}")]
    BadSizes {
        /// the older size
        first: u64,
        /// the newer size
        second: u64,
    },
    /// A hash (root, leaf or proof element) is not 32 bytes.
    #[error("a hash must be 32 bytes, got {0}")]
    BadHashLength(usize),
    /// The proof has the wrong number of elements.
    #[error("proof has the wrong number of hashes")]
    WrongLength,
    /// The recomputed root differs from the expected one.
    #[error("proof does not lead to the expected root")]
    RootMismatch,
}

/// Why a signed note or checkpoint was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteError {
    /// The note's text breaks the signed-note grammar.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A verifier key string is not `name+hex8+base64`.
    #[error("malformed verifier key: {0}")]
    BadVerifierKey(String),
    /// A private key string is not `PRIVATE+KEY+name+hex8+base64`.
    #[error("malformed signing key: {0}")]
    BadSigningKey(String),
    /// A key name is empty or holds `+` or whitespace.
    #[error("invalid key name `{0}`")]
    BadName(String),
    /// No signature by the verifier's key is on the note.
    #[error("no signature by `{0}` on the note")]
    UnknownKey(String),
    /// A signature by the verifier's key is present but wrong.
    #[error("signature by `{0}` does not verify")]
    BadSignature(String),
    /// The note body is not a valid checkpoint.
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(String),
}

/// Why a tile path, tile or bundle was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileError {
    /// The path is not a C2SP tlog-tiles path.
    #[error("malformed tile path `{0}`")]
    BadPath(String),
    /// The tile does not exist (yet) in this tree.
    #[error("tile not available")]
    NotAvailable,
    /// An entry bundle is truncated or an entry is too large.
    #[error("malformed entry bundle: {0}")]
    BadBundle(String),
}
