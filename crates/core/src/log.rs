//! The log as its readers see it: one event or a page of a query (personal values revealed
//! on request, opened with the personal-data seal), the exact bytes of an entry, inclusion,
//! consistency and C2SP tlog-proofs, tlog-tiles resources, and full verification. Nothing
//! here writes: appends go through the sequencer, and what readers see never goes beyond the
//! latest signed checkpoint.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use evident_ledger::proof;
use evident_ledger::tiles::{self, TilePath, TILE_WIDTH};
use evident_ledger::tlog_proof::TlogProof;
use evident_ledger::Hash;
use serde_json::Value;

use crate::personal::{self, PersonalSeal};
use crate::recorder::Recorder;
use crate::sequencer::{Shared, SignedCheckpoint};
use crate::store::{self, EventQuery, LogStore, StoredEntry};
use crate::verify::{verify_store_sealed, VerifyReport};
use crate::{Error, Result};

/// An inclusion proof with the checkpoint it leads to.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// the entry's index
    pub index: u64,
    /// the tree size proved against
    pub size: u64,
    /// the entry's leaf hash
    pub leaf: Hash,
    /// the audit path, leaf side first
    pub proof: Vec<Hash>,
    /// the root at `size`
    pub root: Hash,
    /// the signed checkpoint at `size`, when one was signed at exactly that size
    pub checkpoint: Option<String>,
}

/// One entry as read back.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// its index
    pub index: u64,
    /// its leaf hash
    pub leaf: Vec<u8>,
    /// the entry as stored (personal fields as commitments)
    pub entry: Value,
    /// the stored personal values, when asked to reveal them
    pub revealed: Vec<store::StoredPersonal>,
}

/// One page of a query.
#[derive(Debug, Clone)]
pub struct Page {
    /// the matching entries
    pub events: Vec<EventRecord>,
    /// pass as `cursor` for the next page; `None` at the end
    pub next_cursor: Option<u64>,
}

/// The log of one engine, for reading and proving.
pub struct Log<'e> {
    recorder: &'e dyn Recorder,
    shared: &'e Shared,
    seal: Option<&'e PersonalSeal>,
}

impl<'e> Log<'e> {
    /// The log behind `recorder`, with the sequencer's shared state (tree, latest
    /// checkpoint) and, when personal values are sealed and the root key is open, their seal.
    pub fn new(
        recorder: &'e dyn Recorder,
        shared: &'e Shared,
        seal: Option<&'e PersonalSeal>,
    ) -> Self {
        Log {
            recorder,
            shared,
            seal,
        }
    }

    /// Entries durable and covered by a signed checkpoint.
    pub fn size(&self) -> u64 {
        self.shared.committed.load(Ordering::Acquire)
    }

    fn record(
        &self,
        store: &dyn LogStore,
        entry: StoredEntry,
        reveal: bool,
    ) -> Result<EventRecord> {
        let value: Value = serde_json::from_slice(&entry.data)
            .map_err(|e| Error::Integrity(format!("entry {} is not JSON: {e}", entry.index)))?;
        let mut revealed = if reveal {
            store.personal_of(entry.index)?
        } else {
            Vec::new()
        };
        for p in &mut revealed {
            if personal::is_sealed(&p.value) {
                let seal = self.seal.ok_or_else(|| {
                    Error::Crypto("personal values are sealed and no root key is open".into())
                })?;
                p.value = seal.open(&p.path, &p.salt, &p.value)?.to_string();
            }
        }
        Ok(EventRecord {
            index: entry.index,
            leaf: entry.leaf,
            entry: value,
            revealed,
        })
    }

    /// One event by index. `reveal` adds its stored personal values.
    pub fn event(&self, index: u64, reveal: bool) -> Result<EventRecord> {
        let store = self.recorder.pooled_store()?;
        if index >= self.size() {
            return Err(Error::NotFound(format!(
                "no entry {index}: the log has {} entries",
                self.size()
            )));
        }
        let entry = store
            .entry(index)?
            .ok_or_else(|| Error::NotFound(format!("entry {index} is not stored")))?;
        self.record(&**store, entry, reveal)
    }

    /// The exact bytes of entry `index` (what its leaf hash is computed over).
    pub fn entry_bytes(&self, index: u64) -> Result<Vec<u8>> {
        if index >= self.size() {
            return Err(Error::NotFound(format!(
                "no entry {index}: the log has {} entries",
                self.size()
            )));
        }
        let entry = self
            .recorder
            .pooled_store()?
            .entry(index)?
            .ok_or_else(|| Error::NotFound(format!("entry {index} is not stored")))?;
        Ok(entry.data)
    }

