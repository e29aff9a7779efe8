//! `evident policy-doc` as an operator uses it: documents rendered from the live
//! configuration (byte-identical twice), published with an approver as ledger events, drift
//! after a configuration change (the TLS minimum), diff and history, a template naming a
//! setting that does not exist refused with its template, line and setting, and the policy
//! documents in force carried by a period evidence bundle that verifies.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::{Command, Output};

use evident::controls::bundle::format::{read_tar, Manifest, MANIFEST};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn evident(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_evident"));
    command.args(args);
    if args[0] != "verify" {
        command.arg("--data-dir").arg(dir);
    }
    command
        .args(["--quiet", "--operator", "ops-lead"])
        .env_remove("EVIDENT_DATA_DIR")
        .env_remove("EVIDENT_CONFIG")
        .env_remove("EVIDENT_ROOT_KEY")
        .env_remove("EVIDENT_ROOT_KEY_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE")
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = evident(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let out = evident(dir, args);
    assert_eq!(out.status.code(), Some(code), "{args:?}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn states(dir: &Path) -> Vec<(String, String)> {
    ok(dir, &["policy-doc", "list", "--json"])
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["document"].as_str().unwrap().to_string(),
                v["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn state_of(dir: &Path, name: &str) -> String {
    states(dir).into_iter().find(|(n, _)| n == name).unwrap().1
}

fn log_size(dir: &Path) -> String {
    ok(dir, &["log", "checkpoint"])
}

/// An engine with the repository's default policy pack applied.
fn engine(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("data");
    ok(&dir, &["init"]);
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    ok(&dir, &["policy", "apply", pack.to_str().unwrap()]);
    dir
}

/// The catalog's control that runs `tls.protocols`, held to TLS `version`.
fn set_tls_minimum(dir: &Path, version: &str) {
    let catalog = evident::controls::catalog::load(None).unwrap();
    let control = catalog
        .controls
        .iter()
        .find(|c| c.check.as_deref() == Some("tls.protocols"))
        .unwrap();
    std::fs::create_dir_all(dir.join("controls")).unwrap();
    std::fs::write(
        dir.join("controls/tls-minimum.toml"),
        format!(
            "[[settings]]\ncontrol = \"{}\"\nparams = {{ min_version = \"{version}\" }}\n",
            control.id
        ),
    )
    .unwrap();
}

#[test]
fn policy_docs_render_publish_drift_and_history() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = engine(tmp.path());

    let listed = states(&dir);
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert_eq!(state_of(&dir, "encryption"), "unpublished");
    // No data map is applied: the retention document cannot say anything true yet.
    assert_eq!(state_of(&dir, "data-retention"), "error");

    let first = ok(&dir, &["policy-doc", "render", "encryption"]);
    assert_eq!(first, ok(&dir, &["policy-doc", "render", "encryption"]));
    assert!(first.contains("accepts TLS 1.2 and above"), "{first}");
    let page = ok(
        &dir,
        &["policy-doc", "render", "encryption", "--format", "html"],
    );
    assert!(page.starts_with("<!DOCTYPE html>"));
    let access = ok(&dir, &["policy-doc", "render", "access-control"]);
    for role in [
        "| admin | editor, viewer |",
        "| editor | viewer |",
        "| viewer | - |",
    ] {
        assert!(access.contains(role), "{role} in {access}");
    }

    let before = log_size(&dir);
    let published: Value = serde_json::from_str(&ok(
        &dir,
        &[
            "policy-doc",
            "publish",
            "encryption",
            "--approver",
            "Dana Reyes, CISO",
            "--json",
        ],
    ))
    .unwrap();
    assert_ne!(log_size(&dir), before);
    assert_eq!(published["version"], 1);
    assert_eq!(published["approver"], "Dana Reyes, CISO");
    assert_eq!(published["published_by"], "cli:ops-lead");
    assert_eq!(
        published["sha256"].as_str().unwrap(),
        format!("sha256:{}", hex::encode(Sha256::digest(first.as_bytes())))
    );
    assert_eq!(published["settings"]["tls.min_version"], "1.2");
    assert_eq!(state_of(&dir, "encryption"), "current");
    let recorded = ok(
        &dir,
        &["log", "query", "--action", "controls.policy_doc.published"],
    );
    assert!(recorded.contains("encryption"), "{recorded}");

    // The TLS minimum is raised: the same document now says so, and the published one drifted.
    set_tls_minimum(&dir, "1.3");
    let second = ok(&dir, &["policy-doc", "render", "encryption"]);
    assert_ne!(first, second);
    assert!(second.contains("accepts TLS 1.3 and above"));
    assert_eq!(state_of(&dir, "encryption"), "drifted");
    let table = ok(&dir, &["policy-doc", "list"]);
    assert!(table.contains("drifted"), "{table}");
    let check = fails(&dir, &["policy-doc", "status", "--check"], 1);
    assert!(check.contains("drifted"), "{check}");
    let diff = ok(&dir, &["policy-doc", "diff", "encryption"]);
    assert!(
        diff.contains("# setting tls.min_version: \"1.2\" -> \"1.3\""),
        "{diff}"
    );
    assert!(diff.contains("-The API accepts TLS 1.2"), "{diff}");
    assert!(diff.contains("+The API accepts TLS 1.3"), "{diff}");

    let v2: Value = serde_json::from_str(&ok(
        &dir,
        &[
            "policy-doc",
            "publish",
            "encryption",
            "--approver",
            "Dana Reyes, CISO",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(v2["version"], 2);
    assert_ne!(v2["sha256"], published["sha256"]);
    assert_eq!(state_of(&dir, "encryption"), "current");
    let history = ok(&dir, &["policy-doc", "history", "encryption", "--json"]);
    assert_eq!(history.lines().count(), 2, "{history}");
    assert_eq!(ok(&dir, &["policy-doc", "show", "encryption", "1"]), first);
    assert_eq!(ok(&dir, &["policy-doc", "show", "encryption"]), second);
    let between = ok(
        &dir,
        &[
            "policy-doc",
            "diff",
            "encryption",
            "--from",
            "1",
            "--to",
            "2",
        ],
    );
    assert!(between.contains("+The API accepts TLS 1.3"), "{between}");
    let missing = fails(&dir, &["policy-doc", "show", "encryption", "9"], 2);
    assert!(missing.contains("no version 9"), "{missing}");
}

#[test]
fn policy_docs_a_template_naming_a_missing_setting_publishes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = engine(tmp.path());
    std::fs::create_dir_all(dir.join("policy-docs")).unwrap();
    std::fs::write(
        dir.join("policy-docs/vendor-risk.md"),
        "# Vendor Risk\n\nKeys rotate every {{keys.max_age_days}} days.\nTLS {{tls.min_verison}} and up.\n",
    )
    .unwrap();
    let out = fails(&dir, &["policy-doc", "render", "vendor-risk"], 2);
    assert!(out.contains("`vendor-risk`"), "{out}");
    assert!(out.contains("line 4"), "{out}");
    assert!(out.contains("`tls.min_verison`"), "{out}");
    let before = log_size(&dir);
    let out = fails(
        &dir,
        &["policy-doc", "publish", "vendor-risk", "--approver", "Dana"],
        2,
    );
    assert!(out.contains("line 4"), "{out}");
    assert_eq!(log_size(&dir), before, "nothing was recorded");
    assert!(ok(&dir, &["policy-doc", "history", "vendor-risk", "--json"]).is_empty());
    assert_eq!(state_of(&dir, "vendor-risk"), "error");

    // A local template replaces the shipped one of its name.
    std::fs::write(
        dir.join("policy-docs/encryption.md"),
        "# Our Encryption Standard\n\nMinimum: TLS {{tls.min_version}}; keys: {{keys.names}}.\n",
    )
    .unwrap();
    let ours = ok(&dir, &["policy-doc", "render", "encryption"]);
    assert!(ours.starts_with("# Our Encryption Standard\n"), "{ours}");
    let out = fails(&dir, &["policy-doc", "render", "../etc/passwd"], 2);
    assert!(out.contains("not a policy document name"), "{out}");
    let out = fails(
        &dir,
        &["policy-doc", "publish", "encryption", "--approver", " "],
        2,
    );
    assert!(out.contains("approver"), "{out}");
    let help = ok(&dir, &["policy-doc", "--help"]);
    assert!(help.contains("Examples:") && help.contains("publish encryption --approver"));
}

#[test]
fn policy_docs_data_retention_shows_the_applied_data_maps_periods() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = engine(tmp.path());
    let map =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../privacy/tests/fixtures/datamap_ehr.toml");
    ok(&dir, &["privacy", "map", "apply", map.to_str().unwrap()]);
    let text = ok(&dir, &["policy-doc", "render", "data-retention"]);
    assert!(
        text.contains(
            "| ehr | patients | 10y | created_at | treatment of the patient | contract |"
        ),
        "{text}"
    );
    assert!(
        text.contains("| ehr | prescriptions | 6y | row creation |"),
        "{text}"
    );
    assert_eq!(state_of(&dir, "data-retention"), "unpublished");
}

#[test]
fn policy_docs_in_force_are_carried_by_a_period_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = engine(tmp.path());
    ok(
        &dir,
        &[
            "policy-doc",
            "publish",
            "access-control",
            "--approver",
            "CISO",
        ],
    );
    let now = time::OffsetDateTime::now_utc();
    let fmt = &time::format_description::well_known::Rfc3339;
    let from = now.format(fmt).unwrap();
    let to = (now + time::Duration::minutes(50)).format(fmt).unwrap();
    let file = tmp.path().join("soc2.tar");
    ok(
        &dir,
        &[
            "evidence",
            "bundle",
            "--framework",
            "soc2",
            "--from",
            &from,
            "--to",
            &to,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let members = read_tar(&std::fs::read(&file).unwrap()).unwrap();
    let manifest: Manifest = serde_json::from_slice(&members[MANIFEST]).unwrap();
    assert_eq!(
        manifest.policy_documents.len(),
        1,
        "{:?}",
        manifest.policy_documents
    );
    let doc = &manifest.policy_documents[0];
    assert_eq!((doc.document.as_str(), doc.version), ("access-control", 1));
    assert!(manifest
        .events
        .iter()
        .any(|e| e.action == "controls.policy_doc.published" && e.index == doc.index));
    let vkey = ok(&dir, &["log", "vkey"]).trim().to_string();
    let out = ok(&dir, &["verify", file.to_str().unwrap(), "--vkey", &vkey]);
    assert!(out.contains("ok: bundle soc2"), "{out}");
}
