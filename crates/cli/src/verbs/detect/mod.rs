//! The verbs of the detect part (`evident_detect`): finding card numbers, PHI and secrets in
//! files, streams, commits and editors.

mod detector;
mod git;
pub mod hook;
pub mod lsp;
pub mod redact;
pub mod scan;
