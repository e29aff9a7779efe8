//! The `pkcs11` key provider against a real SoftHSM2 token: the root key is generated inside
//! the token (sensitive, not extractable), wraps and unwraps the keyring's keys, survives a
//! reopen, and wrong settings are refused clearly. Also the provider switch: a directory whose
//! keys one provider wraps refuses another.
//!
//! Needs Debian's `softhsm2` (`.ci/run` installs it). Under CI a missing SoftHSM2 fails the
//! test; elsewhere it is skipped with a note.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use evident::crypto::pkcs11::{Pkcs11Provider, Pkcs11Settings};
use evident::crypto::KeyProvider;
use evident::Engine;
use zeroize::Zeroizing;

const PIN: &str = "4711-user";

fn softhsm_module() -> Option<PathBuf> {
    let candidates = [
        std::env::var("EVIDENT_TEST_SOFTHSM_MODULE").unwrap_or_default(),
        "/usr/lib/softhsm/libsofthsm2.so".into(),
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so".into(),
    ];
    candidates
        .iter()
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A fresh SoftHSM2 configuration with one initialized token; answers the module path.
fn token(dir: &Path, label: &str) -> Option<PathBuf> {
    let Some(module) = softhsm_module() else {
        if std::env::var_os("CI").is_some() {
            panic!("SoftHSM2 is not installed (Debian package softhsm2); CI must run this test");
        }
        eprintln!("skipped: SoftHSM2 not installed (apt install softhsm2)");
        return None;
    };
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    // SoftHSM reads its configuration from the environment; every test here uses the same.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let out = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "so-secret",
            "--pin",
            PIN,
        ])
        .output()
        .expect("softhsm2-util runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(module)
}

fn settings(module: &Path, token: &str, pin: &str) -> Pkcs11Settings {
    Pkcs11Settings {
        module: module.to_path_buf(),
        token: token.into(),
        pin: Zeroizing::new(pin.into()),
        key_label: "evident-root".into(),
    }
}

