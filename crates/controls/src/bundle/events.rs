//! The events a bundle or sample reads, as it reads them: which actions it carries, what
//! each event says (control, times, result, what it covers), and which count for a period.
//! Building and verifying read them through this one file.

use std::collections::BTreeMap;

use serde_json::Value;

use evident_core::event::parse_time;

use crate::names::CHECK_ACTION;
pub use crate::names::POLICY_DOC_PUBLISHED;

/// Manual evidence uploaded by a person.
pub const EVIDENCE_ADDED: &str = "evidence.added";
/// Evidence ingested from a scanner or another tool.
pub const EVIDENCE_INGESTED: &str = "evidence.ingested";
/// An exception granted for a failing control.
pub const EXCEPTION_GRANTED: &str = "controls.exception.granted";
/// An exception withdrawn.
pub const EXCEPTION_REVOKED: &str = "controls.exception.revoked";
/// A policy version applied (the access part's event).
pub const POLICY_APPLIED: &str = "access.policy.applied";

/// What an event is to a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// a `controls.check` run
    Check,
    /// `evidence.added` or `evidence.ingested`
    Evidence,
    /// `controls.exception.granted`
    ExceptionGranted,
    /// `controls.exception.revoked`
    ExceptionRevoked,
    /// `access.policy.applied`
    Policy,
    /// `controls.policy_doc.published`
    PolicyDoc,
}

impl Kind {
    /// The kind of an action, if a bundle carries it.
    pub fn of(action: &str) -> Option<Self> {
        Some(match action {
            CHECK_ACTION => Kind::Check,
            EVIDENCE_ADDED | EVIDENCE_INGESTED => Kind::Evidence,
            EXCEPTION_GRANTED => Kind::ExceptionGranted,
            EXCEPTION_REVOKED => Kind::ExceptionRevoked,
            POLICY_APPLIED => Kind::Policy,
            POLICY_DOC_PUBLISHED => Kind::PolicyDoc,
            _ => return None,
        })
    }
}

/// A period: `from` inclusive, `to` exclusive, µs since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// start (inclusive)
    pub from_us: i64,
    /// end (exclusive)
    pub to_us: i64,
}

/// One ledger event read for a bundle or a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodEvent {
    /// its ledger index
    pub index: u64,
    /// what it is
    pub kind: Kind,
    /// its action
    pub action: String,
    /// the control it concerns
    pub control: Option<String>,
    /// its event time (a check's run time), µs
    pub time_us: i64,
    /// when the log received it, µs
    pub received_us: i64,
    /// a check's result (`pass`, `fail`, `error`, `inconclusive`)
    pub result: Option<String>,
    /// what it covers, µs, both inclusive: a check its run time; evidence its effective
    /// period when it states one; an exception from its grant to its `until`
    pub covers: (i64, i64),
    /// a check's catalog hash
    pub catalog: Option<String>,
    /// a policy version's number and hash; a policy document's version and SHA-256
    pub policy: Option<(u64, String)>,
    /// a published policy document's name
    pub document: Option<String>,
    /// what a check run states of its control, when it does
    pub declared: Option<Declared>,
}

/// What a check run states of its control (the catalog in force when it ran), which binds a
/// bundle's catalog member to the log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Declared {
    /// its title
    pub title: Option<String>,
    /// its cadence, in seconds
    pub cadence_seconds: Option<u64>,
    /// its requirement ids by framework
    pub frameworks: BTreeMap<String, Vec<String>>,
}

