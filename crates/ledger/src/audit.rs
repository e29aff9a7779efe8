//! Replaying a whole log: recompute the tree from the stored entries, check every stored
//! checkpoint's signature, that each signed root is the root of the entries, and so that the
//! checkpoints are consistent with one another. The first fault found is named.
//!
//! The [`Auditor`] streams: it keeps only the right edge of the tree (`O(log n)` hashes), so
//! logs of any size are verified in constant memory at the speed of SHA-256. To go faster than
//! one core, the entries can be cut into [`Segment`]s, hashed on as many threads as there are
//! cores, and joined in order with [`Auditor::push_segment`], which finds the same fault as a
//! replay one entry at a time.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

use crate::checkpoint::Checkpoint;
use crate::hash::{empty_root, leaf_hash, leaf_hashes, node_hash, node_hashes, Hash};
use crate::note::{Note, NoteVerifier};

/// A stored signed checkpoint, as the store keeps it.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    /// the tree size the store filed the checkpoint under
    pub size: u64,
    /// the signed note text
    pub note: String,
}

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
    OutsideSegment {
        /// the entry's index
        index: u64,
        /// the first index past the segment
        end: u64,
    },
    /// A [`Segment`] was built without a checkpoint size it reaches, so the checkpoint could
    /// not be checked (the segment was built for another auditor).
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

/// What a successful audit saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// entries replayed
    pub entries: u64,
    /// bytes of entry data hashed
    pub bytes: u64,
    /// checkpoints whose signature and root were checked
    pub checkpoints: u64,
    /// the root of all entries
    pub root: Hash,
}

/// The right edge of a growing tree: enough to give the root at the current size.
#[derive(Debug, Clone, Default)]
struct Frontier {
    size: u64,
    /// perfect subtree roots, largest first (one per set bit of `size`)
    stack: Vec<Hash>,
}

impl Frontier {
    fn push(&mut self, leaf: Hash) {
        self.push_subtree(leaf, 0);
    }

    /// Appends a perfect subtree of `2^height` leaves; the size must be a multiple of it.
    fn push_subtree(&mut self, subtree: Hash, height: u32) {
        debug_assert_eq!(self.size % (1 << height), 0, "misaligned subtree");
        let mut hash = subtree;
        let mut merges = (self.size >> height).trailing_ones();
        while merges > 0 {
            let Some(left) = self.stack.pop() else { break };
            hash = node_hash(&left, &hash);
            merges -= 1;
        }
        self.stack.push(hash);
        self.size += 1 << height;
    }

    fn root(&self) -> Hash {
        root_of(&self.stack, &[])
    }
}

/// The root of a tree given as its perfect subtrees, largest first: `log` then `more`
/// (subtrees of a segment, all smaller than the smallest of `log`).
fn root_of(log: &[Hash], more: &[Hash]) -> Hash {
    let mut iter = log.iter().chain(more).rev();
    let Some(first) = iter.next() else {
        return empty_root();
    };
    iter.fold(*first, |acc, left| node_hash(left, &acc))
}

/// The segment size [`Segment`]s are best cut at: large enough that joining them costs
/// nothing, small enough that threads stay evenly busy.
pub const SEGMENT_CAPACITY: u64 = 1 << 15;

/// Entries a [`Segment`] hashes in one multi-buffer pass (they stay in the L2 cache).
const BATCH: usize = 128;

/// The leaf hash stored beside an entry, as the segment keeps it until the entry is hashed.
#[derive(Debug, Clone, Copy)]
enum StoredLeaf {
    Absent,
    Hash(Hash),
    /// not 32 bytes: never matches
    Malformed,
}

