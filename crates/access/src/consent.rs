//! Consent in the Cedar context: when the pack's `[consent]` settings ask for it, each
//! request's `context.consent` becomes the consent state of the data subject its resource
//! names, one boolean per configured purpose, read from the store's consent table (the
//! privacy part writes it). A purpose is `true` only while a grant is in force (not
//! withdrawn, not expired); a resource that names no subject gets `false` everywhere.

use serde_json::{Map, Value};

use crate::authzen::EvaluationRequest;
use crate::pack::CompiledPack;
use crate::state::Access;
use evident_core::event::now_us;
use evident_core::Result;

/// One evaluation of a batch: well-formed, or the message saying why not.
type Item = std::result::Result<EvaluationRequest, String>;

impl Access<'_> {
    /// The items with `context.consent` set, if the pack asks for it.
    pub(crate) fn with_consent(
        &self,
        pack: &CompiledPack,
        mut items: Vec<Item>,
    ) -> Result<Vec<Item>> {
        let Some(settings) = &pack.settings.consent else {
            return Ok(items);
        };
        let now = now_us();
        let store = self.recorder.pooled_store()?;
        for req in items.iter_mut().flatten() {
            let subject = req
                .resource
                .properties
                .as_ref()
                .and_then(|p| p.get(&settings.subject_property))
                .and_then(Value::as_str);
            let mut consent: Map<String, Value> = settings
                .purposes
                .iter()
                .map(|p| (p.clone(), Value::Bool(false)))
                .collect();
            if let Some(subject) = subject {
                let key = self.recorder.redaction().subject(subject);
                for record in store.consents_of(&key)? {
                    if let Some(slot) = consent.get_mut(&record.purpose) {
                        *slot = Value::Bool(record.in_force(now));
                    }
                }
            }
            req.context
                .get_or_insert_with(Map::new)
                .insert("consent".into(), Value::Object(consent));
        }
        Ok(items)
    }
}
