//! The OSCAL documents: what they claim follows from the catalog and the runs, they are the
//! same when built twice, and every UUID, property and time has OSCAL's shape. (CI also
//! validates them with compliance-trestle and NIST's metaschema: scripts/ci-oscal.sh.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeSet;

use evident_controls::catalog::{self, oscal::oscal_id};
use evident_controls::oscal_out::component::component_definition;
use evident_controls::oscal_out::results::{assessment_results, AssessedRun, Assessment};
use serde_json::Value;

const NOW: &str = "2026-07-01T00:00:00Z";

fn walk<'v>(value: &'v Value, key: &str, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v);
                }
                walk(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, key, out)),
        _ => {}
    }
}

fn all<'v>(value: &'v Value, key: &str) -> Vec<&'v Value> {
    let mut out = Vec::new();
    walk(value, key, &mut out);
    out
}

/// OSCAL 1.1.2's UUID: version 4 or 5, RFC 4122 variant.
fn is_oscal_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && matches!(&text[14..15], "4" | "5")
        && matches!(&text[19..20], "8" | "9" | "a" | "b" | "A" | "B")
}

fn assert_oscal_shapes(doc: &Value) {
    for uuid in all(doc, "uuid")
        .into_iter()
        .chain(all(doc, "observation-uuid"))
    {
        assert!(is_oscal_uuid(uuid.as_str().unwrap()), "bad uuid {uuid}");
    }
    let uuids: Vec<&Value> = all(doc, "uuid");
    let unique: BTreeSet<&str> = uuids.iter().map(|u| u.as_str().unwrap()).collect();
    assert_eq!(unique.len(), uuids.len(), "a UUID is used twice");
    for props in all(doc, "props") {
        for p in props.as_array().unwrap() {
            let value = p["value"].as_str().unwrap();
            assert!(
                !value.is_empty() && value.trim() == value,
                "blank property {p}"
            );
            assert_eq!(p["ns"], "urn:evident:oscal", "{p}");
        }
    }
}

#[test]
fn the_component_implements_exactly_the_nist_controls_the_catalog_maps() {
    let catalog = catalog::load(None).unwrap();
    let doc = component_definition(&catalog, NOW, "0.1.0");
    assert_oscal_shapes(&doc);
    let cd = &doc["component-definition"];
    assert_eq!(cd["metadata"]["oscal-version"], "1.1.2");
    let implemented =
        &cd["components"][0]["control-implementations"][0]["implemented-requirements"];
    let ids: BTreeSet<String> = implemented
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["control-id"].as_str().unwrap().to_string())
        .collect();
    let mapped: BTreeSet<String> = catalog
        .controls
        .iter()
        .flat_map(|c| c.frameworks.get("nist-800-53").into_iter().flatten())
        .map(|id| oscal_id(id))
        .collect();
    assert!(!mapped.is_empty());
    assert_eq!(ids, mapped);
    // Each requirement names the Evident controls meeting it, and their checks.
    let au9 = implemented
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control-id"] == "au-9")
        .expect("AU-9 is met by the log integrity control");
    assert!(au9["description"].as_str().unwrap().contains("EV-LOG-01"));
    assert!(au9["props"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "check" && p["value"] == "log.integrity"));
    assert_eq!(doc, component_definition(&catalog, NOW, "0.1.0"));
}

fn run(control: &str, index: u64, time: &str, result: &str) -> AssessedRun {
    AssessedRun {
        control: control.into(),
        index,
        time: time.into(),
        result: result.into(),
        reason: format!("because\n of {index}"),
    }
}

#[test]
fn findings_follow_the_last_run_and_link_every_run_that_did_not_pass() {
    let catalog = catalog::load(None).unwrap();
    let controls: Vec<_> = ["EV-LOG-01", "EV-CRY-01", "EV-LOG-03"]
        .iter()
        .map(|id| catalog.control(id).unwrap())
        .collect();
    let runs = vec![
        run("EV-LOG-01", 10, "2026-01-02T00:00:00Z", "fail"),
        run("EV-CRY-01", 11, "2026-01-02T00:00:01Z", "pass"),
        run("EV-LOG-01", 20, "2026-01-03T00:00:00Z", "pass"),
        run("EV-CRY-01", 21, "2026-01-03T00:00:01Z", "error"),
    ];
    let link = |i: u64| format!("entries/{i}.json");
    let a = Assessment {
        catalog: &catalog,
        controls,
        from: "2026-01-01T00:00:00Z",
        to: "2026-06-30T23:59:59Z",
        runs: &runs,
        origin: "evident.local/abc",
        generated_at: NOW,
        version: "0.1.0",
        evidence_href: Some(&link),
    };
    let doc = assessment_results(&a);
    assert_oscal_shapes(&doc);
    let result = &doc["assessment-results"]["results"][0];
    let findings = result["findings"].as_array().unwrap();
    let state = |id: &str| {
        findings
            .iter()
            .find(|f| f["target"]["target-id"] == id)
            .map(|f| f["target"]["status"]["state"].as_str().unwrap().to_string())
            .unwrap()
    };
    // A failure followed by a pass is satisfied; a pass followed by an error is not; a
    // control that never ran is not.
    assert_eq!(state("EV-LOG-01"), "satisfied");
    assert_eq!(state("EV-CRY-01"), "not-satisfied");
    assert_eq!(state("EV-LOG-03"), "not-satisfied");
    let observations = result["observations"].as_array().unwrap();
    assert_eq!(observations.len(), 2, "one per control that ran");
    let log01 = observations
        .iter()
        .find(|o| o["title"].as_str().unwrap().starts_with("EV-LOG-01"))
        .unwrap();
    let hrefs: Vec<&str> = log01["relevant-evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["href"].as_str().unwrap())
        .collect();
    assert_eq!(hrefs, ["entries/20.json", "entries/10.json"]);
    assert!(log01["description"]
        .as_str()
        .unwrap()
        .contains("1 passed, 1 failed"));
    // Every finding points at an observation that exists.
    let known: BTreeSet<&str> = observations
        .iter()
        .map(|o| o["uuid"].as_str().unwrap())
        .collect();
    for f in findings {
        for r in f["related-observations"].as_array().into_iter().flatten() {
            assert!(known.contains(r["observation-uuid"].as_str().unwrap()));
        }
    }
    // Reviewed controls are the NIST ids the controls in scope meet.
    let reviewed = &result["reviewed-controls"]["control-selections"][0]["include-controls"];
    assert!(reviewed
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["control-id"] == "au-9"));
    assert_eq!(
        doc,
        assessment_results(&a),
        "the same state gives the same document"
    );
    // Another period is another document.
    let later = Assessment {
        from: "2026-01-02T00:00:00Z",
        ..a
    };
    assert_ne!(
        doc["assessment-results"]["uuid"],
        assessment_results(&later)["assessment-results"]["uuid"]
    );
}
