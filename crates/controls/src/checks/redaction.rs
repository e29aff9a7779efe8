//! `redaction.active`: the engine's own redactor, the one every event passes before it is
//! stored, masks a card number, a US social security number and a secret in a probe event.
//! The probe is built here and never stored.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use evident_core::AuditEvent;

use crate::checks::context::{normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {}

/// The check.
pub const ACTIVE: CheckDef = CheckDef {
    name: "redaction.active",
    revision: 1,
    summary: "the engine's redactor masks card numbers, SSNs and secrets before storage",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

/// The values the engine's own redaction tests use: a test card number (Luhn-valid), an SSN
/// of a valid shape and a token-shaped secret with a secret's entropy.
const PROBES: &[(&str, &str)] = &[
    ("card", "4111 1111 1111 1111"),
    ("ssn", "ssn 536-22-1234"),
    ("secret", "Bearer ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP"),
];

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    if let Err(o) = settings::<Settings>(params) {
        return *o;
    }
    let mut missed = Vec::new();
    let mut masked = serde_json::Map::new();
    for (kind, value) in PROBES {
        let event = match AuditEvent::from_json(json!({
            "actor": {"id": "evident-controls-probe", "type": "system"},
            "action": "controls.redaction.probe",
            "resource": {"type": "probe"},
            "outcome": "success",
            "reason": format!("probe {value} end"),
        })) {
            Ok(e) => e,
            Err(e) => return e.into(),
        };
        let (clean, replaced) = match cx.recorder.redaction().event(&event) {
            Ok(r) => r,
            Err(e) => return e.into(),
        };
        let text = clean.reason.clone().unwrap_or_default();
        if replaced == 0 || text.contains(value) {
            missed.push(*kind);
        } else {
            masked.insert(
                (*kind).to_string(),
                Value::from(text.trim_start_matches("probe ").trim_end_matches(" end")),
            );
        }
    }
    let o = if missed.is_empty() {
        Outcome::pass("the redactor masked every probe value before storage")
    } else {
        Outcome::fail(
            format!("the redactor let through: {}", missed.join(", ")),
            "this build's redaction rules are broken: do not run it; report it and return to the previous release",
        )
    };
    o.with("masked", Value::Object(masked))
        .with("missed", json!(missed))
}
