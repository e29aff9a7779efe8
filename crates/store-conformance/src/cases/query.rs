//! Queries, checked against a model: every sample's columns follow from its number, so what a
//! query must answer is computed here by filtering the samples.

use evident_core::store::{EventQuery, LogStore};
use evident_core::{AuditEvent, Result};

use crate::fixture::Fixture;
use crate::testlog::{samples, Sample, TestLog, T0};

/// How many samples the query cases append, after which comes one event whose actor is
/// personal (so no query by actor may find it).
const SAMPLES: u64 = 12;

/// The columns a query filters on, as the model knows them.
struct Row {
    index: u64,
    actor: Option<String>,
    action: String,
    resource_type: String,
    resource_id: String,
    outcome: String,
    time_us: i64,
}

impl Row {
    fn matches(&self, q: &EventQuery) -> bool {
        let is = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == have)
        };
        is(&q.actor, self.actor.as_deref())
            && is(&q.action, Some(&self.action))
            && is(&q.resource_type, Some(&self.resource_type))
            && is(&q.resource_id, Some(&self.resource_id))
            && is(&q.outcome, Some(&self.outcome))
            && q.since_us.is_none_or(|t| self.time_us >= t)
            && q.until_us.is_none_or(|t| self.time_us < t)
    }
}

/// Appends the samples and the event with a personal actor; answers the model of the log.
fn fill(store: &mut dyn LogStore) -> Result<Vec<Row>> {
    let mut log = TestLog::new()?;
    let mut rows: Vec<Row> = (0..SAMPLES)
        .map(|n| {
            let s = Sample::new(n);
            Row {
                index: n,
                actor: Some(s.actor.to_string()),
                action: s.action.to_string(),
                resource_type: s.resource_type.to_string(),
                resource_id: s.resource_id,
                outcome: s.outcome.to_string(),
                time_us: s.time_us,
            }
        })
        .collect();
    log.append(store, &samples(0, 5)?)?;
    log.append(store, &samples(5, SAMPLES)?)?;
    let hidden = Sample::new(SAMPLES);
    let mut json = hidden.json();
    json["actor"]["id"] = "dora".into();
    json["personal"] = serde_json::json!(["/metadata/email", "/actor/id"]);
    log.append(store, &[AuditEvent::from_json(json)?])?;
    rows.push(Row {
        index: SAMPLES,
        actor: None,
        action: hidden.action.to_string(),
        resource_type: hidden.resource_type.to_string(),
        resource_id: hidden.resource_id,
        outcome: hidden.outcome.to_string(),
        time_us: hidden.time_us,
    });
    Ok(rows)
}

/// The filters the cases try, alone and together.
fn filters() -> Vec<EventQuery> {
    let q = EventQuery::default;
    let text = |s: &str| Some(s.to_string());
    vec![
        q(),
        EventQuery {
            actor: text("alice"),
            ..q()
        },
        EventQuery {
            actor: text("dora"),
            ..q()
        },
        EventQuery {
            action: text("record.write"),
            ..q()
        },
        EventQuery {
            resource_type: text("invoice"),
            ..q()
        },
        EventQuery {
            resource_id: text("r-2"),
            ..q()
        },
        EventQuery {
            resource_type: text("patient_record"),
            resource_id: text("r-1"),
            ..q()
        },
        EventQuery {
            outcome: text("denied"),
            ..q()
        },
        EventQuery {
            since_us: Some(T0 + 3_000_000),
            until_us: Some(T0 + 7_000_000),
            ..q()
        },
        EventQuery {
            since_us: Some(T0 + 9_000_000),
            ..q()
        },
        EventQuery {
            until_us: Some(T0 + 2_000_000),
            ..q()
        },
        EventQuery {
            actor: text("bob"),
            action: text("record.write"),
            outcome: text("success"),
            ..q()
        },
        EventQuery {
            resource_type: text("patient_record"),
            actor: text("carol"),
            ..q()
        },
        EventQuery {
            action: text("record.read"),
            resource_type: text("invoice"),
            since_us: Some(T0 + 9_000_000),
            ..q()
        },
    ]
}

/// The indexes the model says `q` matches, in its order, ignoring cursor and limit.
fn expected(rows: &[Row], q: &EventQuery) -> Vec<u64> {
    let mut found: Vec<u64> = rows
        .iter()
        .filter(|r| r.matches(q))
        .map(|r| r.index)
        .collect();
    if q.descending {
        found.reverse();
    }
    found
}

/// Each filter, alone and together, finds exactly the entries it matches, oldest or newest
/// first, as stored; an actor marked personal is found by no query by actor.
pub(super) fn queries_match_every_filter_in_both_orders(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    let rows = fill(&mut *store)?;
    for filter in filters() {
        for descending in [false, true] {
            let q = EventQuery {
                descending,
                limit: 100,
                ..filter.clone()
            };
            let found = store.query(&q)?;
            let indexes: Vec<u64> = found.iter().map(|e| e.index).collect();
            assert_eq!(indexes, expected(&rows, &q), "{q:?}");
            for entry in found {
                assert_eq!(store.entry(entry.index)?, Some(entry), "{q:?}");
            }
        }
    }
    Ok(())
}

/// A page holds at most `limit` entries; the next starts after the cursor (the last index
/// of the page before), so the pages together hold each match once, in order.
pub(super) fn queries_page_with_a_cursor(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    let rows = fill(&mut *store)?;
    for filter in filters() {
        for (descending, limit) in [(false, 1), (false, 3), (true, 2), (true, 5)] {
            let mut q = EventQuery {
                descending,
                limit,
                ..filter.clone()
            };
            let mut seen = Vec::new();
            loop {
                let page = store.query(&q)?;
                assert!(page.len() <= limit as usize, "a page over its limit: {q:?}");
                seen.extend(page.iter().map(|e| e.index));
                assert!(seen.len() <= rows.len(), "the pages repeat entries: {q:?}");
                match page.last() {
                    Some(last) if page.len() == limit as usize => q.cursor = Some(last.index),
                    _ => break,
                }
            }
            q.cursor = None;
            assert_eq!(seen, expected(&rows, &q), "paged by {limit}: {q:?}");
        }
    }
    let after = |cursor: u64, descending: bool| -> Result<Vec<u64>> {
        let q = EventQuery {
            cursor: Some(cursor),
            descending,
            limit: 100,
            ..Default::default()
        };
        Ok(store.query(&q)?.iter().map(|e| e.index).collect())
    };
    assert_eq!(after(9, false)?, [10, 11, 12], "ascending after index 9");
    assert_eq!(after(3, true)?, [2, 1, 0], "descending before index 3");
    assert!(
        after(12, false)?.is_empty(),
        "ascending after the last entry"
    );
    assert!(
        after(0, true)?.is_empty(),
        "descending before the first entry"
    );
    Ok(())
}
