//! Redaction of events before they reach the ledger: card numbers, CVVs, SSNs, ITINs, IBANs,
//! secrets and national, health and financial identifiers never enter an entry, a personal value, an index or a checkpoint.
//!
//! Values are replaced by their mask (`411111******1111`, `***-**-6789`), which PCI DSS 3.4
//! allows to be kept. The erasure key of an event (`data_subject`, else `actor.id`) gets a
//! keyed pseudonym instead (`[ssn:1f3a9c0b7d2e]`): a mask is not unique, and erasure by the
//! raw value must still find exactly that person's records. The pseudonym key lives in the
//! data directory (`redaction.key`).

use std::borrow::Cow;
use std::sync::Arc;

use evident_detect::{Detector, Entity, Fingerprinter, RedactMode, Redactor};

use crate::event::AuditEvent;
use crate::{Error, Result};

/// What the ledger never stores in clear: card data and secrets (PCI DSS 3.3/3.4), and the
/// national, health and financial identifiers of every jurisdiction the detector knows. What
/// is left out ([`LEFT_FOR_COMMITMENTS`]) is kept, and made erasable, by the personal-data
/// commitments instead.
pub const LEDGER_REDACTED: [Entity; 57] = [
    Entity::Card,
    Entity::Cvv,
    Entity::Ssn,
    Entity::Itin,
    Entity::Iban,
    Entity::Secret,
    Entity::UsPassport,
    Entity::UsDriverLicense,
    Entity::UsBankAccount,
    Entity::AbaRouting,
    Entity::UsMbi,
    Entity::HealthPlanId,
    Entity::ClaimNumber,
    Entity::RxNumber,
    Entity::PriorAuth,
    Entity::ProviderTaxId,
    Entity::MedicalLicense,
    Entity::UkNhs,
    Entity::UkNino,
    Entity::UkPassport,
    Entity::UkDrivingLicence,
    Entity::CaSin,
    Entity::EsNif,
    Entity::EsNie,
    Entity::ItFiscalCode,
    Entity::DeTaxId,
    Entity::DeSocialSecurity,
    Entity::DeHealthInsurance,
    Entity::FrNir,
    Entity::PlPesel,
    Entity::SePersonnummer,
    Entity::FiPersonalId,
    Entity::InAadhaar,
    Entity::InPan,
    Entity::AuTfn,
    Entity::AuMedicare,
    Entity::AuAbn,
    Entity::SgNric,
    Entity::ZaId,
    Entity::KrRrn,
    Entity::Crypto,
    Entity::DePassport,
    Entity::DeIdCard,
    Entity::DeDrivingLicence,
    Entity::EsPassport,
    Entity::ItPassport,
    Entity::ItIdentityCard,
    Entity::ItDrivingLicence,
    Entity::ItVatCode,
    Entity::InPassport,
    Entity::InVoterId,
    Entity::KrPassport,
    Entity::KrDrivingLicence,
    Entity::NgNin,
    Entity::PhTin,
    Entity::ThTnin,
    Entity::TrTckn,
];

/// What the engine leaves in events on purpose: contact and network data and the
/// identifiers that are not secrets of their own (a provider's NPI or DEA number, a record
/// number and a birth date next to their labels). Mark such fields personal to make them
/// erasable.
pub const LEFT_FOR_COMMITMENTS: [Entity; 7] = [
    Entity::Email,
    Entity::Phone,
    Entity::Ip,
    Entity::Npi,
    Entity::Dea,
    Entity::Mrn,
    Entity::Dob,
];

/// The engine's redaction of events and erasure subjects.
#[derive(Clone)]
pub struct EventRedactor {
    detector: Arc<Detector>,
    fingerprints: Fingerprinter,
    values: Redactor,
    subjects: Redactor,
    subject_keys: ring::hmac::Key,
}

impl EventRedactor {
    /// Built-in rules, keyed pseudonyms under `key`.
    pub fn new(key: &[u8]) -> Result<EventRedactor> {
        let detector = Arc::new(
            Detector::builtin().map_err(|e| Error::DataDir(format!("detection rules: {e}")))?,
        );
        let fingerprints =
            Fingerprinter::new(key).map_err(|e| Error::DataDir(format!("redaction key: {e}")))?;
        let values = Redactor::new(detector.clone(), fingerprints.clone(), RedactMode::Mask)
            .only(&LEDGER_REDACTED);
        let subjects = values.clone().with_mode(RedactMode::Pseudonym);
        Ok(EventRedactor {
            detector,
            fingerprints,
            values,
            subjects,
            subject_keys: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        })
    }

    /// A redactor over every entity with this engine's rules and key, for `POST /v1/redact`.
    pub fn redactor(&self, mode: RedactMode) -> Redactor {
        Redactor::new(self.detector.clone(), self.fingerprints.clone(), mode)
    }

