//! Replaying a log on several threads: a [`Segment`] is a run of consecutive entries hashed
//! apart from the rest, many at a time; once finished it is a [`HashedSegment`], which
//! [`Auditor::push_segment`] joins to the log in order.
//!
//! [`Auditor::push_segment`]: super::Auditor::push_segment

use super::fault::Fault;
use super::frontier::Frontier;
use crate::hash::{leaf_hashes, node_hashes, Hash};

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
///
/// [`Auditor::push_segment`]: super::Auditor::push_segment
/// [`Auditor`]: super::Auditor
/// [`Auditor::checkpoint_sizes`]: super::Auditor::checkpoint_sizes
/// [`Auditor::push`]: super::Auditor::push
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
    ///
    /// [`Auditor::checkpoint_sizes`]: super::Auditor::checkpoint_sizes
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
    ///
    /// [`Auditor::push_segment`]: super::Auditor::push_segment
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
///
/// [`Auditor::push_segment`]: super::Auditor::push_segment
#[derive(Debug)]
pub struct HashedSegment {
    /// the index of the first entry
    pub(super) start: u64,
    /// entries hashed (all of them, or those before the fault)
    pub(super) len: u64,
    /// the right edge of the segment's own tree
    pub(super) edge: Frontier,
    /// the right edge at each checkpoint size reached, relative to `start`
    pub(super) snapshots: Vec<(u64, Vec<Hash>)>,
    /// bytes of the entries hashed
    pub(super) bytes: u64,
    /// the first fault found
    pub(super) fault: Option<Fault>,
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
