//! Data-subject requests through the engine, over the 20,000-patient SQLite fixture: the
//! lifecycle (received → identity verified → approved | denied → executing → completed),
//! deadlines and overdue flags under an injected clock, one extension, a failed system that
//! keeps the request open and a later run that resumes it, the ledger as the last system
//! (personal fields erased, the subject's key shredded, the log still verifies), access,
//! rectification, restriction, and a second run for the same subject refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

#[path = "../../privacy/tests/dsr_fixture.rs"]
mod fixture;

use evident::crypto::local::LocalProvider;
use evident::privacy::dsr::certificate;
use evident::privacy::dsr::deadline::DAY_US;
use evident::privacy::dsr::keys::is_sealed;
use evident::privacy::dsr::{KeyringKeys, Kind, NewRequest, Regime, RunOptions, State};
use evident::Engine;
use fixture::Fixture;

/// 2026-03-10T00:00:00Z, µs.
const RECEIVED: i64 = 1_773_100_800_000_000;

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    let provider =
        LocalProvider::with_passphrase(dir.path(), b"correct horse battery staple", true).unwrap();
    engine.set_key_provider(std::sync::Arc::new(provider));
    (dir, engine)
}

fn new(kind: Kind, regime: Regime, subject: &str) -> NewRequest {
    NewRequest {
        kind,
        regime,
        subject: subject.into(),
        fields: Vec::new(),
        received_us: RECEIVED,
    }
}

fn dry() -> RunOptions {
    RunOptions {
        dry_run: true,
        ..RunOptions::default()
    }
}

fn approved(engine: &Engine, request: &NewRequest) -> String {
    let dsr = engine.dsr();
    let r = dsr.open(request, "alice").unwrap();
    assert_eq!(r.state, State::Received);
    dsr.verify_identity(&r.id, "signed-in account and email code", "alice")
        .unwrap();
    dsr.approve(&r.id, "dpo").unwrap();
    r.id
}

#[test]
fn an_erasure_runs_every_system_then_the_ledger_and_completes() {
    let (_dir, engine) = engine();
    let db = Fixture::sqlite();
    let map = db.datamap();
    let keyring = engine.keyring(true).unwrap();
    keyring.create("clinic-erasure", "alice").unwrap();
    let keys = KeyringKeys::new(&keyring, "dpo");
    let dsr = engine.dsr();

    let r = dsr
        .open(&new(Kind::Erasure, Regime::Gdpr, "17"), "alice")
        .unwrap();
    let e = dsr
        .run(&r.id, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap_err()
        .to_string();
    assert!(e.contains("is received; it runs once approved"), "{e}");
    assert!(
        dsr.approve(&r.id, "dpo").is_err(),
        "approval before identity"
    );
    dsr.verify_identity(&r.id, "email code", "alice").unwrap();
    dsr.approve(&r.id, "dpo").unwrap();

    let dry = dsr.run(&r.id, &map, &keys, &dry(), "dpo").unwrap();
    assert_eq!(dry.systems[0].status, "dry_run");
    assert_eq!(
        dsr.get(&r.id).unwrap().state,
        State::Approved,
        "a dry run logs nothing"
    );

    let report = dsr
        .run(&r.id, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap();
    let status: Vec<(&str, &str)> = report
        .systems
        .iter()
        .map(|s| (s.system.as_str(), s.status))
        .collect();
    assert_eq!(
        status,
        [("clinic", "done"), ("evident", "done")],
        "{report:?}"
    );
    let done = report.request;
    assert_eq!(done.state, State::Completed);
    let actions: Vec<&str> = done.steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "privacy.dsr.opened",
            "privacy.dsr.identity_verified",
            "privacy.dsr.approved",
            "privacy.dsr.executing",
            "privacy.dsr.system_done",
            "privacy.dsr.system_done",
            "privacy.dsr.completed"
        ]
    );
    assert_eq!(
        done.systems["clinic"].detail["verification"]["clean"],
        serde_json::json!(true)
    );
    // The ledger: the subject's id in the opening event is erased, the log still verifies.
    let opened = engine.event(done.steps[0].1, true).unwrap();
    assert!(opened.revealed.is_empty(), "{:?}", opened.revealed.len());
    engine.verify(|_| {}).unwrap();
    // encrypt_then_shred: the sealed SSN can never be opened again.
    let patient =
        evident::privacy::dsr::connector::export(map.system("clinic").unwrap(), "17").unwrap();
    let p = &patient[0];
    let ssn = p.rows[0][p.columns.iter().position(|c| c == "ssn").unwrap()]
        .clone()
        .unwrap();
    assert!(is_sealed(&ssn));
    assert!(keyring.decrypt(&ssn, b"clinic/patients/ssn/17").is_err());
    // Running a completed request again is refused, not repeated.
    assert!(dsr
        .run(&r.id, &map, &keys, &RunOptions::default(), "dpo")
        .is_err());

    // The certificate: anchored in the log, checked offline with the verifier key alone.
    let cert = dsr.certificate(&r.id, "dpo").unwrap();
    let key = engine.verifier_key();
    let checked = certificate::verify(&cert, &key).unwrap();
    assert_eq!(checked.request, r.id);
    let systems = &cert["certificate"]["systems"];
    assert_eq!(systems[0]["system"], "clinic");
    assert_eq!(systems[0]["detail"]["verification"]["clean"], true);
    assert_eq!(cert["certificate"]["steps"].as_array().unwrap().len(), 7);
    let mut forged = cert.clone();
    forged["certificate"]["systems"][0]["detail"]["changed"] = serde_json::json!(99);
    let e = certificate::verify(&forged, &key).unwrap_err().to_string();
    assert!(e.contains("changed after it was issued"), "{e}");
    let other = Engine::open(tempfile::tempdir().unwrap().path(), true).unwrap();
    assert!(certificate::verify(&cert, &other.verifier_key()).is_err());
    let access = dsr
        .open(&new(Kind::Access, Regime::Gdpr, "18"), "alice")
        .unwrap();
    assert!(dsr.certificate(&access.id, "dpo").is_err());
}

