//! Response deadlines of a request: GDPR Art. 12(3) — one month from receipt, extendable once
//! by two further months with a reason; CCPA (Cal. Civ. Code 1798.130) — 45 days, extendable
//! once by 45 more. Months are calendar months (31 January + one month is 28/29 February).

use serde::Serialize;

/// The law a request is answered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    /// EU/UK GDPR
    Gdpr,
    /// California CCPA/CPRA
    Ccpa,
}

impl Regime {
    /// Reads `gdpr` or `ccpa`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "gdpr" => Some(Regime::Gdpr),
            "ccpa" => Some(Regime::Ccpa),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Regime::Gdpr => "gdpr",
            Regime::Ccpa => "ccpa",
        }
    }

    /// The first due date of a request received at `received_us`.
    pub fn due(self, received_us: i64) -> i64 {
        match self {
            Regime::Gdpr => add_months(received_us, 1),
            Regime::Ccpa => received_us + 45 * DAY_US,
        }
    }

    /// The due date after the one extension.
    pub fn extended(self, received_us: i64) -> i64 {
        match self {
            Regime::Gdpr => add_months(received_us, 3),
            Regime::Ccpa => received_us + 90 * DAY_US,
        }
    }
}

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;

/// `us` plus `months` calendar months, the day clamped to the target month's last.
pub fn add_months(us: i64, months: i64) -> i64 {
    let days = us.div_euclid(DAY_US);
    let in_day = us.rem_euclid(DAY_US);
    let (y, m, d) = civil(days);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let nd = d.min(month_days(ny, nm));
    days_from_civil(ny, nm, nd) * DAY_US + in_day
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_days(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(y: i64, m: i64, d: i64) -> i64 {
        days_from_civil(y, m, d) * DAY_US
    }

    #[test]
    fn months_are_calendar_months_clamped_to_the_last_day() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(add_months(us(2026, 1, 31), 1), us(2026, 2, 28));
        assert_eq!(add_months(us(2024, 1, 31), 1), us(2024, 2, 29));
        assert_eq!(add_months(us(2026, 11, 15), 3), us(2027, 2, 15));
        assert_eq!(Regime::Gdpr.due(us(2026, 3, 10)), us(2026, 4, 10));
        assert_eq!(Regime::Gdpr.extended(us(2026, 3, 10)), us(2026, 6, 10));
        assert_eq!(Regime::Ccpa.due(us(2026, 3, 10)), us(2026, 4, 24));
        assert_eq!(Regime::Ccpa.extended(us(2026, 3, 10)), us(2026, 6, 8));
    }
}
