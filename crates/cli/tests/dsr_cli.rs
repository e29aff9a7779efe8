//! `evident dsr` as an operator uses it: an erasure opened, checked, approved, dry-run and
//! run over a SQLite shop database, its status and certificate (checked offline, and a forged
//! one refused with exit 1); an access request's export as CSV; a run before approval refused
//! with exit 2 and a message naming the state; `--help` that teaches.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::process::{Command, Output};

use serde_json::Value;

fn evident(dir: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .args(["--data-dir", dir, "--quiet", "--operator", "dpo"])
        .env_remove("EVIDENT_ROOT_KEY")
        .env_remove("EVIDENT_ROOT_KEY_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE_FILE")
        .env("EVIDENT_ROOT_PASSPHRASE", "correct horse battery staple")
        .output()
        .unwrap()
}

/// An auditor's command: no data directory, no secrets in the environment.
fn offline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .env_remove("EVIDENT_DATA_DIR")
        .env_remove("EVIDENT_ROOT_PASSPHRASE")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn shop(dir: &std::path::Path) -> String {
    let db = dir.join("shop.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), address TEXT);
         INSERT INTO users VALUES (1, 'a@example.org', 'Ann'), (2, 'b@example.org', 'Bob');
         INSERT INTO orders VALUES (1, 1, '1 Main St'), (2, 2, '2 Side St');",
    )
    .unwrap();
    let map = dir.join("map.toml");
    std::fs::write(
        &map,
        format!(
            r#"format = 1
[[systems]]
name = "shop"
connection = "sqlite:{}"
purpose = "orders"
lawful_basis = "contract"
retention = "6y"
[[systems.tables]]
name = "users"
primary_key = "id"
identity = "id"
fields = [
  {{ name = "email", categories = ["user.contact.email"], erasure = "null" }},
  {{ name = "name", categories = ["user.name"], erasure = "keyed_hash", key = "shop-erasure" }},
]
[[systems.tables]]
name = "orders"
primary_key = "id"
join = "user_id -> users.id"
fields = [{{ name = "address", categories = ["user.contact.address"], erasure = "fixed", value = "erased" }}]
"#,
            db.display()
        ),
    )
    .unwrap();
    map.to_str().unwrap().to_owned()
}

#[test]
fn an_erasure_and_an_access_request_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let map = shop(tmp.path());
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    let init = ok(&evident(d, &["init"]));
    let key = init
        .lines()
        .find_map(|l| l.strip_prefix("verifier key: "))
        .unwrap_or_else(|| panic!("no verifier key in {init}"))
        .trim()
        .to_owned();
    ok(&evident(d, &["keys", "create", "shop-erasure"]));

    let opened: Value =
        serde_json::from_str(&ok(&evident(d, &["dsr", "open", "erasure", "1", "--json"]))).unwrap();
    let id = opened["id"].as_str().unwrap();
    assert_eq!(opened["state"], "received");
    let early = evident(d, &["dsr", "run", id, "--map", &map]);
    assert_eq!(early.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&early.stderr).contains("is received; it runs once approved"));

    ok(&evident(
        d,
        &["dsr", "verify-identity", id, "--method", "email code"],
    ));
    ok(&evident(d, &["dsr", "approve", id]));
    let dry: Value = serde_json::from_str(&ok(&evident(
        d,
        &["dsr", "run", id, "--map", &map, "--dry-run", "--json"],
    )))
    .unwrap();
    assert_eq!(dry["systems"][0]["status"], "dry_run");
    assert_eq!(dry["systems"][0]["detail"]["changed"], 2);
    let run: Value = serde_json::from_str(&ok(&evident(
        d,
        &["dsr", "run", id, "--map", &map, "--json"],
    )))
    .unwrap();
    assert_eq!(run["request"]["state"], "completed", "{run}");
    let status = ok(&evident(d, &["dsr", "status", id]));
    assert!(
        status.contains("completed") && status.contains("shop: done"),
        "{status}"
    );

    let cert = tmp.path().join("cert.json");
    ok(&evident(
        d,
        &["dsr", "certificate", id, "--out", cert.to_str().unwrap()],
    ));
    let checked = ok(&evident(
        d,
        &[
            "dsr",
            "verify-certificate",
            cert.to_str().unwrap(),
            "--verifier-key",
            &key,
        ],
    ));
    assert!(checked.starts_with("ok: request"), "{checked}");
    // The auditor's one verb takes it too.
    let audited = ok(&offline(&[
        "verify",
        cert.to_str().unwrap(),
        "--vkey",
        &key,
    ]));
    assert!(
        audited.starts_with("ok: erasure certificate of request"),
        "{audited}"
    );
    let text = std::fs::read_to_string(&cert)
        .unwrap()
        .replace("\"changed\": 2", "\"changed\": 0");
    std::fs::write(&cert, text).unwrap();
    let forged = evident(
        d,
        &[
            "dsr",
            "verify-certificate",
            cert.to_str().unwrap(),
            "--verifier-key",
            &key,
        ],
    );
    assert_eq!(forged.status.code(), Some(1));
    let forged = offline(&["verify", cert.to_str().unwrap(), "--vkey", &key]);
    assert_eq!(forged.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&forged.stderr).contains("changed after it was issued"),
        "{forged:?}"
    );

    let access = ok(&evident(
        d,
        &["dsr", "open", "access", "2", "--regime", "ccpa"],
    ));
    let access = access.split_whitespace().next().unwrap();
    ok(&evident(
        d,
        &[
            "dsr",
            "verify-identity",
            access,
            "--method",
            "account login",
        ],
    ));
    ok(&evident(d, &["dsr", "approve", access]));
    let out = tmp.path().join("subject.csv");
    ok(&evident(
        d,
        &[
            "dsr",
            "run",
            access,
            "--map",
            &map,
            "--out",
            out.to_str().unwrap(),
            "--format",
            "csv",
        ],
    ));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.contains("shop,users,1,email,b@example.org"), "{csv}");
    let list = ok(&evident(d, &["dsr", "list"]));
    assert_eq!(list.lines().count(), 2, "{list}");
}

#[test]
fn the_help_teaches_with_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let help = ok(&evident(d, &["dsr", "--help"]));
    for needed in [
        "Examples:",
        "evident dsr open erasure",
        "--dry-run",
        "verify-certificate",
        "GDPR one month",
    ] {
        assert!(help.contains(needed), "{needed}: {help}");
    }
}
