//! The dates and times verbs take for a period (`--from`, `--to`): a date or an RFC 3339
//! time, shared by `controls history`, `controls oscal results` and the `evidence` verbs.

use anyhow::{Context, Result};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Parses `--from` / `--to`: a date (its first moment, or with `end`, the first moment of the
/// next day) or an RFC 3339 time; answers µs since the epoch.
pub fn when(text: &str, end: bool, flag: &str) -> Result<i64> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1000) as i64);
    }
    let date =
        Date::parse(text, format_description!("[year]-[month]-[day]")).with_context(|| {
            format!("{flag} `{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time")
        })?;
    let date = if end {
        date.next_day()
            .with_context(|| format!("{flag} `{text}` is the last date there is"))?
    } else {
        date
    };
    let t = date.midnight().assume_utc();
    Ok((t.unix_timestamp_nanos() / 1000) as i64)
}
