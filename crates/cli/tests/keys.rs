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
    evident_env(dir, args, stdin, passphrase, &[])
}

fn evident_env(
    dir: &str,
    args: &[&str],
    stdin: &[u8],
    passphrase: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evident"));
    c.args(args)
        .args(["--data-dir", dir, "--quiet"])
        .env_remove("EVIDENT_ROOT_KEY")
        .env_remove("EVIDENT_ROOT_KEY_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE_FILE")
        .envs(env.iter().copied())
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
    // The operator the CLI decides as: $USER, else $LOGNAME, else the user id's account.
    let user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| {
            let id = Command::new("id").arg("-un").output().unwrap();
            String::from_utf8(id.stdout).unwrap().trim().to_owned()
        });
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

fn as_user(user: &str, dir: &str, args: &[&str], stdin: &[u8]) -> Output {
    evident_env(dir, args, stdin, Some(PASS), &[("USER", user)])
}

#[test]
fn tokenize_and_detokenize_line_by_line_with_logged_decisions() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"], b"", None).status.success());
    let pack = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
    let applied = evident(d, &["policy", "apply", pack.to_str().unwrap()], b"", None);
    assert!(applied.status.success(), "{}", stderr(&applied));

    let out = as_user(
        "bob",
        d,
        &["tokenize"],
        b"4111 1111 1111 1111\n\n5555555555554444\n4111111111111111\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let tokens: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    assert_eq!(tokens[0], tokens[2], "one token per card");
    assert!(tokens[0].ends_with("1111") && tokens[1].ends_with("4444"));

    let out = as_user(
        "bob",
        d,
        &["tokenize", "--format", "ff1", "--keep", "last4", "--json"],
        b"4111111111111111\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(made["masked"], "411111******1111");
    assert_eq!(made["format"], "ff1");

    // refusals name the line and the rule, never the value
    let out = as_user(
        "bob",
        d,
        &["tokenize"],
        b"4111111111111111\n4111111111111112\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("line 2") && stderr(&out).contains("Luhn"),
        "{}",
        stderr(&out)
    );
    let out = as_user(
        "bob",
        d,
        &["tokenize"],
        b";4111111111111111=28121010000000000?\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pci.sad.track"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("4111111111111111"),
        "{}",
        stderr(&out)
    );
    let out = as_user(
        "bob",
        d,
        &["tokenize", "--format", "ff1"],
        b"378282246310005\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("last4"), "{}", stderr(&out));

    // bob (editor) with a purpose sees the card; carol (viewer) only the mask
    let purpose = r#"{"purpose_of_use": "refund"}"#;
    let out = as_user(
        "bob",
        d,
        &["detokenize", "--access-context", purpose, &tokens[0]],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "4111111111111111\n");
    let stdin = format!("{}\n{}\n", tokens[0], tokens[1]);
    let out = as_user("carol", d, &["detokenize", "--masked"], stdin.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "411111******1111\n555555******4444\n"
    );
    let out = as_user(
        "carol",
        d,
        &[
            "detokenize",
            "--access-context",
            purpose,
            &tokens[0],
            &tokens[1],
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("2 token(s) not revealed"),
        "{}",
        stderr(&out)
    );
    let out = as_user(
        "bob",
        d,
        &["detokenize", "--access-context", "[1]", &tokens[0]],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--access-context"),
        "{}",
        stderr(&out)
    );

    // the decisions are in the ledger and it verifies
    let out = evident(d, &["log", "verify"], b"", None);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `EVIDENT_KEY_PROVIDER=pkcs11` end to end against SoftHSM2 (required under CI).
#[test]
fn the_pkcs11_provider_is_chosen_by_environment_and_recorded() {
    let Some(module) = [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .into_iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.exists()) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "SoftHSM2 (Debian softhsm2) is required under CI"
        );
        eprintln!("skipped: SoftHSM2 not installed");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("tokens")).unwrap();
    let conf = tmp.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            tmp.path().join("tokens").display()
        ),
    )
    .unwrap();
    let init = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            "cli-test",
            "--so-pin",
            "so-pin",
            "--pin",
            "user-pin",
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", stderr(&init));
    let pin_file = tmp.path().join("pin");
    std::fs::write(&pin_file, "user-pin\n").unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    let (conf, module, pin_file) = (
        conf.to_str().unwrap(),
        module.to_str().unwrap(),
        pin_file.to_str().unwrap(),
    );
    let run = |provider: Option<&str>, args: &[&str], stdin: &[u8]| {
        let mut env = vec![
            ("SOFTHSM2_CONF", conf),
            ("EVIDENT_PKCS11_MODULE", module),
            ("EVIDENT_PKCS11_TOKEN", "cli-test"),
            ("EVIDENT_PKCS11_PIN_FILE", pin_file),
        ];
        // unset means the default (local)
        env.push(("EVIDENT_KEY_PROVIDER", provider.unwrap_or("")));
        evident_env(d, args, stdin, Some(PASS), &env)
    };
    // a root key is configured, so init seals the directory's own keys with it
    let init = run(Some("pkcs11"), &["init"], b"");
    assert!(init.status.success(), "{}", stderr(&init));
    let signing = std::fs::read_to_string(std::path::Path::new(d).join("signing.key")).unwrap();
    assert!(
        signing.starts_with("evident-sealed:v1:pkcs11:"),
        "{signing}"
    );
    let created = run(Some("pkcs11"), &["keys", "create", "payments"], b"");
    assert!(created.status.success(), "{}", stderr(&created));
    let listed = run(Some("pkcs11"), &["keys", "list"], b"");
    let listed_text = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed_text.contains("pkcs11, token \"cli-test\""),
        "{listed_text}"
    );
    let sealed = run(Some("pkcs11"), &["encrypt", "--key", "payments"], b"row 9");
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let opened = run(Some("pkcs11"), &["decrypt"], &sealed.stdout);
    assert_eq!(opened.stdout, b"row 9", "{}", stderr(&opened));
    assert!(
        !std::path::Path::new(d).join("root.key").exists(),
        "no local root key was made"
    );
    // the local provider (the default) is refused, naming the recorded one
    let refused = run(None, &["decrypt"], &sealed.stdout);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("EVIDENT_KEY_PROVIDER to `pkcs11`"),
        "{}",
        stderr(&refused)
    );
    let unknown = run(Some("vault9000"), &["decrypt"], &sealed.stdout);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("local, pkcs11"),
        "{}",
        stderr(&unknown)
    );
    assert!(!stderr(&unknown).contains("user-pin"));
}