#[test]
fn a_failed_system_keeps_the_request_open_and_a_later_run_resumes() {
    let (_dir, engine) = engine();
    let db = Fixture::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("crm.db");
    let text = format!(
        "{}\n{}",
        fixture::map(&db.connection()),
        fixture::map(&format!("connection = \"sqlite:{}\"", missing.display()))
            .replace("format = 1\n", "")
            .replace("name = \"clinic\"", "name = \"crm\"")
    );
    let map = evident::privacy::datamap::parse(std::path::Path::new("m.toml"), &text).unwrap();
    let keyring = engine.keyring(true).unwrap();
    keyring.create("clinic-erasure", "alice").unwrap();
    let keys = KeyringKeys::new(&keyring, "dpo");
    let id = approved(&engine, &new(Kind::Erasure, Regime::Gdpr, "17"));
    let dsr = engine.dsr();
    let report = dsr
        .run(&id, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap();
    let status: Vec<(&str, &str)> = report
        .systems
        .iter()
        .map(|s| (s.system.as_str(), s.status))
        .collect();
    assert_eq!(status, [("clinic", "done"), ("crm", "failed")]);
    assert!(report.systems[1]
        .error
        .as_deref()
        .unwrap()
        .contains("system `crm`"));
    assert_eq!(report.request.state, State::Failed);
    assert_eq!(report.request.systems["crm"].status, "failed");

    // The CRM comes back (a copy of the fixture): the run resumes where it stopped.
    std::fs::copy(
        match &db {
            Fixture::Sqlite(p, _) => p.clone(),
            Fixture::Pg(_) => unreachable!(),
        },
        &missing,
    )
    .unwrap();
    let report = dsr
        .run(&id, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap();
    let status: Vec<(&str, &str)> = report
        .systems
        .iter()
        .map(|s| (s.system.as_str(), s.status))
        .collect();
    assert_eq!(
        status,
        [("clinic", "skipped"), ("crm", "done"), ("evident", "done")]
    );
    assert_eq!(report.request.state, State::Completed);
}

#[test]
fn a_denial_keeps_its_reason_and_ends_the_request() {
    let (_dir, engine) = engine();
    let dsr = engine.dsr();
    let r = dsr
        .open(&new(Kind::Access, Regime::Ccpa, "17"), "alice")
        .unwrap();
    assert!(dsr.deny(&r.id, " ", "dpo").is_err(), "a reason is required");
    let denied = dsr
        .deny(&r.id, "identity could not be verified", "dpo")
        .unwrap();
    assert_eq!(denied.state, State::Denied);
    assert_eq!(
        denied.denial.as_deref(),
        Some("identity could not be verified")
    );
    let e = dsr.approve(&r.id, "dpo").unwrap_err().to_string();
    assert!(e.contains("is denied"), "{e}");
    assert!(
        !denied.overdue(RECEIVED + 400 * DAY_US),
        "a denied request is never overdue"
    );
}

#[test]
fn deadlines_follow_the_law_and_extend_once() {
    let (_dir, engine) = engine();
    let dsr = engine.dsr();
    let gdpr = dsr
        .open(&new(Kind::Access, Regime::Gdpr, "17"), "alice")
        .unwrap();
    // 2026-04-10: one calendar month.
    assert_eq!(gdpr.due_us, RECEIVED + 31 * DAY_US);
    assert!(!gdpr.overdue(RECEIVED + 31 * DAY_US));
    assert!(gdpr.overdue(RECEIVED + 32 * DAY_US));
    let json = gdpr.to_json(RECEIVED + 32 * DAY_US);
    assert_eq!(json["due_at"], "2026-04-10T00:00:00Z");
    assert_eq!(json["overdue"], true);
    assert!(dsr.extend(&gdpr.id, "", "dpo").is_err());
    let extended = dsr
        .extend(&gdpr.id, "complex request: 14 systems", "dpo")
        .unwrap();
    // 2026-06-10: two more months.
    assert_eq!(extended.due_us, RECEIVED + (31 + 30 + 31) * DAY_US);
    assert!(!extended.overdue(RECEIVED + 32 * DAY_US));
    let e = dsr
        .extend(&gdpr.id, "again", "dpo")
        .unwrap_err()
        .to_string();
    assert!(e.contains("one extension"), "{e}");

    let ccpa = dsr
        .open(&new(Kind::Erasure, Regime::Ccpa, "18"), "alice")
        .unwrap();
    assert_eq!(ccpa.due_us, RECEIVED + 45 * DAY_US);
    let ccpa = dsr.extend(&ccpa.id, "reasonably necessary", "dpo").unwrap();
    assert_eq!(ccpa.due_us, RECEIVED + 90 * DAY_US);
    let listed = dsr.list().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|r| r.subject_key.starts_with("subject.")));
}

