//! The period `evidence` verbs take: `--from` and `--to` as dates or RFC 3339 times.

use anyhow::Result;
use evident::controls::bundle::Period;

use crate::verbs::controls::when;

/// `--from` (a date's first moment) and `--to` (a date's last moment, so the period ends at
/// the next day's first), or RFC 3339 times; in order.
pub(super) fn period(from: &str, to: &str) -> Result<Period> {
    let period = Period {
        from_us: when(from, false, "--from")?,
        to_us: when(to, true, "--to")?,
    };
    evident::controls::check_period(period.from_us, period.to_us)?;
    Ok(period)
}
