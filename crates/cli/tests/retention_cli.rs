//! `evident retention plan` and `run` as an operator meets them, over a small SQLite system:
//! the plan writes and logs nothing, a run deletes and anonymizes the rows past their period
//! and logs each system's purge with counts and a digest but no value, a subject's hold keeps
//! their rows, a second run changes nothing, the ledger still verifies, and bad input (an
//! unknown system, an unreachable database, a future `--now`) is a clear error that changes
//! nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_evident"))
        .current_dir(dir)
        .env("HOME", dir)
        .env("EVIDENT_DATA_DIR", dir.join("data"))
        .env("EVIDENT_OPERATOR", "dpo-alice")
        .env_remove("EVIDENT_CONFIG")
        .env_remove("EVIDENT_ROOT_KEY")
        .env_remove("EVIDENT_ROOT_KEY_FILE")
        .env_remove("EVIDENT_ROOT_PASSPHRASE_FILE")
        .env("EVIDENT_ROOT_PASSPHRASE", "correct horse battery staple")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MAP: &str = r#"
[[systems]]
name = "crm"
connection = "sqlite:crm.db"
purpose = "customer relationship"
lawful_basis = "contract"
retention = "1y"

[[systems.tables]]
name = "customers"
primary_key = "id"
identity = "id"
retention_from = "created_at"
fields = [{ name = "email", categories = ["user.contact.email"], erasure = "null" }]

[[systems.tables]]
name = "visits"
primary_key = "id"
join = "customer_id -> customers.id"
retention_from = "visited_on"
erasure = "delete_row"
fields = [{ name = "note", categories = ["user.content"], erasure = "null" }]

[[systems.tables]]
name = "tickets"
primary_key = "id"
join = "customer_id -> customers.id"
fields = [{ name = "body", categories = ["user.content"], erasure = "null" }]
"#;

/// Customers c1–c3 created in 2000 (past `1y`), c4 in 2999; each with one old and one new
/// visit, and a ticket.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conn = rusqlite::Connection::open(d.join("crm.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE customers (id TEXT PRIMARY KEY, email TEXT, created_at TEXT);
         CREATE TABLE visits (id INTEGER PRIMARY KEY, customer_id TEXT REFERENCES customers(id), note TEXT, visited_on DATE);
         CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id TEXT REFERENCES customers(id), body TEXT);
         INSERT INTO customers VALUES ('c1', 'c1@example.org', '2000-01-01 10:00:00'),
           ('c2', 'c2@example.org', '2000-02-01 10:00:00'), ('c3', 'c3@example.org', '2000-03-01 10:00:00'),
           ('c4', 'c4@example.org', '2999-01-01 10:00:00');
         INSERT INTO visits VALUES (1, 'c1', 'old visit of c1', '2001-01-01'), (2, 'c1', 'new visit of c1', '2999-01-01'),
           (3, 'c2', 'old visit of c2', '2001-01-01'), (4, 'c2', 'new visit of c2', '2999-01-01'),
           (5, 'c3', 'old visit of c3', '2001-01-01'), (6, 'c4', 'old visit of c4', '2001-01-01');
         INSERT INTO tickets VALUES (1, 'c1', 'ticket of c1'), (2, 'c4', 'ticket of c4');",
    )
    .unwrap();
    std::fs::write(d.join("datamap.toml"), MAP).unwrap();
    let (code, _, err) = run(d, &["privacy", "map", "apply", "datamap.toml"]);
    assert_eq!(code, 0, "{err}");
    dir
}

fn dump(dir: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join("crm.db")).unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT id || '|' || ifnull(email, 'NULL') || '|' || created_at FROM customers ORDER BY id",
        "SELECT id || '|' || customer_id || '|' || ifnull(note, 'NULL') || '|' || visited_on FROM visits ORDER BY id",
        "SELECT id || '|' || body FROM tickets ORDER BY id",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

