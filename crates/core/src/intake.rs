//! What every append does before the sequencer sees it: the batch limit, redaction
//! (invariant 4), validation and canonical encoding, and sealing personal values when the
//! directory's are sealed. All or none: one bad event refuses the batch, naming it.

use crate::event::{now_us, AuditEvent, PreparedEntry};
use crate::personal::{self, PersonalSeal};
use crate::redaction::EventRedactor;
use crate::{Error, Result};

/// The most events one append call takes.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// Redacts, validates and encodes `events`, and seals their personal values with `seal`;
/// answers the entries and how many values were redacted.
pub fn prepare_batch(
    redaction: &EventRedactor,
    seal: Option<&PersonalSeal>,
    events: &[AuditEvent],
) -> Result<(Vec<PreparedEntry>, usize)> {
    if events.len() > MAX_BATCH_EVENTS {
        return Err(Error::BadRequest(format!(
            "a batch holds at most {MAX_BATCH_EVENTS} events, got {}",
            events.len()
        )));
    }
    let received = now_us();
    let mut redacted = 0;
    let mut prepared = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            {
                let (clean, value, replaced) = redaction.event_json(e)?;
                redacted += replaced;
                clean.prepare_value(value, received)
            }
            .map_err(|err| match err {
                Error::InvalidEvent(m) if events.len() > 1 => {
                    Error::InvalidEvent(format!("event {i}: {m}"))
                }
                other => other,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    seal_personal(seal, &mut prepared)?;
    Ok((prepared, redacted))
}

/// Seals the personal values of prepared entries that are not sealed yet, when `seal` is
/// given (the directory's personal values are sealed).
pub fn seal_personal(seal: Option<&PersonalSeal>, entries: &mut [PreparedEntry]) -> Result<()> {
    if let Some(seal) = seal {
        for p in entries.iter_mut().flat_map(|e| e.personal.iter_mut()) {
            if !personal::is_sealed(&p.value) {
                p.value = seal.seal(&p.path, &p.salt, &p.value)?;
            }
        }
    }
    Ok(())
}
