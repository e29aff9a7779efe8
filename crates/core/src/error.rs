//! The engine's one error type.

use thiserror::Error;

/// Everything the engine can refuse or fail at.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller sent something invalid; nothing was stored.
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// One entry is over the 64 KiB entry limit.
    #[error("event is {size} bytes once encoded; the limit is {limit} bytes")]
    TooLarge {
        /// the encoded size
        size: usize,
        /// the limit
        limit: usize,
    },
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A request parameter is out of range or malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The request is well formed but collides with what is stored (a key that already
    /// exists, a review already closed); nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// The stored log does not match its own signed checkpoints; nothing more is signed.
    #[error("log integrity failure: {0}")]
    Integrity(String),
    /// The data directory is missing, unreadable or of another version.
    #[error("data directory: {0}")]
    DataDir(String),
    /// An append could not be made durable; nothing from it was stored.
    #[error("append failed, nothing was stored: {0}")]
    AppendFailed(String),
    /// The disk (or the quota) holding the data directory is full: nothing from the write was
    /// stored, and writes succeed again once space is freed, without a restart.
    #[error("the data directory's disk is full, nothing was stored: {0}")]
    StorageFull(String),
    /// The sequencer has stopped (the engine is shutting down).
    #[error("the ledger is shut down")]
    ShutDown,
    /// The storage backend failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The ledger library refused something.
    #[error(transparent)]
    Ledger(#[from] evident_ledger::Error),
    /// A policy pack does not parse or validate; the active pack stays in force. The text
    /// holds Cedar's diagnostics.
    #[error("policy pack rejected: {0}")]
    Policy(String),
    /// The access part did not allow what was asked (the decision is in the ledger).
    #[error("{0}")]
    Denied(String),
    /// The request carries card verification codes, PIN blocks or track data, which are
    /// never stored; the text names the rule and the field, never the value.
    #[error("{0}")]
    SensitiveAuthenticationData(String),
    /// A key is missing, disabled or destroyed, or a ciphertext does not open.
    #[error("{0}")]
    Crypto(String),
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// what was being done
        context: String,
        /// the cause
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done: `.map_err(Error::io("reading X"))`.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }

    /// Whether this error means the data directory's disk or quota is full (SQLite's
    /// `SQLITE_FULL`, `ENOSPC`, `EDQUOT`): a condition that passes once space is freed.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Self::StorageFull(_) => true,
            Self::Storage(rusqlite::Error::SqliteFailure(failure, _)) => {
                failure.code == rusqlite::ErrorCode::DiskFull
            }
            Self::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        }
    }
}

impl From<evident_ledger::ProofError> for Error {
    fn from(e: evident_ledger::ProofError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

impl From<evident_ledger::NoteError> for Error {
    fn from(e: evident_ledger::NoteError) -> Self {
        Self::Ledger(e.into())
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::types::FromSqlError> for Error {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        Self::Integrity(format!("a stored value has the wrong type: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_recognised_from_sqlite_and_from_io() {
        let sqlite = Error::Storage(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        ));
        assert!(sqlite.is_storage_full());
        let io = Error::io("writing")(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(io.is_storage_full());
        assert!(Error::StorageFull("x".into()).is_storage_full());
        let busy = Error::Storage(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        ));
        assert!(!busy.is_storage_full());
        assert!(!Error::AppendFailed("x".into()).is_storage_full());
    }
}