impl PeriodEvent {
    /// Reads entry `index`'s bytes; `Ok(None)` when its action is none a bundle carries.
    pub fn parse(index: u64, bytes: &[u8]) -> Result<Option<Self>, String> {
        let entry: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("entry {index} is not JSON: {e}"))?;
        let text = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).map(str::to_string);
        let Some(action) = text(&entry, "action") else {
            return Err(format!("entry {index} has no action"));
        };
        let Some(kind) = Kind::of(&action) else {
            return Ok(None);
        };
        let time = |field: &str| -> Result<i64, String> {
            let t = text(&entry, field).ok_or_else(|| format!("entry {index} has no {field}"))?;
            parse_time(&t).map_err(|e| format!("entry {index}: {field}: {e}"))
        };
        let time_us = time("time")?;
        let received_us = time("received_at")?;
        let meta = entry.get("metadata").cloned().unwrap_or(Value::Null);
        let meta_time = |field: &str| -> Result<Option<i64>, String> {
            match text(&meta, field) {
                None => Ok(None),
                Some(t) => parse_time(&t)
                    .map(Some)
                    .map_err(|e| format!("entry {index}: metadata.{field}: {e}")),
            }
        };
        let control = match kind {
            Kind::Check => entry
                .get("resource")
                .and_then(|r| text(r, "id"))
                .or_else(|| text(&meta, "control")),
            Kind::Policy | Kind::PolicyDoc => None,
            _ => text(&meta, "control"),
        };
        let document = (kind == Kind::PolicyDoc)
            .then(|| text(&meta, "document"))
            .flatten();
        if kind == Kind::PolicyDoc && document.is_none() {
            return Err(format!("entry {index} ({action}) names no document"));
        }
        if !matches!(kind, Kind::Policy | Kind::PolicyDoc) && control.is_none() {
            return Err(format!("entry {index} ({action}) names no control"));
        }
        let covers = match kind {
            Kind::Evidence => {
                let from = meta_time("effective_from")?.unwrap_or(time_us);
                let to = meta_time("effective_to")?.unwrap_or(from.max(time_us));
                if to < from {
                    return Err(format!(
                        "entry {index}: its effective period ends before it starts"
                    ));
                }
                (from, to)
            }
            Kind::ExceptionGranted => (time_us, meta_time("until")?.unwrap_or(i64::MAX)),
            _ => (time_us, time_us),
        };
        Ok(Some(PeriodEvent {
            index,
            kind,
            action,
            control,
            time_us,
            received_us,
            result: (kind == Kind::Check)
                .then(|| text(&meta, "result"))
                .flatten(),
            covers,
            catalog: text(&meta, "catalog"),
            declared: (kind == Kind::Check).then(|| Declared {
                title: text(&meta, "title"),
                cadence_seconds: text(&meta, "cadence")
                    .and_then(|c| crate::Cadence::parse(&c).ok())
                    .map(crate::Cadence::seconds),
                frameworks: meta
                    .get("frameworks")
                    .and_then(|f| serde_json::from_value(f.clone()).ok())
                    .unwrap_or_default(),
            }),
            policy: match kind {
                Kind::Policy => Some((
                    meta.get("version").and_then(Value::as_u64).unwrap_or(0),
                    text(&meta, "hash").unwrap_or_default(),
                )),
                Kind::PolicyDoc => Some((
                    meta.get("version").and_then(Value::as_u64).unwrap_or(0),
                    text(&meta, "sha256").unwrap_or_default(),
                )),
                _ => None,
            },
            document,
        }))
    }

    /// Whether it counts for `period` (policy versions are chosen apart, by
    /// [`policies_in_force`]): a check by its run time, evidence and exceptions by what
    /// they cover, a revocation when it came before the period's end.
    pub fn counts_for(&self, period: Period) -> bool {
        match self.kind {
            Kind::Check => (period.from_us..period.to_us).contains(&self.time_us),
            Kind::Evidence | Kind::ExceptionGranted => {
                self.covers.0 < period.to_us && self.covers.1 >= period.from_us
            }
            Kind::ExceptionRevoked => self.time_us < period.to_us,
            Kind::Policy | Kind::PolicyDoc => false,
        }
    }
}

