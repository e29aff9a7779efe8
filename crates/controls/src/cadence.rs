//! How often a control is checked or attested: `30m`, `1h`, `12h`, `1d`, `7d`, `90d`, `365d`.

use std::fmt;

use serde::Serialize;

/// A cadence, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Cadence(u64);

impl Cadence {
    /// The shortest cadence a catalog may ask for: checks read the whole engine.
    pub const MIN_SECONDS: u64 = 60;
    /// The longest: a year and a day.
    pub const MAX_SECONDS: u64 = 366 * 86_400;

    /// Parses `N` followed by `m`, `h` or `d`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || {
            format!(
                "cadence `{text}` is not a number followed by m, h or d (e.g. `1h`, `1d`, `90d`)"
            )
        };
        let unit = text.chars().last().ok_or_else(bad)?;
        let number: u64 = text[..text.len() - unit.len_utf8()]
            .parse()
            .map_err(|_| bad())?;
        let seconds = match unit {
            'm' => number.checked_mul(60),
            'h' => number.checked_mul(3_600),
            'd' => number.checked_mul(86_400),
            _ => return Err(bad()),
        }
        .ok_or_else(bad)?;
        if !(Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(format!("cadence `{text}` is outside 1m … 366d"));
        }
        Ok(Self(seconds))
    }

    /// The cadence in seconds.
    pub fn seconds(self) -> u64 {
        self.0
    }

    /// The cadence in µs.
    pub fn micros(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX / 1_000_000) * 1_000_000
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s.is_multiple_of(3_600) {
            write!(f, "{}h", s / 3_600)
        } else {
            write!(f, "{}m", s / 60)
        }
    }
}

impl From<Cadence> for String {
    fn from(c: Cadence) -> String {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadences_parse_print_and_refuse_nonsense() {
        assert_eq!(Cadence::parse("1h").unwrap().seconds(), 3_600);
        assert_eq!(Cadence::parse("90d").unwrap().to_string(), "90d");
        assert_eq!(Cadence::parse("90m").unwrap().to_string(), "90m");
        assert_eq!(Cadence::parse("120m").unwrap().to_string(), "2h");
        for bad in [
            "",
            "d",
            "1w",
            "-1d",
            "0m",
            "400d",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(Cadence::parse(bad).is_err(), "{bad}");
        }
    }
}