fn entries(dir: &Path) -> String {
    let (code, out, err) = run(dir, &["log", "tail", "-n", "1000"]);
    assert_eq!(code, 0, "{err}");
    out
}

fn table<'a>(report: &'a Value, system: usize, name: &str) -> &'a Value {
    report["systems"][system]["purge"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap()
}

#[test]
fn plan_then_run_purges_what_is_past_respects_holds_and_logs_no_value() {
    let dir = setup();
    let d = dir.path();
    let (code, _, err) = run(
        d,
        &[
            "privacy",
            "hold",
            "place",
            "--case",
            "Doe v. Shop",
            "--reason",
            "litigation",
            "--subject",
            "c2",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let before = dump(d);
    let log_before = entries(d);

    let (code, out, err) = run(d, &["retention", "plan", "--json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(dump(d), before, "the plan wrote");
    assert_eq!(entries(d), log_before, "the plan logged");
    let customers = table(&plan, 0, "customers");
    assert_eq!(customers["past"], 3);
    assert_eq!(customers["held"], 1);
    assert_eq!(customers["changed"], 2);
    assert_eq!(customers["action"], "anonymize");
    let visits = table(&plan, 0, "visits");
    assert_eq!(
        (visits["past"].as_u64(), visits["held"].as_u64()),
        (Some(4), Some(1))
    );
    assert_eq!(visits["action"], "delete");
    assert_eq!(table(&plan, 0, "tickets")["status"], "not_purgeable");

    let (code, out, err) = run(d, &["retention", "run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("visits"), "{out}");
    let after = dump(d);
    assert_eq!(
        after,
        [
            "c1|NULL|2000-01-01 10:00:00",
            "c2|c2@example.org|2000-02-01 10:00:00",
            "c3|NULL|2000-03-01 10:00:00",
            "c4|c4@example.org|2999-01-01 10:00:00",
            "2|c1|new visit of c1|2999-01-01",
            "3|c2|old visit of c2|2001-01-01",
            "4|c2|new visit of c2|2999-01-01",
            "1|ticket of c1",
            "2|ticket of c4",
        ]
    );
    let log = entries(d);
    assert!(log.contains("evident.privacy.retention.purged"), "{log}");
    for value in ["c1@example.org", "old visit of c1", "c3@example.org"] {
        assert!(!log.contains(value), "the ledger holds `{value}`");
    }
    let (code, out, _) = run(
        d,
        &[
            "log",
            "query",
            "--action",
            "evident.privacy.retention.purged",
        ],
    );
    assert_eq!(code, 0);
    assert!(out.contains("sha256:"), "{out}");
    assert!(
        out.contains("hold-"),
        "the holding hold is not named: {out}"
    );

    // Idempotent: nothing left to do.
    let (code, out, err) = run(d, &["retention", "run", "--json"]);
    assert_eq!(code, 0, "{err}");
    let again: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(again["systems"][0]["purge"]["changed"], 0);
    assert_eq!(dump(d), after);

    let (code, out, err) = run(d, &["log", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn bad_input_is_a_clear_error_and_changes_nothing() {
    let dir = setup();
    let d = dir.path();
    let before = dump(d);
    let log_before = entries(d);

    let (code, _, err) = run(d, &["retention", "run", "--system", "billing"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`billing` is not a system"), "{err}");

    let (code, _, err) = run(d, &["retention", "run", "--now", "2999-01-01"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("in the future"), "{err}");
    assert_eq!(dump(d), before);
    assert_eq!(entries(d), log_before);

    // The database goes away: the run fails, logs the failure, and changes nothing.
    std::fs::rename(d.join("crm.db"), d.join("crm.db.away")).unwrap();
    let (code, out, err) = run(d, &["retention", "run"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FAILED, nothing changed"), "{out}");
    assert!(!d.join("crm.db").exists(), "the run created a database");
    assert!(entries(d).contains("evident.privacy.retention.failed"));
    std::fs::rename(d.join("crm.db.away"), d.join("crm.db")).unwrap();
    assert_eq!(dump(d), before);
}

#[test]
fn the_ledger_loses_old_personal_values_keeps_its_entries_and_still_verifies() {
    let dir = setup();
    let d = dir.path();
    let map = format!("{MAP}\n[[ledger]]\naction = \"app.login\"\nretention = \"1d\"\n");
    std::fs::write(d.join("datamap.toml"), map).unwrap();
    let (code, _, err) = run(d, &["privacy", "map", "apply", "datamap.toml"]);
    assert_eq!(code, 0, "{err}");
    let events = d.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"actor\": {\"id\": \"u-1\", \"ip\": \"198.51.100.7\"}, \"action\": \"app.login\", \"resource\": {\"type\": \"session\"}, \"outcome\": \"success\"}\n\
         {\"actor\": {\"id\": \"u-2\", \"ip\": \"198.51.100.8\"}, \"action\": \"app.logout\", \"resource\": {\"type\": \"session\"}, \"outcome\": \"success\"}\n",
    )
    .unwrap();
    let (code, _, err) = run(d, &["log", "append", "events.jsonl"]);
    assert_eq!(code, 0, "{err}");
    let tail = entries(d);
    let (code, out, _) = run(d, &["log", "query", "--action", "app.login"]);
    assert_eq!(code, 0);
    let login: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let index = login["index"].as_u64().unwrap().to_string();
    let revealed = |i: &str| {
        let (code, out, err) = run(d, &["log", "show", i, "--reveal"]);
        assert_eq!(code, 0, "{err}");
        out.contains("198.51.100")
    };
    assert!(revealed(&index));

    // Received today: a day has not passed. Planned a week ahead, it would go.
    let (code, out, err) = run(d, &["retention", "run", "--system", "evident", "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ledger"][0]["values_deleted"], 0);
    assert!(revealed(&index));
    let week = evident::event::format_time(evident::event::now_us() + 7 * 86_400_000_000);
    let (code, out, err) = run(
        d,
        &["retention", "plan", "--now", &week, "--system", "evident"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("would delete their personal values"), "{out}");
    assert!(revealed(&index), "the plan deleted");

    // The purge as of a week from now, through the library (a run refuses a future --now).
    let engine = evident::Engine::open(&d.join("data"), false).unwrap();
    let m = evident::privacy::datamap::store::MapStore::new(&d.join("data"))
        .load_active()
        .unwrap()
        .unwrap();
    let keys = evident::privacy::dsr::LocalKeys::new([1; 32]);
    let report = engine
        .retention()
        .run(
            &m,
            &["evident".to_owned()],
            &keys,
            evident::event::now_us() + 7 * 86_400_000_000,
            false,
            "dpo-alice",
        )
        .unwrap();
    assert!(report.ledger[0].values_deleted.unwrap() >= 1, "{report:?}");
    drop(engine);
    assert!(!revealed(&index), "the login's IP address is still stored");
    let (code, out, _) = run(d, &["log", "query", "--action", "app.logout"]);
    assert_eq!(code, 0);
    let logout: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert!(
        revealed(&logout["index"].as_u64().unwrap().to_string()),
        "another action lost its values"
    );
    // Every entry is still there, the purge's record after them.
    assert!(entries(d).contains(tail.trim_end()));
    assert!(entries(d).contains("evident.privacy.retention.ledger_purged"));
    let (code, out, err) = run(d, &["log", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn serve_refuses_a_retention_interval_out_of_range_from_a_flag_or_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for interval in ["0s", "10s", "32d", "soon"] {
        let (code, _, err) = run(
            d,
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--retention-interval",
                interval,
            ],
        );
        assert_eq!(code, 2, "{interval}: {err}");
        assert!(err.contains("--retention-interval"), "{err}");
    }
    std::fs::write(d.join("evident.toml"), "retention_interval = \"5s\"\n").unwrap();
    let (code, _, err) = run(
        d,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "evident.toml",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--retention-interval"), "{err}");
}