/// A run of consecutive entries of a log, hashed apart from the rest so that a log can be
/// replayed on several threads: each thread fills segments, and [`Auditor::push_segment`]
/// joins them in order. A segment that starts at `start` holds at most `capacity` entries, a
/// power of two that divides `start`, so its subtrees all sit below those of the entries
/// before it. It keeps the right edge of its own tree, plus a copy at each checkpoint size
/// the [`Auditor`] named ([`Auditor::checkpoint_sizes`]), where the joined log's root is
/// checked.
///
/// Entries are hashed many at a time ([`leaf_hashes`], then [`node_hashes`] level by level),
/// so a segment is faster than [`Auditor::push`] even on one thread.
#[derive(Debug)]
pub struct Segment {
    start: u64,
    capacity: u64,
    /// checkpoint sizes within the segment, relative to its start, ascending
    stops: Vec<u64>,
    /// entries hashed so far
    hashed: u64,
    /// the right edge of the entries hashed so far
    frontier: Frontier,
    /// the right edge at each stop reached: (relative size, subtrees largest first)
    snapshots: Vec<(u64, Vec<Hash>)>,
    /// entries waiting for the next batch, end to end
    pending: Vec<u8>,
    /// where each pending entry ends in `pending`
    ends: Vec<usize>,
    stored: Vec<StoredLeaf>,
    /// the batch's tree, level by level (reused)
    levels: Vec<Vec<Hash>>,
    /// bytes of the entries hashed
    bytes: u64,
    fault: Option<Fault>,
}

