//! Replaying a whole log: recompute the tree from the stored entries, check every stored
//! checkpoint's signature, that each signed root is the root of the entries, and so that the
//! checkpoints are consistent with one another. The first fault found is named.
//!
//! The [`Auditor`] streams: it keeps only the right edge of the tree (`O(log n)` hashes), so
//! logs of any size are verified in constant memory at the speed of SHA-256.

use std::collections::BTreeMap;
use std::fmt;

use crate::checkpoint::Checkpoint;
use crate::hash::{empty_root, leaf_hash, node_hash, Hash};
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
        let mut hash = leaf;
        let mut merges = self.size.trailing_ones();
        while merges > 0 {
            let Some(left) = self.stack.pop() else { break };
            hash = node_hash(&left, &hash);
            merges -= 1;
        }
        self.stack.push(hash);
        self.size += 1;
    }

    fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(first) = iter.next() else {
            return empty_root();
        };
        iter.fold(*first, |acc, left| node_hash(left, &acc))
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
}
