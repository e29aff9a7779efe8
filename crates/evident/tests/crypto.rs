//! The keyring over a real data directory: lifecycle, ledger events, context binding,
//! rotation, destruction (crypto-shredding), usage counts, and no key material at rest.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::sync::Arc;

use evident::crypto::keyring::KeyState;
use evident::crypto::local::LocalProvider;
use evident::store::EventQuery;
use evident::Engine;

const PASS: &[u8] = b"correct horse battery staple";

fn setup() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    (dir, engine)
}

#[test]
fn lifecycle_rotation_context_and_shredding() {
    let (dir, engine) = setup();
    let provider = Arc::new(LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap());
    let keys = engine.keyring_with(provider);

    assert_eq!(keys.create("payments", "test").unwrap(), 1);
    assert!(keys.create("payments", "test").is_err(), "names are unique");
    assert!(keys.create("Bad Name!", "test").is_err());

    let c1 = keys
        .encrypt(
            "payments",
            b"4111 card vault entry",
            b"tenant=acme;record=42",
        )
        .unwrap();
    assert!(c1.starts_with("evident:v1:payments:"), "{c1}");
    assert_eq!(
        keys.decrypt(&c1, b"tenant=acme;record=42")
            .unwrap()
            .as_slice(),
        b"4111 card vault entry"
    );
    let wrong = keys
        .decrypt(&c1, b"tenant=other;record=42")
        .err()
        .unwrap()
        .to_string();
    assert!(wrong.contains("cannot decrypt"), "{wrong}");
    let mut tampered = c1.clone();
    tampered.push('A');
    assert!(keys.decrypt(&tampered, b"tenant=acme;record=42").is_err());
    assert!(keys.decrypt("evident:v1:nokey:AAAA", b"").is_err());
    assert!(keys.decrypt("not a ciphertext", b"").is_err());

    assert_eq!(keys.rotate("payments", "test").unwrap(), 2);
    let c2 = keys.encrypt("payments", b"new", b"").unwrap();
    assert!(c2.starts_with("evident:v2:payments:"));
    assert_eq!(
        keys.decrypt(&c1, b"tenant=acme;record=42")
            .unwrap()
            .as_slice(),
        b"4111 card vault entry",
        "old versions decrypt"
    );
    let rewrapped = keys.rewrap(&c1, b"tenant=acme;record=42").unwrap();
    assert!(rewrapped.starts_with("evident:v2:"));

    keys.disable("payments", 2, "test").unwrap();
    assert!(
        keys.encrypt("payments", b"x", b"").is_err(),
        "no active version while v2 is disabled"
    );
    assert!(keys.decrypt(&c2, b"").is_err());
    keys.enable("payments", 2, "test").unwrap();
    assert_eq!(keys.decrypt(&c2, b"").unwrap().as_slice(), b"new");

    let (data_key, wrapped) = keys.data_key("payments", b"blob-7").unwrap();
    assert_eq!(
        keys.decrypt(&wrapped, b"blob-7").unwrap().as_slice(),
        data_key.as_ref()
    );

    // Crypto-shredding: version 1 destroyed, its ciphertexts are gone for good.
    keys.destroy("payments", 1, "test").unwrap();
    let shredded = keys
        .decrypt(&c1, b"tenant=acme;record=42")
        .err()
        .unwrap()
        .to_string();
    assert!(shredded.contains("destroyed"), "{shredded}");
    assert!(keys.destroy("payments", 1, "test").is_err());

    let list = keys.list().unwrap();
    let states: Vec<KeyState> = list[0].versions.iter().map(|v| v.state).collect();
    assert_eq!(states, [KeyState::Destroyed, KeyState::Active]);
    assert!(
        list[0].versions[1].encryptions >= 3,
        "usage is counted: {:?}",
        list[0].versions
    );

    // Every lifecycle step is a ledger event, and the ledger still verifies.
    let page = engine
        .query(&EventQuery {
            limit: 100,
            ..EventQuery::default()
        })
        .unwrap();
    let actions: Vec<String> = page
        .events
        .iter()
        .map(|e| e.entry["action"].as_str().unwrap().to_owned())
        .collect();
    for wanted in [
        "evident.key.created",
        "evident.key.rotated",
        "evident.key.disabled",
        "evident.key.enabled",
        "evident.key.destroyed",
    ] {
        assert!(
            actions.iter().any(|a| a == wanted),
            "{wanted} missing in {actions:?}"
        );
    }
    engine.verify(|_| {}).unwrap();
}