    /// The event as it may be stored, and how many values were replaced.
    pub fn event<'e>(&self, event: &'e AuditEvent) -> Result<(Cow<'e, AuditEvent>, usize)> {
        self.event_json(event)
            .map(|(clean, _, replaced)| (clean, replaced))
    }

    /// [`EventRedactor::event`], with the stored event also as JSON (what
    /// `serde_json::to_value` gives for it), so that encoding it does not build it again.
    pub fn event_json<'e>(
        &self,
        event: &'e AuditEvent,
    ) -> Result<(Cow<'e, AuditEvent>, serde_json::Value, usize)> {
        let mut value =
            serde_json::to_value(event).map_err(|e| Error::InvalidEvent(e.to_string()))?;
        // One scan over every key and string, newline-separated, before the per-field pass:
        // most events hold nothing to redact, and one pass over the whole event costs a
        // fraction of one call per field. Joining only adds context (rules have no anchors
        // and context only raises confidence), so a value found in its own field is found
        // here too.
        let mut joined = String::with_capacity(1024);
        strings(&value, &mut joined);
        if self.values.redact_str(&joined).1.is_empty() {
            return Ok((Cow::Borrowed(event), value, 0));
        }
        // With nothing replaced, redact_json leaves the value as it was.
        let replaced = self.values.redact_json(&mut value);
        if replaced == 0 {
            return Ok((Cow::Borrowed(event), value, 0));
        }
        let mut clean = AuditEvent::from_json(value)?;
        let subject = event.data_subject.as_deref().unwrap_or(&event.actor.id);
        let pseudonym = self.subject(subject);
        if pseudonym != subject {
            clean.data_subject = Some(pseudonym);
        }
        // Rare (something was redacted): the clean event is encoded afresh.
        let value = serde_json::to_value(&clean).map_err(|e| Error::InvalidEvent(e.to_string()))?;
        Ok((Cow::Owned(clean), value, replaced))
    }

    /// The name of the crypto-shredding key of a data subject: `subject.` and a keyed hash
    /// of the subject's erasure key, so neither key names nor their ledger events reveal who
    /// it is, and erasure by the raw value finds it.
    pub fn subject_key_name(&self, subject: &str) -> String {
        let erasure_key = self.subject(subject);
        let mut message = b"evident/subject-key/v1\0".to_vec();
        message.extend_from_slice(erasure_key.as_bytes());
        let tag = ring::hmac::sign(&self.subject_keys, &message);
        format!("subject.{}", hex::encode(&tag.as_ref()[..12]))
    }

    /// The erasure key stored for `subject`: itself, or its pseudonym when it holds a value
    /// the ledger never stores.
    pub fn subject(&self, subject: &str) -> String {
        self.subjects.redact_str(subject).0
    }

    /// `text` with what the ledger never stores in clear masked, as in events: for free text
    /// a part keeps in its own tables beside the ledger (API key labels, break-glass
    /// justifications and review notes), which invariant 4 covers just the same.
    pub fn text(&self, text: &str) -> String {
        self.values.redact_str(text).0
    }

    /// The first value in `text` the ledger never stores in clear, described without the
    /// value (`a card number (rule `…`) on line N`); `None` when it holds none. For what a
    /// mask would change the meaning of (a key's name, a policy pack), so it is refused.
    pub fn sensitive(&self, text: &str) -> Option<String> {
        let (_, findings) = self.values.redact_str(text);
        findings.first().map(|f| {
            format!(
                "a value of kind `{}` (rule `{}`) on line {}",
                f.entity, f.rule, f.line
            )
        })
    }
}

