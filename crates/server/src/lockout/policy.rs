//! How hard the server pushes back on failed logins: the attempt limits, the lock duration,
//! the slowing before the lock and the size of the table, checked against PCI DSS 8.3.4 (at
//! most 10 attempts, at least 30 minutes) unless the caller asks, by name, for less.

use std::time::Duration;

/// PCI DSS 8.3.4: lock after not more than this many invalid attempts.
pub const PCI_MAX_ATTEMPTS: u32 = 10;
/// PCI DSS 8.3.4: keep the lock for at least this long (or until an administrator unlocks).
pub const PCI_MIN_DURATION: Duration = Duration::from_secs(30 * 60);
/// Failures from one client address before that address is locked, by default.
pub const DEFAULT_ADDRESS_MAX_ATTEMPTS: u32 = 50;
/// Credentials and addresses tracked at most, by default (a few megabytes).
pub const DEFAULT_MAX_TRACKED: usize = 50_000;
/// The first pause once slowing starts; each further failure doubles it.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
/// The longest pause before the lock itself.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The lockout policy of a server (PCI DSS 8.3.4, NIST SP 800-53 AC-7).
///
/// Failed authentications are counted per credential (an API key id, or the subject of an
/// OIDC token whose signature verified), per credential at one client address, and per
/// client address. Past half its limit a counter slows its holder down (a pause of 1 s,
/// doubling with each failure, at most 60 s); at the limit it locks for [`duration`].
/// [`LockoutPolicy::default`] is PCI's: 10 attempts, 30 minutes.
///
/// [`duration`]: LockoutPolicy::duration
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutPolicy {
    max_attempts: u32,
    duration: Duration,
    address_max_attempts: u32,
    max_tracked: usize,
    backoff: Duration,
}

/// A policy weaker than PCI DSS 8.3.4 asked for without saying so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WeakLockout(String);

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_attempts: PCI_MAX_ATTEMPTS,
            duration: PCI_MIN_DURATION,
            address_max_attempts: DEFAULT_ADDRESS_MAX_ATTEMPTS,
            max_tracked: DEFAULT_MAX_TRACKED,
            backoff: DEFAULT_BACKOFF,
        }
    }
}

impl LockoutPolicy {
    /// A policy locking a credential after `max_attempts` failures for `duration`; refused
    /// when it is weaker than PCI DSS 8.3.4 (more than 10 attempts, under 30 minutes, or 0
    /// attempts, which would switch credential lockout off).
    pub fn new(max_attempts: u32, duration: Duration) -> Result<Self, WeakLockout> {
        if max_attempts == 0 || max_attempts > PCI_MAX_ATTEMPTS {
            return Err(WeakLockout(format!(
                "a lockout after {max_attempts} failed attempts is weaker than PCI DSS 8.3.4 \
                 (1 to {PCI_MAX_ATTEMPTS})"
            )));
        }
        if duration < PCI_MIN_DURATION {
            return Err(WeakLockout(format!(
                "a lockout of {} is shorter than PCI DSS 8.3.4's 30 minutes",
                format_duration(duration)
            )));
        }
        Ok(Self::danger_weaker_than_pci(max_attempts, duration))
    }

    /// A policy with any limits, including ones PCI DSS 8.3.4 does not allow: `max_attempts`
    /// 0 switches credential lockout off, and a duration under 30 minutes (down to 1 s) is
    /// kept. For tests, and for deployments whose assessor accepts a compensating control.
    pub fn danger_weaker_than_pci(max_attempts: u32, duration: Duration) -> Self {
        Self {
            max_attempts,
            duration: duration.max(Duration::from_secs(1)),
            ..Self::default()
        }
    }

    /// No lockout at all: every failed login is still a ledger event, but nothing is
    /// slowed or locked. For load tests and fuzzing that need many refusals from one host.
    pub fn danger_disabled() -> Self {
        Self {
            max_attempts: 0,
            address_max_attempts: 0,
            ..Self::default()
        }
    }

