//! OSCAL 1.1.2 documents written from the catalog and the ledger: a
//! [component-definition](component::component_definition) saying which NIST SP 800-53 rev5
//! controls Evident implements and how each is tested, and
//! [assessment-results](results::assessment_results) for a period, with one observation per
//! control (its check runs, with links to the evidence) and one finding per control.
//!
//! Both are plain `serde_json::Value`s in OSCAL's JSON shape. Every UUID is name-based
//! (RFC 9562 version 5, under [`EVIDENT_NAMESPACE`]), so building a document twice from the
//! same state gives the same bytes: a bundle's verifier can rebuild it and compare. CI
//! validates both documents with compliance-trestle's models of OSCAL 1.1.2
//! (`scripts/check-oscal.py`).

pub mod bundled;
pub mod component;
mod period;
pub mod results;

use serde_json::{json, Value};
use uuid::Uuid;

/// The OSCAL version the documents declare.
pub const OSCAL_VERSION: &str = "1.1.2";

/// The namespace of Evident's own OSCAL properties (names outside NIST's namespace must
/// carry one).
pub const PROPERTY_NS: &str = "urn:evident:oscal";

/// Where NIST publishes the SP 800-53 rev5 Moderate baseline the component's controls
/// come from (the same catalog the repository ships in `catalog/nist/`).
pub const NIST_MODERATE_SOURCE: &str = "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json";

/// The namespace of every UUID Evident derives (a fixed, randomly drawn v4 UUID).
pub const EVIDENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_3c2a_9b47_4e58_a2d1_7c05_e8b3_1f64);

/// A version-5 UUID for `parts` joined by `/`: the same names always give the same UUID.
pub fn uuid_for(parts: &[&str]) -> String {
    Uuid::new_v5(&EVIDENT_NAMESPACE, parts.join("/").as_bytes()).to_string()
}

/// An Evident property (`ns` set); `None` when the value is blank, which OSCAL forbids.
fn prop(name: &str, value: &str) -> Option<Value> {
    let value = value.trim();
    (!value.is_empty()).then(|| json!({"name": name, "ns": PROPERTY_NS, "value": value}))
}

/// A document's metadata block.
fn metadata(title: &str, last_modified: &str, version: &str) -> Value {
    json!({
        "title": title,
        "last-modified": last_modified,
        "version": version,
        "oscal-version": OSCAL_VERSION,
        "roles": [{"id": "maintainer", "title": "Maintainer"}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_5_and_stable() {
        let a = uuid_for(&["component", "evident"]);
        assert_eq!(a, uuid_for(&["component", "evident"]));
        assert_ne!(a, uuid_for(&["component", "evident2"]));
        // OSCAL 1.1.2's UUID pattern accepts versions 4 and 5 only.
        assert_eq!(&a[14..15], "5");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn blank_property_values_are_dropped() {
        assert!(prop("check", "  ").is_none());
        assert_eq!(prop("check", "log.integrity").unwrap()["ns"], PROPERTY_NS);
    }
}
