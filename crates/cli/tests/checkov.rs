//! Checkov run for real over a tiny Terraform configuration, its SARIF ingested as
//! evidence. Runs when `checkov` is on PATH; when it is missing the test passes on a
//! developer machine but FAILS when `CI` is set, so CI cannot silently skip it
//! (scripts/ci-checkov.sh installs it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn checkov_available() -> bool {
    Command::new("checkov")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn checkov_sarif_is_ingested_against_the_mapped_controls() {
    if !checkov_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but `checkov` is not on PATH: install it (scripts/ci-checkov.sh)"
        );
        eprintln!("checkov is not on PATH; skipping outside CI");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checkov");
    let out_dir = tmp.path().join("checkov-out");
    let scan = Command::new("checkov")
        .args(["--directory"])
        .arg(&fixture)
        .args([
            "--framework",
            "terraform",
            "--output",
            "sarif",
            "--soft-fail",
            "--quiet",
        ])
        .arg("--output-file-path")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        scan.status.success(),
        "checkov failed: {}",
        String::from_utf8_lossy(&scan.stderr)
    );
    let sarif = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sarif"))
        .expect("checkov wrote a .sarif file");

    let dir = tmp.path().join("data");
    let evident = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_evident"))
            .args(args)
            .arg("--data-dir")
            .arg(&dir)
            .env_remove("EVIDENT_DATA_DIR")
            .env_remove("EVIDENT_ROOT_KEY")
            .env("EVIDENT_ROOT_PASSPHRASE", "correct horse battery staple")
            .env("USER", "ci")
            .output()
            .unwrap()
    };
    assert!(evident(&["init"]).status.success());
    let out = evident(&[
        "evidence",
        "ingest",
        sarif.to_str().unwrap(),
        "--format",
        "sarif",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cry = done["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "EV-CRY-01")
        .unwrap_or_else(|| panic!("EV-CRY-01 not among {done}"));
    assert!(cry["failed"].as_u64().unwrap() >= 1, "{done}");
    assert!(
        cry["failed_rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "CKV_AWS_7"),
        "{done}"
    );
}
