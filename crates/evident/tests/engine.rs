//! The engine end to end on a real data directory: append, read, query, prove, tile, verify,
//! erase, keys, several writers, and the tampering `verify` must catch.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use evident::store::EventQuery;
use evident::{AuditEvent, Engine, Error, Role};
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::proof::{verify_consistency, verify_inclusion};
use evident_ledger::tiles::{decode_bundle, TilePath};
use rusqlite::Connection;
use serde_json::json;

fn event(actor: &str, action: &str, n: u64) -> AuditEvent {
    AuditEvent::from_json(json!({
        "actor": {"id": actor, "ip": "192.0.2.1", "roles": ["clinician"]},
        "action": action,
        "resource": {"type": "patient_record", "id": format!("p-{n}")},
        "outcome": if n.is_multiple_of(3) { "denied" } else { "success" },
        "metadata": {"n": n}
    }))
    .unwrap()
}

fn filled(n: u64) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let events = chunk
            .iter()
            .map(|&i| event(if i % 2 == 0 { "alice" } else { "bob" }, "record.read", i))
            .collect();
        engine.append_blocking(events).unwrap();
    }
    (dir, engine)
}

#[test]
fn appended_events_are_readable_provable_and_verify() {
    let (_dir, engine) = filled(1000);
    assert_eq!(engine.size(), 1000);
    let verifier = NoteVerifier::parse(&engine.verifier_key()).unwrap();
    let cp = verifier
        .verify_checkpoint(&engine.checkpoint().unwrap().note)
        .unwrap();
    assert_eq!(cp.size, 1000);

    let record = engine.event(123, false).unwrap();
    assert_eq!(record.entry["resource"]["id"], "p-123");
    assert!(record.entry["actor"].get("ip").is_none());
    let revealed = engine.event(123, true).unwrap().revealed;
    assert_eq!(revealed[0].value, "\"192.0.2.1\"");

    let p = engine.inclusion_proof(123, None).unwrap();
    verify_inclusion(123, 1000, &p.leaf, &p.proof, &cp.root).unwrap();
    let older = engine.inclusion_proof(5, Some(300)).unwrap();
    verify_inclusion(5, 300, &older.leaf, &older.proof, &older.root).unwrap();
    let c = engine.consistency_proof(300, 1000).unwrap();
    verify_consistency(300, 1000, &older.root, &cp.root, &c).unwrap();
    let tlog = engine.tlog_proof(999).unwrap();
    let text = tlog.to_text();
    let parsed = evident_ledger::tlog_proof::TlogProof::parse(&text).unwrap();
    parsed
        .verify(&verifier, &engine.inclusion_proof(999, None).unwrap().leaf)
        .unwrap();

    assert!(matches!(engine.event(1000, false), Err(Error::NotFound(_))));
    assert!(matches!(
        engine.inclusion_proof(5, Some(1001)),
        Err(Error::NotFound(_))
    ));
    assert!(engine.consistency_proof(0, 10).is_err());

    let report = engine.verify(|_| {}).unwrap();
    assert_eq!((report.entries, report.personal), (1000, 1000));
    assert_eq!(report.root, cp.root);
}

#[test]
fn tiles_and_bundles_match_the_tree() {
    let (_dir, engine) = filled(600);
    let bundle = engine
        .tile(&TilePath::parse("entries/001").unwrap())
        .unwrap();
    let entries = decode_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    let tile = engine.tile(&TilePath::parse("0/001").unwrap()).unwrap();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(&tile[i * 32..i * 32 + 32], &leaf_hash(e));
    }
    assert_eq!(
        engine
            .tile(&TilePath::parse("0/002.p/88").unwrap())
            .unwrap()
            .len(),
        88 * 32
    );
    assert_eq!(
        engine
            .tile(&TilePath::parse("entries/002.p/88").unwrap())
            .map(|b| decode_bundle(&b).unwrap().len())
            .unwrap(),
        88
    );
    assert!(engine.tile(&TilePath::parse("0/002").unwrap()).is_err());
    assert!(engine
        .tile(&TilePath::parse("0/002.p/89").unwrap())
        .is_err());
    assert!(engine.tile(&TilePath::parse("1/000.p/2").unwrap()).is_ok());
    assert!(engine.tile(&TilePath::parse("1/000.p/3").unwrap()).is_err());
}

