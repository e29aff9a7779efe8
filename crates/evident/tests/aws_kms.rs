//! The `aws-kms` key provider against a real `moto` server (PyPI `moto[server]`): keys made
//! through the KMS API, wrapping and unwrapping over signed requests, the keyring on top,
//! refusals for missing and disabled keys, and selection by environment.
//!
//! Under CI a missing `moto_server` fails the test; elsewhere it is skipped with a note.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use evident::crypto::aws_kms::{KmsProvider, KmsSettings};
use evident::crypto::KeyProvider;
use evident::Engine;
use serde_json::json;
use zeroize::Zeroizing;

/// A moto server on a free port, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        assert!(
            std::env::var_os("CI").is_none(),
            "moto_server (pip install 'moto[server]') is required under CI"
        );
        eprintln!("skipped: moto_server not installed (pip install 'moto[server]')");
        return None;
    };
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

fn settings(endpoint: &str, key_id: &str) -> KmsSettings {
    KmsSettings {
        endpoint: endpoint.into(),
        region: "us-east-1".into(),
        key_id: key_id.into(),
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
        session_token: None,
    }
}

fn create_key(endpoint: &str) -> String {
    let admin = KmsProvider::client(settings(endpoint, "unused")).unwrap();
    let made = admin
        .call(
            "CreateKey",
            &json!({"KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT", "Description": "evident test root"}),
        )
        .unwrap();
    made["KeyMetadata"]["KeyId"].as_str().unwrap().to_string()
}

// One test: it sets process-wide environment variables.
#[test]
fn kms_key_wraps_the_keyring_and_bad_keys_are_refused() {
    let Some(moto) = moto() else { return };
    let key_id = create_key(&moto.endpoint);
    let admin = KmsProvider::client(settings(&moto.endpoint, "unused")).unwrap();
    admin
        .call(
            "CreateAlias",
            &json!({"AliasName": "alias/evident-root", "TargetKeyId": key_id}),
        )
        .unwrap();

    // refusals: no such key, a disabled key, a bad endpoint
    let missing = KmsProvider::open(settings(&moto.endpoint, "alias/nope"), true)
        .err()
        .unwrap()
        .to_string();
    assert!(missing.contains("NotFoundException"), "{missing}");
    let disabled = create_key(&moto.endpoint);
    admin
        .call("DisableKey", &json!({"KeyId": disabled}))
        .unwrap();
    let refused = KmsProvider::open(settings(&moto.endpoint, &disabled), true)
        .err()
        .unwrap()
        .to_string();
    assert!(refused.contains("Disabled"), "{refused}");
    assert!(KmsProvider::open(settings("kms.example.com", &key_id), true).is_err());
    let unreachable = KmsProvider::open(settings("http://127.0.0.1:9", &key_id), true)
        .err()
        .unwrap()
        .to_string();
    assert!(unreachable.contains("AWS KMS at"), "{unreachable}");
    assert!(!unreachable.contains("wJalrXUtnFEMI"), "never the secret");

    // wrap and unwrap through KMS, by alias
    let provider =
        Arc::new(KmsProvider::open(settings(&moto.endpoint, "alias/evident-root"), true).unwrap());
    assert_eq!(provider.kind(), "aws-kms");
    let secret = [9u8; 32];
    let wrapped = provider.wrap(&secret).unwrap();
    assert_eq!(wrapped[0], 1);
    assert!(!wrapped.windows(32).any(|w| w == secret));
    assert_eq!(provider.unwrap_key(&wrapped).unwrap().as_slice(), &secret);
    let mut altered = wrapped.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 0x40;
    assert!(provider.unwrap_key(&altered).is_err());
    assert!(provider.unwrap_key(&[2, 0, 0]).is_err());
    // another KMS key does not open it
    let other =
        KmsProvider::open(settings(&moto.endpoint, &create_key(&moto.endpoint)), true).unwrap();
    assert!(other.unwrap_key(&wrapped).is_err());

    // the keyring over KMS, chosen by environment, recorded in the directory
    std::env::set_var("EVIDENT_KEY_PROVIDER", "aws-kms");
    std::env::set_var("EVIDENT_KMS_ENDPOINT", &moto.endpoint);
    std::env::set_var("EVIDENT_KMS_REGION", "us-east-1");
    std::env::set_var("EVIDENT_KMS_KEY_ID", "alias/evident-root");
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    std::env::set_var(
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    );
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(data.path(), true).unwrap();
    let keys = engine.keyring(true).unwrap();
    assert!(
        keys.provider().starts_with("aws-kms"),
        "{}",
        keys.provider()
    );
    keys.create("payments", "test").unwrap();
    let sealed = keys
        .encrypt("payments", b"claim 77", b"tenant=acme")
        .unwrap();
    drop(keys);
    engine.shutdown();
    drop(engine);
    let engine = Engine::open(data.path(), false).unwrap();
    assert_eq!(
        engine
            .keyring(false)
            .unwrap()
            .decrypt(&sealed, b"tenant=acme")
            .unwrap()
            .as_slice(),
        b"claim 77"
    );
    std::env::remove_var("EVIDENT_KMS_KEY_ID");
    let engine2 = Engine::open(data.path(), false).unwrap();
    let missing_setting = engine2.keyring(false).err().unwrap().to_string();
    assert!(
        missing_setting.contains("EVIDENT_KMS_KEY_ID"),
        "{missing_setting}"
    );
    std::env::set_var("EVIDENT_KEY_PROVIDER", "pkcs11");
    let engine3 = Engine::open(data.path(), false).unwrap();
    let mismatch = engine3.keyring(false).err().unwrap().to_string();
    assert!(mismatch.contains("`aws-kms` key provider"), "{mismatch}");
}
