//! Erasure of one data subject: crypto-shredding of the subject's own key, deletion of every
//! stored personal value committed for them, and one ledger record that names the subject
//! only by a keyed hash.

use evident_core::event::{system_event, Severity};
use evident_core::sequencer::Receipt;
use evident_core::{Error, Result};
use evident_crypto::host::KeyHost;
use evident_crypto::keyring::shred;

/// What erasing a data subject did.
#[derive(Debug, Clone)]
pub struct ErasureReport {
    /// personal values destroyed
    pub removed: u64,
    /// versions of the subject's own key destroyed (crypto-shredding)
    pub keys_destroyed: u32,
    /// where the erasure record landed in the log
    pub receipt: Receipt,
}

/// The privacy part over one engine.
pub struct Privacy<'e> {
    engine: KeyHost<'e>,
}

impl<'e> Privacy<'e> {
    /// The privacy part of the engine behind `engine` (its ledger, store and keys).
    pub fn new(engine: KeyHost<'e>) -> Self {
        Privacy { engine }
    }

    /// Destroys every stored personal value of `subject` (the raw erasure key, as events
    /// named it: `data_subject`, else `actor.id`) and logs the erasure.
    pub fn erase_subject(&self, subject: &str, actor: &str) -> Result<ErasureReport> {
        if subject.is_empty() {
            return Err(Error::BadRequest("the subject must not be empty".into()));
        }
        let redaction = self.engine.redaction();
        // Crypto-shredding first: the subject's own key, if data was ever sealed under it.
        let key_name = redaction.subject_key_name(subject);
        let keys_destroyed = shred(&self.engine, &key_name, actor, "erasure")?;
        let subject = &redaction.subject(subject);
        let removed = self.engine.connect_store()?.erase_subject(subject)?;
        // The record names the subject by a keyed hash (the one its key is named by), never
        // in clear: an erasure that wrote the person into the immutable log would undo itself.
        let mut event = system_event(
            "evident.personal.erased",
            "data_subject",
            Some(&key_name),
            serde_json::json!({
                "values_destroyed": removed,
                "key_versions_destroyed": keys_destroyed,
                "requested_by": actor
            }),
        );
        event.severity = Some(Severity::Medium);
        let receipt = self.engine.append_blocking(vec![event])?;
        Ok(ErasureReport {
            removed,
            keys_destroyed,
            receipt: receipt.receipts[0],
        })
    }
}
