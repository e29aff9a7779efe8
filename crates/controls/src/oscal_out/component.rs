//! The OSCAL component-definition of Evident: one software component whose control
//! implementation lists every NIST SP 800-53 rev5 control of the catalog's `nist-800-53`
//! framework that one of Evident's controls meets, each saying which Evident controls meet
//! it, how each is tested (automated, partly automated, manual) and by which check.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{metadata, prop, uuid_for, NIST_MODERATE_SOURCE, PROPERTY_NS};
use crate::catalog::oscal::oscal_id;
use crate::catalog::{Catalog, Control};

/// The framework whose requirement ids are NIST SP 800-53 rev5 control ids.
const NIST: &str = "nist-800-53";

/// The component-definition for the catalog in force. `last_modified` (RFC 3339) and
/// `version` (Evident's) go in the metadata; with the same catalog and arguments the
/// document is the same, UUIDs included.
pub fn component_definition(catalog: &Catalog, last_modified: &str, version: &str) -> Value {
    // NIST id (OSCAL form, `ac-2.1`) → the controls meeting it, in catalog order.
    let mut meeting: BTreeMap<String, Vec<&Control>> = BTreeMap::new();
    for control in &catalog.controls {
        for id in control.frameworks.get(NIST).into_iter().flatten() {
            meeting.entry(oscal_id(id)).or_default().push(control);
        }
    }
    // In the baseline's order, so the document reads like the catalog.
    let order: Vec<String> = catalog
        .frameworks
        .get(NIST)
        .map(|f| f.requirements.iter().map(|r| oscal_id(&r.id)).collect())
        .unwrap_or_default();
    let mut ids: Vec<&String> = order
        .iter()
        .filter(|id| meeting.contains_key(*id))
        .collect();
    ids.extend(meeting.keys().filter(|id| !order.contains(id)));

    let component = uuid_for(&["component", "evident"]);
    let requirements: Vec<Value> = ids
        .into_iter()
        .map(|id| implemented(&component, id, &meeting[id]))
        .collect();
    let source_resource = uuid_for(&["resource", "nist-800-53-rev5-moderate"]);
    let catalog_resource = uuid_for(&["resource", "evident-catalog", &catalog.hash]);
    json!({
        "component-definition": {
            "uuid": uuid_for(&["component-definition", &catalog.hash, version]),
            "metadata": metadata(
                "Evident: controls implemented for NIST SP 800-53 rev5",
                last_modified,
                version,
            ),
            "components": [{
                "uuid": component,
                "type": "software",
                "title": "Evident",
                "description": "A self-hosted compliance engine: a tamper-evident Merkle ledger of \
                    every access decision, key operation, data-subject request and control check, \
                    with access control (Cedar), key management, detection of sensitive data and \
                    live control checks whose every run is a ledger event.",
                "purpose": "Provide the safeguards of a regulated product and evidence an auditor \
                    verifies offline.",
                "props": prop("catalog-hash", &catalog.hash).into_iter().collect::<Vec<_>>(),
                "links": [{"href": format!("#{catalog_resource}"), "rel": "reference"}],
                "control-implementations": [{
                    "uuid": uuid_for(&["control-implementation", "nist-800-53", &catalog.hash]),
                    "source": NIST_MODERATE_SOURCE,
                    "description": "NIST SP 800-53 rev5 controls met by Evident's controls, each \
                        tested by the check or attestation its statement names.",
                    "implemented-requirements": requirements,
                }],
            }],
            "back-matter": {"resources": [
                {
                    "uuid": source_resource,
                    "title": "NIST SP 800-53 rev5 Moderate baseline (resolved profile catalog)",
                    "rlinks": [{"href": NIST_MODERATE_SOURCE, "media-type": "application/json"}],
                },
                {
                    "uuid": catalog_resource,
                    "title": "Evident's control catalog in force",
                    "props": [{"name": "catalog-hash", "ns": PROPERTY_NS, "value": catalog.hash}],
                    "remarks": format!("Loaded from: {}", catalog.files.join(", ")),
                },
            ]},
        }
    })
}

/// One implemented requirement: the NIST control `id` and the Evident controls meeting it.
fn implemented(component: &str, id: &str, controls: &[&Control]) -> Value {
    let description = controls
        .iter()
        .map(|c| {
            let how = match &c.check {
                Some(check) => format!("tested by the `{check}` check every {}", c.cadence),
                None => format!("attested every {}", c.cadence),
            };
            let attest = c
                .attestation
                .as_deref()
                .map(|a| format!(" Attested: {}", a.trim()))
                .unwrap_or_default();
            format!(
                "{} ({}, {}): {}{}",
                c.id,
                c.implementation.as_str(),
                how,
                c.title,
                attest
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut props: Vec<Value> = Vec::new();
    for c in controls {
        props.extend(prop("evident-control", &c.id));
        props.extend(prop("implementation", c.implementation.as_str()));
        if let Some(check) = &c.check {
            props.extend(prop("check", check));
        }
    }
    json!({
        "uuid": uuid_for(&["implemented-requirement", component, id]),
        "control-id": id,
        "description": description,
        "props": props,
    })
}
