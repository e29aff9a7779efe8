//! Opening the database: [`SqliteBackend`] names the database file and its query-index file,
//! migrates them once, and hands out connections ([`SqliteStore`]) with the pragmas that make
//! every commit durable (WAL, `synchronous=FULL`). The writer's connection and the indexer's
//! share a commit gate, so a WAL restart finds a moment between two commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use evident_core::Result;

use crate::migrations::migrate;

/// How long a connection waits for a lock another connection holds.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Once the log's WAL holds this many bytes of frames, the checkpointer ends its pass with a
/// RESTART checkpoint, so that the next commit writes the WAL from its start again. PASSIVE
/// checkpoints alone never catch up with a writer that never pauses, and the WAL then grows
/// for as long as the load lasts (by 1.2 GB in 10 s at 10,000 logged decisions/s).
const WAL_RESTART_BYTES: i64 = 32 << 20;

/// A WAL file is cut back to this size when it restarts.
const WAL_SIZE_LIMIT: i64 = 2 * WAL_RESTART_BYTES;

/// A connection to the embedded database.
pub struct SqliteStore {
    pub(crate) conn: Connection,
    /// The sequencer's connection holds this around each commit, and the checkpointer around
    /// a RESTART, so that the restart finds a moment between two commits.
    pub(crate) commit_gate: Option<Arc<Mutex<()>>>,
}

/// Holds the commit gate; a holder that panicked left nothing half-done behind it.
pub(crate) fn hold(gate: &Mutex<()>) -> std::sync::MutexGuard<'_, ()> {
    gate.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The sequencer's busy handler: retry every 100 µs, for about ten seconds.
fn retry_soon(attempt: i32) -> bool {
    std::thread::sleep(Duration::from_micros(100));
    attempt < 100_000
}

/// Opens connections to one database file (and its query-index file beside it).
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pub(crate) path: PathBuf,
    index_path: PathBuf,
    pub(crate) wal_restart_bytes: i64,
    pub(crate) commit_gate: Arc<Mutex<()>>,
}

impl SqliteBackend {
    /// Creates the schema if needed and checks the schema version.
    pub fn open(path: &Path) -> Result<Self> {
        let backend = Self {
            path: path.to_path_buf(),
            index_path: path.with_extension("index.db"),
            wal_restart_bytes: WAL_RESTART_BYTES,
            commit_gate: Arc::default(),
        };
        let store = backend.connect()?;
        migrate(&store.conn)?;
        Ok(backend)
    }

    /// The connection of the one sequencer. It never checkpoints the WAL itself: the copying
    /// of committed pages into the database happens off the append path, in the indexer
    /// thread ([`SqliteBackend::start_indexer`]).
    pub fn connect_writer(&self) -> Result<SqliteStore> {
        let mut store = self.connect()?;
        store.commit_gate = Some(self.commit_gate.clone());
        store.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // SQLite's own busy handler sleeps in steps of up to 100 ms; a checkpoint holds the
        // writer off for a few milliseconds at most, so the sequencer retries every 100 µs.
        store.conn.busy_handler(Some(retry_soon))?;
        Ok(store)
    }

    /// A new connection.
    pub fn connect(&self) -> Result<SqliteStore> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Larger pages hold more entries each (fewer B-tree splits and WAL frames); only takes
        // effect when the database is created.
        conn.pragma_update(None, "page_size", 16_384)?;
        // WAL lets readers run beside the writer; FULL makes every commit durable.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A larger page cache keeps the index pages of busy logs in memory (64 MiB).
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoint the WAL into the database every 64 MiB rather than every 16 MiB.
        conn.pragma_update(None, "wal_autocheckpoint", 4096)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        // Reads through a memory map skip a copy per page; verification streams whole logs.
        conn.pragma_update(None, "mmap_size", 1_i64 << 34)?;
        let index_path = self.index_path.to_string_lossy();
        conn.execute("ATTACH DATABASE ?1 AS ix", [index_path.as_ref()])?;
        conn.pragma_update(Some("ix"), "page_size", 4096)?;
        conn.pragma_update(Some("ix"), "cache_size", -65_536)?;
        conn.pragma_update(Some("ix"), "journal_mode", "WAL")?;
        // Derived data: a crash may lose the newest index rows, which are re-derived.
        conn.pragma_update(Some("ix"), "synchronous", "NORMAL")?;
        Ok(SqliteStore {
            conn,
            commit_gate: None,
        })
    }
}
