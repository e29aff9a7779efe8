//! Reading a map file: size and encoding checks, TOML with spans, then validation; every
//! failure a [`Diagnostics`] at the line at fault.

use std::path::Path;

use super::model::{raw, DataMap};
use super::source::{line_column, Diagnostic, Diagnostics};
use super::validate;
use crate::{Error, Result};

/// The largest map file read.
pub const MAX_MAP_BYTES: usize = 4 << 20;

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
    let raw: raw::Map = toml::from_str(text).map_err(|e| {
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
