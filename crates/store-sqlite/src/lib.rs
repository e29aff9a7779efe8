//! # evident-store-sqlite
//!
//! The embedded default backend of Evident's storage trait ([`evident_core::store::LogStore`]):
//! one SQLite database in WAL mode with `synchronous=FULL`, so a committed transaction
//! survives a crash or power loss. [`SqliteBackend`] opens (and migrates) a database file and
//! hands out connections ([`SqliteStore`]), each a full `LogStore`; the engine keeps one
//! writer for its sequencer and a pool of readers.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use evident_ledger::audit::StoredCheckpoint;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use evident_core::event::now_us;
use evident_core::store::{
    ApiKeyRecord, AppendOutcome, BreakGlassRecord, EventQuery, LogStore, NewEntry, PersonalRef,
    ScanVisitor, Scanned, StoredEntry, StoredKeyVersion, StoredPersonal, StoredPolicyVersion,
    StoredToken, TokenInsert,
};
use evident_core::{Error, Result};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    idx         INTEGER PRIMARY KEY,
    leaf        BLOB NOT NULL,
    data        BLOB NOT NULL,
    time_us     INTEGER NOT NULL,
    received_us INTEGER NOT NULL,
    actor       TEXT,
    action      TEXT NOT NULL,
    rtype       TEXT NOT NULL,
    rid         TEXT,
    outcome     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size      INTEGER PRIMARY KEY,
    note      TEXT NOT NULL,
    signed_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS personal (
    idx     INTEGER NOT NULL,
    path    TEXT NOT NULL,
    subject TEXT NOT NULL,
    salt    BLOB NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (idx, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS personal_subject ON personal (subject);
CREATE TABLE IF NOT EXISTS crypto_keys (
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    wrapped    BLOB,
    state      TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS token_vault (
    token      TEXT PRIMARY KEY,
    format     TEXT NOT NULL,
    keep       TEXT NOT NULL,
    pan_index  BLOB NOT NULL,
    pan_sealed TEXT,
    created_us INTEGER NOT NULL,
    UNIQUE (format, keep, pan_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crypto_key_class (
    name      TEXT PRIMARY KEY,
    regulated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_versions (
    version    INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    files      TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    origin     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS break_glass (
    id            TEXT PRIMARY KEY,
    decision_id   TEXT NOT NULL,
    subject       TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource      TEXT NOT NULL,
    justification TEXT NOT NULL,
    policies      TEXT NOT NULL,
    opened_us     INTEGER NOT NULL,
    reviewer      TEXT,
    outcome       TEXT,
    note          TEXT,
    closed_us     INTEGER
);
CREATE INDEX IF NOT EXISTS break_glass_open ON break_glass (closed_us, opened_us);
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    role        TEXT NOT NULL,
    label       TEXT,
    created_us  INTEGER NOT NULL,
    revoked_us  INTEGER
);
";

/// The query indexes: derived from `entries`, kept in their own file so that maintaining
/// them never holds the log's write lock, and rebuilt from scratch if the file is lost.
const INDEX_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ix.ix_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ix.by_actor (actor TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (actor, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix.by_action (action TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (action, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix.by_resource (rtype TEXT NOT NULL, rid TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (rtype, rid, idx)) WITHOUT ROWID;
";

/// Entries indexed per indexer transaction.
const INDEX_BATCH: i64 = 20_000;

/// During a burst of appends, indexing waits until this many entries are unindexed.
pub const INDEX_LAG_BOUND: u64 = 1_000_000;

/// The log counts as quiet once it has not grown for this long.
const INDEX_QUIET: Duration = Duration::from_millis(500);

/// How long a connection waits for a lock another connection holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Once the log's WAL holds this many bytes of frames, the checkpointer ends its pass with a
/// RESTART checkpoint, so that the next commit writes the WAL from its start again. PASSIVE
/// checkpoints alone never catch up with a writer that never pauses, and the WAL then grows
/// for as long as the load lasts (by 1.2 GB in 10 s at 10,000 logged decisions/s).
const WAL_RESTART_BYTES: i64 = 32 << 20;

/// How long a RESTART checkpoint may wait for the writer and for readers before it leaves the
/// restart to a later pass: it holds the writer off while it waits.
const WAL_RESTART_WAIT: Duration = Duration::from_millis(2);

/// A WAL file is cut back to this size when it restarts.
const WAL_SIZE_LIMIT: i64 = 2 * WAL_RESTART_BYTES;

/// A connection to the embedded database.
pub struct SqliteStore {
    conn: Connection,
    /// The sequencer's connection holds this around each commit, and the checkpointer around
    /// a RESTART, so that the restart finds a moment between two commits.
    commit_gate: Option<Arc<Mutex<()>>>,
}

/// Holds the commit gate; a holder that panicked left nothing half-done behind it.
fn hold(gate: &Mutex<()>) -> std::sync::MutexGuard<'_, ()> {
    gate.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The sequencer's busy handler: retry every 100 µs, for about ten seconds.
fn retry_soon(attempt: i32) -> bool {
    std::thread::sleep(Duration::from_micros(100));
    attempt < 100_000
}

impl SqliteStore {
    /// Copies the rest of the log's WAL into the database and, if every reader can be held
    /// off for [`WAL_RESTART_WAIT`], makes the next commit start the WAL again from its
    /// beginning; otherwise a later pass tries again. This process's sequencer waits at the
    /// commit gate meanwhile; a writer in another process is waited for, as long.
    fn restart_wal(&self) -> Result<()> {
        let _between_commits = self.commit_gate.as_deref().map(hold);
        self.conn.busy_timeout(WAL_RESTART_WAIT)?;
        let restarted = self
            .conn
            .query_row("PRAGMA main.wal_checkpoint(RESTART)", [], |_| Ok(()));
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(restarted?)
    }
}

/// Opens connections to one database file (and its query-index file beside it).
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    path: PathBuf,
    index_path: PathBuf,
    wal_restart_bytes: i64,
    commit_gate: Arc<Mutex<()>>,
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
        store.conn.execute_batch(SCHEMA)?;
        store.conn.execute_batch(INDEX_SCHEMA)?;
        let version: Option<i64> = store
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok());
        match version {
            None => {
                store.conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(other) => {
                return Err(Error::DataDir(format!(
                    "database schema version {other} is not supported (this build reads version {SCHEMA_VERSION})"
                )))
            }
        }
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

    /// Starts the thread that keeps the query indexes up with the log, and checkpoints the
    /// log's WAL, until the returned handle is dropped.
    pub fn start_indexer(&self) -> Result<Indexer> {
        let mut store = self.connect()?;
        store.commit_gate = Some(self.commit_gate.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let restart_bytes = self.wal_restart_bytes;
        let thread = std::thread::Builder::new()
            .name("evident-indexer".into())
            .spawn(move || {
                let mut last_size = None;
                let mut last_growth = std::time::Instant::now();
                let page_size: i64 = store
                    .conn
                    .pragma_query_value(Some("main"), "page_size", |r| r.get(0))
                    .unwrap_or(16_384);
                while !flag.load(Ordering::Acquire) {
                    std::thread::park_timeout(Duration::from_millis(50));
                    // Index while the log is quiet; during a burst, only once the lag passes
                    // a bound, and then for at most a quarter of the time, so that ingestion
                    // keeps the machine. Queries scan what is not indexed yet, so lag costs
                    // query time, never correctness.
                    let mut pass = || -> Result<()> {
                        // PASSIVE never blocks the sequencer or readers; what it cannot copy
                        // now, it copies on the next pass.
                        let wal_frames: i64 = store.conn.query_row(
                            "PRAGMA main.wal_checkpoint(PASSIVE)",
                            [],
                            |r| r.get(1),
                        )?;
                        if wal_frames.saturating_mul(page_size) >= restart_bytes {
                            store.restart_wal()?;
                        }
                        let size = store.size()?;
                        if last_size.is_some_and(|last| last != size) {
                            last_growth = std::time::Instant::now();
                        }
                        last_size = Some(size);
                        let busy = last_growth.elapsed() < INDEX_QUIET;
                        let lag = size.saturating_sub(to_u64(store.index_watermark()?));
                        if lag == 0 || (busy && lag < INDEX_LAG_BOUND) {
                            return Ok(());
                        }
                        let started = std::time::Instant::now();
                        store.index_pending()?;
                        if busy {
                            std::thread::park_timeout(started.elapsed() * 3);
                        }
                        Ok(())
                    };
                    if let Err(e) = pass() {
                        tracing::warn!(error = %e, "query indexing failed; will retry");
                        std::thread::park_timeout(Duration::from_secs(1));
                    }
                }
            })
            .map_err(Error::io("starting the indexer thread"))?;
        Ok(Indexer {
            stop,
            thread: Some(thread),
        })
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

/// Stops the indexer thread when dropped.
pub struct Indexer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl SqliteStore {
    /// Entries below this index are in the query indexes.
    fn index_watermark(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM ix.ix_meta WHERE key = 'watermark'")?
            .query_row([], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Indexes the next batch of entries not yet indexed; returns how many.
    pub fn index_pending(&self) -> Result<usize> {
        type Row = (i64, Option<String>, String, String, Option<String>);
        let watermark = self.index_watermark()?;
        // Read first, in a short read transaction of its own: a read held open across the
        // index writes would keep the log's WAL from being checkpointed.
        let rows: Vec<Row> = self
            .conn
            .prepare_cached(
                "SELECT idx, actor, action, rtype, rid FROM main.entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
            )?
            .query_map(params![watermark, INDEX_BATCH], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let Some(last) = rows.last().map(|r| r.0) else {
            return Ok(0);
        };
        // Inserting in key order touches each index page once per batch instead of once per
        // row: resource ids arrive in random order.
        let mut actors: Vec<(&str, i64)> = rows
            .iter()
            .filter_map(|r| Some((r.1.as_deref()?, r.0)))
            .collect();
        let mut actions: Vec<(&str, i64)> = rows.iter().map(|r| (r.2.as_str(), r.0)).collect();
        let mut resources: Vec<(&str, &str, i64)> = rows
            .iter()
            .map(|r| (r.3.as_str(), r.4.as_deref().unwrap_or_default(), r.0))
            .collect();
        actors.sort_unstable();
        actions.sort_unstable();
        resources.sort_unstable();
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut by_actor = tx
                .prepare_cached("INSERT OR IGNORE INTO ix.by_actor (actor, idx) VALUES (?1, ?2)")?;
            for (actor, idx) in actors {
                by_actor.execute(params![actor, idx])?;
            }
            let mut by_action = tx.prepare_cached(
                "INSERT OR IGNORE INTO ix.by_action (action, idx) VALUES (?1, ?2)",
            )?;
            for (action, idx) in actions {
                by_action.execute(params![action, idx])?;
            }
            let mut by_resource = tx.prepare_cached(
                "INSERT OR IGNORE INTO ix.by_resource (rtype, rid, idx) VALUES (?1, ?2, ?3)",
            )?;
            for (rtype, rid, idx) in resources {
                by_resource.execute(params![rtype, rid, idx])?;
            }
            tx.execute(
                "INSERT INTO ix.ix_meta (key, value) VALUES ('watermark', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                [last + 1],
            )?;
        }
        tx.commit()?;
        Ok(rows.len())
    }
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

/// A personal value row (`idx, path, salt, value`), borrowed.
fn personal_ref<'r>(row: &'r rusqlite::Row<'_>) -> Result<PersonalRef<'r>> {
    let text = |i: usize| -> Result<&'r str> {
        std::str::from_utf8(row.get_ref(i)?.as_bytes()?)
            .map_err(|_| Error::Integrity("a stored personal value is not UTF-8".into()))
    };
    Ok(PersonalRef {
        index: to_u64(row.get(0)?),
        path: text(1)?,
        salt: row.get_ref(2)?.as_blob()?,
        value: text(3)?,
    })
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::BadRequest(format!("index {v} out of range")))
}

fn row_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEntry> {
    Ok(StoredEntry {
        index: to_u64(r.get(0)?),
        leaf: r.get(1)?,
        data: r.get(2)?,
    })
}

fn row_checkpoint(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        size: to_u64(r.get(0)?),
        note: r.get(1)?,
    })
}

fn row_key_version(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredKeyVersion> {
    Ok(StoredKeyVersion {
        name: row.get(0)?,
        version: row.get(1)?,
        wrapped: row.get(2)?,
        state: row.get(3)?,
        created_us: row.get(4)?,
        uses: row.get::<_, i64>(5)? as u64,
    })
}

fn row_policy_version(
    r: &rusqlite::Row<'_>,
    with_files: bool,
) -> rusqlite::Result<StoredPolicyVersion> {
    Ok(StoredPolicyVersion {
        version: to_u64(r.get(0)?),
        hash: r.get(1)?,
        files: if with_files { Some(r.get(2)?) } else { None },
        created_us: r.get(3)?,
        actor: r.get(4)?,
        origin: r.get(5)?,
    })
}

fn row_break_glass(r: &rusqlite::Row<'_>) -> rusqlite::Result<BreakGlassRecord> {
    Ok(BreakGlassRecord {
        id: r.get("id")?,
        decision_id: r.get("decision_id")?,
        subject: r.get("subject")?,
        action: r.get("action")?,
        resource: r.get("resource")?,
        justification: r.get("justification")?,
        policies: r.get("policies")?,
        opened_us: r.get("opened_us")?,
        reviewer: r.get("reviewer")?,
        outcome: r.get("outcome")?,
        note: r.get("note")?,
        closed_us: r.get("closed_us")?,
    })
}

fn row_api_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        secret_hash: r.get(1)?,
        role: r.get(2)?,
        label: r.get(3)?,
        created_us: r.get(4)?,
        revoked_us: r.get(5)?,
    })
}

impl LogStore for SqliteStore {
    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    fn size(&self) -> Result<u64> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT MAX(idx) FROM entries", [], |r| r.get(0))?;
        Ok(max.map_or(0, |m| to_u64(m) + 1))
    }

    fn leaf_hashes(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, leaf FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let mut rows = stmt.query(params![to_i64(from)?, to_i64(to)?])?;
        while let Some(row) = rows.next()? {
            let idx: i64 = row.get(0)?;
            let leaf = row.get_ref(1)?.as_blob()?;
            f(to_u64(idx), leaf)?;
        }
        Ok(())
    }

    fn append(
        &mut self,
        base: u64,
        entries: &[NewEntry<'_>],
        checkpoint: &StoredCheckpoint,
    ) -> Result<AppendOutcome> {
        let gate = self.commit_gate.clone();
        let _committing = gate.as_deref().map(hold);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Cached statements: parsing SQL for every group commit cost 2 % of all CPU under load.
        let max: Option<i64> = tx
            .prepare_cached("SELECT MAX(idx) FROM entries")?
            .query_row([], |r| r.get(0))?;
        let size = max.map_or(0, |m| to_u64(m) + 1);
        if size != base {
            return Ok(AppendOutcome::Conflict { size });
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO entries (idx, leaf, data, time_us, received_us, actor, action, rtype, rid, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut insert_personal = tx.prepare_cached(
                "INSERT INTO personal (idx, path, subject, salt, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for new in entries {
                let c = &new.entry.columns;
                let idx = to_i64(new.index)?;
                insert.execute(params![
                    idx,
                    &new.leaf[..],
                    &new.entry.data,
                    c.time_us,
                    c.received_us,
                    c.actor,
                    c.action,
                    c.resource_type,
                    c.resource_id,
                    c.outcome
                ])?;
                for p in &new.entry.personal {
                    insert_personal.execute(params![
                        idx,
                        p.path,
                        p.subject,
                        &p.salt[..],
                        p.value
                    ])?;
                }
            }
            tx.prepare_cached(
                "INSERT INTO checkpoints (size, note, signed_us) VALUES (?1, ?2, ?3)
                 ON CONFLICT (size) DO NOTHING",
            )?
            .execute(params![to_i64(checkpoint.size)?, checkpoint.note, now_us()])?;
        }
        tx.commit()?;
        Ok(AppendOutcome::Appended)
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                row_checkpoint,
            )
            .optional()?)
    }

    fn checkpoint_covering(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, note FROM checkpoints WHERE size >= ?1 ORDER BY size LIMIT 1",
                [to_i64(size)?],
                row_checkpoint,
            )
            .optional()?)
    }

    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, note FROM checkpoints ORDER BY size")?;
        let rows = stmt.query_map([], row_checkpoint)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn entry(&self, index: u64) -> Result<Option<StoredEntry>> {
        let Ok(idx) = i64::try_from(index) else {
            return Ok(None);
        };
        Ok(self
            .conn
            .prepare_cached("SELECT idx, leaf, data FROM entries WHERE idx = ?1")?
            .query_row([idx], row_entry)
            .optional()?)
    }

    fn entries(&self, from: u64, to: u64) -> Result<Vec<StoredEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, leaf, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let rows = stmt.query_map(params![to_i64(from)?, to_i64(to)?], row_entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn scan_range(&self, from: u64, to: u64, f: &mut ScanVisitor<'_>) -> Result<()> {
        // Both statements read one snapshot, so a concurrent append cannot leave a personal
        // value whose entry this scan did not see.
        let snapshot = self.conn.unchecked_transaction()?;
        let range = params![to_i64(from)?, to_i64(to)?];
        // Storage order (rowid order is index order in SQLite), so reordered rows are seen.
        let mut entries = snapshot
            .prepare_cached("SELECT idx, leaf, data FROM entries WHERE idx >= ?1 AND idx < ?2")?;
        let mut personal = snapshot.prepare_cached(
            "SELECT idx, path, salt, value FROM personal WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let mut entries = entries.query(range)?;
        let mut personal = personal.query(range)?;
        let index_of = |row: &rusqlite::Row<'_>| row.get::<_, i64>(0).map(to_u64);
        let mut next_personal = personal.next()?;
        while let Some(row) = entries.next()? {
            let index = to_u64(row.get(0)?);
            let data = row.get_ref(2)?.as_blob()?;
            // Personal values are merged in by index rather than joined: the join read every
            // entry a second time. Those of a missing entry come with no entry.
            while let Some(p) = next_personal {
                if index_of(p)? >= index {
                    break;
                }
                f(Scanned::Personal {
                    value: personal_ref(p)?,
                    entry: &[],
                })?;
                next_personal = personal.next()?;
            }
            f(Scanned::Entry {
                index,
                leaf: row.get_ref(1)?.as_blob()?,
                data,
            })?;
            while let Some(p) = next_personal {
                if index_of(p)? != index {
                    break;
                }
                f(Scanned::Personal {
                    value: personal_ref(p)?,
                    entry: data,
                })?;
                next_personal = personal.next()?;
            }
        }
        while let Some(p) = next_personal {
            f(Scanned::Personal {
                value: personal_ref(p)?,
                entry: &[],
            })?;
            next_personal = personal.next()?;
        }
        Ok(())
    }

    fn stray_entry(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT MIN(idx) FROM entries", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .filter(|&idx| idx < 0))
    }

    fn orphan_personal(&self, size: u64) -> Result<Option<(i64, String)>> {
        Ok(self
            .conn
            .query_row(
                // Two range searches: with `OR`, SQLite scanned the whole table.
                "SELECT idx, path FROM (
                     SELECT idx, path FROM personal WHERE idx < 0
                     UNION ALL
                     SELECT idx, path FROM personal WHERE idx >= ?1
                 ) AS o
                 WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.idx = o.idx)
                 ORDER BY idx LIMIT 1",
                [to_i64(size)?],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn query(&self, q: &EventQuery) -> Result<Vec<StoredEntry>> {
        // Every filter applies to the entry row; one of them may also drive an index lookup
        // for the indexed part of the log (below the watermark). The unindexed tail is
        // scanned, so a query sees every committed entry however far the indexer lags.
        let mut filters = String::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut add = |clause: &str, value: rusqlite::types::Value| -> String {
            args.push(value);
            let param = format!("?{}", args.len());
            filters.push_str(&format!(" AND e.{clause} {param}"));
            param
        };
        let actor = q.actor.as_ref().map(|v| add("actor =", v.clone().into()));
        let action = q.action.as_ref().map(|v| add("action =", v.clone().into()));
        let rtype = q
            .resource_type
            .as_ref()
            .map(|v| add("rtype =", v.clone().into()));
        let rid = q
            .resource_id
            .as_ref()
            .map(|v| add("rid =", v.clone().into()));
        if let Some(v) = &q.outcome {
            add("outcome =", v.clone().into());
        }
        if let Some(v) = q.since_us {
            add("time_us >=", v.into());
        }
        if let Some(v) = q.until_us {
            add("time_us <", v.into());
        }
        if let Some(c) = q.cursor {
            add(
                if q.descending { "idx <" } else { "idx >" },
                to_i64(c)?.into(),
            );
        }
        let driver = match (&rtype, &rid, &actor, &action) {
            (Some(t), Some(r), _, _) => Some(format!(
                "ix.by_resource d WHERE d.rtype = {t} AND d.rid = {r}"
            )),
            (_, _, Some(a), _) => Some(format!("ix.by_actor d WHERE d.actor = {a}")),
            (Some(t), None, _, _) => Some(format!("ix.by_resource d WHERE d.rtype = {t}")),
            (_, _, _, Some(a)) => Some(format!("ix.by_action d WHERE d.action = {a}")),
            _ => None,
        };
        let watermark = if driver.is_some() {
            args.push(self.index_watermark()?.into());
            format!("?{}", args.len())
        } else {
            String::new()
        };
        let order = if q.descending { "DESC" } else { "ASC" };
        let limit = q.limit.clamp(1, 1000);
        let sql = match driver {
            Some(driver) => format!(
                "SELECT idx, leaf, data FROM (
                    SELECT e.idx AS idx, e.leaf AS leaf, e.data AS data FROM {driver}
                        AND d.idx < {watermark} AND e.idx = d.idx{filters_join}
                    UNION ALL
                    SELECT e.idx, e.leaf, e.data FROM main.entries e WHERE e.idx >= {watermark}{filters}
                 ) ORDER BY idx {order} LIMIT {limit}",
                driver = driver.replacen(" d WHERE ", " d, main.entries e WHERE ", 1),
                filters_join = filters,
            ),
            None => format!(
                "SELECT e.idx, e.leaf, e.data FROM main.entries e WHERE 1=1{filters} ORDER BY e.idx {order} LIMIT {limit}"
            ),
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), row_entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn personal_of(&self, index: u64) -> Result<Vec<StoredPersonal>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, path, subject, salt, value FROM personal WHERE idx = ?1 ORDER BY path",
        )?;
        let rows = stmt.query_map([to_i64(index)?], |r| {
            Ok(StoredPersonal {
                index: to_u64(r.get(0)?),
                path: r.get(1)?,
                subject: r.get(2)?,
                salt: r.get(3)?,
                value: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn erase_subject(&mut self, subject: &str) -> Result<u64> {
        let n = self
            .conn
            .execute("DELETE FROM personal WHERE subject = ?1", [subject])?;
        Ok(n as u64)
    }

    fn insert_key_version(&mut self, name: &str, wrapped: &[u8], created_us: i64) -> Result<u32> {
        let tx = self.conn.transaction()?;
        let version: u32 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM crypto_keys WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?;
        tx.execute(
            "UPDATE crypto_keys SET state = 'decrypt-only' WHERE name = ?1 AND state = 'active'",
            [name],
        )?;
        tx.execute(
            "INSERT INTO crypto_keys (name, version, wrapped, state, created_us) VALUES (?1, ?2, ?3, 'active', ?4)",
            params![name, version, wrapped, created_us],
        )?;
        tx.commit()?;
        Ok(version)
    }

    fn key_versions(&self, name: &str) -> Result<Vec<StoredKeyVersion>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, version, wrapped, state, created_us, uses FROM crypto_keys WHERE name = ?1 ORDER BY version",
        )?;
        let rows = stmt.query_map([name], row_key_version)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn key_names(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT name FROM crypto_keys ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn set_key_state(&mut self, name: &str, version: u32, state: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE crypto_keys SET state = ?3 WHERE name = ?1 AND version = ?2 AND state != 'destroyed'",
            params![name, version, state],
        )?;
        Ok(n == 1)
    }

    fn destroy_key_version(&mut self, name: &str, version: u32) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE crypto_keys SET wrapped = NULL, state = 'destroyed' WHERE name = ?1 AND version = ?2 AND state != 'destroyed'",
            params![name, version],
        )?;
        Ok(n == 1)
    }

    fn reserve_key_uses(&mut self, name: &str, version: u32, uses: u64) -> Result<u64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE crypto_keys SET uses = uses + ?3 WHERE name = ?1 AND version = ?2",
            params![name, version, uses as i64],
        )?;
        let total: i64 = tx.query_row(
            "SELECT uses FROM crypto_keys WHERE name = ?1 AND version = ?2",
            params![name, version],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(total as u64)
    }

    fn set_key_regulated(&mut self, name: &str, regulated: bool) -> Result<()> {
        self.conn.execute(
            "INSERT INTO crypto_key_class (name, regulated) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET regulated = excluded.regulated",
            params![name, regulated],
        )?;
        Ok(())
    }

    fn reseal_personal(&mut self, seal: &mut evident_core::store::ResealFn<'_>) -> Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0u64;
        {
            let mut rows = tx.prepare("SELECT idx, path, salt, value FROM personal")?;
            let mut update =
                tx.prepare("UPDATE personal SET value = ?3 WHERE idx = ?1 AND path = ?2")?;
            let all: Vec<(i64, String, Vec<u8>, String)> = rows
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (idx, path, salt, value) in all {
                if let Some(new) = seal(&path, &salt, &value)? {
                    update.execute(params![idx, path, new])?;
                    changed += 1;
                }
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    fn init_meta(&mut self, key: &str, value: &str) -> Result<String> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            [key, value],
        )?;
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
    }

    fn insert_tokens(&mut self, tokens: &[StoredToken]) -> Result<Vec<TokenInsert>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(tokens.len());
        {
            let mut by_index = tx.prepare_cached(
                "SELECT token FROM token_vault WHERE format = ?1 AND keep = ?2 AND pan_index = ?3",
            )?;
            let mut taken =
                tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM token_vault WHERE token = ?1)")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO token_vault (token, format, keep, pan_index, pan_sealed, created_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for token in tokens {
                let existing: Option<String> = by_index
                    .query_row(params![token.format, token.keep, token.pan_index], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if let Some(existing) = existing {
                    outcomes.push(TokenInsert::Existing(existing));
                    continue;
                }
                if taken.query_row([&token.token], |r| r.get::<_, bool>(0))? {
                    outcomes.push(TokenInsert::TokenTaken);
                    continue;
                }
                insert.execute(params![
                    token.token,
                    token.format,
                    token.keep,
                    token.pan_index,
                    token.pan_sealed,
                    token.created_us
                ])?;
                outcomes.push(TokenInsert::Inserted);
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }

    fn token_by_index(&self, format: &str, keep: &str, pan_index: &[u8]) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT token FROM token_vault WHERE format = ?1 AND keep = ?2 AND pan_index = ?3",
            )?
            .query_row(params![format, keep, pan_index], |r| r.get(0))
            .optional()?)
    }

    fn token(&self, token: &str) -> Result<Option<StoredToken>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT token, format, keep, pan_index, pan_sealed, created_us
                 FROM token_vault WHERE token = ?1",
            )?
            .query_row([token], |r| {
                Ok(StoredToken {
                    token: r.get(0)?,
                    format: r.get(1)?,
                    keep: r.get(2)?,
                    pan_index: r.get(3)?,
                    pan_sealed: r.get(4)?,
                    created_us: r.get(5)?,
                })
            })
            .optional()?)
    }

    fn token_counts(&self) -> Result<Vec<(String, String, u64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT format, keep, COUNT(*) FROM token_vault GROUP BY format, keep ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn regulated_keys(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name FROM crypto_key_class WHERE regulated != 0 ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn insert_policy_version(&mut self, v: &StoredPolicyVersion) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO policy_versions (version, hash, files, created_us, actor, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                to_i64(v.version)?,
                v.hash,
                v.files.as_deref().unwrap_or(""),
                v.created_us,
                v.actor,
                v.origin
            ],
        )?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('policy_active', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [v.version.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn policy_version(&self, version: u64) -> Result<Option<StoredPolicyVersion>> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, hash, files, created_us, actor, origin FROM policy_versions WHERE version = ?1",
                [to_i64(version)?],
                |r| row_policy_version(r, true),
            )
            .optional()?)
    }

    fn policy_versions(&self) -> Result<Vec<StoredPolicyVersion>> {
        let mut stmt = self.conn.prepare(
            "SELECT version, hash, '', created_us, actor, origin FROM policy_versions ORDER BY version",
        )?;
        let rows = stmt.query_map([], |r| row_policy_version(r, false))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn insert_break_glass(&mut self, r: &BreakGlassRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO break_glass (id, decision_id, subject, action, resource, justification, policies, opened_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                r.id,
                r.decision_id,
                r.subject,
                r.action,
                r.resource,
                r.justification,
                r.policies,
                r.opened_us
            ],
        )?;
        Ok(())
    }

    fn break_glass(&self, open_only: bool) -> Result<Vec<BreakGlassRecord>> {
        let sql = if open_only {
            "SELECT * FROM break_glass WHERE closed_us IS NULL ORDER BY opened_us, id"
        } else {
            "SELECT * FROM break_glass ORDER BY opened_us, id"
        };
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], row_break_glass)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn close_break_glass(
        &mut self,
        id: &str,
        reviewer: &str,
        outcome: &str,
        note: &str,
        at_us: i64,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE break_glass SET reviewer = ?2, outcome = ?3, note = ?4, closed_us = ?5
             WHERE id = ?1 AND closed_us IS NULL",
            params![id, reviewer, outcome, note, at_us],
        )?;
        Ok(n == 1)
    }

    fn insert_api_key(&mut self, key: &ApiKeyRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO api_keys (id, secret_hash, role, label, created_us, revoked_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.id,
                key.secret_hash,
                key.role,
                key.label,
                key.created_us,
                key.revoked_us
            ],
        )?;
        Ok(())
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, secret_hash, role, label, created_us, revoked_us FROM api_keys WHERE id = ?1",
            )?
            .query_row([id], row_api_key)
            .optional()?)
    }

    fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, secret_hash, role, label, created_us, revoked_us FROM api_keys ORDER BY created_us",
        )?;
        let rows = stmt.query_map([], row_api_key)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_api_key(&mut self, id: &str, at_us: i64) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE api_keys SET revoked_us = ?2 WHERE id = ?1 AND revoked_us IS NULL",
            params![id, at_us],
        )?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evident_core::AuditEvent;

    /// Appends back to back, with no pause for the checkpointer, and answers the largest the
    /// log's WAL file grew.
    fn largest_wal(restart_bytes: i64, commits: u64) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evident.db");
        let mut backend = SqliteBackend::open(&path).unwrap();
        backend.wal_restart_bytes = restart_bytes;
        let _checkpointer = backend.start_indexer().unwrap();
        let mut writer = backend.connect_writer().unwrap();
        let event = AuditEvent::from_json(serde_json::json!({
            "actor": {"id": "alice", "ip": "192.0.2.7"},
            "action": "record.read",
            "resource": {"type": "patient_record", "id": "p-1"},
            "outcome": "success"
        }))
        .unwrap()
        .prepare(0)
        .unwrap();
        let wal = dir.path().join("evident.db-wal");
        let mut largest = 0;
        for commit in 0..commits {
            let rows: Vec<NewEntry<'_>> = (0..4)
                .map(|i| NewEntry {
                    index: commit * 4 + i,
                    leaf: [0; 32],
                    entry: &event,
                })
                .collect();
            let checkpoint = StoredCheckpoint {
                size: (commit + 1) * 4,
                note: "note".into(),
            };
            let outcome = writer.append(commit * 4, &rows, &checkpoint).unwrap();
            assert!(matches!(outcome, AppendOutcome::Appended));
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        largest
    }

    /// PASSIVE checkpoints alone never catch up with a writer that never pauses; the RESTART
    /// that follows them once the WAL passes its bound keeps the file from growing.
    #[test]
    fn a_writer_that_never_pauses_keeps_the_wal_bounded() {
        const MB: u64 = 1 << 20;
        // The checkpointer looks every 50 ms, so the WAL passes the bound by what is written
        // in that time (about 10 MB here) before it restarts.
        let unbounded = largest_wal(i64::MAX, 3000);
        let bounded = largest_wal(MB as i64, 3000);
        assert!(
            unbounded > 64 * MB,
            "without restarts the WAL grew to {unbounded} bytes only; the test load is too light"
        );
        assert!(
            bounded < 32 * MB,
            "with restarts at 1 MiB the WAL still grew to {bounded} bytes"
        );
    }
}
