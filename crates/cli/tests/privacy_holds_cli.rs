//! `evident privacy hold …` as a privacy officer meets it: a hold on a subject and a dataset
//! is in force until lifted, `check` exits 1 while it holds, an ended hold stops holding, a
//! second lift is refused, bad requests exit 2 and record nothing, and the ledger holds the
//! subject only by its keyed name and still verifies.

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
        .env("EVIDENT_OPERATOR", "dpo-alice")
        .env_remove("EVIDENT_CONFIG")
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

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let map =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../privacy/tests/fixtures/datamap_ehr.toml");
    let (code, _, err) = run(
        dir.path(),
        &["privacy", "map", "apply", map.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    dir
}

fn holds(dir: &Path, all: bool) -> Vec<Value> {
    let mut args = vec!["privacy", "hold", "list", "--json"];
    if all {
        args.push("--all");
    }
    let (code, out, err) = run(dir, &args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn entries(dir: &Path) -> String {
    let (code, out, err) = run(dir, &["log", "tail", "-n", "1000"]);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn a_hold_holds_until_lifted_and_the_ledger_never_names_the_subject() {
    let dir = setup();
    let d = dir.path();
    let subjects = d.join("subjects.txt");
    std::fs::write(&subjects, "# the claimants\npatient-17\n\npatient-18\n").unwrap();
    let (code, out, err) = run(
        d,
        &[
            "privacy",
            "hold",
            "place",
            "--case",
            "Doe v. Clinic",
            "--reason",
            "litigation hold",
            "--subjects-file",
            subjects.to_str().unwrap(),
            "--subject",
            "patient-17",
            "--dataset",
            "ehr.invoices",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 subject(s)"), "{out}");
    let id = out.split_whitespace().next().unwrap().to_owned();
    assert!(id.starts_with("hold-"));

    for (flag, value, held) in [
        ("--subject", "patient-17", true),
        ("--subject", "patient-18", true),
        ("--subject", "patient-19", false),
        ("--dataset", "ehr.invoices", true),
        ("--dataset", "ehr.patients", false),
    ] {
        let (code, out, _) = run(d, &["privacy", "hold", "check", flag, value]);
        assert_eq!(code, if held { 1 } else { 0 }, "{value}: {out}");
        assert_eq!(out.contains(&id), held, "{out}");
    }
    let log = entries(d);
    assert!(log.contains("evident.privacy.hold.placed"));
    assert!(
        !log.contains("patient-17") && !log.contains("patient-18"),
        "{log}"
    );

    let (code, _, err) = run(
        d,
        &["privacy", "hold", "lift", &id, "--reason", "case settled"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run(d, &["privacy", "hold", "check", "--subject", "patient-17"]);
    assert_eq!(code, 0, "a lifted hold holds nothing");
    let (code, _, err) = run(d, &["privacy", "hold", "lift", &id, "--reason", "again"]);
    assert_eq!(code, 2);
    assert!(err.contains("was lifted already"), "{err}");
    assert!(holds(d, false).is_empty());
    let all = holds(d, true);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["lifted"]["reason"], "case settled");
    assert_eq!(all[0]["placed_by"], "cli:dpo-alice");
    let (code, out, err) = run(d, &["log", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_whole_system_is_held_and_bad_requests_record_nothing() {
    let dir = setup();
    let d = dir.path();
    let (code, _, err) = run(
        d,
        &[
            "privacy",
            "hold",
            "place",
            "--case",
            "AUDIT-1",
            "--reason",
            "regulator",
            "--dataset",
            "ehr",
            "--until",
            "2999-01-01",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run(
        d,
        &["privacy", "hold", "check", "--dataset", "ehr.patients"],
    );
    assert_eq!(code, 1);
    let before = entries(d);
    let cases: [(&[&str], &str); 7] = [
        (&["--reason", "r", "--subject", "s"], "--case"),
        (
            &["--case", "c", "--reason", " ", "--subject", "s"],
            "needs a reason",
        ),
        (
            &["--case", "c", "--reason", "r"],
            "at least one subject or dataset",
        ),
        (
            &["--case", "c", "--reason", "r", "--dataset", "ehr.nope"],
            "`ehr.nope` is not a system",
        ),
        (
            &[
                "--case",
                "c",
                "--reason",
                "r",
                "--subject",
                "s",
                "--until",
                "2001-01-01",
            ],
            "not in the future",
        ),
        (
            &[
                "--case",
                "c",
                "--reason",
                "r",
                "--subject",
                "s",
                "--until",
                "soon",
            ],
            "soon",
        ),
        (
            &[
                "--case",
                "c",
                "--reason",
                "r",
                "--subjects-file",
                "missing.txt",
            ],
            "missing.txt",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["privacy", "hold", "place"];
        args.extend_from_slice(extra);
        let (code, _, err) = run(d, &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let (code, _, err) = run(
        d,
        &["privacy", "hold", "lift", "hold-nope", "--reason", "x"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no legal hold `hold-nope`"), "{err}");
    let (code, _, err) = run(d, &["privacy", "hold", "check", "--dataset", "ehr"]);
    assert_eq!(code, 2);
    assert!(err.contains("system.table"), "{err}");
    assert_eq!(entries(d), before, "refused requests record nothing");
}
