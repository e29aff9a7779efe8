//! What the crypto part needs of the engine it runs in: the ledger and store (the core's
//! [`Recorder`]) and this process's [`KeyCache`]. The `evident` facade builds one per call;
//! it is two references, copied freely.

use evident_core::recorder::{PooledStore, Recorder};
use evident_core::redaction::EventRedactor;
use evident_core::store::LogStore;
use evident_core::{AuditEvent, BatchReceipt, Result};

use crate::cache::KeyCache;

/// The engine as the crypto part sees it.
#[derive(Clone, Copy)]
pub struct KeyHost<'e> {
    recorder: &'e dyn Recorder,
    cache: &'e KeyCache,
}

impl<'e> KeyHost<'e> {
    /// The keys of the engine behind `recorder`, cached in `cache` (one per engine).
    pub fn new(recorder: &'e dyn Recorder, cache: &'e KeyCache) -> Self {
        KeyHost { recorder, cache }
    }

    /// The engine's key cache.
    pub fn key_cache(&self) -> &'e KeyCache {
        self.cache
    }

    /// The engine itself, for parts the crypto part calls on (the access part).
    pub fn recorder(&self) -> &'e dyn Recorder {
        self.recorder
    }

    /// A connection of its own to the store.
    pub fn connect_store(&self) -> Result<Box<dyn LogStore>> {
        self.recorder.connect_store()
    }

    /// A pooled store connection, for frequent short reads.
    pub fn pooled_store(&self) -> Result<PooledStore<'e>> {
        self.recorder.pooled_store()
    }

    /// Appends events and waits until they are durable.
    pub fn append_blocking(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt> {
        self.recorder.append_blocking(events)
    }

    /// The engine's event redaction (its keyed pseudonyms name per-subject keys).
    pub fn redaction(&self) -> &'e EventRedactor {
        self.recorder.redaction()
    }

    /// Whether decrypting with the key `name` needs a logged access decision (the key was
    /// classified regulated).
    pub fn key_is_regulated(&self, name: &str) -> Result<bool> {
        let names = self
            .cache
            .regulated(|| self.recorder.pooled_store()?.regulated_keys())?;
        Ok(names.iter().any(|n| n == name))
    }
}
