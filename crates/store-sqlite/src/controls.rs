//! Each control's latest check result (`control_status`), derived from the ledger's
//! `controls.check` events and kept here so that a status read is one row per control.

use rusqlite::{params, Connection, OptionalExtension};

use evident_core::store::ControlStatusRecord;
use evident_core::Result;

use crate::convert::{to_i64, to_u64};

const COLUMNS: &str = "control, result, since_us, checked_us, idx, check_version, trend, runs";

fn row_status(r: &rusqlite::Row<'_>) -> rusqlite::Result<ControlStatusRecord> {
    Ok(ControlStatusRecord {
        control: r.get(0)?,
        result: r.get(1)?,
        since_us: r.get(2)?,
        checked_us: r.get(3)?,
        index: to_u64(r.get(4)?),
        check_version: r.get(5)?,
        trend: r.get(6)?,
        runs: to_u64(r.get(7)?),
    })
}

pub(crate) fn put_control_status(conn: &mut Connection, s: &ControlStatusRecord) -> Result<bool> {
    // One statement: a run recorded by another process in between with a later index wins.
    let n = conn.execute(
        &format!(
            "INSERT INTO control_status ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (control) DO UPDATE SET
               result = excluded.result, since_us = excluded.since_us,
               checked_us = excluded.checked_us, idx = excluded.idx,
               check_version = excluded.check_version, trend = excluded.trend,
               runs = excluded.runs
             WHERE excluded.idx > control_status.idx"
        ),
        params![
            s.control,
            s.result,
            s.since_us,
            s.checked_us,
            to_i64(s.index)?,
            s.check_version,
            s.trend,
            to_i64(s.runs)?
        ],
    )?;
    Ok(n == 1)
}

pub(crate) fn control_status(
    conn: &Connection,
    control: &str,
) -> Result<Option<ControlStatusRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM control_status WHERE control = ?1"
        ))?
        .query_row([control], row_status)
        .optional()?)
}

pub(crate) fn control_statuses(conn: &Connection) -> Result<Vec<ControlStatusRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM control_status ORDER BY control"
    ))?;
    let rows = stmt.query_map([], row_status)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
