//! `evident risk` and `evident incident` as operators meet them: help that teaches, the
//! register kept across invocations, exports and the report, refusals (exit 2) that store
//! nothing, and `incident status` exiting 1 when a notification is overdue.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;

use serde_json::Value;

mod common;

fn run(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    common::run_evident(dir, args, code, &[])
}

fn log_size(dir: &Path) -> usize {
    common::log_size(dir, &[])
}

#[test]
fn help_teaches_with_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let (out, _) = run(&dir, &["risk", "--help"], 0);
    assert!(out.contains("Residual risk"), "{out}");
    assert!(out.contains("evident risk add --title"), "{out}");
    let (out, _) = run(&dir, &["risk", "add", "--help"], 0);
    assert!(
        out.contains("--likelihood") && out.contains("Example"),
        "{out}"
    );
    let (out, _) = run(&dir, &["incident", "--help"], 0);
    assert!(
        out.contains("72 h") && out.contains("evident incident open"),
        "{out}"
    );
    let (out, _) = run(&dir, &["incident", "notify", "--help"], 0);
    assert!(out.contains("supervisory-authority"), "{out}");
}

#[test]
fn the_risk_register_on_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run(&dir, &["init"], 0);
    let size = log_size(&dir);
    let base = [
        "risk",
        "add",
        "--title",
        "Stolen laptop",
        "--asset",
        "laptops",
        "--threat",
        "theft",
        "--owner",
        "it-lead",
        "--treatment",
        "mitigate",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    let (_, err) = run(&dir, &with(&["--likelihood", "-1", "--impact", "3"]), 2);
    assert!(err.contains("1 (lowest) to 5"), "{err}");
    let (_, err) = run(
        &dir,
        &with(&[
            "--likelihood",
            "3",
            "--impact",
            "3",
            "--control",
            "EV-NOPE-1",
        ]),
        2,
    );
    assert!(err.contains("EV-NOPE-1"), "{err}");
    assert_eq!(log_size(&dir), size, "a refused risk was recorded");

    let (out, _) = run(
        &dir,
        &with(&[
            "--likelihood",
            "3",
            "--impact",
            "4",
            "--control",
            "EV-CRY-01",
            "--json",
        ]),
        0,
    );
    let risk: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(risk["id"], "R-001");
    assert_eq!(risk["inherent"]["score"], 12);
    let (out, _) = run(&dir, &["risk", "list"], 0);
    assert!(out.contains("R-001") && out.contains("12 high"), "{out}");
    run(
        &dir,
        &[
            "risk", "update", "R-001", "--impact", "2", "--reason", "FDE",
        ],
        0,
    );
    let (out, _) = run(&dir, &["risk", "show", "R-001"], 0);
    assert!(
        out.contains("impact 2") && out.contains("EV-CRY-01"),
        "{out}"
    );
    let (csv, _) = run(&dir, &["risk", "export", "--format", "csv"], 0);
    assert!(csv.starts_with("id,title,"), "{csv}");
    assert!(csv
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("R-001,Stolen laptop,"));
    let (json, _) = run(&dir, &["risk", "export", "--format", "json"], 0);
    let all: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(all[0]["impact"], 2);
    let report = tmp.path().join("report.md");
    run(&dir, &["risk", "report", "-o", report.to_str().unwrap()], 0);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains("# Risk analysis") && text.contains("R-001"),
        "{text}"
    );
    run(&dir, &["risk", "close", "R-001", "--reason", "retired"], 0);
    let (out, _) = run(&dir, &["risk", "list"], 0);
    assert!(
        !out.contains("R-001"),
        "closed risks are listed only with --all: {out}"
    );
    let (out, _) = run(&dir, &["risk", "list", "--all"], 0);
    assert!(out.contains("closed"), "{out}");
    run(&dir, &["risk", "close", "R-001", "--reason", "again"], 2);
}

#[test]
fn incidents_and_their_clocks_on_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run(&dir, &["init"], 0);
    let size = log_size(&dir);
    let (_, err) = run(
        &dir,
        &[
            "incident",
            "open",
            "--title",
            "x",
            "--discovered-at",
            "2999-01-01T00:00:00Z",
        ],
        2,
    );
    assert!(err.contains("in the future"), "{err}");
    assert_eq!(log_size(&dir), size);

    let (out, _) = run(
        &dir,
        &[
            "incident",
            "open",
            "--title",
            "Misdirected letter",
            "--discovered-at",
            "2026-01-02",
            "--json",
        ],
        0,
    );
    let incident: Value = serde_json::from_str(out.trim()).unwrap();
    let id = incident["id"].as_str().unwrap().to_string();
    // Nothing owed yet: status exits 0.
    run(&dir, &["incident", "status"], 0);
    let size = log_size(&dir);
    let (_, err) = run(&dir, &["incident", "classify", &id, "--subjects", "-5"], 2);
    assert!(err.contains("0 or more"), "{err}");
    let (_, err) = run(
        &dir,
        &[
            "incident",
            "close",
            &id,
            "--reason",
            "x",
            "--at",
            "2025-12-31",
        ],
        2,
    );
    assert!(err.contains("before the incident was discovered"), "{err}");
    assert_eq!(log_size(&dir), size);

    run(
        &dir,
        &[
            "incident",
            "classify",
            &id,
            "--personal-data",
            "--subjects",
            "3",
        ],
        0,
    );
    // Discovered long ago: the 72 h clock has run out.
    let (out, err) = run(&dir, &["incident", "status"], 1);
    assert!(
        out.contains("overdue") && out.contains("GDPR Art. 33(1)"),
        "{out}"
    );
    assert!(err.contains("overdue"), "{err}");
    run(
        &dir,
        &[
            "incident",
            "notify",
            &id,
            "--to",
            "supervisory-authority",
            "--reference",
            "case 9",
        ],
        0,
    );
    let (out, _) = run(&dir, &["incident", "status", &id, "--json"], 0);
    let states: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(states
        .iter()
        .any(|o| o["recipient"] == "supervisory-authority" && o["state"] == "late"));
    run(
        &dir,
        &["incident", "update", &id, "--note", "letter recalled"],
        0,
    );
    run(
        &dir,
        &["incident", "close", &id, "--reason", "contained"],
        0,
    );
    let (out, _) = run(&dir, &["incident", "show", &id], 0);
    assert!(
        out.contains("letter recalled") && out.contains("closed"),
        "{out}"
    );
    let (out, _) = run(&dir, &["incident", "list", "--open"], 0);
    assert!(out.contains("no incidents"), "{out}");
}