impl Segment {
    /// An empty segment for the entries from `start` on, at most `capacity` of them
    /// ([`SEGMENT_CAPACITY`] unless testing); `checkpoint_sizes` are those of the auditor
    /// that will join it, ascending, as [`Auditor::checkpoint_sizes`] gives them (the segment
    /// keeps those it reaches; a log may have millions, so they are searched, not scanned).
    ///
    /// Refused unless `capacity` is a power of two that divides `start`, or if the sizes are
    /// not ascending.
    pub fn new(start: u64, capacity: u64, checkpoint_sizes: &[u64]) -> Result<Self, crate::Error> {
        if !capacity.is_power_of_two() || !start.is_multiple_of(capacity) {
            return Err(crate::Error::Segment { start, capacity });
        }
        let from = checkpoint_sizes.partition_point(|&size| size <= start);
        let to = checkpoint_sizes.partition_point(|&size| size <= start.saturating_add(capacity));
        let reached = checkpoint_sizes.get(from..to).unwrap_or_default();
        if reached.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(crate::Error::SegmentSizesUnordered);
        }
        let stops: Vec<u64> = reached.iter().map(|&size| size - start).collect();
        Ok(Self {
            start,
            capacity,
            stops,
            hashed: 0,
            frontier: Frontier::default(),
            snapshots: Vec::new(),
            pending: Vec::with_capacity(BATCH * 1024),
            ends: Vec::with_capacity(BATCH),
            stored: Vec::with_capacity(BATCH),
            levels: Vec::new(),
            bytes: 0,
            fault: None,
        })
    }

    /// The index of the first entry.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The index the next entry must have.
    pub fn next_index(&self) -> u64 {
        self.start + self.hashed + self.ends.len() as u64
    }

    /// Adds the entry stored at `index`, with the leaf hash stored beside it if the store
    /// keeps one. The first fault is kept for [`Auditor::push_segment`] (which reports it in
    /// its place among the checkpoints) and returned, here or by a later call; after it the
    /// segment takes no more entries. A fault may be found late: entries are hashed a batch
    /// at a time.
    pub fn push(
        &mut self,
        index: u64,
        entry: &[u8],
        stored_leaf: Option<&[u8]>,
    ) -> Result<(), Fault> {
        if let Some(fault) = &self.fault {
            return Err(fault.clone());
        }
        let expected = self.next_index();
        let end = self.start.saturating_add(self.capacity);
        if index != expected || index >= end {
            // An entry already taken may be the first fault.
            self.flush();
            let fault = self.fault.get_or_insert(if index >= end {
                Fault::OutsideSegment { index, end }
            } else if index > expected {
                Fault::MissingEntry { index: expected }
            } else {
                Fault::OutOfOrder {
                    expected,
                    found: index,
                }
            });
            return Err(fault.clone());
        }
        self.pending.extend_from_slice(entry);
        self.ends.push(self.pending.len());
        self.stored.push(match stored_leaf {
            None => StoredLeaf::Absent,
            Some(bytes) => bytes
                .try_into()
                .map_or(StoredLeaf::Malformed, StoredLeaf::Hash),
        });
        if self.ends.len() == BATCH {
            self.flush();
            if let Some(fault) = &self.fault {
                return Err(fault.clone());
            }
        }
        Ok(())
    }

    /// Hashes the pending entries, checks them against their stored leaf hashes and adds
    /// them to the segment's tree.
    fn flush(&mut self) {
        if self.ends.is_empty() {
            return;
        }
        let count = self.ends.len();
        let next_index = self.next_index();
        let mut from = 0;
        let entries: Vec<&[u8]> = self
            .ends
            .iter()
            .map(|&end| {
                let entry = &self.pending[from..end];
                from = end;
                entry
            })
            .collect();
        if self.levels.is_empty() {
            self.levels.push(Vec::with_capacity(BATCH));
        }
        let leaves = &mut self.levels[0];
        leaves.clear();
        leaves.resize(count, [0; 32]);
        leaf_hashes(&entries, leaves);
        let mismatch =
            self.stored
                .iter()
                .zip(leaves.iter())
                .position(|(stored, leaf)| match stored {
                    StoredLeaf::Absent => false,
                    StoredLeaf::Hash(hash) => hash != leaf,
                    StoredLeaf::Malformed => true,
                });
        let valid = mismatch.unwrap_or(count);
        if let Some(k) = mismatch {
            self.fault = Some(Fault::LeafHashMismatch {
                index: next_index - (count - k) as u64,
            });
            leaves.truncate(k);
        }
        self.bytes += valid.checked_sub(1).map_or(0, |last| self.ends[last]) as u64;
        self.pending.clear();
        self.ends.clear();
        self.stored.clear();
        self.add_batch(valid as u64);
    }

    /// Builds the tree of the `count` leaves in `levels[0]` and adds it to the segment's.
    fn add_batch(&mut self, count: u64) {
        // The batch starts at a multiple of BATCH (or is the whole segment), so its subtrees
        // sit below the segment's.
        let mut height = 0;
        while self.levels[height].len() >= 2 {
            if self.levels.len() < height + 2 {
                self.levels.push(Vec::with_capacity(BATCH / 2));
            }
            let (lower, upper) = self.levels.split_at_mut(height + 1);
            let below = &lower[height];
            let pairs = below.len() / 2;
            let left: Vec<&[u8]> = below
                .iter()
                .step_by(2)
                .take(pairs)
                .map(|h| &h[..])
                .collect();
            let right: Vec<&[u8]> = below.iter().skip(1).step_by(2).map(|h| &h[..]).collect();
            let above = &mut upper[0];
            above.clear();
            above.resize(pairs, [0; 32]);
            node_hashes(&left, &right, above);
            height += 1;
        }
        let base = self.hashed;
        while let Some(&stop) = self.stops.first().filter(|&&stop| stop <= base + count) {
            self.stops.remove(0);
            let mut edge = self.frontier.stack.clone();
            edge.extend(subtrees_of(&self.levels, stop - base).map(|(hash, _)| hash));
            self.snapshots.push((stop, edge));
        }
        let batch: Vec<(Hash, u32)> = subtrees_of(&self.levels, count).collect();
        for (subtree, height) in batch {
            self.frontier.push_subtree(subtree, height);
        }
        self.hashed += count;
    }

    /// Hashes what is left.
    pub fn finish(mut self) -> HashedSegment {
        self.flush();
        HashedSegment {
            start: self.start,
            len: self.hashed,
            edge: self.frontier,
            snapshots: self.snapshots,
            bytes: self.bytes,
            fault: self.fault,
        }
    }
}

