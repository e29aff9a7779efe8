//! What verification reads: the whole stored log in storage order, each entry followed by its
//! personal values, from one snapshot; and the rows a scan of `0..size` can never reach (an
//! entry under a negative index, a personal value outside the log with no entry).

use rusqlite::{params, Connection, OptionalExtension};

use evident_core::store::{PersonalRef, ScanVisitor, Scanned};
use evident_core::{Error, Result};

use crate::convert::{to_i64, to_u64};

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

pub(crate) fn scan_range(
    conn: &Connection,
    from: u64,
    to: u64,
    f: &mut ScanVisitor<'_>,
) -> Result<()> {
    // Both statements read one snapshot, so a concurrent append cannot leave a personal
    // value whose entry this scan did not see.
    let snapshot = conn.unchecked_transaction()?;
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

pub(crate) fn stray_entry(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT MIN(idx) FROM entries", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?
        .filter(|&idx| idx < 0))
}

pub(crate) fn orphan_personal(conn: &Connection, size: u64) -> Result<Option<(i64, String)>> {
    Ok(conn
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
