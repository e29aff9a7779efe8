//! The cutoff of a retention period: `now` less the period, counted on the calendar (years
//! and months move the date, a day past the end of a shorter month is clamped to its last
//! day; weeks and days are whole days), and the cutoff written as the text a column of the
//! given type compares with.

use crate::datamap::Retention;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn month_days(y: i64, m: u32) -> u32 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    (next - days_from_civil(y, m, 1)) as u32
}

/// `now_us` less `period`, in µs since the epoch (UTC).
pub fn cutoff_us(now_us: i64, period: &Retention) -> i64 {
    const DAY: i64 = 86_400_000_000;
    let days = now_us.div_euclid(DAY);
    let in_day = now_us.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let months =
        y * 12 + i64::from(m) - 1 - i64::from(period.years) * 12 - i64::from(period.months);
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
    let d = d.min(month_days(y, m));
    let days = days_from_civil(y, m, d) - i64::from(period.weeks) * 7 - i64::from(period.days);
    days * DAY + in_day
}

/// How a column of live type `ty` is compared with the cutoff, or why it cannot be.
pub fn cutoff_text(cutoff_us: i64, ty: &str) -> Result<String, String> {
    let ty = ty.to_ascii_lowercase();
    let secs = cutoff_us.div_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let date = format!("{y:04}-{m:02}-{d:02}");
    let time = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if ty.contains("timestamp with time zone") || ty == "timestamptz" {
        Ok(format!("{date} {time}+00"))
    } else if ty.contains("time") {
        Ok(format!("{date} {time}"))
    } else if ty.contains("date") {
        Ok(date)
    } else if ty.is_empty() || crate::dsr::strategy::is_text_type(&ty) {
        // Text holding ISO 8601 dates or timestamps compares as text.
        Ok(format!("{date} {time}"))
    } else {
        Err(format!(
            "its retention_from column is `{ty}`; a date, a timestamp or ISO 8601 text is needed"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * 86_400_000_000
    }

    #[test]
    fn periods_count_on_the_calendar() {
        let r = |t: &str| Retention::parse(t).unwrap();
        assert_eq!(cutoff_us(at(2025, 6, 15), &r("1y")), at(2024, 6, 15));
        assert_eq!(cutoff_us(at(2024, 3, 31), &r("1m")), at(2024, 2, 29));
        assert_eq!(cutoff_us(at(2024, 2, 29), &r("1y")), at(2023, 2, 28));
        assert_eq!(cutoff_us(at(2025, 1, 10), &r("1y6m2w3d")), at(2023, 6, 23));
        assert_eq!(cutoff_us(at(2025, 1, 1), &r("90d")), at(2024, 10, 3));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn cutoff_text_follows_the_column_type() {
        let c = at(2024, 6, 15) + 3_600_000_000;
        assert_eq!(cutoff_text(c, "date").unwrap(), "2024-06-15");
        assert_eq!(
            cutoff_text(c, "timestamp without time zone").unwrap(),
            "2024-06-15 01:00:00"
        );
        assert_eq!(
            cutoff_text(c, "timestamp with time zone").unwrap(),
            "2024-06-15 01:00:00+00"
        );
        assert_eq!(cutoff_text(c, "text").unwrap(), "2024-06-15 01:00:00");
        assert!(cutoff_text(c, "integer").is_err());
    }
}