/// The perfect subtrees of the first `size` leaves of a tree given level by level (`levels[k][j]`
/// the root of leaves `j·2^k..(j+1)·2^k`), largest first, with their heights.
fn subtrees_of(levels: &[Vec<Hash>], size: u64) -> impl Iterator<Item = (Hash, u32)> + '_ {
    let mut offset = 0u64;
    (0..u64::BITS).rev().filter_map(move |height| {
        if size & (1 << height) == 0 {
            return None;
        }
        let subtree = levels[height as usize][(offset >> height) as usize];
        offset += 1 << height;
        Some((subtree, height))
    })
}

/// A [`Segment`] with every entry hashed, as [`Auditor::push_segment`] joins it.
#[derive(Debug)]
pub struct HashedSegment {
    start: u64,
    /// entries hashed (all of them, or those before the fault)
    len: u64,
    /// the right edge of the segment's own tree
    edge: Frontier,
    /// the right edge at each checkpoint size reached, relative to `start`
    snapshots: Vec<(u64, Vec<Hash>)>,
    bytes: u64,
    fault: Option<Fault>,
}

impl HashedSegment {
    /// The index of the first entry.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The entries hashed (all of them, or those before the fault).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no entry was hashed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first fault found in the segment.
    pub fn fault(&self) -> Option<&Fault> {
        self.fault.as_ref()
    }
}

/// Reads a stored checkpoint with `read` and checks it is filed under the size it states.
fn filed(
    stored: &StoredCheckpoint,
    read: impl FnOnce(&str) -> Result<Checkpoint, crate::NoteError>,
) -> Result<Checkpoint, Fault> {
    let checkpoint = read(&stored.note).map_err(|e| Fault::BadCheckpointSignature {
        size: stored.size,
        reason: e.to_string(),
    })?;
    if checkpoint.size != stored.size {
        return Err(Fault::CheckpointSizeMismatch {
            filed: stored.size,
            stated: checkpoint.size,
        });
    }
    Ok(checkpoint)
}

/// Checks that every stored checkpoint is signed by `verifier` and filed under its own size.
pub fn verify_signatures(
    verifier: &NoteVerifier,
    checkpoints: &[StoredCheckpoint],
) -> Result<(), Fault> {
    for stored in checkpoints {
        filed(stored, |note| verifier.verify_checkpoint(note))?;
    }
    Ok(())
}

/// Streams a log's entries, in index order, against its signed checkpoints.
#[derive(Debug)]
pub struct Auditor {
    /// checkpoint roots still to be reached, by size
    pending: BTreeMap<u64, Hash>,
    frontier: Frontier,
    last_matched: u64,
    bytes: u64,
    checked: u64,
}

impl Auditor {
    /// Checks every checkpoint's signature and filing up front, then awaits the entries.
    pub fn new(verifier: &NoteVerifier, checkpoints: &[StoredCheckpoint]) -> Result<Self, Fault> {
        verify_signatures(verifier, checkpoints)?;
        Self::with_unverified(checkpoints)
    }

    /// Like [`Auditor::new`] but leaves the signatures to [`verify_signatures`], which the
    /// caller runs (for example on another thread, while the entries stream in). Until it has
    /// passed, a successful replay proves nothing.
    pub fn with_unverified(checkpoints: &[StoredCheckpoint]) -> Result<Self, Fault> {
        let mut pending = BTreeMap::new();
        for stored in checkpoints {
            let checkpoint = filed(stored, |note| {
                Note::parse(note).and_then(|n| Checkpoint::parse(&n.text))
            })?;
            pending.insert(checkpoint.size, checkpoint.root);
        }
        let mut auditor = Self {
            pending,
            frontier: Frontier::default(),
            last_matched: 0,
            bytes: 0,
            checked: 0,
        };
        auditor.settle()?;
        Ok(auditor)
    }

    /// The number of entries replayed so far.
    pub fn size(&self) -> u64 {
        self.frontier.size
    }