    /// Failures from one client address (whatever credential it presents) before the
    /// address is locked; 0 turns the address counter off (for a server behind a proxy
    /// that hides the clients' addresses). Not a PCI limit: any value is accepted.
    pub fn with_address_max_attempts(mut self, attempts: u32) -> Self {
        self.address_max_attempts = attempts;
        self
    }

    /// How many credentials and addresses are tracked at most (at least 16); beyond, the
    /// least recently seen unlocked entries are forgotten first.
    pub fn with_max_tracked(mut self, entries: usize) -> Self {
        self.max_tracked = entries.max(16);
        self
    }

    /// The first pause once slowing starts (default 1 s; at most 60 s).
    pub fn with_backoff(mut self, first_pause: Duration) -> Self {
        self.backoff = first_pause.min(MAX_BACKOFF);
        self
    }

    /// Failures of one credential (and of one credential at one address) before it locks;
    /// 0 when credential lockout is off.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How long a lock lasts unless an administrator lifts it first.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Failures from one address before it locks; 0 when off.
    pub fn address_max_attempts(&self) -> u32 {
        self.address_max_attempts
    }

    /// The most entries the table holds.
    pub fn max_tracked(&self) -> usize {
        self.max_tracked
    }

    /// Whether this policy is weaker than PCI DSS 8.3.4 (to warn about at startup).
    pub fn is_weaker_than_pci(&self) -> bool {
        self.max_attempts == 0
            || self.max_attempts > PCI_MAX_ATTEMPTS
            || self.duration < PCI_MIN_DURATION
    }

    /// The pause after the `failures`-th failure of a counter with limit `limit`: none up to
    /// half the limit, then the first pause doubling with each failure, at most 60 s.
    pub(crate) fn pause_after(&self, failures: u32, limit: u32) -> Option<Duration> {
        let slow_after = limit / 2;
        if failures <= slow_after {
            return None;
        }
        let doublings = (failures - slow_after - 1).min(16);
        Some(
            self.backoff
                .saturating_mul(1 << doublings)
                .min(MAX_BACKOFF.min(self.duration)),
        )
    }
}

/// Parses a duration as `90s`, `30m`, `2h`, `1d` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. `30m`, `2h`, `1800`)"))?;
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}` (use s, m, h or d)"
            ))
        }
    };
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// `30m`, `90s`, `2h`: the shortest exact form.
pub fn format_duration(duration: Duration) -> String {
    let s = duration.as_secs();
    match s {
        0 => format!("{}ms", duration.as_millis()),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_limits_are_refused_unless_asked_for_by_name() {
        assert!(LockoutPolicy::new(10, PCI_MIN_DURATION).is_ok());
        assert!(LockoutPolicy::new(3, Duration::from_secs(3600)).is_ok());
        let many = LockoutPolicy::new(11, PCI_MIN_DURATION).unwrap_err();
        assert!(many.to_string().contains("PCI DSS 8.3.4"));
        assert!(LockoutPolicy::new(0, PCI_MIN_DURATION).is_err());
        assert!(LockoutPolicy::new(5, Duration::from_secs(29 * 60)).is_err());
        let weak = LockoutPolicy::danger_weaker_than_pci(100, Duration::from_secs(5));
        assert!(weak.is_weaker_than_pci());
        assert!(!LockoutPolicy::default().is_weaker_than_pci());
    }

    #[test]
    fn slowing_starts_at_half_the_limit_and_doubles_to_a_ceiling() {
        let p = LockoutPolicy::default();
        assert_eq!(p.pause_after(5, 10), None);
        assert_eq!(p.pause_after(6, 10), Some(Duration::from_secs(1)));
        assert_eq!(p.pause_after(9, 10), Some(Duration::from_secs(8)));
        assert_eq!(p.pause_after(49, 50), Some(Duration::from_secs(60)));
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1800"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
        assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    }
}
