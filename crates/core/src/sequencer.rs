//! The sequencer: the single writer of a log, with group commit.
//!
//! Callers queue batches of prepared entries. A dedicated thread takes everything queued
//! (up to [`MAX_BATCH_ENTRIES`]), gives the entries their indexes, hashes them into the tree,
//! signs a checkpoint over the new root and stores entries and checkpoint in one durable
//! transaction. Every caller in the batch is then answered with its indexes, leaf hashes and
//! that signed checkpoint. While one batch is being committed the next one queues, so the
//! cost of an fsync is shared by everything that arrived during it.
//!
//! Before signing, the new tree is checked against the latest signed checkpoint: a checkpoint
//! inconsistent with an earlier one is never signed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use evident_ledger::audit::StoredCheckpoint;
use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::{NoteVerifier, Signer};
use evident_ledger::tree::Tree;
use evident_ledger::Hash;
use tokio::sync::{mpsc, oneshot};

use crate::event::PreparedEntry;
use crate::store::{AppendOutcome, LogStore, NewEntry};
use crate::{Error, Result};

/// The most entries committed in one transaction.
pub const MAX_BATCH_ENTRIES: usize = 32_768;
const QUEUE_DEPTH: usize = 4096;
const CONFLICT_RETRIES: usize = 16;

/// A signed checkpoint and its parsed body.
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    /// the parsed body
    pub checkpoint: Checkpoint,
    /// the signed note text
    pub note: String,
}

/// Where one appended entry landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// its index
    pub index: u64,
    /// its leaf hash
    pub leaf: Hash,
}

/// The answer to one queued batch: durable, and covered by `checkpoint`.
#[derive(Debug, Clone)]
pub struct BatchReceipt {
    /// one receipt per entry, in order
    pub receipts: Vec<Receipt>,
    /// the signed checkpoint committed with them
    pub checkpoint: Arc<SignedCheckpoint>,
    /// values the engine redacted from these events before storing them
    pub redacted: usize,
}

struct Request {
    entries: Vec<PreparedEntry>,
    reply: oneshot::Sender<Result<BatchReceipt>>,
}

/// State shared between the writer thread and readers.
pub struct Shared {
    /// the Merkle tree over every committed entry
    pub tree: RwLock<Tree>,
    /// entries durable and covered by a signed checkpoint; readers never look beyond it
    pub committed: AtomicU64,
    /// the newest signed checkpoint
    pub latest: RwLock<Option<Arc<SignedCheckpoint>>>,
    /// the verifier of the log's own signature
    pub verifier: NoteVerifier,
}

impl Shared {
    /// The tree for reading (proofs, tiles); an error if a writer panicked holding it.
    pub fn read_tree(&self) -> Result<std::sync::RwLockReadGuard<'_, Tree>> {
        self.tree
            .read()
            .map_err(|_| Error::Integrity("tree lock poisoned".into()))
    }

    fn write_tree(&self) -> Result<std::sync::RwLockWriteGuard<'_, Tree>> {
        self.tree
            .write()
            .map_err(|_| Error::Integrity("tree lock poisoned".into()))
    }

    /// The newest signed checkpoint, if any.
    pub fn latest(&self) -> Option<Arc<SignedCheckpoint>> {
        self.latest.read().ok().and_then(|g| g.clone())
    }
}

/// Handle to the writer thread.
pub struct Sequencer {
    tx: Mutex<Option<mpsc::Sender<Request>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// what readers see of the writer's state
    pub shared: Arc<Shared>,
}

struct Writer {
    store: Box<dyn LogStore>,
    signer: Signer,
    shared: Arc<Shared>,
}

