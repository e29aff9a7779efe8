//! The notification clocks of an incident, which all run from its discovery: what must be
//! notified to whom, by when, and whether it was done, is due or is overdue — a pure
//! function of the incident's classification, its notifications and an injected `now`, so
//! every edge is testable.
//!
//! | when | who | by | rule |
//! |---|---|---|---|
//! | personal data | the supervisory authority | discovery + 72 h | GDPR Art. 33(1) |
//! | personal data | the data subjects | without undue delay, when the breach is likely to result in a high risk (no fixed clock) | GDPR Art. 34 |
//! | PHI | the individuals | discovery + 60 days | HIPAA 164.404(b) |
//! | PHI, 500 or more individuals | HHS | discovery + 60 days | HIPAA 164.408(b) |
//! | PHI, more than 500 individuals | prominent media outlets, if more than 500 residents of one State or jurisdiction | discovery + 60 days | HIPAA 164.406 |
//! | PHI, fewer than 500 individuals | HHS, in the annual log | the end of the 60th day after the end of the calendar year of discovery | HIPAA 164.408(c) |
//! | card data | the acquirer and card brands | per the brands' rules (no fixed clock here) | PCI DSS 12.10.1 |
//!
//! A deadline is an instant and holds at that instant: notified at or before it is `done`,
//! after it `late`; not notified, `due` up to and including it and `overdue` from the next
//! microsecond. PHI with the count of individuals not yet known is held to the 500-or-more
//! clock until the count is given.

use serde::Serialize;
use time::{Date, Month, OffsetDateTime, Time};

use evident_core::event::format_time;

/// An hour, µs.
pub const HOUR_US: i64 = 3_600_000_000;
/// A day, µs.
pub const DAY_US: i64 = 24 * HOUR_US;
/// GDPR Art. 33(1): 72 hours.
pub const GDPR_AUTHORITY_US: i64 = 72 * HOUR_US;
/// HIPAA 164.404–408: 60 days.
pub const HIPAA_US: i64 = 60 * DAY_US;
/// HIPAA 164.408(b): HHS is notified with the individuals from this many individuals.
pub const HHS_THRESHOLD: u64 = 500;

/// The supervisory authority (GDPR).
pub const SUPERVISORY_AUTHORITY: &str = "supervisory-authority";
/// The affected individuals or data subjects.
pub const INDIVIDUALS: &str = "individuals";
/// The US Department of Health and Human Services.
pub const HHS: &str = "hhs";
/// Prominent media outlets.
pub const MEDIA: &str = "media";
/// The acquirer and the card brands.
pub const CARD_BRANDS: &str = "card-brands";
/// Anyone else (law enforcement, a customer, an insurer).
pub const OTHER: &str = "other";
/// Every recipient a notification may name.
pub const RECIPIENTS: [&str; 6] = [
    SUPERVISORY_AUTHORITY,
    INDIVIDUALS,
    HHS,
    MEDIA,
    CARD_BRANDS,
    OTHER,
];

/// What an incident touched, as far as the clocks are concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touched {
    /// personal data (GDPR)
    pub personal_data: bool,
    /// protected health information (HIPAA)
    pub phi: bool,
    /// cardholder data (PCI DSS)
    pub card_data: bool,
    /// individuals affected, when known
    pub subjects: Option<u64>,
}

/// A notification made: to whom and when, µs.
#[derive(Debug, Clone, Copy)]
pub struct Made<'a> {
    /// the recipient
    pub recipient: &'a str,
    /// when, µs
    pub at_us: i64,
}

/// One notification an incident owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Obligation {
    /// to whom (one of [`RECIPIENTS`])
    pub recipient: &'static str,
    /// the rule that asks for it
    pub rule: &'static str,
    /// what is owed, in words
    pub what: String,
    /// the deadline, RFC 3339 (none: no fixed clock)
    pub due: Option<String>,
    /// µs of `due`
    #[serde(skip)]
    pub due_us: Option<i64>,
    /// `done`, `late`, `due`, `overdue`, or `open` (no fixed clock, not yet notified)
    pub state: &'static str,
    /// the first notification to this recipient, RFC 3339
    pub notified_at: Option<String>,
    /// a condition or caveat
    pub note: Option<String>,
}

impl Obligation {
    /// Whether it is overdue.
    pub fn overdue(&self) -> bool {
        self.state == "overdue"
    }
}