#[test]
fn sealed_own_keys_need_the_root_key_to_open_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    let init = evident(d, &["init"], b"", None);
    assert!(init.status.success());
    let vkey = evident(d, &["log", "vkey"], b"", None);
    assert!(vkey.status.success(), "{}", stderr(&vkey));
    let plain_key = std::fs::read_to_string(std::path::Path::new(d).join("signing.key")).unwrap();
    assert!(plain_key.starts_with("PRIVATE+KEY+"));
    let event = |name: &str| {
        format!(
            "{{\"actor\": {{\"id\": \"nurse-7\"}}, \"action\": \"record.read\", \"resource\": {{\"type\": \"patient\", \"id\": \"p1\"}}, \"outcome\": \"success\", \"metadata\": {{\"patient_name\": \"{name}\"}}, \"personal\": [\"/metadata/patient_name\"]}}\n"
        )
    };
    let appended = evident(
        d,
        &["log", "append"],
        event("Zebulon Quixotic").as_bytes(),
        None,
    );
    assert!(appended.status.success(), "{}", stderr(&appended));

    // sealing needs the root key's provider
    let no_root = evident(d, &["keys", "seal"], b"", None);
    assert_eq!(no_root.status.code(), Some(2));
    assert!(
        stderr(&no_root).contains("EVIDENT_ROOT_PASSPHRASE"),
        "{}",
        stderr(&no_root)
    );
    let sealed = evident(d, &["keys", "seal"], b"", Some(PASS));
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(String::from_utf8_lossy(&sealed.stdout).contains("signing.key, redaction.key"));
    for name in ["signing.key", "redaction.key"] {
        let text = std::fs::read_to_string(std::path::Path::new(d).join(name)).unwrap();
        assert!(
            text.starts_with("evident-sealed:v1:local:"),
            "{name}: {text}"
        );
    }
    // a value appended after sealing is sealed too
    let appended = evident(
        d,
        &["log", "append"],
        event("Ysolde Wimbleton").as_bytes(),
        Some(PASS),
    );
    assert!(appended.status.success(), "{}", stderr(&appended));
    // the signing key and the personal values are in no file in the clear any more
    let db_files: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for path in db_files.iter().filter(|p| p.is_file()) {
        let bytes = std::fs::read(path).unwrap();
        for name in [&b"Zebulon Quixotic"[..], b"Ysolde Wimbleton"] {
            assert!(
                !bytes.windows(name.len()).any(|w| w == name),
                "a personal value in {}",
                path.display()
            );
        }
    }
    let shown = evident(d, &["log", "show", "0", "--reveal"], b"", Some(PASS));
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("Zebulon Quixotic"),
        "{}{}",
        String::from_utf8_lossy(&shown.stdout),
        stderr(&shown)
    );
    // `PRIVATE+KEY+<name>+<hash>+<base64 key>`: the key is everything after the fourth `+`
    // (standard base64 may itself hold a `+`, so splitting at the last one could leave a
    // two-byte piece that turns up in any binary file by chance).
    let secret_part = plain_key.trim().splitn(5, '+').nth(4).unwrap().to_string();
    assert!(secret_part.len() >= 40, "{secret_part:?}");
    for entry in std::fs::read_dir(d).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(secret_part.len())
                    .any(|w| w == secret_part.as_bytes()),
                "signing key in {}",
                path.display()
            );
        }
    }
    // without the root key nothing opens; with it, the same log and key as before
    let locked = evident(d, &["log", "verify"], b"", None);
    assert_eq!(locked.status.code(), Some(2));
    assert!(
        stderr(&locked).contains("sealed by the root key"),
        "{}",
        stderr(&locked)
    );
    let opened = evident(d, &["log", "verify"], b"", Some(PASS));
    assert!(opened.status.success(), "{}", stderr(&opened));
    let report = String::from_utf8_lossy(&opened.stdout).into_owned();
    assert!(report.contains(" 2 personal values checked"), "{report}");
    // an auditor with the verifier key but no root key: the tree checks, sealed values are counted
    let vkey_text = String::from_utf8(vkey.stdout.clone()).unwrap();
    let audit = evident(d, &["log", "verify", "--vkey", vkey_text.trim()], b"", None);
    assert!(audit.status.success(), "{}", stderr(&audit));
    let audit_report = String::from_utf8_lossy(&audit.stdout).into_owned();
    assert!(
        audit_report.contains("2 sealed personal values not checked"),
        "{audit_report}"
    );
    let vkey_after = evident(d, &["log", "vkey"], b"", Some(PASS));
    assert_eq!(vkey_after.stdout, vkey.stdout, "the same signing key");
    let again = evident(d, &["keys", "seal"], b"", Some(PASS));
    assert!(String::from_utf8_lossy(&again.stdout).contains("already sealed"));
    // a wrong passphrase or an altered sealed file is refused, not misread
    let wrong = evident(
        d,
        &["log", "verify"],
        b"",
        Some("not the passphrase at all"),
    );
    assert_eq!(wrong.status.code(), Some(2));
    let path = std::path::Path::new(d).join("signing.key");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.insert_str(text.len() - 6, "AAAA");
    std::fs::write(&path, text).unwrap();
    let altered = evident(d, &["log", "verify"], b"", Some(PASS));
    assert_eq!(altered.status.code(), Some(2));
    assert!(
        stderr(&altered).contains("signing.key"),
        "{}",
        stderr(&altered)
    );

    // `init --seal-keys` seals from the start
    let fresh = tmp.path().join("fresh");
    let fresh = fresh.to_str().unwrap();
    let init = evident(fresh, &["init", "--seal-keys"], b"", Some(PASS));
    assert!(init.status.success(), "{}", stderr(&init));
    let text = std::fs::read_to_string(std::path::Path::new(fresh).join("signing.key")).unwrap();
    assert!(text.starts_with("evident-sealed:v1:local:"));
    // with a root key configured, sealing is the default; --no-seal-keys opts out
    for (flags, sealed) in [(&[][..], true), (&["--no-seal-keys"][..], false)] {
        let dir = tmp.path().join(format!("auto-{sealed}"));
        let dir = dir.to_str().unwrap();
        let mut args = vec!["init"];
        args.extend_from_slice(flags);
        let out = evident(dir, &args, b"", Some(PASS));
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(std::path::Path::new(dir).join("signing.key")).unwrap();
        assert_eq!(text.starts_with("evident-sealed:"), sealed, "{flags:?}");
    }
    // --seal-keys with no root key configured says what to set
    let nokey = tmp.path().join("nokey");
    let out = evident(nokey.to_str().unwrap(), &["init", "--seal-keys"], b"", None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("EVIDENT_ROOT_PASSPHRASE"),
        "{}",
        stderr(&out)
    );
}

/// The configuration file's `[keys]` table sets the provider and its settings; unknown keys
/// in it are refused.
#[test]
fn the_config_file_keys_table_chooses_the_provider() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"], b"", None).status.success());
    let config = tmp.path().join("evident.toml");
    std::fs::write(
        &config,
        "[keys]\nprovider = \"aws-kms\"\nkms_region = \"eu-west-1\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let out = evident_env(
        d,
        &["keys", "list", "--config", config],
        b"",
        None,
        &[("EVIDENT_KMS_KEY_ID", "")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("EVIDENT_KMS_KEY_ID"),
        "{}",
        stderr(&out)
    );
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[keys]\nprovider = \"local\"\nkms_secret = \"x\"\n").unwrap();
    let out = evident(
        d,
        &["keys", "list", "--config", bad.to_str().unwrap()],
        b"",
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("kms_secret"), "{}", stderr(&out));
}
