//! Reading the part's own events back from the ledger: every event a query matches, page by
//! page, oldest first, and the small field readers the folds share.

use serde_json::Value;

use evident_core::log::{EventRecord, Log};
use evident_core::store::EventQuery;
use evident_core::Result;

/// Every event matching the query that `set` fills in, oldest first.
pub(crate) fn all_events(log: &Log<'_>, set: impl Fn(&mut EventQuery)) -> Result<Vec<EventRecord>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let mut query = EventQuery {
            cursor,
            limit: 1000,
            ..EventQuery::default()
        };
        set(&mut query);
        let page = log.query(&query)?;
        out.extend(page.events);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// The string at `pointer` in an event, or empty.
pub(crate) fn text(record: &EventRecord, pointer: &str) -> String {
    record
        .entry
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The strings of the array at `pointer`.
pub(crate) fn texts(record: &EventRecord, pointer: &str) -> Vec<String> {
    record
        .entry
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
