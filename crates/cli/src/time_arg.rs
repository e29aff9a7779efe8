//! Times on the command line: a date (YYYY-MM-DD, UTC) or an RFC 3339 time, as the
//! controls and evidence verbs take them — read as the HTTP API reads them
//! (`evident::controls::period`).

use anyhow::Result;

/// Parses a time flag (`--from`, `--to`, `--until`, `--valid-until` …): a date (its first
/// moment, or with `end`, the first moment of the next day) or an RFC 3339 time; answers µs
/// since the epoch.
pub fn when(text: &str, end: bool, flag: &str) -> Result<i64> {
    Ok(evident::controls::period::parse_bound(text, end, flag)?)
}
