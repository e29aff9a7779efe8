//! The privacy part's error type for file checks (anonymity, Safe Harbor): every message
//! names the file, and where it can the line and the column, so a bad input is fixed at once.
//! (Erasure runs inside the engine and answers the core's error; data-subject requests
//! answer this one and carry the engine's errors in [`Error::Engine`].)

use std::path::PathBuf;

/// Why an anonymity or Safe Harbor check could not run. Messages are lowercase; values from
/// the file are quoted in backticks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// the file could not be read or written
    #[error("{}: {source}", file.display())]
    Io {
        /// the file
        file: PathBuf,
        /// what the system said
        source: std::io::Error,
    },
    /// the file holds no data row
    #[error("{}: the file has no data rows", file.display())]
    Empty {
        /// the file
        file: PathBuf,
    },
    /// a CSV row with more or fewer fields than the header
    #[error("{}, line {line}: {found} fields where the header has {expected}", file.display())]
    Ragged {
        /// the file
        file: PathBuf,
        /// 1-based line of the row
        line: u64,
        /// fields in the header
        expected: u64,
        /// fields in the row
        found: u64,
    },
    /// a row that could not be parsed (bad quoting, bad UTF-8, not a flat JSON object)
    #[error("{}, line {line}: {message}", file.display())]
    Parse {
        /// the file
        file: PathBuf,
        /// 1-based line
        line: u64,
        /// what is wrong
        message: String,
    },
    /// a column named on the command line that the file does not have
    #[error("{}: no column `{column}` (the columns are {available})", file.display())]
    MissingColumn {
        /// the file
        file: PathBuf,
        /// the column asked for
        column: String,
        /// the file's columns, listed
        available: String,
    },
    /// a value that is not a number in a column declared numeric
    #[error("{}, line {line}, column `{column}`: `{value}` is not a number (the column is declared numeric)", file.display())]
    NotNumeric {
        /// the file
        file: PathBuf,
        /// 1-based line
        line: u64,
        /// the column
        column: String,
        /// the value
        value: String,
    },
    /// a value of a quasi-identifier that its declared hierarchy does not list
    #[error("{}, line {line}, column `{column}`: `{value}` is not in the hierarchy {}", file.display(), hierarchy.display())]
    NotInHierarchy {
        /// the table
        file: PathBuf,
        /// 1-based line
        line: u64,
        /// the column
        column: String,
        /// the value
        value: String,
        /// the hierarchy file
        hierarchy: PathBuf,
    },
    /// a request that cannot be met as asked (no quasi-identifier, k of 0, k above the rows)
    #[error("{0}")]
    BadRequest(String),
    /// a data map that does not load or validate: every problem, each with its file and line
    #[error("{0}")]
    DataMap(crate::datamap::Diagnostics),
    /// an application database named in the data map could not be read
    #[error("system `{system}`: {message}")]
    Database {
        /// the data map's system
        system: String,
        /// what went wrong (never a sampled value)
        message: String,
    },
    /// the engine (ledger, store, keys) refused or failed
    #[error("{0}")]
    Engine(#[from] evident_core::Error),
    /// the detector could not be built
    #[error("the detector: {0}")]
    Detect(#[from] evident_detect::Error),
}

/// The privacy part's result for file checks.
pub type Result<T> = std::result::Result<T, Error>;
