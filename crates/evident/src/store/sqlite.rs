//! The embedded default backend: one SQLite database in WAL mode with `synchronous=FULL`, so
//! a committed transaction survives a crash or power loss.

use std::path::{Path, PathBuf};
use std::time::Duration;

use evident_ledger::audit::StoredCheckpoint;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    ApiKeyRecord, AppendOutcome, EntryVisitor, EventQuery, LogStore, NewEntry, StoredEntry,
    StoredPersonal,
};
use crate::event::now_us;
use crate::{Error, Result};

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
CREATE INDEX IF NOT EXISTS entries_actor  ON entries (actor, idx);
CREATE INDEX IF NOT EXISTS entries_action ON entries (action, idx);
CREATE INDEX IF NOT EXISTS entries_rsrc   ON entries (rtype, rid, idx);
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
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    role        TEXT NOT NULL,
    label       TEXT,
    created_us  INTEGER NOT NULL,
    revoked_us  INTEGER
);
";

/// A connection to the embedded database.
pub struct SqliteStore {
    conn: Connection,
}

/// Opens connections to one database file.
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    path: PathBuf,
}

impl SqliteBackend {
    /// Creates the schema if needed and checks the schema version.
    pub fn open(path: &Path) -> Result<Self> {
        let backend = Self {
            path: path.to_path_buf(),
        };
        let store = backend.connect()?;
        store.conn.execute_batch(SCHEMA)?;
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

    /// A new connection.
    pub fn connect(&self) -> Result<SqliteStore> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
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
        // Reads through a memory map skip a copy per page; verification streams whole logs.
        conn.pragma_update(None, "mmap_size", 1_i64 << 34)?;
        Ok(SqliteStore { conn })
    }
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let max: Option<i64> = tx.query_row("SELECT MAX(idx) FROM entries", [], |r| r.get(0))?;
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
            tx.execute(
                "INSERT INTO checkpoints (size, note, signed_us) VALUES (?1, ?2, ?3)
                 ON CONFLICT (size) DO NOTHING",
                params![to_i64(checkpoint.size)?, checkpoint.note, now_us()],
            )?;
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

    fn scan_entries(&self, f: &mut EntryVisitor<'_>) -> Result<()> {
        // Storage order (rowid order is index order in SQLite), so reordered rows are seen.
        let mut stmt = self.conn.prepare("SELECT idx, leaf, data FROM entries")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let idx: i64 = row.get(0)?;
            let leaf = row.get_ref(1)?.as_blob()?;
            let data = row.get_ref(2)?.as_blob()?;
            f(to_u64(idx), leaf, data)?;
        }
        Ok(())
    }

    fn query(&self, q: &EventQuery) -> Result<Vec<StoredEntry>> {
        let mut sql = String::from("SELECT idx, leaf, data FROM entries WHERE 1=1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut add = |clause: &str, value: rusqlite::types::Value| {
            args.push(value);
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(v) = &q.actor {
            add("actor =", v.clone().into());
        }
        if let Some(v) = &q.action {
            add("action =", v.clone().into());
        }
        if let Some(v) = &q.resource_type {
            add("rtype =", v.clone().into());
        }
        if let Some(v) = &q.resource_id {
            add("rid =", v.clone().into());
        }
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
            let op = if q.descending { "idx <" } else { "idx >" };
            add(op, to_i64(c)?.into());
        }
        sql.push_str(if q.descending {
            " ORDER BY idx DESC"
        } else {
            " ORDER BY idx"
        });
        sql.push_str(&format!(" LIMIT {}", q.limit.clamp(1, 1000)));
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

    fn scan_personal(&self, f: &mut dyn FnMut(&StoredPersonal, &[u8]) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT p.idx, p.path, p.subject, p.salt, p.value, e.data
             FROM personal p LEFT JOIN entries e ON e.idx = p.idx ORDER BY p.idx",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let p = StoredPersonal {
                index: to_u64(row.get(0)?),
                path: row.get(1)?,
                subject: row.get(2)?,
                salt: row.get(3)?,
                value: row.get(4)?,
            };
            let data: Option<Vec<u8>> = row.get(5)?;
            f(&p, data.as_deref().unwrap_or_default())?;
        }
        Ok(())
    }

    fn erase_subject(&mut self, subject: &str) -> Result<u64> {
        let n = self
            .conn
            .execute("DELETE FROM personal WHERE subject = ?1", [subject])?;
        Ok(n as u64)
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
