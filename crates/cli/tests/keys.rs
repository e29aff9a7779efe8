//! `evident keys`, `encrypt` and `decrypt` as scripts use them (stdin → stdout).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const PASS: &str = "correct horse battery staple";

fn evident(dir: &str, args: &[&str], stdin: &[u8], passphrase: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evident"));
    c.args(args)
        .args(["--data-dir", dir, "--quiet"])
        .env_remove("EVIDENT_ROOT_KEY")
        .env_remove("EVIDENT_ROOT_KEY_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match passphrase {
        Some(p) => c.env("EVIDENT_ROOT_PASSPHRASE", p),
        None => c.env_remove("EVIDENT_ROOT_PASSPHRASE"),
    };
    let mut child = c.spawn().unwrap();
    // A command refused at argument parsing exits without reading stdin.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn keys_encrypt_decrypt_rotate_destroy() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"], b"", None).status.success());
    let no_pass = evident(d, &["keys", "create", "payments"], b"", None);
    assert_eq!(no_pass.status.code(), Some(2));
    assert!(
        stderr(&no_pass).contains("EVIDENT_ROOT_PASSPHRASE"),
        "{}",
        stderr(&no_pass)
    );

    assert!(evident(d, &["keys", "create", "payments"], b"", Some(PASS))
        .status
        .success());
    let sealed = evident(
        d,
        &["encrypt", "--key", "payments", "--context", "tenant=acme"],
        b"card vault row 17",
        Some(PASS),
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let ciphertext = String::from_utf8(sealed.stdout).unwrap();
    assert!(
        ciphertext.starts_with("evident:v1:payments:"),
        "{ciphertext}"
    );

    let opened = evident(
        d,
        &["decrypt", "--context", "tenant=acme"],
        ciphertext.as_bytes(),
        Some(PASS),
    );
    assert_eq!(opened.stdout, b"card vault row 17");
    let wrong_context = evident(
        d,
        &["decrypt", "--context", "tenant=other"],
        ciphertext.as_bytes(),
        Some(PASS),
    );
    assert_eq!(wrong_context.status.code(), Some(2));
    assert!(stderr(&wrong_context).contains("cannot decrypt"));
    let wrong_pass = evident(
        d,
        &["decrypt", "--context", "tenant=acme"],
        ciphertext.as_bytes(),
        Some("not the right passphrase"),
    );
    assert_eq!(wrong_pass.status.code(), Some(2));
    assert!(stderr(&wrong_pass).contains("does not open"));
    let garbage = evident(d, &["decrypt"], b"evident:v1:payments:!!!", Some(PASS));
    assert_eq!(garbage.status.code(), Some(2));

    assert!(evident(d, &["keys", "rotate", "payments"], b"", Some(PASS))
        .status
        .success());
    let v2 =
        String::from_utf8(evident(d, &["encrypt", "--key", "payments"], b"x", Some(PASS)).stdout)
            .unwrap();
    assert!(v2.starts_with("evident:v2:payments:"));
    let refused = evident(d, &["keys", "destroy", "payments", "1"], b"", Some(PASS));
    assert_eq!(refused.status.code(), Some(2), "destroy needs --yes");
    assert!(evident(
        d,
        &["keys", "destroy", "payments", "1", "--yes"],
        b"",
        Some(PASS)
    )
    .status
    .success());
    let gone = evident(
        d,
        &["decrypt", "--context", "tenant=acme"],
        ciphertext.as_bytes(),
        Some(PASS),
    );
    assert!(stderr(&gone).contains("destroyed"), "{}", stderr(&gone));

    let list = evident(d, &["keys", "list", "--json"], b"", Some(PASS));
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["versions"][0]["state"], "destroyed");
    assert_eq!(list[0]["versions"][1]["state"], "active");
    let tail = evident(
        d,
        &["log", "query", "--action", "evident.key.destroyed"],
        b"",
        None,
    );
    assert!(String::from_utf8_lossy(&tail.stdout).contains("payments"));
}

