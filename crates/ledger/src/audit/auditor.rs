//! The [`Auditor`]: streams a log's entries, one at a time or a [`HashedSegment`] at a time,
//! against its signed checkpoints, and answers an [`AuditReport`] or the first [`Fault`].

use std::collections::BTreeMap;
use std::ops::Bound;

use super::checkpoints::{filed, verify_signatures, StoredCheckpoint};
use super::fault::Fault;
use super::frontier::{root_of, Frontier};
use super::segment::HashedSegment;
use crate::checkpoint::Checkpoint;
use crate::hash::{leaf_hash, Hash};
use crate::note::{Note, NoteVerifier};

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
    ///
    /// [`Segment::new`]: super::Segment::new
    pub fn checkpoint_sizes(&self) -> Vec<u64> {
        self.pending.keys().copied().collect()
    }

    /// Joins a hashed segment, which must start where the entries so far end: checks every
    /// checkpoint it reaches, then answers the segment's fault, if it has one. Pushing the
    /// segments of a log in order finds the same first fault as pushing its entries one by one.
    /// A segment built without a checkpoint size it reaches (see [`Segment::new`]) is refused.
    ///
    /// [`Segment::new`]: super::Segment::new
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
    use crate::audit::Segment;
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