/// A key name is stored, logged and written into every ciphertext as given, so one that
/// holds a card number or an SSN is refused rather than kept in clear beside the ledger.
#[test]
fn a_key_name_holding_a_card_number_or_an_ssn_is_refused() {
    let (dir, engine) = setup();
    let provider = Arc::new(LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap());
    let keys = engine.keyring_with(provider);
    for name in [
        "4539148803436467",
        "card-4539-1488-0343-6467",
        "536-22-7319",
    ] {
        let refused = keys.create(name, "test").err().unwrap().to_string();
        assert!(refused.contains("stored and logged as given"), "{refused}");
        assert!(
            !refused.contains(name),
            "the refusal repeats the value: {refused}"
        );
    }
    assert!(keys.list().unwrap().is_empty());
    assert_eq!(keys.create("payments-2026", "test").unwrap(), 1);
}

/// Regression: creating a key read the versions and then wrote in one deferred transaction,
/// which SQLite fails at once ("database is locked") when the sequencer commits in between.
#[test]
fn keys_are_created_and_rotated_while_the_log_is_appended_to() {
    let (dir, engine) = setup();
    let provider = Arc::new(LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap());
    let keys = engine.keyring_with(provider);
    let done = std::sync::atomic::AtomicBool::new(false);
    let failed = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let event =
                    evident::event::system_event("test.tick", "t", None, serde_json::json!({}));
                engine.append_blocking(vec![event]).unwrap();
            }
        });
        let failed = (0..40).find_map(|i| {
            let name = format!("busy-{i}");
            keys.create(&name, "test")
                .and_then(|_| keys.rotate(&name, "test"))
                .err()
        });
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        failed
    });
    assert!(failed.is_none(), "{failed:?}");
}

#[test]
fn key_material_is_never_at_rest_in_clear() {
    let (dir, engine) = setup();
    let provider = Arc::new(LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap());
    let keys = engine.keyring_with(provider);
    keys.create("vault", "test").unwrap();
    let (data_key, _) = keys.data_key("vault", b"").unwrap();
    let _ = keys
        .encrypt("vault", b"secret plaintext value", b"")
        .unwrap();
    engine.shutdown();
    drop(engine);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(32).any(|w| w == data_key.as_ref()),
                "data key in {}",
                path.display()
            );
            assert!(
                !bytes.windows(22).any(|w| w == b"secret plaintext value"),
                "plaintext in {}",
                path.display()
            );
        }
    }
    // A different root key cannot use the stored versions.
    let other_dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), false).unwrap();
    let stranger = Arc::new(LocalProvider::with_passphrase(other_dir.path(), PASS, true).unwrap());
    let err = engine
        .keyring_with(stranger)
        .encrypt("vault", b"x", b"")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("wrong root key"), "{err}");
}

#[test]
fn erasing_a_subject_shreds_their_key_and_the_log_still_verifies() {
    let (dir, engine) = setup();
    let provider = Arc::new(LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap());
    let keys = engine.keyring_with(provider);
    let subject = "patient-7731@example.org";
    let a = keys
        .encrypt_for_subject(subject, b"HIV status: negative", b"record=1", "test")
        .unwrap();
    let b = keys
        .encrypt_for_subject(subject, b"allergy: penicillin", b"record=2", "test")
        .unwrap();
    let other = keys
        .encrypt_for_subject("someone-else", b"kept", b"", "test")
        .unwrap();
    assert_eq!(
        keys.decrypt(&a, b"record=1").unwrap().as_slice(),
        b"HIV status: negative"
    );
    // one key per subject, named without the subject
    let name = evident::crypto::keyring::parse_ciphertext(&a)
        .unwrap()
        .1
        .to_string();
    assert_eq!(
        name,
        evident::crypto::keyring::parse_ciphertext(&b).unwrap().1
    );
    assert!(
        name.starts_with("subject.") && !name.contains("7731"),
        "{name}"
    );
    assert!(keys.encrypt_for_subject("", b"x", b"", "test").is_err());

    let report = engine.erase_subject(subject, "dpo").unwrap();
    assert_eq!(report.keys_destroyed, 1);
    for c in [&a, &b] {
        let err = keys.decrypt(c, b"").unwrap_err().to_string();
        assert!(err.contains("destroyed"), "{err}");
    }
    assert_eq!(keys.decrypt(&other, b"").unwrap().as_slice(), b"kept");
    // logged: the key's destruction and the erasure; the subject never in clear
    let destroyed = engine
        .query(&EventQuery {
            action: Some("evident.key.destroyed".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(destroyed.events.len(), 1);
    assert_eq!(destroyed.events[0].entry["metadata"]["why"], "erasure");
    for i in 0..engine.size() {
        let entry = String::from_utf8(engine.entry_bytes(i).unwrap()).unwrap();
        assert!(!entry.contains("patient-7731"), "{entry}");
    }
    let report = engine.verify(|_| {}).unwrap();
    assert_eq!(report.entries, engine.size());
    // erasing again destroys nothing more
    assert_eq!(
        engine.erase_subject(subject, "dpo").unwrap().keys_destroyed,
        0
    );
}