#[test]
fn backup_test_and_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    let file = tmp.path().join("b.evb");
    let file = file.to_str().unwrap();
    assert!(evident(d, &["init"], b"", None).status.success());
    let made = evident(d, &["backup", "--out", file], b"", Some(PASS));
    assert!(made.status.success(), "{}", stderr(&made));
    let again = evident(d, &["backup", "--out", file], b"", Some(PASS));
    assert_eq!(again.status.code(), Some(2), "never overwrites");
    let tested = evident(d, &["backup", "test", file], b"", Some(PASS));
    assert!(tested.status.success(), "{}", stderr(&tested));
    assert!(String::from_utf8_lossy(&tested.stdout).contains("restored and verified"));
    let bad = tmp.path().join("bad.evb");
    std::fs::write(&bad, &std::fs::read(file).unwrap()[..200]).unwrap();
    let failed = evident(
        d,
        &["backup", "test", bad.to_str().unwrap()],
        b"",
        Some(PASS),
    );
    assert_eq!(
        failed.status.code(),
        Some(1),
        "a failed restore test is a failed verification"
    );
    let target = tmp.path().join("restored");
    let restored = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args([
            "restore",
            file,
            "--data-dir",
            target.to_str().unwrap(),
            "--quiet",
        ])
        .env("EVIDENT_ROOT_PASSPHRASE", PASS)
        .output()
        .unwrap();
    assert!(restored.status.success(), "{}", stderr(&restored));
    let log = evident(
        d,
        &["log", "query", "--action", "evident.backup.tested"],
        b"",
        None,
    );
    let text = String::from_utf8_lossy(&log.stdout);
    assert!(
        text.contains("restored and verified") && text.contains("failed"),
        "{text}"
    );
}

#[test]
fn decrypting_with_a_regulated_key_asks_the_access_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"], b"", None).status.success());
    let created = evident(
        d,
        &["keys", "create", "phi", "--regulated"],
        b"",
        Some(PASS),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let sealed = evident(d, &["encrypt", "--key", "phi"], b"diagnosis", Some(PASS));
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    // no policy pack: refused, exit 2, saying why
    let refused = evident(d, &["decrypt"], &sealed.stdout, Some(PASS));
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("regulated key `phi`"),
        "{}",
        stderr(&refused)
    );
    // the default pack with this operator as an editor
    let pack = tmp.path().join("pack");
    std::fs::create_dir(&pack).unwrap();
    let default = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    for entry in std::fs::read_dir(&default).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), pack.join(entry.file_name())).unwrap();
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let entities = std::fs::read_to_string(pack.join("entities.json")).unwrap();
    let mut entities: Vec<serde_json::Value> = serde_json::from_str(&entities).unwrap();
    entities.push(
        serde_json::json!({"uid": {"type": "User", "id": user}, "attrs": {},
        "parents": [{"type": "Role", "id": "editor"}]}),
    );
    std::fs::write(
        pack.join("entities.json"),
        serde_json::to_string(&entities).unwrap(),
    )
    .unwrap();
    let applied = evident(d, &["policy", "apply", pack.to_str().unwrap()], b"", None);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let no_purpose = evident(d, &["decrypt"], &sealed.stdout, Some(PASS));
    assert_eq!(no_purpose.status.code(), Some(2), "{}", stderr(&no_purpose));
    let opened = evident(
        d,
        &[
            "decrypt",
            "--access-context",
            r#"{"purpose_of_use": "treatment"}"#,
        ],
        &sealed.stdout,
        Some(PASS),
    );
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(opened.stdout, b"diagnosis");
    let bad = evident(
        d,
        &["decrypt", "--access-context", "[1"],
        &sealed.stdout,
        Some(PASS),
    );
    assert_eq!(bad.status.code(), Some(2));
    let listed = evident(d, &["keys", "list", "--json"], b"", Some(PASS));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["regulated"], serde_json::json!(true));
}

#[test]
fn subject_keys_are_shredded_by_erasure() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"], b"", None).status.success());
    let sealed = evident(
        d,
        &["encrypt", "--subject", "pat-9"],
        b"lab result",
        Some(PASS),
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let opened = evident(d, &["decrypt"], &sealed.stdout, Some(PASS));
    assert_eq!(opened.stdout, b"lab result");
    let neither = evident(d, &["encrypt"], b"x", Some(PASS));
    assert_eq!(neither.status.code(), Some(2));
    let both = evident(
        d,
        &["encrypt", "--key", "k", "--subject", "s"],
        b"x",
        Some(PASS),
    );
    assert_eq!(both.status.code(), Some(2));
    let erased = evident(d, &["log", "erase", "--subject", "pat-9"], b"", None);
    assert!(erased.status.success(), "{}", stderr(&erased));
    assert!(String::from_utf8_lossy(&erased.stdout).contains("1 versions of the subject's key"));
    let gone = evident(d, &["decrypt"], &sealed.stdout, Some(PASS));
    assert_eq!(gone.status.code(), Some(2));
    assert!(stderr(&gone).contains("destroyed"), "{}", stderr(&gone));
    assert!(evident(d, &["log", "verify"], b"", None).status.success());
}
