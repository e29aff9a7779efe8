//! Replaying a whole log: recompute the tree from the stored entries, check every stored
//! checkpoint's signature, that each signed root is the root of the entries, and so that the
//! checkpoints are consistent with one another. The first fault found is named.
//!
//! The [`Auditor`] streams: it keeps only the right edge of the tree (`O(log n)` hashes), so
//! logs of any size are verified in constant memory at the speed of SHA-256. To go faster than
//! one core, the entries can be cut into [`Segment`]s, hashed on as many threads as there are
//! cores, and joined in order with [`Auditor::push_segment`], which finds the same fault as a
//! replay one entry at a time.
//!
//! The parts, one file each: `checkpoints.rs` ([`StoredCheckpoint`] and
//! [`verify_signatures`]), `fault.rs` ([`Fault`]), `frontier.rs` (the right edge of a tree),
//! `segment.rs` ([`Segment`], [`HashedSegment`]) and `auditor.rs` ([`Auditor`],
//! [`AuditReport`]).

mod auditor;
mod checkpoints;
mod fault;
mod frontier;
mod segment;

pub use auditor::{AuditReport, Auditor};
pub use checkpoints::{verify_signatures, StoredCheckpoint};
pub use fault::Fault;
pub use segment::{HashedSegment, Segment, SEGMENT_CAPACITY};
