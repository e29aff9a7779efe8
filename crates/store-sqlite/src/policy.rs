//! Access policy history (`policy_versions`, with the active version in `meta`) and the
//! break-glass reviews (`break_glass`) a second person closes.

use rusqlite::{params, Connection, OptionalExtension};

use evident_core::store::{BreakGlassRecord, StoredPolicyVersion};
use evident_core::Result;

use crate::convert::{to_i64, to_u64};

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

pub(crate) fn insert_policy_version(conn: &mut Connection, v: &StoredPolicyVersion) -> Result<()> {
    let tx = conn.transaction()?;
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

pub(crate) fn policy_version(
    conn: &Connection,
    version: u64,
) -> Result<Option<StoredPolicyVersion>> {
    Ok(conn
        .query_row(
            "SELECT version, hash, files, created_us, actor, origin FROM policy_versions WHERE version = ?1",
            [to_i64(version)?],
            |r| row_policy_version(r, true),
        )
        .optional()?)
}

pub(crate) fn policy_versions(conn: &Connection) -> Result<Vec<StoredPolicyVersion>> {
    let mut stmt = conn.prepare(
        "SELECT version, hash, '', created_us, actor, origin FROM policy_versions ORDER BY version",
    )?;
    let rows = stmt.query_map([], |r| row_policy_version(r, false))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub(crate) fn insert_break_glass(conn: &mut Connection, r: &BreakGlassRecord) -> Result<()> {
    conn.execute(
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

pub(crate) fn break_glass(conn: &Connection, open_only: bool) -> Result<Vec<BreakGlassRecord>> {
    let sql = if open_only {
        "SELECT * FROM break_glass WHERE closed_us IS NULL ORDER BY opened_us, id"
    } else {
        "SELECT * FROM break_glass ORDER BY opened_us, id"
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], row_break_glass)?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub(crate) fn close_break_glass(
    conn: &mut Connection,
    id: &str,
    reviewer: &str,
    outcome: &str,
    note: &str,
    at_us: i64,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE break_glass SET reviewer = ?2, outcome = ?3, note = ?4, closed_us = ?5
             WHERE id = ?1 AND closed_us IS NULL",
        params![id, reviewer, outcome, note, at_us],
    )?;
    Ok(n == 1)
}
