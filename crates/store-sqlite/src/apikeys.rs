//! API keys (`api_keys`): the hash of each secret, its role and label, and when it was revoked.

use rusqlite::{params, Connection, OptionalExtension};

use evident_core::store::ApiKeyRecord;
use evident_core::Result;

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

pub(crate) fn insert_api_key(conn: &mut Connection, key: &ApiKeyRecord) -> Result<()> {
    conn.execute(
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

pub(crate) fn api_key(conn: &Connection, id: &str) -> Result<Option<ApiKeyRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, secret_hash, role, label, created_us, revoked_us FROM api_keys WHERE id = ?1",
        )?
        .query_row([id], row_api_key)
        .optional()?)
}

pub(crate) fn api_keys(conn: &Connection) -> Result<Vec<ApiKeyRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, secret_hash, role, label, created_us, revoked_us FROM api_keys ORDER BY created_us",
    )?;
    let rows = stmt.query_map([], row_api_key)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn revoke_api_key(conn: &mut Connection, id: &str, at_us: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE api_keys SET revoked_us = ?2 WHERE id = ?1 AND revoked_us IS NULL",
        params![id, at_us],
    )?;
    Ok(n == 1)
}

pub(crate) fn record_api_key_use(conn: &mut Connection, id: &str, at_us: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO api_key_use (id, last_used_us) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET last_used_us = excluded.last_used_us
             WHERE excluded.last_used_us > api_key_use.last_used_us",
        params![id, at_us],
    )?;
    Ok(())
}

pub(crate) fn api_key_uses(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare("SELECT id, last_used_us FROM api_key_use ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
