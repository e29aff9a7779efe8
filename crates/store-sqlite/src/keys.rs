//! Named keys (`crypto_keys`, `crypto_key_class`): each version wrapped by the root key, its
//! state, the encryptions reserved under it, and which keys protect regulated data.

use rusqlite::{params, Connection, TransactionBehavior};

use evident_core::store::StoredKeyVersion;
use evident_core::Result;

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

pub(crate) fn insert_key_version(
    conn: &mut Connection,
    name: &str,
    wrapped: &[u8],
    created_us: i64,
) -> Result<u32> {
    // Immediate: a transaction that reads before it writes cannot take the write lock once
    // another connection (the sequencer, appending) has committed since its read; SQLite
    // then fails it at once with "database is locked" instead of waiting.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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

pub(crate) fn key_versions(conn: &Connection, name: &str) -> Result<Vec<StoredKeyVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, version, wrapped, state, created_us, uses FROM crypto_keys WHERE name = ?1 ORDER BY version",
    )?;
    let rows = stmt.query_map([name], row_key_version)?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub(crate) fn key_names(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT name FROM crypto_keys ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub(crate) fn set_key_state(
    conn: &mut Connection,
    name: &str,
    version: u32,
    state: &str,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE crypto_keys SET state = ?3 WHERE name = ?1 AND version = ?2 AND state != 'destroyed'",
        params![name, version, state],
    )?;
    Ok(n == 1)
}

pub(crate) fn destroy_key_version(conn: &mut Connection, name: &str, version: u32) -> Result<bool> {
    let n = conn.execute(
        "UPDATE crypto_keys SET wrapped = NULL, state = 'destroyed' WHERE name = ?1 AND version = ?2 AND state != 'destroyed'",
        params![name, version],
    )?;
    Ok(n == 1)
}

pub(crate) fn reserve_key_uses(
    conn: &mut Connection,
    name: &str,
    version: u32,
    uses: u64,
) -> Result<u64> {
    let tx = conn.transaction()?;
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

pub(crate) fn set_key_regulated(conn: &mut Connection, name: &str, regulated: bool) -> Result<()> {
    conn.execute(
        "INSERT INTO crypto_key_class (name, regulated) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET regulated = excluded.regulated",
        params![name, regulated],
    )?;
    Ok(())
}

pub(crate) fn regulated_keys(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT name FROM crypto_key_class WHERE regulated != 0 ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