fn strings(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push_str(k);
                out.push('\n');
                strings(v, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Invariant 4 whatever surrounds the value: a card followed by its expiry, an SSN
        /// followed by other numbers, a value glued to a label — in a free-text field, a
        /// metadata value, a metadata key and the erasure subject alike.
        #[test]
        fn a_checked_value_never_reaches_a_stored_event(seed in proptest::prelude::any::<u64>()) {
            let r = redactor();
            let case = evident_detect::embedded::embedded(
                &mut evident_detect::corpus::Rng::new(seed),
            );
            let event = AuditEvent::from_json(json!({
                "actor": {"id": case.text.clone(), "roles": ["clerk"]},
                "action": "payment.refund",
                "resource": {"type": "order", "id": "o-1"},
                "outcome": "success",
                "reason": case.text.clone(),
                "metadata": {"note": case.text.clone(), case.text.clone(): 1}
            }))
            .unwrap();
            let (clean, replaced) = r.event(&event).unwrap();
            let stored = serde_json::to_string(clean.as_ref()).unwrap();
            proptest::prop_assert!(replaced >= 4, "{replaced} replaced in {stored}");
            for spelling in [case.value().to_owned(), case.compact()] {
                proptest::prop_assert!(
                    !stored.contains(&spelling),
                    "{spelling:?} stored raw: {stored}"
                );
            }
        }
    }

    /// A new entity must be placed on one side or the other: masked before the ledger, or
    /// left for the personal-data commitments.
    #[test]
    fn every_entity_is_either_masked_or_left_on_purpose() {
        for entity in Entity::ALL {
            let masked = LEDGER_REDACTED.contains(&entity);
            let left = LEFT_FOR_COMMITMENTS.contains(&entity);
            assert!(masked != left, "{entity:?}: masked {masked}, left {left}");
        }
    }

    fn redactor() -> &'static EventRedactor {
        static REDACTOR: std::sync::OnceLock<EventRedactor> = std::sync::OnceLock::new();
        REDACTOR.get_or_init(|| EventRedactor::new(&[4; 32]).unwrap())
    }

    #[test]
    fn events_lose_cards_ssns_and_secrets_but_keep_the_rest() {
        let r = EventRedactor::new(&[4; 32]).unwrap();
        let event = AuditEvent::from_json(json!({
            "actor": {"id": "536-22-1234", "roles": ["clerk"]},
            "action": "payment.capture",
            "resource": {"type": "order", "id": "o-1"},
            "outcome": "success",
            "reason": "card 4111 1111 1111 1111 charged for jane@example.com",
            "metadata": {"auth": "Bearer ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP", "n": 5}
        }))
        .unwrap();
        let (clean, replaced) = r.event(&event).unwrap();
        assert_eq!(replaced, 3);
        let text = serde_json::to_string(clean.as_ref()).unwrap();
        for raw in ["4111 1111 1111 1111", "536-22-1234", "ghp_8fK2"] {
            assert!(!text.contains(raw), "{raw} in {text}");
        }
        assert!(text.contains("411111******1111") && text.contains("jane@example.com"));
        let subject = clean.data_subject.clone().unwrap();
        assert!(subject.starts_with("[ssn:"), "{subject}");
        assert_eq!(
            r.subject("536-22-1234"),
            subject,
            "erasure by the raw value finds it"
        );
        assert_eq!(r.subject("user-7"), "user-7");

        let plain = AuditEvent::from_json(json!({"actor": {"id": "u"}, "action": "a", "resource": {"type": "t"}, "outcome": "success"})).unwrap();
        assert!(matches!(r.event(&plain).unwrap(), (Cow::Borrowed(_), 0)));
    }

    #[test]
    fn free_text_is_masked_and_identifiers_are_described_without_the_value() {
        let r = redactor();
        let label = r.text("ops card 4539 1488 0343 6467, ssn 536-22-7319");
        assert_eq!(label, "ops card 453914******6467, ssn ***-**-7319");
        assert_eq!(r.text("nightly export"), "nightly export");
        let found = r.sensitive("// ok\n// card 4539148803436467\n").unwrap();
        assert!(
            found.contains("`card`") && found.contains("line 2"),
            "{found}"
        );
        assert!(!found.contains("4539148803436467"), "{found}");
        assert_eq!(r.sensitive("billing-export.v2"), None);
    }

    /// The JSON handed on for encoding is the stored event's own, whether or not anything
    /// was redacted, so an entry encoded from it is the entry of the clean event.
    #[test]
    fn the_json_handed_on_is_the_clean_events() {
        let r = EventRedactor::new(&[4; 32]).unwrap();
        for event in [
            json!({"actor": {"id": "u", "ip": "192.0.2.1"}, "action": "a", "resource": {"type": "t"},
                   "outcome": "success", "metadata": {"n": 1}, "personal": ["/metadata/n"]}),
            json!({"actor": {"id": "536-22-1234"}, "action": "a", "resource": {"type": "t"},
                   "outcome": "denied", "reason": "card 4111 1111 1111 1111"}),
            // found by the joined scan, replaced by nothing field by field
            json!({"actor": {"id": "u"}, "action": "a", "resource": {"type": "t", "id": "4111"},
                   "outcome": "success", "reason": "1111 1111 1111"}),
        ] {
            let event = AuditEvent::from_json(event).unwrap();
            let (clean, value, _) = r.event_json(&event).unwrap();
            assert_eq!(value, serde_json::to_value(clean.as_ref()).unwrap());
            let encoded = clean.prepare_value(value, 7).unwrap();
            let again = clean.prepare(7).unwrap();
            // Personal commitments are salted afresh each time; all else is the same.
            let unsalted = |data: &[u8]| {
                let mut entry: serde_json::Value = serde_json::from_slice(data).unwrap();
                if let Some(map) = entry.get_mut("personal").and_then(|p| p.as_object_mut()) {
                    map.values_mut().for_each(|c| *c = json!(""));
                }
                entry
            };
            assert_eq!(unsalted(&encoded.data), unsalted(&again.data));
            assert_eq!(encoded.columns, again.columns);
            let fields = |e: &crate::event::PreparedEntry| {
                e.personal
                    .iter()
                    .map(|p| (p.path.clone(), p.subject.clone(), p.value.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(fields(&encoded), fields(&again));
        }
    }
}
