//! Manual evidence and exceptions against a real engine: evidence kept encrypted and given
//! back only as recorded, refusals that keep nothing, expiry as a named gap in the status,
//! evidence in backups, and exceptions as `controls.monitored` reads them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::sync::Arc;

use evident::controls::evidence::EvidenceOptions;
use evident::controls::exceptions::ExceptionRequest;
use evident::controls::{Cadence, Verdict};
use evident::crypto::local::LocalProvider;
use evident::store::EventQuery;
use evident::Engine;

const DAY_US: i64 = 86_400_000_000;
const PASS: &[u8] = b"correct horse battery staple";

fn now_us() -> i64 {
    evident::event::now_us()
}

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    engine.set_key_provider(Arc::new(
        LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap(),
    ));
    (dir, engine)
}

fn events(engine: &Engine, action: &str) -> Vec<evident::EventRecord> {
    engine
        .log()
        .query(&EventQuery {
            action: Some(action.into()),
            limit: 1000,
            ..EventQuery::default()
        })
        .unwrap()
        .events
}

fn options(control: &str) -> EvidenceOptions {
    EvidenceOptions {
        control: control.into(),
        now_us: now_us(),
        ..EvidenceOptions::default()
    }
}

fn file(dir: &Path, name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn evidence_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("evidence")).map_or(0, |d| d.count())
}

#[test]
fn evidence_is_kept_encrypted_and_given_back_as_recorded() {
    let (dir, engine) = engine();
    let keys = engine.keyring(true).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let content = b"%PDF-1.7 Q1 access review: 14 accounts reviewed, 2 removed";
    let path = file(scratch.path(), "q1-review.bin", content);
    let mut o = options("EV-AC-07");
    o.reason = Some("Q1 review, SEC-142".into());
    o.effective_from_us = Some(now_us() - 60 * DAY_US);
    o.effective_to_us = Some(now_us() - 7 * DAY_US);
    o.validity = Some(Cadence::parse("90d").unwrap());
    let added = engine
        .controls()
        .add_evidence(&keys, &path, &o, "cli:alice")
        .unwrap();
    assert_eq!(added.media_type, "application/pdf", "from the magic bytes");
    assert_eq!(added.size, content.len() as u64);
    assert_eq!(added.added_by, "cli:alice");

    // One event, with the fields bundles read, its actor the person who added it.
    let recorded = events(&engine, "evidence.added");
    assert_eq!(recorded.len(), 1);
    let e = &recorded[0].entry;
    assert_eq!(e["actor"]["id"], "cli:alice");
    assert_eq!(e["resource"]["type"], "control");
    assert_eq!(e["resource"]["id"], "EV-AC-07");
    for field in [
        "control",
        "sha256",
        "size",
        "media_type",
        "file_name",
        "reason",
        "effective_from",
        "effective_to",
        "valid_until",
        "evidence_id",
    ] {
        assert!(!e["metadata"][field].is_null(), "{field}: {e}");
    }
    assert_eq!(e["metadata"]["evidence_id"], added.evidence_id.as_str());

    // On disk the content is encrypted.
    let kept = std::fs::read(
        dir.path()
            .join(format!("evidence/{}.enc", added.evidence_id)),
    )
    .unwrap();
    assert!(!kept.windows(20).any(|w| w == &content[..20]));
    let (again, back) = engine
        .controls()
        .evidence_content(&keys, &added.evidence_id)
        .unwrap();
    assert_eq!(&back[..], content);
    assert_eq!(again.sha256, added.sha256);
    assert_eq!(
        engine
            .controls()
            .list_evidence(Some("EV-AC-07"))
            .unwrap()
            .len(),
        1
    );

    // Another id's file in its place does not open; a flipped byte does not either.
    let second = engine
        .controls()
        .add_evidence(
            &keys,
            &file(scratch.path(), "b.txt", b"other"),
            &options("EV-AC-07"),
            "cli:alice",
        )
        .unwrap();
    let path_of = |id: &str| dir.path().join(format!("evidence/{id}.enc"));
    std::fs::copy(path_of(&second.evidence_id), path_of(&added.evidence_id)).unwrap();
    let err = engine
        .controls()
        .evidence_content(&keys, &added.evidence_id)
        .unwrap_err();
    assert!(
        matches!(
            err,
            evident::Error::Crypto(_) | evident::Error::Integrity(_)
        ),
        "{err}"
    );
    let mut flipped = kept.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    std::fs::remove_file(path_of(&added.evidence_id)).unwrap();
    std::fs::write(path_of(&added.evidence_id), &flipped).unwrap();
    let err = engine
        .controls()
        .evidence_content(&keys, &added.evidence_id)
        .unwrap_err();
    assert!(matches!(err, evident::Error::Integrity(_)), "{err}");
    // An id that is not one never becomes a path.
    assert!(matches!(
        engine.controls().evidence_content(&keys, "../../signing"),
        Err(evident::Error::BadRequest(_))
    ));
}

