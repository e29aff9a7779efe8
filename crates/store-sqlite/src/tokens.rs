//! The card token vault (`token_vault`): one token per card, format and kept digits, found by
//! the card's keyed index; the card number itself only sealed, or not at all.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use evident_core::store::{StoredToken, TokenInsert};
use evident_core::Result;

pub(crate) fn insert_tokens(
    conn: &mut Connection,
    tokens: &[StoredToken],
) -> Result<Vec<TokenInsert>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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

pub(crate) fn token_by_index(
    conn: &Connection,
    format: &str,
    keep: &str,
    pan_index: &[u8],
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT token FROM token_vault WHERE format = ?1 AND keep = ?2 AND pan_index = ?3",
        )?
        .query_row(params![format, keep, pan_index], |r| r.get(0))
        .optional()?)
}

pub(crate) fn token(conn: &Connection, token: &str) -> Result<Option<StoredToken>> {
    Ok(conn
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

pub(crate) fn token_counts(conn: &Connection) -> Result<Vec<(String, String, u64)>> {
    let mut stmt = conn.prepare(
        "SELECT format, keep, COUNT(*) FROM token_vault GROUP BY format, keep ORDER BY 1, 2",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