impl Sequencer {
    /// Loads the tree from `store`, checks it against the latest signed checkpoint, and
    /// starts the writer thread.
    pub fn start(store: Box<dyn LogStore>, signer: Signer) -> Result<Self> {
        let shared = Arc::new(Shared {
            tree: RwLock::new(Tree::new()),
            committed: AtomicU64::new(0),
            latest: RwLock::new(None),
            verifier: signer.verifier(),
        });
        let mut writer = Writer {
            store,
            signer,
            shared: shared.clone(),
        };
        writer.catch_up()?;
        let (tx, mut rx) = mpsc::channel::<Request>(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("evident-sequencer".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    let mut count = batch[0].entries.len();
                    while count < MAX_BATCH_ENTRIES {
                        match rx.try_recv() {
                            Ok(next) => {
                                count += next.entries.len();
                                batch.push(next);
                            }
                            Err(_) => break,
                        }
                    }
                    writer.commit(batch);
                }
            })
            .map_err(Error::io("starting the sequencer thread"))?;
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            shared,
        })
    }

    fn sender(&self) -> Result<mpsc::Sender<Request>> {
        self.tx
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .ok_or(Error::ShutDown)
    }

    /// Queues a batch and waits until it is durable and signed.
    pub async fn append(&self, entries: Vec<PreparedEntry>) -> Result<BatchReceipt> {
        let (reply, rx) = oneshot::channel();
        self.sender()?
            .send(Request { entries, reply })
            .await
            .map_err(|_| Error::ShutDown)?;
        rx.await.map_err(|_| Error::ShutDown)?
    }

    /// [`Sequencer::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, entries: Vec<PreparedEntry>) -> Result<BatchReceipt> {
        let (reply, rx) = oneshot::channel();
        self.sender()?
            .blocking_send(Request { entries, reply })
            .map_err(|_| Error::ShutDown)?;
        rx.blocking_recv().map_err(|_| Error::ShutDown)?
    }

    /// Stops taking appends, finishes what is queued and joins the writer thread.
    pub fn shutdown(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(handle) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = handle.join();
        }
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Writer {
    fn tree_size(&self) -> u64 {
        self.shared.tree.read().map(|t| t.size()).unwrap_or(0)
    }

    /// Brings the in-memory tree up to the store (another process may have appended) and
    /// checks it against the latest signed checkpoint.
    fn catch_up(&mut self) -> Result<()> {
        let from = self.tree_size();
        let to = self.store.size()?;
        if to > from {
            let mut tree = self.shared.write_tree()?;
            let mut next = from;
            self.store.leaf_hashes(from, to, &mut |idx, leaf| {
                let leaf: Hash = leaf.try_into().map_err(|_| {
                    Error::Integrity(format!("entry {idx}: stored leaf hash is not 32 bytes"))
                })?;
                if idx != next {
                    return Err(Error::Integrity(format!("entry {next} is missing")));
                }
                tree.push(leaf);
                next += 1;
                Ok(())
            })?;
        }
        let latest = match self.store.latest_checkpoint()? {
            Some(stored) => {
                let checkpoint = self
                    .shared
                    .verifier
                    .verify_checkpoint(&stored.note)
                    .map_err(|e| {
                        Error::Integrity(format!(
                            "latest checkpoint (size {}) does not verify: {e}",
                            stored.size
                        ))
                    })?;
                let tree = self.shared.read_tree()?;
                if tree.root_at(checkpoint.size) != Some(checkpoint.root) {
                    return Err(Error::Integrity(format!(
                        "the stored entries do not match the signed checkpoint at size {}; \
                         run `evident log verify` to find the damage",
                        checkpoint.size
                    )));
                }
                Some(Arc::new(SignedCheckpoint {
                    checkpoint,
                    note: stored.note,
                }))
            }
            None => None,
        };
        let covered = latest.as_ref().map_or(0, |l| l.checkpoint.size);
        if let Ok(mut slot) = self.shared.latest.write() {
            *slot = latest;
        }
        self.shared.committed.store(covered, Ordering::Release);
        Ok(())
    }

    fn commit(&mut self, batch: Vec<Request>) {
        let (entries, replies): (
            Vec<Vec<PreparedEntry>>,
            Vec<oneshot::Sender<Result<BatchReceipt>>>,
        ) = batch.into_iter().map(|r| (r.entries, r.reply)).unzip();
        let all: Vec<&PreparedEntry> = entries.iter().flatten().collect();
        match self.commit_entries(&all) {
            Ok((receipts, checkpoint)) => {
                let mut receipts = receipts.into_iter();
                for (reply, group) in replies.into_iter().zip(&entries) {
                    let mine: Vec<Receipt> = receipts.by_ref().take(group.len()).collect();
                    let _ = reply.send(Ok(BatchReceipt {
                        receipts: mine,
                        checkpoint: checkpoint.clone(),
                        redacted: 0,
                    }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "append failed; nothing was stored");
                let message = e.to_string();
                let full = e.is_storage_full();
                for reply in replies {
                    let _ = reply.send(Err(match &e {
                        Error::Integrity(_) => Error::Integrity(message.clone()),
                        // Kept apart so callers can say "free space" rather than "try later".
                        _ if full => Error::StorageFull(message.clone()),
                        _ => Error::AppendFailed(message.clone()),
                    }));
                }
            }
        }
    }

    fn commit_entries(
        &mut self,
        entries: &[&PreparedEntry],
    ) -> Result<(Vec<Receipt>, Arc<SignedCheckpoint>)> {
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.data)).collect();
        for _ in 0..CONFLICT_RETRIES {
            let base = self.tree_size();
            let (size, root, previous_ok) = {
                let mut tree = self.shared.write_tree()?;
                let previous_ok = match self.shared.latest() {
                    Some(prev) => tree.root_at(prev.checkpoint.size) == Some(prev.checkpoint.root),
                    None => true,
                };
                for leaf in &leaves {
                    tree.push(*leaf);
                }
                (tree.size(), tree.root(), previous_ok)
            };
            if !previous_ok {
                self.rollback(base);
                return Err(Error::Integrity(
                    "the tree no longer extends the latest signed checkpoint; refusing to sign"
                        .into(),
                ));
            }
            let checkpoint = Checkpoint::new(self.signer.name(), size, root);
            let note = match self.signer.sign(&checkpoint.to_body()) {
                Ok(note) => note,
                Err(e) => {
                    self.rollback(base);
                    return Err(e.into());
                }
            };
            let rows: Vec<NewEntry<'_>> = entries
                .iter()
                .zip(&leaves)
                .enumerate()
                .map(|(i, (entry, leaf))| NewEntry {
                    index: base + i as u64,
                    leaf: *leaf,
                    entry,
                })
                .collect();
            let stored = StoredCheckpoint {
                size,
                note: note.clone(),
            };
            match self.store.append(base, &rows, &stored) {
                Ok(AppendOutcome::Appended) => {
                    let signed = Arc::new(SignedCheckpoint { checkpoint, note });
                    if let Ok(mut slot) = self.shared.latest.write() {
                        *slot = Some(signed.clone());
                    }
                    self.shared.committed.store(size, Ordering::Release);
                    let receipts = rows
                        .iter()
                        .map(|r| Receipt {
                            index: r.index,
                            leaf: r.leaf,
                        })
                        .collect();
                    return Ok((receipts, signed));
                }
                Ok(AppendOutcome::Conflict { size }) => {
                    tracing::debug!(base, size, "another writer appended; catching up");
                    self.rollback(base);
                    self.catch_up()?;
                }
                Err(e) => {
                    self.rollback(base);
                    return Err(e);
                }
            }
        }
        Err(Error::Integrity(
            "too many concurrent writers; try again".into(),
        ))
    }

    fn rollback(&self, size: u64) {
        if let Ok(mut tree) = self.shared.tree.write() {
            tree.truncate(size);
        }
    }
}