#[test]
fn refusals_keep_nothing() {
    let (dir, engine) = engine();
    let keys = engine.keyring(true).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let path = file(scratch.path(), "a.txt", b"attestation");
    let before = engine.size();
    let refused = [
        options("NO-SUCH-CONTROL"),
        EvidenceOptions {
            max_bytes: 5,
            ..options("EV-AC-07")
        },
        EvidenceOptions {
            effective_from_us: Some(now_us()),
            effective_to_us: Some(now_us() - DAY_US),
            ..options("EV-AC-07")
        },
        EvidenceOptions {
            valid_until_us: Some(now_us() - DAY_US),
            ..options("EV-AC-07")
        },
        EvidenceOptions {
            media_type: Some("not a type".into()),
            ..options("EV-AC-07")
        },
    ];
    for o in &refused {
        let err = engine
            .controls()
            .add_evidence(&keys, &path, o, "cli:alice")
            .unwrap_err();
        assert!(
            matches!(
                err,
                evident::Error::NotFound(_) | evident::Error::BadRequest(_)
            ),
            "{err}"
        );
    }
    let empty = file(scratch.path(), "empty.txt", b"");
    assert!(engine
        .controls()
        .add_evidence(&keys, &empty, &options("EV-AC-07"), "cli:alice")
        .is_err());
    assert_eq!(engine.size(), before, "nothing appended");
    assert_eq!(evidence_files(dir.path()), 0, "nothing kept");
}

#[test]
fn expired_evidence_is_a_named_gap_in_the_status() {
    let (_dir, engine) = engine();
    let keys = engine.keyring(true).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let status = |id: &str| {
        engine
            .controls()
            .status(now_us())
            .unwrap()
            .into_iter()
            .find(|s| s.control == id)
            .unwrap()
    };
    let none = status("EV-AC-07");
    assert_eq!(none.evidence.as_ref().unwrap().state, "missing");
    assert!(none.overdue);
    assert_eq!(none.evidence_gap().as_deref(), Some("no evidence"));

    // Evidence of a period long past, standing one day after it: expired now.
    let mut old = options("EV-AC-07");
    old.effective_to_us = Some(now_us() - 100 * DAY_US);
    old.validity = Some(Cadence::parse("1d").unwrap());
    engine
        .controls()
        .add_evidence(
            &keys,
            &file(scratch.path(), "old.txt", b"old review"),
            &old,
            "cli:alice",
        )
        .unwrap();
    let expired = status("EV-AC-07");
    assert_eq!(expired.evidence.as_ref().unwrap().state, "expired");
    assert!(expired.overdue);
    assert!(expired
        .evidence_gap()
        .unwrap()
        .starts_with("evidence expired "));

    // Fresh evidence stands for the control's cadence by default.
    let fresh = engine
        .controls()
        .add_evidence(
            &keys,
            &file(scratch.path(), "new.txt", b"new review"),
            &options("EV-AC-07"),
            "cli:alice",
        )
        .unwrap();
    let current = status("EV-AC-07");
    let standing = current.evidence.as_ref().unwrap();
    assert_eq!(standing.state, "current");
    assert_eq!(
        standing.evidence_id.as_deref(),
        Some(fresh.evidence_id.as_str())
    );
    assert!(!current.overdue);
    assert!(current.evidence_gap().is_none());
    // Automated controls carry no evidence standing; manual ones are never due for a check.
    assert!(status("EV-AC-01").evidence.is_none());
    assert!(!engine
        .controls()
        .due(now_us())
        .unwrap()
        .iter()
        .any(|c| c == "EV-OPS-02"));
}