#[test]
fn queries_filter_and_paginate() {
    let (_dir, engine) = filled(300);
    let all = |q: EventQuery| -> Vec<u64> {
        let mut q = q;
        let mut seen = Vec::new();
        loop {
            let page = engine.query(&q).unwrap();
            seen.extend(page.events.iter().map(|e| e.index));
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => return seen,
            }
        }
    };
    let cases: Vec<(EventQuery, Vec<u64>)> = vec![
        (
            EventQuery {
                actor: Some("alice".into()),
                outcome: Some("denied".into()),
                limit: 7,
                ..Default::default()
            },
            (0..300).filter(|i| i % 2 == 0 && i % 3 == 0).collect(),
        ),
        (
            EventQuery {
                resource_type: Some("patient_record".into()),
                resource_id: Some("p-42".into()),
                limit: 5,
                ..Default::default()
            },
            vec![42],
        ),
        (
            EventQuery {
                resource_type: Some("patient_record".into()),
                actor: Some("bob".into()),
                descending: true,
                limit: 9,
                ..Default::default()
            },
            (0..300).rev().filter(|i| i % 2 == 1).collect(),
        ),
        (
            EventQuery {
                action: Some("record.read".into()),
                outcome: Some("success".into()),
                limit: 50,
                ..Default::default()
            },
            (0..300).filter(|i| i % 3 != 0).collect(),
        ),
        (
            EventQuery {
                action: Some("nothing".into()),
                limit: 50,
                ..Default::default()
            },
            vec![],
        ),
    ];
    // The same answers whether the query indexes lag (the tail is scanned), have caught up,
    // or stop half-way (a page boundary inside the indexed part).
    for (query, expected) in &cases {
        assert_eq!(&all(query.clone()), expected, "unindexed: {query:?}");
    }
    assert_eq!(
        engine.index_now().unwrap() + engine.index_now().unwrap(),
        300
    );
    for (query, expected) in &cases {
        assert_eq!(&all(query.clone()), expected, "indexed: {query:?}");
    }
    for i in 0..50 {
        engine
            .append_blocking(vec![event("alice", "record.read", 300 + i)])
            .unwrap();
    }
    let mixed = all(EventQuery {
        actor: Some("alice".into()),
        limit: 13,
        ..Default::default()
    });
    assert_eq!(mixed.len(), 150 + 50);
    assert!(mixed.windows(2).all(|w| w[0] < w[1]));
    let newest = engine
        .query(&EventQuery {
            descending: true,
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newest.events[0].index, 349);
}

#[test]
fn erasure_keeps_the_log_verifiable_and_is_itself_logged() {
    let (_dir, engine) = filled(50);
    let before = engine.verify(|_| {}).unwrap();
    let erased = engine.erase_subject("alice", "test").unwrap();
    assert_eq!(erased.removed, 25);
    assert!(engine.event(0, true).unwrap().revealed.is_empty());
    assert_eq!(engine.event(1, true).unwrap().revealed.len(), 1);
    let after = engine.verify(|_| {}).unwrap();
    assert_eq!(after.entries, before.entries + 1);
    assert_eq!(after.personal, 25);
    let record = engine.event(erased.receipt.index, false).unwrap();
    assert_eq!(record.entry["action"], "evident.personal.erased");
    assert_eq!(record.entry["metadata"]["values_destroyed"], 25);
}

#[test]
fn api_keys_authenticate_until_revoked_and_leave_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    let key = engine
        .create_api_key(Role::Writer, Some("ingest"), "test")
        .unwrap();
    assert_eq!(
        engine.authenticate(&key.token).unwrap().unwrap().role,
        Role::Writer
    );
    assert!(engine
        .authenticate(&key.token.replace("evk_", "evk_0"))
        .unwrap()
        .is_none());
    let mut wrong = key.token.to_string();
    wrong.push('x');
    assert!(engine.authenticate(&wrong).unwrap().is_none());
    engine.revoke_api_key(&key.id, "test").unwrap();
    assert!(engine.authenticate(&key.token).unwrap().is_none());
    assert!(engine.revoke_api_key(&key.id, "test").is_err());
    let actions: Vec<String> = (0..2)
        .map(|i| {
            engine.event(i, false).unwrap().entry["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        actions,
        ["evident.apikey.created", "evident.apikey.revoked"]
    );
    let stored = engine.api_keys().unwrap();
    assert!(stored[0].secret_hash.len() == 32 && stored[0].revoked_us.is_some());
}

#[test]
fn two_processes_share_one_log_without_forking_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = Engine::open(dir.path(), true).unwrap();
    let b = Engine::open(dir.path(), false).unwrap();
    for i in 0..20 {
        let engine = if i % 2 == 0 { &a } else { &b };
        let receipt = engine
            .append_blocking(vec![event("carol", "x", i)])
            .unwrap();
        assert_eq!(receipt.receipts[0].index, i);
    }
    assert_eq!(a.verify(|_| {}).unwrap().entries, 20);
    assert_eq!(b.verify(|_| {}).unwrap().checkpoints, 20);
}

#[test]
fn bad_batches_store_nothing() {
    let (_dir, engine) = filled(10);
    let mut events: Vec<AuditEvent> = (0..5).map(|i| event("dave", "x", i)).collect();
    events[3].action = String::new();
    let err = engine.append_blocking(events).unwrap_err().to_string();
    assert!(err.contains("event 3") && err.contains("action"), "{err}");
    let too_many: Vec<AuditEvent> = (0..10_001).map(|i| event("dave", "x", i)).collect();
    assert!(matches!(
        engine.append_blocking(too_many),
        Err(Error::BadRequest(_))
    ));
    assert_eq!(engine.size(), 10);
    engine.verify(|_| {}).unwrap();
}

