//! The detect crate's one error type.

use thiserror::Error;

/// Everything loading rules or scanning can fail at.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file is not valid TOML or does not follow the rule format.
    #[error("rule file {origin}: {message}")]
    RuleFile {
        /// where the rules came from (a path or `built-in`)
        origin: String,
        /// what is wrong, from the TOML parser or the rule check
        message: String,
    },
    /// One rule is invalid: its regex does not compile, its group does not exist, …
    #[error("rule `{id}`: {message}")]
    Rule {
        /// the rule id
        id: String,
        /// what is wrong
        message: String,
    },
    /// Reading the input failed.
    #[error("{context}: {cause}")]
    Io {
        /// what was being read
        context: String,
        /// the cause (part of the message, so error chains do not print it twice)
        cause: std::io::Error,
    },
    /// The fingerprint key is unusable.
    #[error("fingerprint key: {0}")]
    Key(String),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |cause| Self::Io { context, cause }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