#[test]
fn access_rectification_and_restriction_run_and_complete() {
    let (_dir, engine) = engine();
    let db = Fixture::sqlite();
    let map = db.datamap();
    let keys = evident::privacy::dsr::LocalKeys::new([1; 32]);
    let dsr = engine.dsr();

    let id = approved(&engine, &new(Kind::Access, Regime::Gdpr, "17"));
    let report = dsr
        .run(&id, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap();
    assert_eq!(report.request.state, State::Completed);
    let json = evident::privacy::dsr::export::to_json(&report.export).to_string();
    assert!(json.contains("patient17@example.org"));
    let ledger = serde_json::to_string(&report.request).unwrap();
    assert!(
        !ledger.contains("example.org"),
        "the request holds no personal value"
    );

    let mut fix = new(Kind::Rectification, Regime::Gdpr, "17");
    fix.fields = vec!["patients.email".into()];
    let id = approved(&engine, &fix);
    let e = dsr
        .run(&id, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap_err();
    assert!(
        e.to_string().contains("give exactly those fields' values"),
        "{e}"
    );
    let set = RunOptions {
        dry_run: false,
        set: vec![("patients.email".into(), "new17@example.org".into())],
    };
    let report = dsr.run(&id, &map, &keys, &set, "dpo").unwrap();
    let events = serde_json::to_string(&report.request).unwrap();
    assert!(
        !events.contains("new17"),
        "the new value is not in the ledger"
    );
    assert_eq!(report.request.state, State::Completed, "{report:?}");
    assert!(
        db.dump("patients")[&17].contains("new17@example.org"),
        "{report:?}"
    );
    assert!(!db.dump("patients")[&18].contains("new"));

    assert!(!dsr.is_restricted("17").unwrap());
    let id = approved(&engine, &new(Kind::Restriction, Regime::Gdpr, "17"));
    let report = dsr
        .run(&id, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap();
    assert_eq!(report.request.state, State::Completed);
    assert!(report
        .request
        .steps
        .iter()
        .any(|s| s.0 == "privacy.dsr.restricted"));
    assert!(dsr.is_restricted("17").unwrap());
    assert!(!dsr.is_restricted("18").unwrap());
}

#[test]
fn a_second_run_for_the_same_subject_is_refused_while_one_executes() {
    let (dir, engine) = engine();
    let db = Fixture::sqlite();
    let map = db.datamap();
    let keys = evident::privacy::dsr::LocalKeys::new([1; 32]);
    let dsr = engine.dsr();
    let first = approved(&engine, &new(Kind::Access, Regime::Gdpr, "17"));
    let second = approved(&engine, &new(Kind::Access, Regime::Gdpr, "17"));
    let other = approved(&engine, &new(Kind::Access, Regime::Gdpr, "18"));
    // The first run holds the subject's lock (as a run in another process does).
    let key = dsr.get(&first).unwrap().subject_key;
    let running = dir.path().join("privacy/dsr/running");
    std::fs::create_dir_all(&running).unwrap();
    let held = std::fs::File::create(running.join(&key)).unwrap();
    held.lock().unwrap();
    let e = dsr
        .run(&second, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("another request for the same subject is executing"),
        "{e}"
    );
    assert_eq!(
        dsr.get(&second).unwrap().state,
        State::Approved,
        "nothing logged"
    );
    dsr.run(&other, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap();
    // The holder dies (kill -9 closes its files): the lock file is left behind, the lock is
    // not, and the next run goes ahead without anyone removing anything.
    drop(held);
    assert!(running.join(&key).exists());
    let report = dsr
        .run(&second, &map, &keys, &RunOptions::default(), "dpo")
        .unwrap();
    assert_eq!(report.request.state, State::Completed);
    // A run that ended released its lock too.
    let again = std::fs::File::open(running.join(&key)).unwrap();
    again.try_lock().unwrap();
}
