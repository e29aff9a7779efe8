//! Backups: consistent while appends run, encrypted, restorable with only the passphrase,
//! tamper-evident, and the restore test recorded in the ledger.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::sync::Arc;

use evident::crypto::local::LocalProvider;
use evident::event::AuditEvent;
use evident::store::EventQuery;
use evident::Engine;
use serde_json::json;

const PASS: &[u8] = b"correct horse battery staple";

fn event(i: u64) -> AuditEvent {
    AuditEvent::from_json(json!({
        "actor": {"id": format!("user-{i}"), "ip": "192.0.2.7"},
        "action": "record.read",
        "resource": {"type": "patient_record", "id": format!("pr-{i}")},
        "outcome": "success",
        "metadata": {"marker": "plain-marker-in-the-log"}
    }))
    .unwrap()
}

#[test]
fn backup_restore_and_test_while_appending() {
    let live = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(live.path(), true).unwrap());
    engine.set_key_provider(Arc::new(
        LocalProvider::with_passphrase(live.path(), PASS, true).unwrap(),
    ));
    for i in 0..300 {
        engine.append_blocking(vec![event(i)]).unwrap();
    }
    // Appends keep running while the backup is taken.
    let writer = {
        let engine = engine.clone();
        std::thread::spawn(move || {
            for i in 300..600 {
                engine.append_blocking(vec![event(i)]).unwrap();
            }
        })
    };
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("backup-1.evb");
    let report = evident::backup::create(&engine, &out, "test").unwrap();
    writer.join().unwrap();
    assert!((300..=600).contains(&report.entries), "{report:?}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"EVIDENT-BACKUP 1\n"));
    assert!(
        !bytes.windows(23).any(|w| w == b"plain-marker-in-the-log"),
        "the payload is encrypted"
    );
    assert!(
        evident::backup::create(&engine, &out, "test").is_err(),
        "never overwrites"
    );

    // The restore test records its outcome in the live ledger.
    std::env::set_var(
        "EVIDENT_ROOT_PASSPHRASE",
        std::str::from_utf8(PASS).unwrap(),
    );
    let tested = evident::backup::test(&engine, &out, "test").unwrap();
    assert_eq!(tested.entries, report.entries);
    let page = engine
        .query(&EventQuery {
            action: Some("evident.backup.tested".into()),
            limit: 10,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(
        page.events[0].entry["metadata"]["result"],
        "restored and verified"
    );

    // A restore into a fresh directory works with only the file and the passphrase.
    let target = tempfile::tempdir().unwrap();
    let restored = evident::backup::restore(&out, &target.path().join("restored")).unwrap();
    assert_eq!(restored.origin, engine.origin());
    assert!(
        evident::backup::restore(&out, &target.path().join("restored")).is_err(),
        "target not empty"
    );

    // Tampering, truncation and a wrong passphrase are refused; the test records failures.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 20;
    flipped[last] ^= 1;
    let bad = outdir.path().join("backup-flipped.evb");
    std::fs::write(&bad, &flipped).unwrap();
    let err = evident::backup::restore(&bad, &target.path().join("t1"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("altered"), "{err}");
    let truncated = outdir.path().join("backup-truncated.evb");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    assert!(evident::backup::restore(&truncated, &target.path().join("t2")).is_err());
    assert!(evident::backup::test(&engine, &truncated, "test").is_err());
    let failures = engine
        .query(&EventQuery {
            action: Some("evident.backup.tested".into()),
            outcome: Some("failure".into()),
            limit: 10,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(failures.events.len(), 1);
    std::env::set_var("EVIDENT_ROOT_PASSPHRASE", "not the right passphrase");
    let err = evident::backup::restore(&out, &target.path().join("t3"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not open"), "{err}");
    std::env::remove_var("EVIDENT_ROOT_PASSPHRASE");
    engine.verify(|_| {}).unwrap();
}
