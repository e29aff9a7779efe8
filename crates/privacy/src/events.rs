//! Reading the part's own events back from the ledger: every event a query matches, page by
//! page, oldest first, and the small field readers the folds share.

use serde_json::Value;

use evident_core::log::{EventRecord, Log};
use evident_core::store::EventQuery;
use evident_core::Result;

/// The most events one fold reads (a register larger than this pages with `evident log query`).
const MAX_EVENTS: usize = 1_000_000;

/// Every event matching the query that `set` fills in, oldest first.
pub(crate) fn all_events(log: &Log<'_>, set: impl Fn(&mut EventQuery)) -> Result<Vec<EventRecord>> {
    let mut query = EventQuery::default();
    set(&mut query);
    log.query_all(&query, MAX_EVENTS, "events of one kind")
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