// One test: SoftHSM's configuration is process-wide.
#[test]
fn softhsm_token_holds_the_root_key_and_wraps_the_keyring() {
    let hsm_dir = tempfile::tempdir().unwrap();
    let Some(module) = token(hsm_dir.path(), "evident-test") else {
        return;
    };

    // Refusals first (PKCS#11 login state is per process once a session logs in).
    let wrong_pin = Pkcs11Provider::open(&settings(&module, "evident-test", "0000"), true)
        .err()
        .unwrap()
        .to_string();
    assert!(wrong_pin.contains("wrong PIN"), "{wrong_pin}");
    assert!(!wrong_pin.contains(PIN) && !wrong_pin.contains("0000"));
    let no_token = Pkcs11Provider::open(&settings(&module, "no-such-token", PIN), true)
        .err()
        .unwrap()
        .to_string();
    assert!(no_token.contains("no token labelled"), "{no_token}");
    let no_module = Pkcs11Provider::open(
        &settings(Path::new("/nonexistent/libpkcs11.so"), "evident-test", PIN),
        true,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(no_module.contains("loading the module"), "{no_module}");
    let no_key = Pkcs11Provider::open(&settings(&module, "evident-test", PIN), false)
        .err()
        .unwrap()
        .to_string();
    assert!(no_key.contains("holds no AES key"), "{no_key}");

    // The key is generated inside the token, and wraps and unwraps there.
    let provider =
        Arc::new(Pkcs11Provider::open(&settings(&module, "evident-test", PIN), true).unwrap());
    assert_eq!(provider.kind(), "pkcs11");
    assert!(provider.describe().contains("evident-test"));
    let secret = [7u8; 32];
    let wrapped = provider.wrap(&secret).unwrap();
    assert_eq!(wrapped.len(), 1 + 12 + 32 + 16);
    assert!(!wrapped.windows(32).any(|w| w == secret));
    assert_eq!(provider.unwrap_key(&wrapped).unwrap().as_slice(), &secret);
    assert_ne!(
        provider.wrap(&secret).unwrap(),
        wrapped,
        "fresh IV each wrap"
    );
    let mut altered = wrapped.clone();
    *altered.last_mut().unwrap() ^= 1;
    assert!(provider.unwrap_key(&altered).is_err());
    assert!(provider.unwrap_key(&wrapped[..20]).is_err());

    // The keyring over it: keys wrapped by the HSM, data encrypted, rotation, reopen.
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(data.path(), true).unwrap();
    engine.check_provider(provider.as_ref()).unwrap();
    let keys = engine.keyring_with(provider.clone());
    keys.create("payments", "test").unwrap();
    let sealed = keys.encrypt("payments", b"PAN vault row", b"ctx").unwrap();
    keys.rotate("payments", "test").unwrap();
    let newer = keys.encrypt("payments", b"newer row", b"ctx").unwrap();
    assert!(keys.list().unwrap()[0].versions.len() == 2);
    drop(keys);
    engine.shutdown();
    drop(engine);

    let engine = Engine::open(data.path(), false).unwrap();
    let reopened =
        Arc::new(Pkcs11Provider::open(&settings(&module, "evident-test", PIN), false).unwrap());
    let keys = engine.keyring_with(reopened);
    assert_eq!(
        keys.decrypt(&sealed, b"ctx").unwrap().as_slice(),
        b"PAN vault row"
    );
    assert_eq!(
        keys.decrypt(&newer, b"ctx").unwrap().as_slice(),
        b"newer row"
    );
    // A second key label in the same token is another root: it opens nothing of the first.
    let mut other = settings(&module, "evident-test", PIN);
    other.key_label = "another-root".into();
    let stranger = Arc::new(Pkcs11Provider::open(&other, true).unwrap());
    assert!(stranger.unwrap_key(&wrapped).is_err());
    drop(keys);
    engine.shutdown();
    drop(engine);
    let engine = Engine::open(data.path(), false).unwrap();
    let keys = engine.keyring_with(stranger);
    assert!(keys.decrypt(&sealed, b"ctx").is_err());
    drop(keys);

    // The directory records its provider: a local root key is refused with the way out.
    let local = evident::crypto::local::LocalProvider::with_passphrase(
        data.path(),
        b"correct horse battery staple",
        true,
    )
    .unwrap();
    let refused = engine.check_provider(&local).err().unwrap().to_string();
    assert!(
        refused.contains("EVIDENT_KEY_PROVIDER to `pkcs11`"),
        "{refused}"
    );
    assert_eq!(engine.verify(|_| {}).unwrap().entries, engine.size());
    engine.shutdown();
    drop(engine);

    // A backup's data key is wrapped by the HSM too: restoring needs the same provider.
    let engine = Engine::open(data.path(), false).unwrap();
    engine.set_key_provider(Arc::new(
        Pkcs11Provider::open(&settings(&module, "evident-test", PIN), false).unwrap(),
    ));
    let out = hsm_dir.path().join("backup.evb");
    evident::backup::create(&engine, &out, "test").unwrap();
    std::env::remove_var("EVIDENT_KEY_PROVIDER");
    let refused = evident::backup::restore(&out, &hsm_dir.path().join("restored-local"))
        .err()
        .unwrap()
        .to_string();
    assert!(refused.contains("`pkcs11` key provider"), "{refused}");
    std::env::set_var("EVIDENT_KEY_PROVIDER", "pkcs11");
    std::env::set_var("EVIDENT_PKCS11_MODULE", &module);
    std::env::set_var("EVIDENT_PKCS11_TOKEN", "evident-test");
    std::env::set_var("EVIDENT_PKCS11_PIN", PIN);
    let restored = evident::backup::restore(&out, &hsm_dir.path().join("restored")).unwrap();
    assert_eq!(
        restored.entries + 1,
        engine.size(),
        "all but the backup's own record"
    );
    let copy = Engine::open(&hsm_dir.path().join("restored"), false).unwrap();
    assert_eq!(
        copy.keyring(false)
            .unwrap()
            .decrypt(&sealed, b"ctx")
            .unwrap()
            .as_slice(),
        b"PAN vault row"
    );
}