#[test]
fn backups_carry_the_evidence_files() {
    let (_dir, engine) = engine();
    let keys = engine.keyring(true).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let added = engine
        .controls()
        .add_evidence(
            &keys,
            &file(scratch.path(), "plan.md", b"# IR plan, tested"),
            &options("EV-OPS-02"),
            "cli:alice",
        )
        .unwrap();
    let out = scratch.path().join("b.evb");
    evident::backup::create(&engine, &out, "test").unwrap();
    let target = scratch.path().join("restored");
    std::env::set_var(
        "EVIDENT_ROOT_PASSPHRASE",
        std::str::from_utf8(PASS).unwrap(),
    );
    evident::backup::restore(&out, &target).unwrap();
    let restored = Engine::open(&target, false).unwrap();
    restored.set_key_provider(Arc::new(
        LocalProvider::with_passphrase(&target, PASS, false).unwrap(),
    ));
    let (_, content) = restored
        .controls()
        .evidence_content(&restored.keyring(false).unwrap(), &added.evidence_id)
        .unwrap();
    assert_eq!(&content[..], b"# IR plan, tested");
}

#[test]
fn exceptions_need_a_second_person_a_reason_and_a_sane_end() {
    let (_dir, engine) = engine();
    let now = now_us();
    let request = |control: &str, until_us: i64, approver: &str| ExceptionRequest {
        control: control.into(),
        until_us,
        reason: "restore tests blocked by the storage migration".into(),
        approved_by: approver.into(),
        max_days: 0,
        now_us: now,
    };
    let before = engine.size();
    for (r, why) in [
        (
            request("EV-OPS-01", now + 30 * DAY_US, "alice"),
            "own approval",
        ),
        (
            request("EV-OPS-01", now + 30 * DAY_US, "Alice"),
            "own approval, other case",
        ),
        (request("EV-OPS-01", now - DAY_US, "ciso"), "in the past"),
        (
            request("EV-OPS-01", now + 400 * DAY_US, "ciso"),
            "over a year",
        ),
        (
            request("NO-SUCH", now + 30 * DAY_US, "ciso"),
            "unknown control",
        ),
        (request("EV-OPS-01", now + 30 * DAY_US, " "), "no approver"),
        (
            ExceptionRequest {
                reason: " ".into(),
                ..request("EV-OPS-01", now + 30 * DAY_US, "ciso")
            },
            "no reason",
        ),
    ] {
        assert!(
            engine.controls().grant_exception(&r, "cli:alice").is_err(),
            "{why}"
        );
    }
    assert_eq!(engine.size(), before, "nothing recorded");
    // A configured limit allows longer.
    let long = ExceptionRequest {
        max_days: 500,
        ..request("EV-OPS-01", now + 400 * DAY_US, "ciso")
    };
    let granted = engine
        .controls()
        .grant_exception(&long, "cli:alice")
        .unwrap();
    let e = &events(&engine, "controls.exception.granted")[0].entry;
    assert_eq!(e["actor"]["id"], "cli:alice");
    assert_eq!(e["metadata"]["approved_by"], "ciso");
    assert_eq!(e["metadata"]["exception_id"], granted.exception_id.as_str());
    for field in ["control", "reason", "until"] {
        assert!(!e["metadata"][field].is_null(), "{field}");
    }
    let revoked = engine
        .controls()
        .revoke_exception(&granted.exception_id, "migration done", "cli:bob")
        .unwrap();
    assert!(revoked.revoked.is_some());
    assert!(engine
        .controls()
        .revoke_exception(&granted.exception_id, "again", "cli:bob")
        .is_err());
    assert!(engine
        .controls()
        .revoke_exception("exc-nope", "x", "cli:bob")
        .is_err());
    let r = &events(&engine, "controls.exception.revoked")[0].entry;
    assert_eq!(r["resource"]["id"], "EV-OPS-01");
    assert_eq!(r["metadata"]["exception_id"], granted.exception_id.as_str());
}