/// Of the `access.policy.applied` events (by index), those in force during the period: the
/// newest applied before it starts and every one applied during it.
pub fn policies_in_force(events: &[PeriodEvent], period: Period) -> Vec<&PeriodEvent> {
    let policies: Vec<&PeriodEvent> = events.iter().filter(|e| e.kind == Kind::Policy).collect();
    let before = policies
        .iter()
        .filter(|e| e.time_us < period.from_us)
        .max_by_key(|e| (e.time_us, e.index));
    policies
        .iter()
        .filter(|e| {
            (period.from_us..period.to_us).contains(&e.time_us)
                || before.is_some_and(|b| b.index == e.index)
        })
        .copied()
        .collect()
}

/// Of the `controls.policy_doc.published` events (by index), those in force during the
/// period: of each document, the newest published before it starts and every one published
/// during it.
pub fn policy_docs_in_force(events: &[PeriodEvent], period: Period) -> Vec<&PeriodEvent> {
    let docs: Vec<&PeriodEvent> = events
        .iter()
        .filter(|e| e.kind == Kind::PolicyDoc)
        .collect();
    let mut before: BTreeMap<&str, &PeriodEvent> = BTreeMap::new();
    for e in docs.iter().filter(|e| e.time_us < period.from_us) {
        let name = e.document.as_deref().unwrap_or("");
        match before.get(name) {
            Some(held) if (held.time_us, held.index) >= (e.time_us, e.index) => {}
            _ => {
                before.insert(name, e);
            }
        }
    }
    docs.into_iter()
        .filter(|e| {
            (period.from_us..period.to_us).contains(&e.time_us)
                || before
                    .get(e.document.as_deref().unwrap_or(""))
                    .is_some_and(|b| b.index == e.index)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
    const DAY_US: i64 = 86_400_000_000;

    #[test]
    fn the_policy_documents_in_force_are_the_last_before_and_those_during() {
        let doc = |index: u64, name: &str, day: i64| {
            let time = evident_core::event::format_time(T0 + day * DAY_US);
            let bytes = format!(
                r#"{{"action":"controls.policy_doc.published","time":"{time}","received_at":"{time}","metadata":{{"document":"{name}","version":{index},"sha256":"sha256:{index}"}}}}"#
            );
            PeriodEvent::parse(index, bytes.as_bytes())
                .unwrap()
                .unwrap()
        };
        let events = vec![
            doc(1, "encryption", 1),
            doc(2, "encryption", 2),
            doc(3, "access-control", 3),
            doc(4, "encryption", 12),
            doc(5, "encryption", 40),
        ];
        let period = Period {
            from_us: T0 + 10 * DAY_US,
            to_us: T0 + 20 * DAY_US,
        };
        let chosen: Vec<u64> = policy_docs_in_force(&events, period)
            .iter()
            .map(|e| e.index)
            .collect();
        assert_eq!(chosen, [2, 3, 4]);
        assert_eq!(events[1].policy, Some((2, "sha256:2".into())));
        assert!(!events[1].counts_for(period));
    }

    #[test]
    fn evidence_counts_by_its_effective_period() {
        let bytes = br#"{"action":"evidence.added","time":"2026-09-01T00:00:00Z","received_at":"2026-09-01T00:00:00Z","metadata":{"control":"EV-X-01","effective_from":"2026-01-01T00:00:00Z","effective_to":"2026-03-31T23:59:59Z"}}"#;
        let e = PeriodEvent::parse(5, bytes).unwrap().unwrap();
        assert!(e.counts_for(Period {
            from_us: T0,
            to_us: T0 + DAY_US
        }));
        assert!(!e.counts_for(Period {
            from_us: T0 + 100 * DAY_US,
            to_us: T0 + 101 * DAY_US
        }));
        assert!(
            PeriodEvent::parse(6, br#"{"action":"record.read","time":"x"}"#)
                .unwrap()
                .is_none()
        );
        assert!(PeriodEvent::parse(7, b"not json").is_err());
    }
}
