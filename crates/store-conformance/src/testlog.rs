//! Real entries and signed checkpoints for the cases: sample events whose every indexed column
//! follows from their number (so a case can compute what a query must answer), batches that
//! extend a Merkle tree and carry a checkpoint signed over its root, and the replay that
//! checks a stored log against its checkpoints and its personal values against their
//! commitments.

use evident_core::event::format_time;
use evident_core::personal::verify_canonical;
use evident_core::store::{AppendOutcome, LogStore, NewEntry, Scanned, StoredEntry};
use evident_core::{AuditEvent, Error, PreparedEntry, Result};
use evident_ledger::audit::{Auditor, StoredCheckpoint};
use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::{NoteVerifier, Signer};
use evident_ledger::tree::Tree;
use evident_ledger::Hash;
use serde_json::{json, Value};

/// The event time of sample 0, µs since the epoch (2023-11-14T22:13:20Z).
pub(crate) const T0: i64 = 1_700_000_000_000_000;

/// When every sample was received.
pub(crate) const RECEIVED_US: i64 = T0 + 86_400_000_000;

/// The columns of sample `n`, as a store indexes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sample {
    /// its number
    pub n: u64,
    /// `actor.id`: alice, bob, carol in turn
    pub actor: &'static str,
    /// `record.read` for even numbers, `record.write` for odd ones
    pub action: &'static str,
    /// `patient_record` below 8, `invoice` from 8
    pub resource_type: &'static str,
    /// `r-0` to `r-3` in turn
    pub resource_id: String,
    /// `denied` for multiples of 5, else `success`
    pub outcome: &'static str,
    /// `n` seconds after [`T0`]
    pub time_us: i64,
}

impl Sample {
    /// Sample number `n`.
    pub fn new(n: u64) -> Self {
        const ACTORS: [&str; 3] = ["alice", "bob", "carol"];
        Self {
            n,
            actor: ACTORS[(n % 3) as usize],
            action: if n.is_multiple_of(2) {
                "record.read"
            } else {
                "record.write"
            },
            resource_type: if n < 8 { "patient_record" } else { "invoice" },
            resource_id: format!("r-{}", n % 4),
            outcome: if n.is_multiple_of(5) {
                "denied"
            } else {
                "success"
            },
            time_us: T0 + (n as i64) * 1_000_000,
        }
    }

    /// The event as a client sends it: the actor's IP address and e-mail address are
    /// personal values of the actor.
    pub fn json(&self) -> Value {
        json!({
            "time": format_time(self.time_us),
            "actor": {"id": self.actor, "ip": format!("192.0.2.{}", self.n % 250)},
            "action": self.action,
            "resource": {"type": self.resource_type, "id": self.resource_id},
            "outcome": self.outcome,
            "metadata": {"n": self.n, "email": format!("{}@example.org", self.actor)},
            "personal": ["/metadata/email"]
        })
    }
}

/// Samples `from..to` as events.
pub(crate) fn samples(from: u64, to: u64) -> Result<Vec<AuditEvent>> {
    (from..to)
        .map(|n| AuditEvent::from_json(Sample::new(n).json()))
        .collect()
}

/// A batch ready to append: prepared entries from `base` on, their leaf hashes, and the
/// checkpoint over the log they extend.
pub(crate) struct Batch {
    /// the index of its first entry
    pub base: u64,
    /// the entries
    pub prepared: Vec<PreparedEntry>,
    /// their leaf hashes
    pub leaves: Vec<Hash>,
    /// the signed checkpoint at `base + len`
    pub checkpoint: StoredCheckpoint,
}

impl Batch {
    /// The entries as [`LogStore::append`] takes them.
    pub fn entries(&self) -> Vec<NewEntry<'_>> {
        self.prepared
            .iter()
            .zip(&self.leaves)
            .zip(self.base..)
            .map(|((entry, &leaf), index)| NewEntry { index, leaf, entry })
            .collect()
    }

    /// Appends the batch to `store`, answering what the store did.
    pub fn append_to(&self, store: &mut dyn LogStore) -> Result<AppendOutcome> {
        store.append(self.base, &self.entries(), &self.checkpoint)
    }

    /// The entries as the store must give them back.
    pub fn stored(&self) -> Vec<StoredEntry> {
        self.entries()
            .iter()
            .map(|e| StoredEntry {
                index: e.index,
                leaf: e.leaf.to_vec(),
                data: e.entry.data.clone(),
            })
            .collect()
    }
}

