//! The privacy data map: which application databases ("systems") hold personal data, in
//! which tables and columns, of which fideslang data categories, how every table joins to
//! the table that identifies the data subject, for which purpose and on which lawful basis,
//! for how long, and what erasure does to each column.
//!
//! The map is a TOML file ([`model::raw`] is its grammar; docs/privacy.md its reference).
//! [`parse`] reads and validates it in one go and answers either a [`DataMap`] or every
//! problem found, each with its file, line and column ([`Diagnostics`]). The data directory
//! keeps applied versions and the active one ([`store`]); each activation is a ledger event
//! carrying the map's SHA-256. [`introspect`] reads a SQLite or PostgreSQL schema and
//! samples values, and [`scan`] turns that into proposed categories and joins, schema drift,
//! and a TOML fragment to review.
//!
//! Data-subject requests, retention and the record of processing build on [`DataMap`]:
//! every table names its primary key and a [`Link`] that, followed table to table
//! ([`Table::path`]), reaches the identity table; every field names its [`Erasure`].

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub mod introspect;
pub mod model;
mod postgres;
pub mod scan;
pub mod store;
pub mod taxonomy;
mod validate;
pub mod write;

pub use model::{
    Connection, DataMap, Erasure, Field, LawfulBasis, Link, Retention, RowErasure, System, Table,
};

use crate::{Error, Result};

/// The largest map file read.
pub const MAX_MAP_BYTES: usize = 4 << 20;

/// One problem in a map file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// the file
    pub file: PathBuf,
    /// 1-based line
    pub line: usize,
    /// 1-based column (in characters)
    pub column: usize,
    /// what is wrong, lowercase, values in backticks
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Every problem found in a map file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// `sha256:<hex>` of a map's bytes: the hash its activation records.
pub fn hash(text: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// Reads and validates the map file at `path`.
pub fn load(path: &Path) -> Result<DataMap> {
    let text = read(path)?;
    parse(path, &text)
}

/// Reads a map file's text, refusing one larger than [`MAX_MAP_BYTES`] or not UTF-8.
pub fn read(path: &Path) -> Result<String> {
    let io = |source| Error::Io {
        file: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_MAP_BYTES as u64 {
        return Err(single(
            path,
            1,
            1,
            format!(
                "the map is {} bytes; the limit is {MAX_MAP_BYTES}",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, column) = line_column(&text, offset);
        single(path, line, column, "the map is not UTF-8 text".into())
    })
}

/// Validates map text read from `file` (named in the diagnostics).
pub fn parse(file: &Path, text: &str) -> Result<DataMap> {
    if text.len() > MAX_MAP_BYTES {
        return Err(single(
            file,
            1,
            1,
            format!(
                "the map is {} bytes; the limit is {MAX_MAP_BYTES}",
                text.len()
            ),
        ));
    }
    let raw: model::raw::Map = toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        single(file, line, column, toml_message(&e))
    })?;
    validate::validate(file, text, &raw).map_err(Error::DataMap)
}

fn toml_message(e: &toml::de::Error) -> String {
    let message = e.message().trim().to_owned();
    if message.is_empty() {
        "not valid TOML".into()
    } else {
        message
    }
}

fn single(file: &Path, line: usize, column: usize, message: String) -> Error {
    Error::DataMap(Diagnostics(vec![Diagnostic {
        file: file.to_path_buf(),
        line,
        column,
        message,
    }]))
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests;