    /// One page of events matching `query`.
    pub fn query(&self, query: &EventQuery) -> Result<Page> {
        let store = self.recorder.pooled_store()?;
        let limit = query.limit.clamp(1, 1000);
        let mut q = query.clone();
        q.limit = limit;
        let committed = self.size();
        let rows: Vec<StoredEntry> = store
            .query(&q)?
            .into_iter()
            .filter(|e| e.index < committed)
            .collect();
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|e| e.index))
            .flatten();
        let events = rows
            .into_iter()
            .map(|e| self.record(&**store, e, false))
            .collect::<Result<_>>()?;
        Ok(Page {
            events,
            next_cursor,
        })
    }

    /// Every event matching `query` (its cursor and limit aside), oldest first, read page by
    /// page. More than `max` is refused as a bad request naming `what`, so that memory stays
    /// bounded: such a reader should page itself (`evident log query`).
    pub fn query_all(
        &self,
        query: &EventQuery,
        max: usize,
        what: &str,
    ) -> Result<Vec<EventRecord>> {
        let mut q = query.clone();
        q.cursor = None;
        q.descending = false;
        q.limit = 1000;
        let mut events = Vec::new();
        loop {
            let page = self.query(&q)?;
            events.extend(page.events);
            if events.len() > max {
                return Err(Error::BadRequest(format!(
                    "more than {max} {what}; read them with `evident log query`"
                )));
            }
            match page.next_cursor {
                Some(next) => q.cursor = Some(next),
                None => return Ok(events),
            }
        }
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Option<Arc<SignedCheckpoint>> {
        self.shared.latest()
    }

    fn check_size(&self, size: u64) -> Result<()> {
        let committed = self.size();
        if size > committed {
            return Err(Error::NotFound(format!(
                "tree size {size} is beyond the latest signed checkpoint ({committed})"
            )));
        }
        Ok(())
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (default: the
    /// latest checkpoint).
    pub fn inclusion_proof(&self, index: u64, size: Option<u64>) -> Result<InclusionProof> {
        let latest = self
            .checkpoint()
            .ok_or_else(|| Error::NotFound("the log is empty".into()))?;
        let size = size.unwrap_or(latest.checkpoint.size);
        self.check_size(size)?;
        if index >= size {
            return Err(Error::NotFound(format!(
                "no entry {index} in a tree of size {size}"
            )));
        }
        let tree = self.shared.read_tree()?;
        let proof = proof::inclusion_proof(&*tree, index, size)?;
        let leaf = tree
            .leaf(index)
            .ok_or_else(|| Error::NotFound(format!("no entry {index}")))?;
        let root = tree
            .root_at(size)
            .ok_or_else(|| Error::NotFound(format!("no tree of size {size}")))?;
        drop(tree);
        let checkpoint = if size == latest.checkpoint.size {
            Some(latest.note.clone())
        } else {
            self.recorder
                .pooled_store()?
                .checkpoint_covering(size)?
                .filter(|c| c.size == size)
                .map(|c| c.note)
        };
        Ok(InclusionProof {
            index,
            size,
            leaf,
            proof,
            root,
            checkpoint,
        })
    }

    /// The consistency proof between two tree sizes.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>> {
        self.check_size(second)?;
        let tree = self.shared.read_tree()?;
        Ok(proof::consistency_proof(&*tree, first, second)?)
    }

    /// A C2SP tlog-proof of entry `index` against the latest signed checkpoint.
    pub fn tlog_proof(&self, index: u64) -> Result<TlogProof> {
        let p = self.inclusion_proof(index, None)?;
        let checkpoint = p
            .checkpoint
            .ok_or_else(|| Error::NotFound("no signed checkpoint".into()))?;
        Ok(TlogProof {
            extra: None,
            index,
            proof: p.proof,
            checkpoint,
        })
    }

    /// A tlog-tiles resource: a hash tile or an entry bundle.
    pub fn tile(&self, path: &TilePath) -> Result<Vec<u8>> {
        let committed = u128::from(self.size());
        let missing = || Error::NotFound("no such tile in this log (yet)".into());
        match path {
            TilePath::Hashes { level, index, .. } => {
                let span = u128::from(TILE_WIDTH).pow(u32::from(*level));
                let end =
                    (u128::from(*index) * u128::from(TILE_WIDTH) + u128::from(path.width())) * span;
                if end > committed {
                    return Err(missing());
                }
                let tree = self.shared.read_tree()?;
                tiles::hash_tile(&tree, path).map_err(|_| missing())
            }
            TilePath::Entries { .. } => {
                let range = path.entry_range().ok_or_else(missing)?;
                if u128::from(range.end) > committed {
                    return Err(missing());
                }
                let entries = self
                    .recorder
                    .pooled_store()?
                    .entries(range.start, range.end)?;
                if entries.len() as u64 != range.end - range.start {
                    return Err(Error::Integrity(format!(
                        "entries {}..{} are not all stored",
                        range.start, range.end
                    )));
                }
                Ok(
                    tiles::encode_bundle(entries.iter().map(|e| e.data.as_slice()))
                        .map_err(|e| Error::Integrity(e.to_string()))?,
                )
            }
        }
    }

    /// Replays the whole log from storage: every entry against its leaf hash, every signed
    /// checkpoint's signature and root, and every stored personal value against its
    /// commitment. `progress` is called with the number of entries replayed so far.
    pub fn verify(&self, mut progress: impl FnMut(u64)) -> Result<VerifyReport> {
        let connect = || self.recorder.connect_store();
        verify_store_sealed(connect, &self.shared.verifier, self.seal, &mut progress)
    }
}
