//! What erasure writes in one field of one row, per the field's declared strategy, and
//! whether a value already is what erasure leaves (so a second run changes nothing and the
//! verification read can tell an erased value from a personal one).

use crate::datamap::{Erasure, Field};
use crate::{Error, Result};

use super::db::Value;
use super::keys::{is_keyed_hash, is_sealed, ErasureKeys};

/// The strategy's name as the map writes it.
pub fn name(erasure: &Erasure) -> &'static str {
    match erasure {
        Erasure::Null => "null",
        Erasure::Fixed { .. } => "fixed",
        Erasure::KeyedHash { .. } => "keyed_hash",
        Erasure::Random => "random",
        Erasure::EncryptThenShred => "encrypt_then_shred",
        Erasure::Keep { .. } => "keep",
    }
}

/// Whether a column type holds free text (what a keyed hash or a ciphertext needs).
pub fn is_text_type(ty: &str) -> bool {
    let ty = ty.to_ascii_lowercase();
    ty.is_empty()
        || ["text", "char", "clob", "string", "json"]
            .iter()
            .any(|t| ty.contains(t))
}

/// Refuses a strategy the column's live type cannot hold.
pub fn check_type(table: &str, field: &Field, ty: &str) -> Result<()> {
    if matches!(
        field.erasure,
        Erasure::KeyedHash { .. } | Erasure::EncryptThenShred
    ) && !is_text_type(ty)
    {
        return Err(Error::BadRequest(format!(
            "column `{table}.{}` is `{ty}`; {} writes text and needs a text column",
            field.name,
            name(&field.erasure)
        )));
    }
    Ok(())
}

/// Where a value sits: for the filler and the sealing context.
pub struct Cell<'a> {
    /// the system
    pub system: &'a str,
    /// the table
    pub table: &'a str,
    /// the row's primary key, its columns' text joined by `|`
    pub row: &'a str,
    /// the column's live type
    pub ty: &'a str,
}

/// The fixed value as text (a TOML scalar; `None` never happens for a validated map).
fn fixed_text(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// What erasure leaves in `current`: `None` when it is already that (nothing to write).
pub fn target(
    field: &Field,
    current: &Value,
    cell: &Cell<'_>,
    subject: &str,
    keys: &dyn ErasureKeys,
) -> Result<Option<Value>> {
    let want: Value = match &field.erasure {
        Erasure::Keep { .. } => return Ok(None),
        Erasure::Null => None,
        Erasure::Fixed { value } => fixed_text(value),
        Erasure::Random => Some(filler(field, cell, keys)?),
        Erasure::KeyedHash { key } => match current {
            None => None,
            Some(v) if is_keyed_hash(v) => return Ok(None),
            Some(v) => Some(keys.keyed_hash(key, v)?),
        },
        Erasure::EncryptThenShred => match current {
            None => None,
            Some(v) if is_sealed(v) => return Ok(None),
            Some(v) => Some(keys.seal_for_subject(
                subject,
                v,
                &format!("{}/{}/{}/{}", cell.system, cell.table, field.name, cell.row),
            )?),
        },
    };
    Ok((&want != current).then_some(want))
}

/// Whether `current` is what erasure leaves (`keep` fields always are).
pub fn is_erased(
    field: &Field,
    current: &Value,
    cell: &Cell<'_>,
    keys: &dyn ErasureKeys,
) -> Result<bool> {
    Ok(match &field.erasure {
        Erasure::Keep { .. } => true,
        Erasure::Null => current.is_none(),
        Erasure::Fixed { value } => *current == fixed_text(value),
        Erasure::Random => current.as_deref() == Some(filler(field, cell, keys)?.as_str()),
        Erasure::KeyedHash { .. } => current.as_deref().is_none_or(is_keyed_hash),
        Erasure::EncryptThenShred => current.as_deref().is_none_or(is_sealed),
    })
}

/// The `random` filler of a cell, shaped for the column's type: keyed by the cell's place,
/// never by its value.
fn filler(field: &Field, cell: &Cell<'_>, keys: &dyn ErasureKeys) -> Result<String> {
    let b = keys.filler(&format!(
        "{}/{}/{}/{}",
        cell.system, cell.table, field.name, cell.row
    ))?;
    let n = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let ty = cell.ty.to_ascii_lowercase();
    let date = || {
        format!(
            "{:04}-{:02}-{:02}",
            1900 + n % 100,
            1 + (n / 100) % 12,
            1 + (n / 1200) % 28
        )
    };
    Ok(if ty.contains("timestamp") || ty.contains("datetime") {
        format!("{} 00:00:00", date())
    } else if ty.contains("date") {
        date()
    } else if ty.contains("bool") {
        (n % 2 == 0).to_string()
    } else if ty.contains("uuid") {
        let h = hex::encode(&b[..16]);
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    } else if ty.contains("int")
        || ty.contains("serial")
        || ty.contains("numeric")
        || ty.contains("decimal")
        || ty.contains("real")
        || ty.contains("double")
        || ty.contains("float")
    {
        (1 + n % 30_000).to_string()
    } else {
        let text = hex::encode(&b[..16]);
        match max_length(&ty) {
            Some(max) => text.chars().take(max).collect(),
            None => text,
        }
    })
}

/// `n` of `character varying(n)`, `varchar(n)`, `char(n)`.
fn max_length(ty: &str) -> Option<usize> {
    let open = ty.find('(')?;
    let close = ty[open..].find(')')? + open;
    ty[open + 1..close].trim().parse().ok()
}
