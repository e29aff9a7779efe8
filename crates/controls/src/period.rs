//! The period a history is asked for, as people write it: a date (`2026-01-01`, from its
//! first moment, or with the end of a period to its last, UTC) or an RFC 3339 time; by
//! default the last 30 days. The CLI's `--from`/`--to` and the HTTP API's `?from=&to=` read
//! it the same way.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use evident_core::{Error, Result};

use crate::status::check_period;

/// How far back a period reaches when its start is not given: 30 days, in µs.
pub const DEFAULT_LOOKBACK_US: i64 = 30 * 86_400_000_000;

/// Parses one bound named `name` (`--from`, `from`): a date (its first moment, or with `end`
/// the first moment of the next day) or an RFC 3339 time; answers µs since the epoch.
pub fn parse_bound(text: &str, end: bool, name: &str) -> Result<i64> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1000)
            .map_err(|_| Error::BadRequest(format!("{name} `{text}` is out of range")));
    }
    let shown: String = text.chars().take(64).collect();
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
        Error::BadRequest(format!(
            "{name} `{shown}` is not a date (YYYY-MM-DD) or an RFC 3339 time"
        ))
    })?;
    let date = if end {
        date.next_day().ok_or_else(|| {
            Error::BadRequest(format!("{name} `{shown}` is the last date there is"))
        })?
    } else {
        date
    };
    let t = date.midnight().assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1000)
        .map_err(|_| Error::BadRequest(format!("{name} `{shown}` is out of range")))
}

/// The period from `from` to `to`, each a bound's name and its text if given (default: the
/// last 30 days up to `now_us`), checked to be in order and within 1970 … 9999.
pub fn period(
    (from_name, from): (&str, Option<&str>),
    (to_name, to): (&str, Option<&str>),
    now_us: i64,
) -> Result<(i64, i64)> {
    let from_us = match from {
        Some(text) => parse_bound(text, false, from_name)?,
        None => now_us - DEFAULT_LOOKBACK_US,
    };
    let to_us = match to {
        Some(text) => parse_bound(text, true, to_name)?,
        None => now_us + 1,
    };
    check_period(from_us, to_us)?;
    Ok((from_us, to_us))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        let day = 86_400_000_000;
        assert_eq!(parse_bound("1970-01-02", false, "from").unwrap(), day);
        assert_eq!(parse_bound("1970-01-02", true, "to").unwrap(), 2 * day);
        assert_eq!(
            parse_bound("1970-01-01T00:00:01Z", true, "to").unwrap(),
            1_000_000
        );
        let refused = parse_bound("yesterday", false, "from").unwrap_err();
        assert!(refused
            .to_string()
            .contains("from `yesterday` is not a date"));
    }

    #[test]
    fn a_period_defaults_to_the_last_30_days_and_must_be_in_order() {
        let now = 100 * 86_400_000_000;
        assert_eq!(
            period(("from", None), ("to", None), now).unwrap(),
            (now - DEFAULT_LOOKBACK_US, now + 1)
        );
        assert!(period(
            ("from", Some("2026-02-01")),
            ("to", Some("2026-01-01")),
            now
        )
        .is_err());
        assert!(period(
            ("from", Some("2026-01-01")),
            ("to", Some("2026-01-01")),
            now
        )
        .is_ok());
        assert!(period(("from", Some("1969-12-31")), ("to", None), now).is_err());
    }
}
