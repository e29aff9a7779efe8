//! Restoring consent rows after a crash. A change is appended to the ledger first and its row
//! written after (so a row never names an event that is not there); a process killed between
//! the two leaves the event without its row, and the current state would read the older
//! change. [`Consent::repair`] closes that gap: it scans the entries appended since the last
//! repair, rebuilds the row of every consent event from the event itself (the subject's
//! erasure key from the event's stored personal value), and writes those that are missing.
//! Writes are idempotent (a row is keyed by subject, purpose and ledger index), so a repair
//! racing a live writer, or running twice, changes nothing twice.
//!
//! An event whose personal value is gone belongs to an erased subject, whose rows erasure
//! removed on purpose; it is left alone.

use serde_json::Value;

use evident_core::event::parse_time;
use evident_core::store::{ConsentRecord, Scanned};
use evident_core::{Error, Result};

use super::Consent;

/// The store's meta key holding the log size the last repair reached.
pub const REPAIRED_THROUGH: &str = "consent.repaired_through";

const GRANTED: &str = "evident.consent.granted";
const WITHDRAWN: &str = "evident.consent.withdrawn";

impl Consent<'_> {
    /// Writes the rows missing for consent events among the entries below `size` (the log's
    /// committed size) appended since the last repair; answers how many were restored.
    pub fn repair(&self, size: u64) -> Result<u64> {
        let mut store = self.engine.connect_store()?;
        let from = store
            .meta(REPAIRED_THROUGH)?
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if from >= size {
            return Ok(0);
        }
        let mut events: Vec<(u64, Value)> = Vec::new();
        store.scan_range(from, size, &mut |item| {
            if let Scanned::Entry { index, data, .. } = item {
                // Most entries are not consent events: a byte search before any parsing.
                if memchr::memmem::find(data, b"evident.consent.").is_some() {
                    let entry: Value = serde_json::from_slice(data)
                        .map_err(|e| Error::Integrity(format!("entry {index} is not JSON: {e}")))?;
                    let action = entry.pointer("/action").and_then(Value::as_str);
                    if matches!(action, Some(GRANTED | WITHDRAWN)) {
                        events.push((index, entry));
                    }
                }
            }
            Ok(())
        })?;
        let mut restored = 0;
        for (index, entry) in events {
            let Some(personal) = store.personal_of(index)?.into_iter().next() else {
                continue;
            };
            let row = row_of(index, &entry, personal.subject)?;
            if store.put_consent(&row)? {
                restored += 1;
            }
        }
        store.set_meta(REPAIRED_THROUGH, &size.to_string())?;
        if restored > 0 {
            tracing::warn!(
                restored,
                "consent rows restored from the ledger (a change was logged but its row not written)"
            );
        }
        Ok(restored)
    }
}

/// The row `record_all` writes for the event at `index`, rebuilt from the event.
fn row_of(index: u64, entry: &Value, subject: String) -> Result<ConsentRecord> {
    let text = |pointer: &str| entry.pointer(pointer).and_then(Value::as_str);
    let time = text("/time")
        .ok_or_else(|| Error::Integrity(format!("consent event {index} has no time")))?;
    Ok(ConsentRecord {
        subject,
        purpose: text("/resource/id").unwrap_or_default().to_owned(),
        granted: text("/action") == Some(GRANTED),
        basis: text("/metadata/basis").unwrap_or_default().to_owned(),
        source: text("/metadata/source").unwrap_or_default().to_owned(),
        notice_hash: text("/metadata/notice_hash").unwrap_or_default().to_owned(),
        at_us: parse_time(time)?,
        expires_us: text("/metadata/expires_at").map(parse_time).transpose()?,
        index,
    })
}
