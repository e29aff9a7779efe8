//! The period `evidence` verbs take: `--from` and `--to` as dates or RFC 3339 times.

use anyhow::Result;
use clap::Args;
use evident::controls::bundle::Period;

use crate::time_arg::when;

/// `--from` (a date's first moment) and `--to` (a date's last moment, so the period ends at
/// the next day's first), or RFC 3339 times; in order.
fn period(from: &str, to: &str) -> Result<Period> {
    let period = Period {
        from_us: when(from, false, "--from")?,
        to_us: when(to, true, "--to")?,
    };
    evident::controls::check_period(period.from_us, period.to_us)?;
    Ok(period)
}

/// The period flags, shared by the `evidence` verbs.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// Start: a date (YYYY-MM-DD, from its first moment, UTC) or an RFC 3339 time.
    #[arg(long)]
    pub from: String,
    /// End: a date (YYYY-MM-DD, through its last moment, UTC) or an RFC 3339 time.
    #[arg(long)]
    pub to: String,
}

impl PeriodArgs {
    /// The period the flags name, or why not.
    pub fn period(&self) -> Result<Period> {
        period(&self.from, &self.to)
    }
}