fn monitored(engine: &Engine) -> evident::controls::CheckRun {
    engine
        .controls()
        .check(&["EV-GOV-05".to_string()], "tester")
        .unwrap()
        .remove(0)
}

fn sql(dir: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(dir.join("evident.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn.execute_batch(statement).unwrap();
}

#[test]
fn monitoring_accepts_an_open_exception_and_refuses_an_ended_one() {
    let (dir, engine) = engine();
    let all: Vec<String> = engine
        .controls()
        .catalog()
        .unwrap()
        .controls
        .iter()
        .filter(|c| c.check.is_some() && c.id != "EV-GOV-05")
        .map(|c| c.id.clone())
        .collect();
    engine.controls().check(&all, "tester").unwrap();
    // EV-OPS-01 (no restore test) fails, and has for 40 days.
    sql(
        dir.path(),
        &format!(
            "UPDATE control_status SET since_us = {} WHERE control = 'EV-OPS-01'",
            now_us() - 40 * DAY_US
        ),
    );
    let stale = monitored(&engine);
    assert_eq!(stale.outcome.verdict, Verdict::Fail);

    // An exception granted 50 days ago that ended yesterday covered the failure; now it
    // stands alone and the check fails for it by name.
    let ended = ExceptionRequest {
        control: "EV-OPS-01".into(),
        until_us: now_us() - DAY_US,
        reason: "migration".into(),
        approved_by: "ciso".into(),
        max_days: 0,
        now_us: now_us() - 50 * DAY_US,
    };
    engine
        .controls()
        .grant_exception(&ended, "cli:alice")
        .unwrap();
    let run = monitored(&engine);
    assert_eq!(run.outcome.verdict, Verdict::Fail);
    assert_eq!(
        run.outcome.observed["exception_ended"][0]["control"],
        "EV-OPS-01"
    );
    let status = engine.controls().status(now_us()).unwrap();
    let ops = status.iter().find(|s| s.control == "EV-OPS-01").unwrap();
    assert_eq!(
        ops.shown_result(),
        "fail",
        "an ended exception is not shown"
    );

    // An open one excuses it.
    let open = ExceptionRequest {
        until_us: now_us() + 30 * DAY_US,
        now_us: now_us(),
        ..ended
    };
    let granted = engine
        .controls()
        .grant_exception(&open, "cli:alice")
        .unwrap();
    let run = monitored(&engine);
    assert_eq!(run.outcome.verdict, Verdict::Pass, "{run:#?}");
    assert_eq!(run.outcome.observed["excepted"][0]["control"], "EV-OPS-01");
    let status = engine.controls().status(now_us()).unwrap();
    let ops = status.iter().find(|s| s.control == "EV-OPS-01").unwrap();
    assert!(
        ops.shown_result().starts_with("failing (excepted until "),
        "{}",
        ops.shown_result()
    );

    // Revoked, it excuses nothing: the ended one is what remains.
    engine
        .controls()
        .revoke_exception(&granted.exception_id, "fixed? no: revoked", "cli:bob")
        .unwrap();
    assert_eq!(monitored(&engine).outcome.verdict, Verdict::Fail);
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scanners")
        .join(name)
}

#[test]
fn scanner_results_become_evidence_per_control() {
    use evident::controls::evidence::scan::ScanFormat;
    let (dir, engine) = engine();
    let keys = engine.keyring(true).unwrap();
    let o = options("");

    // Checkov's SARIF: rule ids through catalog/mappings/checkov.toml.
    let sarif = engine
        .controls()
        .ingest_evidence(
            &keys,
            &fixture("checkov.sarif"),
            ScanFormat::Sarif,
            &o,
            "cli:ci",
        )
        .unwrap();
    assert_eq!(sarif.tool, "Checkov");
    assert_eq!(sarif.findings, 3);
    assert_eq!(sarif.unmapped, 1, "CKV_AWS_33 is not mapped");
    let by: std::collections::BTreeMap<&str, &evident::controls::evidence::IngestedControl> = sarif
        .controls
        .iter()
        .map(|c| (c.control.as_str(), c))
        .collect();
    assert_eq!(
        by.keys().copied().collect::<Vec<_>>(),
        ["EV-CRY-01", "EV-LOG-01"]
    );
    assert_eq!(
        (by["EV-CRY-01"].tally.passed, by["EV-CRY-01"].tally.failed),
        (0, 1)
    );
    assert!(by["EV-CRY-01"].tally.failed_rules.contains("CKV_AWS_7"));
    assert_eq!(
        (by["EV-LOG-01"].tally.passed, by["EV-LOG-01"].tally.failed),
        (1, 0)
    );
    let ingested = events(&engine, "evidence.ingested");
    assert_eq!(ingested.len(), 2);
    let cry = ingested
        .iter()
        .find(|e| e.entry["resource"]["id"] == "EV-CRY-01")
        .unwrap();
    assert_eq!(cry.entry["outcome"], "failure");
    assert_eq!(cry.entry["metadata"]["failed_rules"][0], "CKV_AWS_7");
    assert_eq!(
        cry.entry["metadata"]["evidence_id"],
        sarif.evidence_id.as_str()
    );
    // The file itself is kept once and given back as recorded.
    let (_, content) = engine
        .controls()
        .evidence_content(&keys, &sarif.evidence_id)
        .unwrap();
    assert_eq!(
        &content[..],
        &std::fs::read(fixture("checkov.sarif")).unwrap()[..]
    );

    // Prowler's OCSF: requirement ids through the catalog's own framework mappings.
    let ocsf = engine
        .controls()
        .ingest_evidence(
            &keys,
            &fixture("prowler.ocsf.json"),
            ScanFormat::Ocsf,
            &o,
            "cli:ci",
        )
        .unwrap();
    assert_eq!(ocsf.tool, "Prowler");
    assert_eq!(ocsf.findings, 3, "MANUAL findings are skipped");
    assert_eq!(ocsf.unmapped, 1, "a CIS-only finding maps to nothing");
    let by: std::collections::BTreeMap<&str, &evident::controls::evidence::IngestedControl> = ocsf
        .controls
        .iter()
        .map(|c| (c.control.as_str(), c))
        .collect();
    // SOC 2 CC6.1 and 800-53 SC-12: the key-rotation control failed.
    assert_eq!(by["EV-CRY-01"].tally.failed, 1);
    assert!(by["EV-CRY-01"]
        .tally
        .failed_rules
        .contains("kms_cmk_rotation_enabled"));
    // 800-53 AU-9 and SI-7(1): the log integrity control passed.
    assert_eq!(
        (by["EV-LOG-01"].tally.passed, by["EV-LOG-01"].tally.failed),
        (1, 0)
    );
    // Partly automated controls count scanner results as evidence in their standing.
    assert_eq!(
        engine
            .controls()
            .list_evidence(Some("EV-LOG-01"))
            .unwrap()
            .len(),
        2
    );

    // Refusals keep nothing: a file that does not read, one whose findings map nowhere.
    let before = engine.size();
    let files = std::fs::read_dir(dir.path().join("evidence"))
        .unwrap()
        .count();
    let scratch = tempfile::tempdir().unwrap();
    let nothing = file(
        scratch.path(),
        "none.sarif",
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"NOPE_1"}]}]}"#,
    );
    for (path, format) in [
        (nothing, ScanFormat::Sarif),
        (fixture("checkov.sarif"), ScanFormat::Ocsf),
        (fixture("prowler.ocsf.json"), ScanFormat::Sarif),
    ] {
        let err = engine
            .controls()
            .ingest_evidence(&keys, &path, format, &o, "cli:ci")
            .unwrap_err();
        assert!(matches!(err, evident::Error::BadRequest(_)), "{err}");
    }
    assert_eq!(engine.size(), before);
    assert_eq!(
        std::fs::read_dir(dir.path().join("evidence"))
            .unwrap()
            .count(),
        files
    );
}
