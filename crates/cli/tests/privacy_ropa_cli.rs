//! `evident privacy ropa` as a compliance lead meets it: the record of processing generated
//! from the applied data map lists its activities, the consent purposes the ledger holds and
//! the controls behind Art. 32; gaps are named (and `--strict` exits 1 on them); rendering
//! records nothing, publishing records numbered versions and the log still verifies; bad input
//! exits 2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_evident"))
        .current_dir(dir)
        .env("HOME", dir)
        .env("EVIDENT_DATA_DIR", dir.join("data"))
        .env_remove("EVIDENT_CONFIG")
        .env_remove("EVIDENT_OPERATOR")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture_map() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../privacy/tests/fixtures/datamap_ehr.toml");
    path.to_str().unwrap().to_owned()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(
        dir.path(),
        &[
            "privacy",
            "map",
            "apply",
            &fixture_map(),
            "--operator",
            "dpo-alice",
        ],
    );
    assert_eq!(code, 0, "{err}");
    dir
}

fn ledger_size(dir: &Path) -> u64 {
    let (code, out, err) = run(dir, &["log", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    let text = format!("{out}{err}");
    let size = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|t| !t.is_empty())
        .unwrap();
    size.parse().unwrap()
}

#[test]
fn the_record_follows_the_map_consent_and_controls() {
    let dir = setup();
    let d = dir.path();
    let (code, out, err) = run(d, &["privacy", "ropa", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let record: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["controller"]["name"], "Riverside Clinic Ltd");
    let activities = record["activities"].as_array().unwrap();
    let purposes: Vec<&str> = activities
        .iter()
        .map(|a| a["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(purposes, ["treatment of the patient", "billing"]);
    assert_eq!(
        activities[0]["data_subjects"],
        serde_json::json!(["patient"])
    );
    assert!(activities[0]["special_categories"]
        .as_array()
        .unwrap()
        .contains(&Value::from("user.health_and_medical")));
    assert_eq!(activities[0]["transfers"][0]["country"], "US");
    assert!(
        !record["security_measures"].as_array().unwrap().is_empty(),
        "the catalog maps controls to GDPR Art.32"
    );
    assert_eq!(record["gaps"], serde_json::json!([]), "{err}");
    let (code, _, _) = run(d, &["privacy", "ropa", "--strict", "--format", "csv"]);
    assert_eq!(code, 0);

    // Consent for a purpose the map does not name is a gap; for one it names, it is not.
    for purpose in ["billing", "newsletter"] {
        let (code, _, err) = run(
            d,
            &[
                "consent",
                "withdraw",
                "subject-7",
                purpose,
                "--operator",
                "dpo-alice",
            ],
        );
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, err) = run(d, &["privacy", "ropa", "--format", "json", "--strict"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("gap: consent is recorded for purpose `newsletter`"),
        "{err}"
    );
    let record: Value = serde_json::from_str(&out).unwrap();
    let consent = record["consent_purposes"].as_array().unwrap();
    assert_eq!(consent.len(), 2);
    assert_eq!(consent[0]["purpose"], "billing");
    assert_eq!(consent[0]["in_map"], true);
    assert_eq!(consent[0]["withdrawals"], 1);
    assert_eq!(consent[1]["in_map"], false);

    let html = d.join("ropa.html");
    let (code, _, err) = run(d, &["privacy", "ropa", "--out", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("Riverside Clinic Ltd"));
    assert!(!d.join("ropa.partial").exists());
}

#[test]
fn publishing_records_numbered_versions_and_the_log_verifies() {
    let dir = setup();
    let d = dir.path();
    let before = ledger_size(d);
    // Rendering alone records nothing.
    let (code, _, _) = run(d, &["privacy", "ropa", "--format", "csv"]);
    assert_eq!(code, 0);
    assert_eq!(ledger_size(d), before);
    for _ in 0..2 {
        let (code, _, err) = run(
            d,
            &["privacy", "ropa", "--publish", "--operator", "dpo-alice"],
        );
        assert_eq!(code, 0, "{err}");
    }
    assert_eq!(ledger_size(d), before + 2);
    let (code, out, _) = run(d, &["privacy", "ropa", "--history", "--format", "json"]);
    assert_eq!(code, 0);
    let published: Value = serde_json::from_str(&out).unwrap();
    let published = published.as_array().unwrap();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0]["version"], 1);
    assert_eq!(published[1]["version"], 2);
    assert_eq!(published[1]["published_by"], "cli:dpo-alice");
    assert_eq!(
        published[0]["digest"], published[1]["digest"],
        "the same content has the same digest"
    );
    let (code, out, _) = run(d, &["privacy", "ropa", "--history"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("v1 "), "{out}");
}

#[test]
fn bad_input_exits_2_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _, err) = run(d, &["privacy", "ropa"]);
    assert_eq!(code, 2);
    assert!(err.contains("no data map was applied"), "{err}");
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "format = 1\n[controller]\nname = \"x\"\n").unwrap();
    let (code, _, err) = run(d, &["privacy", "ropa", "--map", bad.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("bad.toml:"), "{err}");
    let (code, _, err) = run(d, &["privacy", "ropa", "--format", "pdf"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: html, csv, json"), "{err}");
    let (code, _, err) = run(
        d,
        &[
            "privacy",
            "ropa",
            "--publish",
            "--map",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
}