    /// Adds the entry stored at `index`, with the leaf hash stored beside it if the store
    /// keeps one.
    pub fn push(
        &mut self,
        index: u64,
        entry: &[u8],
        stored_leaf: Option<&[u8]>,
    ) -> Result<(), Fault> {
        let expected = self.frontier.size;
        if index > expected {
            return Err(Fault::MissingEntry { index: expected });
        }
        if index < expected {
            return Err(Fault::OutOfOrder {
                expected,
                found: index,
            });
        }
        let leaf = leaf_hash(entry);
        if stored_leaf.is_some_and(|stored| stored != leaf) {
            return Err(Fault::LeafHashMismatch { index });
        }
        self.frontier.push(leaf);
        self.bytes += entry.len() as u64;
        self.settle()
    }

    /// The sizes of the checkpoints still to be reached, for [`Segment::new`].
    pub fn checkpoint_sizes(&self) -> Vec<u64> {
        self.pending.keys().copied().collect()
    }

    /// Joins a hashed segment, which must start where the entries so far end: checks every
    /// checkpoint it reaches, then answers the segment's fault, if it has one. Pushing the
    /// segments of a log in order finds the same first fault as pushing its entries one by one.
    /// A segment built without a checkpoint size it reaches (see [`Segment::new`]) is refused.
    pub fn push_segment(&mut self, segment: HashedSegment) -> Result<(), Fault> {
        let size = self.frontier.size;
        if segment.start != size {
            return Err(if segment.start > size {
                Fault::MissingEntry { index: size }
            } else {
                Fault::OutOfOrder {
                    expected: size,
                    found: segment.start,
                }
            });
        }
        let reached: Vec<(u64, Hash)> = self
            .pending
            .range((Bound::Excluded(size), Bound::Included(size + segment.len)))
            .map(|(&at, &root)| (at, root))
            .collect();
        let mut snapshots = segment.snapshots.iter();
        for (at, root) in reached {
            self.pending.remove(&at);
            let Some((_, edge)) = snapshots.find(|(stop, _)| size + stop == at) else {
                return Err(Fault::UncheckedCheckpoint { size: at });
            };
            if root != root_of(&self.frontier.stack, edge) {
                return Err(Fault::RootMismatch {
                    size: at,
                    from: self.last_matched,
                });
            }
            self.last_matched = at;
            self.checked += 1;
        }
        if let Some(fault) = segment.fault {
            return Err(fault);
        }
        // The segment's subtrees, largest first, are the set bits of its length.
        let heights = (0..u64::BITS).rev().filter(|h| segment.len & (1 << h) != 0);
        for (subtree, height) in segment.edge.stack.into_iter().zip(heights) {
            self.frontier.push_subtree(subtree, height);
        }
        self.bytes += segment.bytes;
        Ok(())
    }

    fn settle(&mut self) -> Result<(), Fault> {
        let size = self.frontier.size;
        if let Some(root) = self.pending.remove(&size) {
            if root != self.frontier.root() {
                return Err(Fault::RootMismatch {
                    size,
                    from: self.last_matched,
                });
            }
            self.last_matched = size;
            self.checked += 1;
        }
        Ok(())
    }