/// One writer's view of a log: its signing key and the tree of what it appended.
pub(crate) struct TestLog {
    signer: Signer,
    tree: Tree,
}

impl TestLog {
    /// An empty log with a new signing key.
    pub fn new() -> Result<Self> {
        Ok(Self {
            signer: Signer::generate("conformance.evident.example/log")?,
            tree: Tree::new(),
        })
    }

    /// The key that verifies this log's checkpoints.
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// `events` as the next batch, with the checkpoint over the log they would extend it to;
    /// the log itself moves on only in [`TestLog::append`].
    pub fn batch(&self, events: &[AuditEvent]) -> Result<Batch> {
        let prepared = events
            .iter()
            .map(|e| e.prepare(RECEIVED_US))
            .collect::<Result<Vec<_>>>()?;
        let leaves: Vec<Hash> = prepared.iter().map(|p| leaf_hash(&p.data)).collect();
        let mut tree = self.tree.clone();
        for &leaf in &leaves {
            tree.push(leaf);
        }
        let body = Checkpoint::new(self.signer.name(), tree.size(), tree.root()).to_body();
        Ok(Batch {
            base: self.tree.size(),
            prepared,
            leaves,
            checkpoint: StoredCheckpoint {
                size: tree.size(),
                note: self.signer.sign(&body)?,
            },
        })
    }

    /// Appends `events` as one batch, which the store must accept.
    pub fn append(&mut self, store: &mut dyn LogStore, events: &[AuditEvent]) -> Result<Batch> {
        let batch = self.batch(events)?;
        let outcome = batch.append_to(store)?;
        assert_eq!(
            outcome,
            AppendOutcome::Appended,
            "an append at the log's size {} was refused",
            batch.base
        );
        for &leaf in &batch.leaves {
            self.tree.push(leaf);
        }
        Ok(batch)
    }
}

/// What [`verify`] replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verified {
    /// entries replayed
    pub entries: u64,
    /// checkpoints whose signature and root matched
    pub checkpoints: u64,
    /// personal values that matched the commitments in their entries
    pub personal: u64,
}

/// Replays the whole stored log as `evident verify` does: every checkpoint's signature and
/// root against the entries scanned in storage order, every personal value against the
/// commitment its entry holds, and no rows a scan cannot reach.
pub(crate) fn verify(store: &dyn LogStore, verifier: &NoteVerifier) -> Result<Verified> {
    let fault = |f: evident_ledger::audit::Fault| Error::Integrity(f.to_string());
    let checkpoints = store.checkpoints()?;
    let mut auditor = Auditor::new(verifier, &checkpoints).map_err(fault)?;
    let size = store.size()?;
    let mut personal = 0;
    store.scan_range(0, size, &mut |item| {
        match item {
            Scanned::Entry { index, leaf, data } => {
                auditor.push(index, data, Some(leaf)).map_err(fault)?;
            }
            Scanned::Personal { value, entry } => {
                let commitment = commitment_in(entry, value.path)?;
                let matches =
                    verify_canonical(&commitment, value.path, value.salt, value.value.as_bytes())?;
                if !matches {
                    return Err(Error::Integrity(format!(
                        "personal value `{}` of entry {} does not match its commitment",
                        value.path, value.index
                    )));
                }
                personal += 1;
            }
        }
        Ok(())
    })?;
    let report = auditor.finish().map_err(fault)?;
    assert_eq!(
        store.stray_entry()?,
        None,
        "a healthy store has no stray entry"
    );
    assert_eq!(
        store.orphan_personal(size)?,
        None,
        "a healthy store has no personal value without its entry"
    );
    Ok(Verified {
        entries: report.entries,
        checkpoints: report.checkpoints,
        personal,
    })
}

/// The commitment an entry holds for the personal value at `path`.
pub(crate) fn commitment_in(entry: &[u8], path: &str) -> Result<String> {
    let entry: Value = serde_json::from_slice(entry)
        .map_err(|e| Error::Integrity(format!("a stored entry is not JSON: {e}")))?;
    entry["personal"][path]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::Integrity(format!("the entry holds no commitment for `{path}`")))
}
