//! `evident init --tls` and `serve` over TLS as an operator meets them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

mod common;

fn evident(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .env_remove("EVIDENT_DATA_DIR")
        .env_remove("EVIDENT_TLS_CERT")
        .env_remove("EVIDENT_TLS_KEY")
        .output()
        .unwrap()
}

#[test]
fn init_tls_makes_a_private_pair_once_and_serve_uses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let first = evident(&["init", "--data-dir", d, "--tls"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("created self-signed TLS certificate"));
    let key = dir.join("tls/key.pem");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cert_before = std::fs::read(dir.join("tls/cert.pem")).unwrap();
    let again = evident(&["init", "--data-dir", d, "--tls"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("found self-signed TLS certificate"));
    assert_eq!(
        std::fs::read(dir.join("tls/cert.pem")).unwrap(),
        cert_before,
        "idempotent"
    );

    let (mut child, base) = common::spawn_serve(common::quiet_evident(), d);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    // Half a pair, a client CA without TLS, and unusable files are refused clearly.
    let half = evident(&["serve", "--data-dir", d, "--tls-cert", "x.pem"]);
    assert_eq!(half.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&half.stderr).contains("--tls-key"));
    let plain = tmp.path().join("plain");
    let no_tls = evident(&[
        "serve",
        "--data-dir",
        plain.to_str().unwrap(),
        "--tls-client-ca",
        "ca.pem",
    ]);
    assert_eq!(no_tls.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_tls.stderr).contains("needs TLS"));
    std::fs::write(tmp.path().join("junk.pem"), "junk").unwrap();
    let junk = tmp.path().join("junk.pem");
    let bad = evident(&[
        "serve",
        "--data-dir",
        d,
        "--tls-cert",
        junk.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("junk.pem"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