    /// Ends the replay: every checkpoint must have been reached.
    pub fn finish(self) -> Result<AuditReport, Fault> {
        if let Some((&size, _)) = self.pending.iter().next() {
            return Err(Fault::CheckpointBeyondLog {
                size,
                entries: self.frontier.size,
            });
        }
        Ok(AuditReport {
            entries: self.frontier.size,
            bytes: self.bytes,
            checkpoints: self.checked,
            root: self.frontier.root(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Signer;
    use crate::tree::Tree;

    fn log(n: u32) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
    }

    fn checkpoints(signer: &Signer, entries: &[Vec<u8>], sizes: &[u64]) -> Vec<StoredCheckpoint> {
        let tree = Tree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
        sizes
            .iter()
            .map(|&size| StoredCheckpoint {
                size,
                note: signer
                    .sign(
                        &Checkpoint::new(signer.name(), size, tree.root_at(size).unwrap())
                            .to_body(),
                    )
                    .unwrap(),
            })
            .collect()
    }

    fn run(
        signer: &Signer,
        entries: &[Vec<u8>],
        cps: &[StoredCheckpoint],
    ) -> Result<AuditReport, Fault> {
        let mut auditor = Auditor::new(&signer.verifier(), cps)?;
        for (i, e) in entries.iter().enumerate() {
            auditor.push(i as u64, e, Some(&leaf_hash(e)))?;
        }
        auditor.finish()
    }

    #[test]
    fn frontier_matches_tree() {
        let mut frontier = Frontier::default();
        let mut tree = Tree::new();
        for i in 0u32..1000 {
            assert_eq!(frontier.root(), tree.root());
            frontier.push(leaf_hash(&i.to_be_bytes()));
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
    }

    #[test]
    fn clean_log_verifies() {
        let signer = Signer::generate("log").unwrap();
        let entries = log(100);
        let cps = checkpoints(&signer, &entries, &[0, 1, 10, 64, 100]);
        let report = run(&signer, &entries, &cps).unwrap();
        assert_eq!((report.entries, report.checkpoints), (100, 5));
    }

    #[test]
    fn each_tampering_is_named() {
        let signer = Signer::generate("log").unwrap();
        let entries = log(100);
        let cps = checkpoints(&signer, &entries, &[10, 50, 100]);

        // A modified entry whose stored leaf hash was recomputed too.
        let mut changed = entries.clone();
        changed[42][0] ^= 1;
        assert_eq!(
            run(&signer, &changed, &cps),
            Err(Fault::RootMismatch { size: 50, from: 10 })
        );

        // Reordered rows.
        let mut swapped = entries.clone();
        swapped.swap(60, 61);
        assert_eq!(
            run(&signer, &swapped, &cps),
            Err(Fault::RootMismatch {
                size: 100,
                from: 50
            })
        );

        // Removed tail.
        assert_eq!(
            run(&signer, &entries[..99], &cps),
            Err(Fault::CheckpointBeyondLog {
                size: 100,
                entries: 99
            })
        );

        // Swapped checkpoints.
        let mut bad = cps.clone();
        let note = bad[0].note.clone();
        bad[0].note = bad[1].note.clone();
        bad[1].note = note;
        assert_eq!(
            run(&signer, &entries, &bad),
            Err(Fault::CheckpointSizeMismatch {
                filed: 10,
                stated: 50
            })
        );

        // A checkpoint signed by someone else.
        let mut forged = cps.clone();
        forged[2] = checkpoints(&Signer::generate("log").unwrap(), &entries, &[100]).remove(0);
        assert!(matches!(
            run(&signer, &entries, &forged),
            Err(Fault::BadCheckpointSignature { size: 100, .. })
        ));

        // A gap, and a stored leaf hash that does not match.
        let mut auditor = Auditor::new(&signer.verifier(), &cps).unwrap();
        auditor.push(0, &entries[0], None).unwrap();
        assert_eq!(
            auditor.push(2, &entries[2], None),
            Err(Fault::MissingEntry { index: 1 })
        );
        let mut auditor = Auditor::new(&signer.verifier(), &cps).unwrap();
        assert_eq!(
            auditor.push(0, b"other", Some(&leaf_hash(&entries[0]))),
            Err(Fault::LeafHashMismatch { index: 0 })
        );
    }

    /// Stored rows as a store keeps them: index, entry, stored leaf hash.
    type Rows = Vec<(u64, Vec<u8>, Vec<u8>)>;

    /// Replays `rows` (in storage order) one entry at a time.
    fn replay_one_by_one(auditor: &mut Auditor, rows: &Rows) -> Result<(), Fault> {
        for (index, entry, leaf) in rows {
            auditor.push(*index, entry, Some(leaf))?;
        }
        Ok(())
    }

    /// Replays `rows` as segments of `capacity`, as a store scanned by index ranges gives
    /// them: rows in storage order within each range.
    fn replay_in_segments(auditor: &mut Auditor, rows: &Rows, capacity: u64) -> Result<(), Fault> {
        let Some(last) = rows.iter().map(|r| r.0).max() else {
            return Ok(());
        };
        for start in (0..=last).step_by(capacity as usize) {
            let mut segment = Segment::new(start, capacity, &auditor.checkpoint_sizes()).unwrap();
            for (index, entry, leaf) in rows
                .iter()
                .filter(|r| (start..start + capacity).contains(&r.0))
            {
                if segment.push(*index, entry, Some(leaf)).is_err() {
                    break;
                }
            }
            auditor.push_segment(segment.finish())?;
        }
        Ok(())
    }

    proptest::proptest! {
        /// Segments of any capacity find what a replay one entry at a time finds: the same
        /// report for an intact log, the same first fault for a tampered one.
        #[test]
        fn segments_find_what_a_replay_one_by_one_finds(
            n in 0u32..1200,
            capacity_log2 in 0u32..11,
            cuts in proptest::collection::vec(0u64..1200, 0..8),
            tamper in 0u8..6,
            at in 0usize..1200,
            other in 0usize..1200,
        ) {
            let signer = Signer::generate("log").unwrap();
            let entries = log(n);
            let mut sizes: Vec<u64> = cuts.into_iter().filter(|&c| c <= u64::from(n)).collect();
            sizes.sort_unstable();
            sizes.dedup();
            let cps = checkpoints(&signer, &entries, &sizes);
            let mut rows: Rows = entries
                .iter()
                .enumerate()
                .map(|(i, e)| (i as u64, e.clone(), leaf_hash(e).to_vec()))
                .collect();
            if !rows.is_empty() {
                let at = at % rows.len();
                let other = other % rows.len();
                match tamper {
                    // a changed entry, its stored leaf hash left alone
                    1 => rows[at].1.push(b'!'),
                    // a changed entry whose leaf hash was recomputed too
                    2 => { rows[at].1.push(b'!'); rows[at].2 = leaf_hash(&rows[at].1).to_vec(); }
                    // a deleted row
                    3 => { rows.remove(at); }
                    // two entries swapped between their rows (with their leaf hashes)
                    4 => {
                        let (a, b) = (rows[at].clone(), rows[other].clone());
                        rows[at].1 = b.1; rows[at].2 = b.2;
                        rows[other].1 = a.1; rows[other].2 = a.2;
                    }
                    // a malformed stored leaf hash
                    5 => rows[at].2.truncate(31),
                    _ => {}
                }
            }
            let mut one = Auditor::new(&signer.verifier(), &cps).unwrap();
            let expected = replay_one_by_one(&mut one, &rows).and_then(|()| one.finish());
            let mut seg = Auditor::new(&signer.verifier(), &cps).unwrap();
            let found = replay_in_segments(&mut seg, &rows, 1 << capacity_log2)
                .and_then(|()| seg.finish());
            proptest::prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn a_segment_refuses_what_would_break_the_join() {
        assert!(Segment::new(3, 2, &[]).is_err());
        assert!(Segment::new(0, 3, &[]).is_err());
        assert_eq!(
            Segment::new(0, 8, &[5, 3]).err(),
            Some(crate::Error::SegmentSizesUnordered)
        );
        let mut full = Segment::new(4, 2, &[]).unwrap();
        full.push(4, b"a", None).unwrap();
        full.push(5, b"b", None).unwrap();
        assert_eq!(
            full.push(6, b"c", None),
            Err(Fault::OutsideSegment { index: 6, end: 6 })
        );
        // A segment built without the auditor's checkpoint sizes cannot pass a checkpoint.
        let signer = Signer::generate("log").unwrap();
        let entries = log(4);
        let cps = checkpoints(&signer, &entries, &[3]);
        let mut auditor = Auditor::new(&signer.verifier(), &cps).unwrap();
        let mut blind = Segment::new(0, 4, &[]).unwrap();
        for (i, e) in entries.iter().enumerate() {
            blind.push(i as u64, e, None).unwrap();
        }
        assert_eq!(
            auditor.push_segment(blind.finish()),
            Err(Fault::UncheckedCheckpoint { size: 3 })
        );
    }
}