fn verify_dir(dir: &std::path::Path) -> String {
    let backend = evident::store::sqlite::SqliteBackend::open(&dir.join("evident.db")).unwrap();
    let verifier = evident::datadir::load_signer(dir).unwrap().verifier();
    let connect = || -> evident::Result<Box<dyn evident::store::LogStore>> {
        Ok(Box::new(backend.connect()?))
    };
    evident::verify_store(connect, &verifier, &mut |_| {})
        .unwrap_err()
        .to_string()
}

/// Tampers with a closed data directory, then checks that verify names the damage.
fn tampered(sql: &str) -> String {
    let (dir, engine) = filled(300);
    engine.shutdown();
    drop(engine);
    let conn = Connection::open(dir.path().join("evident.db")).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    let err = verify_dir(dir.path());
    // The engine refuses to start sequencing on a log that contradicts its checkpoints.
    if let Err(open) = Engine::open(dir.path(), false) {
        assert!(open.to_string().contains("integrity"), "{open}");
    }
    err
}

#[test]
fn verify_names_a_changed_byte() {
    let err = tampered("UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'p-42\"', 'p-43\"') AS BLOB) WHERE idx = 42;");
    assert!(err.contains("entry 42 was modified"), "{err}");
}

#[test]
fn verify_names_a_changed_byte_even_with_its_leaf_hash_recomputed() {
    let (dir, engine) = filled(300);
    let receipts_at = engine.inclusion_proof(42, None).unwrap();
    assert_eq!(receipts_at.index, 42);
    engine.shutdown();
    drop(engine);
    let conn = Connection::open(dir.path().join("evident.db")).unwrap();
    let data: Vec<u8> = conn
        .query_row("SELECT data FROM entries WHERE idx = 42", [], |r| r.get(0))
        .unwrap();
    let changed = String::from_utf8(data)
        .unwrap()
        .replace("\"p-42\"", "\"p-99\"")
        .into_bytes();
    conn.execute(
        "UPDATE entries SET data = ?1, leaf = ?2 WHERE idx = 42",
        rusqlite::params![changed, &leaf_hash(&changed)[..]],
    )
    .unwrap();
    drop(conn);
    let err = verify_dir(dir.path());
    assert!(
        err.contains("do not match the signed checkpoint at size 100") && err.contains("in 0..100"),
        "{err}"
    );
    // Nothing inconsistent with the signed history is ever signed: the engine refuses to
    // sequence on top of it, and no checkpoint is added.
    let checkpoints = |dir: &std::path::Path| -> i64 {
        Connection::open(dir.join("evident.db"))
            .unwrap()
            .query_row("SELECT COUNT(*) FROM checkpoints", [], |r| r.get(0))
            .unwrap()
    };
    let before = checkpoints(dir.path());
    let refused = Engine::open(dir.path(), false)
        .err()
        .expect("opened a forked log");
    assert!(matches!(refused, Error::Integrity(_)), "{refused}");
    assert!(
        refused.to_string().contains("evident log verify"),
        "{refused}"
    );
    assert_eq!(checkpoints(dir.path()), before);
}

#[test]
fn verify_names_a_deleted_row() {
    let err = tampered("DELETE FROM entries WHERE idx = 77;");
    assert!(err.contains("entry 77 is missing"), "{err}");
}

#[test]
fn verify_names_reordered_rows() {
    let err = tampered(
        "UPDATE entries SET idx = -1 WHERE idx = 10;
         UPDATE entries SET idx = 10 WHERE idx = 11;
         UPDATE entries SET idx = 11 WHERE idx = -1;",
    );
    assert!(
        err.contains("entries 0..100") || err.contains("in 0..100"),
        "{err}"
    );
}

#[test]
fn verify_names_swapped_checkpoints() {
    let err = tampered(
        "UPDATE checkpoints SET size = -1 WHERE size = 100;
         UPDATE checkpoints SET size = 100 WHERE size = 200;
         UPDATE checkpoints SET size = 200 WHERE size = -1;",
    );
    assert!(
        err.contains("checkpoint filed at size 100 states size 200"),
        "{err}"
    );
}

#[test]
fn verify_names_a_forged_checkpoint() {
    let err = tampered(
        "UPDATE checkpoints SET note = replace(note, 'evident', 'evidenT') WHERE size = 200;",
    );
    assert!(
        err.contains("checkpoint at size 200 is not validly signed"),
        "{err}"
    );
}

#[test]
fn verify_names_a_deleted_tail() {
    let err = tampered("DELETE FROM entries WHERE idx >= 250;");
    assert!(
        err.contains("covers more than the 250 stored entries"),
        "{err}"
    );
}

#[test]
fn verify_names_a_changed_personal_value() {
    let err = tampered("UPDATE personal SET value = '\"198.51.100.9\"' WHERE idx = 5;");
    assert!(
        err.contains("personal value `/actor/ip` of entry 5"),
        "{err}"
    );
}
