//! The log itself: appending a batch of entries with their personal values and the checkpoint
//! that covers them in one transaction, and reading entries, leaf hashes and checkpoints back.

use evident_ledger::audit::StoredCheckpoint;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use evident_core::event::now_us;
use evident_core::store::{AppendOutcome, NewEntry, StoredEntry};
use evident_core::Result;

use crate::convert::{to_i64, to_u64};

pub(crate) fn row_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEntry> {
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

pub(crate) fn size(conn: &Connection) -> Result<u64> {
    let max: Option<i64> = conn.query_row("SELECT MAX(idx) FROM entries", [], |r| r.get(0))?;
    Ok(max.map_or(0, |m| to_u64(m) + 1))
}

pub(crate) fn leaf_hashes(
    conn: &Connection,
    from: u64,
    to: u64,
    f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
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

pub(crate) fn append(
    conn: &mut Connection,
    base: u64,
    entries: &[NewEntry<'_>],
    checkpoint: &StoredCheckpoint,
) -> Result<AppendOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
                insert_personal.execute(params![idx, p.path, p.subject, &p.salt[..], p.value])?;
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

pub(crate) fn latest_checkpoint(conn: &Connection) -> Result<Option<StoredCheckpoint>> {
    Ok(conn
        .query_row(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
            [],
            row_checkpoint,
        )
        .optional()?)
}

pub(crate) fn checkpoint_covering(
    conn: &Connection,
    size: u64,
) -> Result<Option<StoredCheckpoint>> {
    Ok(conn
        .query_row(
            "SELECT size, note FROM checkpoints WHERE size >= ?1 ORDER BY size LIMIT 1",
            [to_i64(size)?],
            row_checkpoint,
        )
        .optional()?)
}

pub(crate) fn checkpoints(conn: &Connection) -> Result<Vec<StoredCheckpoint>> {
    let mut stmt = conn.prepare("SELECT size, note FROM checkpoints ORDER BY size")?;
    let rows = stmt.query_map([], row_checkpoint)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn entry(conn: &Connection, index: u64) -> Result<Option<StoredEntry>> {
    let Ok(idx) = i64::try_from(index) else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached("SELECT idx, leaf, data FROM entries WHERE idx = ?1")?
        .query_row([idx], row_entry)
        .optional()?)
}

pub(crate) fn entries(conn: &Connection, from: u64, to: u64) -> Result<Vec<StoredEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT idx, leaf, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    )?;
    let rows = stmt.query_map(params![to_i64(from)?, to_i64(to)?], row_entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