/// The end of the 60th day after the end of the calendar year of `discovered_us` (the last
/// microsecond of 1 March, or of 29 February in a leap year), µs.
pub fn annual_log_due(discovered_us: i64) -> i64 {
    let year = OffsetDateTime::from_unix_timestamp_nanos(i128::from(discovered_us) * 1000)
        .map_or(1970, |t| t.year());
    let next = Date::from_calendar_date(year.saturating_add(1), Month::January, 1)
        .map(|d| d.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp())
        .unwrap_or(0);
    next.saturating_mul(1_000_000)
        .saturating_add(HIPAA_US)
        .saturating_sub(1)
}

/// Every notification owed by an incident discovered at `discovered_us` that touched
/// `touched`, given the notifications `made`, as of `now_us`.
pub fn obligations(
    touched: Touched,
    discovered_us: i64,
    made: &[Made<'_>],
    now_us: i64,
) -> Vec<Obligation> {
    let first = |recipient: &str| {
        made.iter()
            .filter(|m| m.recipient == recipient)
            .map(|m| m.at_us)
            .min()
    };
    let owe = |recipient: &'static str,
               rule: &'static str,
               what: &str,
               due_us: Option<i64>,
               note: Option<&str>| {
        let notified = first(recipient);
        let state = match (notified, due_us) {
            (Some(at), Some(due)) if at > due => "late",
            (Some(_), _) => "done",
            (None, Some(due)) if now_us > due => "overdue",
            (None, Some(_)) => "due",
            (None, None) => "open",
        };
        Obligation {
            recipient,
            rule,
            what: what.to_string(),
            due: due_us.map(format_time),
            due_us,
            state,
            notified_at: notified.map(format_time),
            note: note.map(str::to_string),
        }
    };
    let after = |us: i64| Some(discovered_us.saturating_add(us));
    let mut owed = Vec::new();
    if touched.personal_data {
        owed.push(owe(
            SUPERVISORY_AUTHORITY,
            "GDPR Art. 33(1)",
            "notify the supervisory authority within 72 hours of discovery",
            after(GDPR_AUTHORITY_US),
            Some("unless the breach is unlikely to result in a risk to people's rights and freedoms; a later notification gives the reasons for the delay"),
        ));
        owed.push(owe(
            INDIVIDUALS,
            "GDPR Art. 34",
            "tell the data subjects without undue delay",
            None,
            Some("when the breach is likely to result in a high risk to them"),
        ));
    }
    if touched.phi {
        owed.push(owe(
            INDIVIDUALS,
            "HIPAA 164.404(b)",
            "notify each individual whose PHI was breached, within 60 days of discovery",
            after(HIPAA_US),
            None,
        ));
        match touched.subjects {
            Some(n) if n < HHS_THRESHOLD => owed.push(owe(
                HHS,
                "HIPAA 164.408(c)",
                &format!("log the breach ({n} individuals, fewer than 500) for HHS within 60 days after the end of the calendar year"),
                Some(annual_log_due(discovered_us)),
                None,
            )),
            n => {
                let unknown = n.is_none();
                owed.push(owe(
                    HHS,
                    "HIPAA 164.408(b)",
                    "notify HHS (500 or more individuals) with the individuals, within 60 days of discovery",
                    after(HIPAA_US),
                    unknown.then_some("the number of individuals is not yet known: held to the 500-or-more clock until `classify` gives it"),
                ));
                if n.is_none_or(|n| n > HHS_THRESHOLD) {
                    owed.push(owe(
                        MEDIA,
                        "HIPAA 164.406",
                        "notify prominent media outlets within 60 days of discovery",
                        after(HIPAA_US),
                        Some("only when more than 500 residents of one State or jurisdiction are affected"),
                    ));
                }
            }
        }
    }
    if touched.card_data {
        owed.push(owe(
            CARD_BRANDS,
            "PCI DSS 12.10.1",
            "notify the acquirer and the card brands as the incident response plan and the brands' rules require",
            None,
            Some("the brands' own rules set the clock (often within 24 hours)"),
        ));
    }
    owed
}

#[cfg(test)]
mod tests {
    use super::*;
    use evident_core::event::parse_time;

    fn at(text: &str) -> i64 {
        parse_time(text).unwrap_or(0)
    }

    fn state(owed: &[Obligation], recipient: &str) -> Option<&'static str> {
        owed.iter()
            .find(|o| o.recipient == recipient)
            .map(|o| o.state)
    }

    const GDPR: Touched = Touched {
        personal_data: true,
        phi: false,
        card_data: false,
        subjects: Some(3),
    };

    #[test]
    fn the_gdpr_clock_holds_at_exactly_72_hours_and_is_overdue_a_microsecond_later() {
        let found = at("2026-03-01T10:00:00Z");
        let exactly = found + GDPR_AUTHORITY_US;
        assert_eq!(
            state(
                &obligations(GDPR, found, &[], exactly),
                SUPERVISORY_AUTHORITY
            ),
            Some("due")
        );
        assert_eq!(
            state(
                &obligations(GDPR, found, &[], exactly + 1),
                SUPERVISORY_AUTHORITY
            ),
            Some("overdue")
        );
        let on_time = [Made {
            recipient: SUPERVISORY_AUTHORITY,
            at_us: exactly,
        }];
        assert_eq!(
            state(
                &obligations(GDPR, found, &on_time, exactly + DAY_US),
                SUPERVISORY_AUTHORITY
            ),
            Some("done")
        );
        let late = [Made {
            recipient: SUPERVISORY_AUTHORITY,
            at_us: exactly + 1,
        }];
        assert_eq!(
            state(
                &obligations(GDPR, found, &late, exactly + DAY_US),
                SUPERVISORY_AUTHORITY
            ),
            Some("late")
        );
        let owed = obligations(GDPR, found, &[], found);
        assert_eq!(owed[0].due.as_deref(), Some("2026-03-04T10:00:00Z"));
        assert_eq!(state(&owed, INDIVIDUALS), Some("open"));
        assert_eq!(state(&owed, HHS), None, "no PHI, no HHS");
    }

    fn phi(n: u64) -> Touched {
        Touched {
            personal_data: false,
            phi: true,
            card_data: false,
            subjects: Some(n),
        }
    }

    #[test]
    fn hhs_is_notified_at_once_from_500_individuals_and_media_above_500() {
        let found = at("2026-05-10T00:00:00Z");
        let sixty = Some(found + HIPAA_US);
        let hhs = |n| {
            obligations(phi(n), found, &[], found)
                .into_iter()
                .find(|o| o.recipient == HHS)
        };
        let media = |n| {
            obligations(phi(n), found, &[], found)
                .iter()
                .any(|o| o.recipient == MEDIA)
        };
        assert_eq!(hhs(499).and_then(|o| o.due_us), Some(annual_log_due(found)));
        assert_eq!(hhs(499).map(|o| o.rule), Some("HIPAA 164.408(c)"));
        assert_eq!(hhs(500).and_then(|o| o.due_us), sixty);
        assert_eq!(hhs(501).and_then(|o| o.due_us), sixty);
        assert!(!media(499));
        assert!(!media(500));
        assert!(media(501));
        let individuals = obligations(phi(1), found, &[], found)
            .into_iter()
            .find(|o| o.recipient == INDIVIDUALS)
            .and_then(|o| o.due);
        assert_eq!(individuals.as_deref(), Some("2026-07-09T00:00:00Z"));
        let unknown = Touched {
            subjects: None,
            ..phi(0)
        };
        let owed = obligations(unknown, found, &[], found);
        assert_eq!(
            owed.iter()
                .find(|o| o.recipient == HHS)
                .and_then(|o| o.due_us),
            sixty
        );
    }

    #[test]
    fn the_annual_log_is_due_60_days_after_the_year_of_discovery_ends() {
        // discovered on the year's last microsecond: next year's log, due 1 March's end
        let last = at("2026-12-31T23:59:59.999999Z");
        assert_eq!(
            format_time(annual_log_due(last)),
            "2027-03-01T23:59:59.999999Z"
        );
        // a microsecond later it is the next year's breach
        assert_eq!(
            format_time(annual_log_due(last + 1)),
            "2028-02-29T23:59:59.999999Z",
            "2028 is a leap year: 60 days after 31 December end on 29 February"
        );
        let found = at("2026-01-15T08:00:00Z");
        let due = annual_log_due(found);
        let hhs = |now| state(&obligations(phi(10), found, &[], now), HHS);
        assert_eq!(hhs(due), Some("due"));
        assert_eq!(hhs(due + 1), Some("overdue"));
    }

    #[test]
    fn card_data_owes_the_brands_without_a_fixed_clock() {
        let card = Touched {
            card_data: true,
            ..Touched::default()
        };
        let owed = obligations(card, 0, &[], 1);
        assert_eq!(owed.len(), 1);
        assert_eq!((owed[0].recipient, owed[0].state), (CARD_BRANDS, "open"));
        assert!(obligations(Touched::default(), 0, &[], 1).is_empty());
    }
}
