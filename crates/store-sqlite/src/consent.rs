//! Consent records (`consent`): every consent change of a subject and purpose, each naming
//! its ledger event, derived from the ledger's `evident.consent.*` events. The current state
//! is the row with the greatest index, one lookup on the primary key.

use rusqlite::{params, Connection, OptionalExtension};

use evident_core::store::ConsentRecord;
use evident_core::Result;

use crate::convert::{to_i64, to_u64};

const COLUMNS: &str =
    "subject, purpose, idx, granted, basis, source, notice_hash, at_us, expires_us";

fn row_consent(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConsentRecord> {
    Ok(ConsentRecord {
        subject: r.get(0)?,
        purpose: r.get(1)?,
        index: to_u64(r.get(2)?),
        granted: r.get::<_, i64>(3)? != 0,
        basis: r.get(4)?,
        source: r.get(5)?,
        notice_hash: r.get(6)?,
        at_us: r.get(7)?,
        expires_us: r.get(8)?,
    })
}

pub(crate) fn put_consent(conn: &mut Connection, c: &ConsentRecord) -> Result<bool> {
    let n = conn.execute(
        &format!(
            "INSERT INTO consent ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (subject, purpose, idx) DO NOTHING"
        ),
        params![
            c.subject,
            c.purpose,
            to_i64(c.index)?,
            i64::from(c.granted),
            c.basis,
            c.source,
            c.notice_hash,
            c.at_us,
            c.expires_us
        ],
    )?;
    Ok(n == 1)
}

pub(crate) fn consent(
    conn: &Connection,
    subject: &str,
    purpose: &str,
) -> Result<Option<ConsentRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM consent WHERE subject = ?1 AND purpose = ?2
             ORDER BY idx DESC LIMIT 1"
        ))?
        .query_row([subject, purpose], row_consent)
        .optional()?)
}

pub(crate) fn consents_of(conn: &Connection, subject: &str) -> Result<Vec<ConsentRecord>> {
    // SQLite's bare-column rule: with MAX(idx), the other columns come from that row.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, MAX(idx) FROM consent WHERE subject = ?1
         GROUP BY purpose ORDER BY purpose"
    ))?;
    let rows = stmt.query_map([subject], row_consent)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn consent_history(
    conn: &Connection,
    subject: &str,
    purpose: &str,
) -> Result<Vec<ConsentRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM consent WHERE subject = ?1 AND purpose = ?2 ORDER BY idx"
    ))?;
    let rows = stmt.query_map([subject, purpose], row_consent)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes every consent record of `subject` (part of its erasure).
pub(crate) fn erase_consent(conn: &Connection, subject: &str) -> Result<u64> {
    let n = conn.execute("DELETE FROM consent WHERE subject = ?1", [subject])?;
    Ok(n as u64)
}
