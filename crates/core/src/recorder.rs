//! What a part needs of the engine it runs in: the ledger to record to and the store to read
//! and write its own state. The `evident` facade implements [`Recorder`]; the parts (access,
//! crypto, and those to come) take a `&dyn Recorder`, so none of them depends on the facade
//! or on a storage backend, and Cargo refuses an arrow back up.

use std::future::Future;
use std::ops::DerefMut;
use std::path::Path;
use std::pin::Pin;

use crate::event::AuditEvent;
use crate::redaction::EventRedactor;
use crate::sequencer::BatchReceipt;
use crate::store::LogStore;
use crate::Result;

/// A store connection borrowed from the engine's pool; it goes back to the pool when
/// dropped.
pub type PooledStore<'a> = Box<dyn DerefMut<Target = dyn LogStore> + 'a>;

/// An append under way in an async runtime.
pub type Appending<'a> = Pin<Box<dyn Future<Output = Result<BatchReceipt>> + Send + 'a>>;

/// The engine as the parts see it.
pub trait Recorder: Send + Sync {
    /// [`Recorder::append_blocking`] in an async runtime.
    fn append(&self, events: Vec<AuditEvent>) -> Appending<'_>;
    /// Appends events (redacted, validated, sequenced) and answers once they are durable
    /// and covered by a signed checkpoint.
    fn append_blocking(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt>;
    /// A connection of its own to the store (for writes and long reads).
    fn connect_store(&self) -> Result<Box<dyn LogStore>>;
    /// A connection from the engine's pool, for frequent short reads and writes.
    fn pooled_store(&self) -> Result<PooledStore<'_>>;
    /// A consistent copy of the store, taken while appends go on, written to the new file
    /// `into` in the embedded store's format (for backups of a data directory); answers the
    /// entries the copy holds.
    fn snapshot_store(&self, into: &Path) -> Result<u64>;
    /// The redaction every event passes before it is stored.
    fn redaction(&self) -> &EventRedactor;
    /// The data directory.
    fn dir(&self) -> &Path;
    /// The log's origin line (its name in checkpoints).
    fn origin(&self) -> &str;
}
