//! Personal values stored beside the tree (`personal`): read per entry, erased per data
//! subject (with their consent records), purged by age per action (retention), and resealed in place when the personal-data key changes. The entries' commitments
//! never change, so erasure and resealing leave every proof intact.

use rusqlite::{params, Connection, TransactionBehavior};

use evident_core::store::{ResealFn, StoredPersonal};
use evident_core::Result;

use crate::convert::{to_i64, to_u64};

pub(crate) fn personal_of(conn: &Connection, index: u64) -> Result<Vec<StoredPersonal>> {
    let mut stmt = conn.prepare_cached(
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

pub(crate) fn erase_subject(conn: &mut Connection, subject: &str) -> Result<u64> {
    // One transaction: the subject's personal values and consent records go together.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute("DELETE FROM personal WHERE subject = ?1", [subject])?;
    crate::consent::erase_consent(&tx, subject)?;
    tx.commit()?;
    Ok(n as u64)
}

pub(crate) fn purge_personal(conn: &mut Connection, action: &str, before_us: i64) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = match action.strip_suffix('*') {
        Some(prefix) => tx.execute(
            "DELETE FROM personal WHERE idx IN (SELECT idx FROM entries \
             WHERE substr(action, 1, length(?1)) = ?1 AND received_us < ?2)",
            params![prefix, before_us],
        )?,
        None => tx.execute(
            "DELETE FROM personal WHERE idx IN (SELECT idx FROM entries \
             WHERE action = ?1 AND received_us < ?2)",
            params![action, before_us],
        )?,
    };
    tx.commit()?;
    Ok(n as u64)
}

pub(crate) fn reseal_personal(conn: &mut Connection, seal: &mut ResealFn<'_>) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
