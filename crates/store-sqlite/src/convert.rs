//! The trait speaks `u64` indexes and sizes, SQLite stores `i64`: the two conversions, in one
//! place.

use evident_core::{Error, Result};

/// A stored integer as an index or size (a negative one, which only tampering leaves, as 0).
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

/// An index or size as SQLite stores it; one past `i64::MAX` is refused.
pub(crate) fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::BadRequest(format!("index {v} out of range")))
}
