//! What a pseudonymization run is asked to do: the columns and their modes ([`Target`],
//! [`Mode`]), the normalisation, the format and the worker count ([`Plan`]), and what it did
//! ([`Counts`]). Running a plan over a stream is `stream.rs`.

use std::path::PathBuf;

use super::alphabet::Alphabet;
use super::key::Pseudonymizer;
use super::normalize::Normalization;
use crate::anonymity::Format;

/// How a column's values become pseudonyms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// keyed HMAC-SHA-256: `ps1.v<N>.<base64url>`
    Hmac,
    /// FF1 over an alphabet: same length, same alphabet
    Fpe(Alphabet),
}

impl Mode {
    /// `hmac` or `fpe:<alphabet>`, as recorded.
    pub fn label(self) -> String {
        match self {
            Mode::Hmac => "hmac".into(),
            Mode::Fpe(a) => format!("fpe:{}", a.name()),
        }
    }
}

/// One column to pseudonymize.
#[derive(Debug, Clone)]
pub struct Target {
    /// its name (CSV header, JSON key)
    pub column: String,
    /// how
    pub mode: Mode,
}

/// Rows read and values pseudonymized.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// data rows (CSV records after the header, non-blank JSON lines)
    pub rows: u64,
    /// values pseudonymized
    pub values: u64,
    /// empty strings and JSON nulls in the columns, left as they were
    pub skipped: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.rows += other.rows;
        self.values += other.values;
        self.skipped += other.skipped;
    }
}

/// What to do to a table.
#[derive(Debug)]
pub struct Plan<'p> {
    /// the domain's pseudonymizer
    pub pseudonymizer: &'p Pseudonymizer,
    /// the columns and their modes
    pub targets: Vec<Target>,
    /// applied to every value first
    pub normalization: Normalization,
    /// CSV or JSON lines
    pub format: Format,
    /// the input's name, for messages (`-` for stdin)
    pub file: PathBuf,
    /// worker threads (at least 1)
    pub workers: usize,
}

impl Plan<'_> {
    /// Pseudonymizes one value in `mode`, appending to `out`.
    pub fn apply(&self, mode: Mode, value: &str, out: &mut String) -> evident_core::Result<()> {
        match mode {
            Mode::Hmac => {
                self.pseudonymizer
                    .pseudonym_into(value, self.normalization, out);
                Ok(())
            }
            Mode::Fpe(alphabet) => {
                out.push_str(
                    &self
                        .pseudonymizer
                        .fpe(value, alphabet, self.normalization)?,
                );
                Ok(())
            }
        }
    }
}
