//! Reading the log for a bundle or a sample: the events of given actions with their exact
//! bytes, and the period's two anchors — the signed checkpoints at its ends and the
//! consistency proof between them.

use serde_json::Value;

use evident_core::event::parse_time;
use evident_core::store::EventQuery;
use evident_core::{Error, Result};

use super::events::{Period, PeriodEvent};
use crate::state::Controls;

/// The most events one bundle or sample reads.
pub const MAX_EVENTS: usize = 500_000;

/// An event with its exact bytes.
pub struct Read {
    /// what it says
    pub event: PeriodEvent,
    /// its bytes as the log holds them
    pub bytes: Vec<u8>,
}

/// The period's ends in the log.
pub struct Anchors {
    /// the start's tree size
    pub start_size: u64,
    /// its signed checkpoint (`None` for the empty tree)
    pub start_note: Option<String>,
    /// the end's tree size
    pub end_size: u64,
    /// its signed checkpoint
    pub end_note: String,
    /// the consistency proof from start to end
    pub consistency: Vec<evident_ledger::Hash>,
}

impl Controls<'_> {
    /// Every event of `actions` (optionally filed under control `resource_id`, with event
    /// times in `time`) for which `keep` holds, by index.
    pub(crate) fn read_events(
        &self,
        actions: &[&str],
        resource_id: Option<&str>,
        time: Option<Period>,
        keep: &dyn Fn(&PeriodEvent) -> bool,
    ) -> Result<Vec<Read>> {
        let mut out = Vec::new();
        for action in actions {
            let mut query = EventQuery {
                action: Some((*action).to_string()),
                resource_id: resource_id.map(str::to_string),
                since_us: time.map(|p| p.from_us),
                until_us: time.map(|p| p.to_us),
                limit: 1000,
                ..EventQuery::default()
            };
            loop {
                let page = self.log.query(&query)?;
                for record in &page.events {
                    let bytes = self.log.entry_bytes(record.index)?;
                    let event = PeriodEvent::parse(record.index, &bytes)
                        .map_err(Error::Integrity)?
                        .ok_or_else(|| {
                            Error::Integrity(format!("entry {} changed its action", record.index))
                        })?;
                    if keep(&event) {
                        if out.len() >= MAX_EVENTS {
                            return Err(Error::BadRequest(format!(
                                "more than {MAX_EVENTS} events in the period; ask for a shorter one"
                            )));
                        }
                        out.push(Read { event, bytes });
                    }
                }
                match page.next_cursor {
                    Some(c) => query.cursor = Some(c),
                    None => break,
                }
            }
        }
        out.sort_by_key(|r| r.event.index);
        Ok(out)
    }

    /// How many entries the log received before `at_us` (received times never go back).
    fn received_before(&self, at_us: i64, size: u64) -> Result<u64> {
        let store = self.recorder.pooled_store()?;
        let (mut lo, mut hi) = (0u64, size);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let entry = store
                .entry(mid)?
                .ok_or_else(|| Error::Integrity(format!("entry {mid} is not stored")))?;
            let value: Value = serde_json::from_slice(&entry.data)
                .map_err(|e| Error::Integrity(format!("entry {mid} is not JSON: {e}")))?;
            let received = value
                .get("received_at")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Integrity(format!("entry {mid} has no received_at")))
                .and_then(parse_time)?;
            if received < at_us {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The period's anchors: the newest checkpoint at or before its start (the empty tree
    /// when none), and the first at or after its end that also covers entry `last_index`
    /// (evidence received late for the period moves it later), or the latest.
    pub(crate) fn anchors(&self, period: Period, last_index: Option<u64>) -> Result<Anchors> {
        let latest = self
            .log
            .checkpoint()
            .ok_or_else(|| Error::NotFound("the log is empty: nothing to bundle".into()))?;
        let size = latest.checkpoint.size;
        let before_start = self.received_before(period.from_us, size)?;
        let before_end = self.received_before(period.to_us, size)?;
        let need = before_end.max(last_index.map_or(0, |i| i + 1)).max(1);
        let store = self.recorder.pooled_store()?;
        // Checkpoints are signed per batch, so one usually ends exactly where the period
        // starts; only otherwise are all of them read to find the newest before it.
        let start = match store.checkpoint_covering(before_start.max(1))? {
            Some(c) if c.size == before_start => Some(c),
            _ => store
                .checkpoints()?
                .into_iter()
                .filter(|c| c.size <= before_start && c.size > 0)
                .max_by_key(|c| c.size),
        };
        let (end_size, end_note) = match store.checkpoint_covering(need)? {
            Some(c) if c.size <= size => (c.size, c.note),
            _ => (size, latest.note.clone()),
        };
        drop(store);
        let (start_size, start_note) = match start {
            Some(c) if c.size <= end_size => (c.size, Some(c.note)),
            _ => (0, None),
        };
        let consistency = if start_size == 0 {
            Vec::new()
        } else {
            self.log.consistency_proof(start_size, end_size)?
        };
        Ok(Anchors {
            start_size,
            start_note,
            end_size,
            end_note,
            consistency,
        })
    }
}
