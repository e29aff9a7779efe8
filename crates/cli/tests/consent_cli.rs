//! `evident consent` as an operator uses it: grant, withdraw, show, history, and an import
//! whose bad rows are reported by line while the good ones are stored.

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
        .env_remove("EVIDENT_ROOT_PASSPHRASE")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn state(dir: &str, subject: &str) -> Vec<(String, bool)> {
    let out = evident(dir, &["consent", "show", subject, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["purpose"].as_str().unwrap().to_string(),
                c["in_force"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn grant_withdraw_show_and_history() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"]).status.success());
    let notice = tmp.path().join("notice.txt");
    std::fs::write(&notice, "We send offers by email.").unwrap();
    let notice = notice.to_str().unwrap();
    let out = evident(
        d,
        &[
            "consent",
            "grant",
            "cust-1",
            "marketing",
            "--notice-file",
            notice,
            "--source",
            "web",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("granted `marketing`"));
    assert_eq!(state(d, "cust-1"), [("marketing".into(), true)]);

    // No notice for a consent grant: refused, exit 2, nothing stored.
    let out = evident(d, &["consent", "grant", "cust-2", "marketing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("notice"), "{}", stderr(&out));
    assert!(state(d, "cust-2").is_empty());
    // An unknown basis is a usage error.
    let out = evident(
        d,
        &["consent", "grant", "cust-2", "marketing", "--basis", "whim"],
    );
    assert_eq!(out.status.code(), Some(2));

    let out = evident(
        d,
        &[
            "consent",
            "withdraw",
            "cust-1",
            "marketing",
            "--source",
            "email",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(state(d, "cust-1"), [("marketing".into(), false)]);

    let out = evident(d, &["consent", "history", "cust-1", "marketing"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["granted"], true);
    assert_eq!(history[1]["granted"], false);
    assert_eq!(history[1]["source"], "email");
    assert!(history[1]["proof"]["size"].as_u64().unwrap() > history[1]["index"].as_u64().unwrap());

    // Erasure of the subject removes the consent records.
    let out = evident(d, &["log", "erase", "--subject", "cust-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(state(d, "cust-1").is_empty());
}

#[test]
fn an_import_stores_good_rows_and_reports_bad_ones_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"]).status.success());
    let file = tmp.path().join("consents.csv");
    std::fs::write(
        &file,
        "subject,purpose,status,basis,notice,time\n\
         cust-1,marketing,granted,consent,We email offers.,2026-01-02T03:04:05Z\n\
         cust-2,marketing,granted,because,We email offers.,\n\
         cust-3,analytics,withdrawn,,,\n\
         cust-4,marketing,granted,consent,,\n\
         cust-5,marketing,withdrawn,,,yesterday\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let strict = evident(d, &["consent", "import", file, "--strict"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
    assert!(
        stdout(&strict).contains("nothing recorded"),
        "{}",
        stdout(&strict)
    );
    assert!(state(d, "cust-1").is_empty());

    let out = evident(d, &["consent", "import", file]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("5 rows, 2 recorded, 3 refused"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains("line 3: basis: unknown lawful basis `because`"),
        "{err}"
    );
    assert!(err.contains("line 5: notice_hash:"), "{err}");
    assert!(err.contains("line 6: time:"), "{err}");
    assert!(!err.contains("line 2") && !err.contains("line 4"), "{err}");
    assert_eq!(state(d, "cust-1"), [("marketing".into(), true)]);
    assert_eq!(state(d, "cust-3"), [("analytics".into(), false)]);
    assert!(state(d, "cust-2").is_empty());

    let json = tmp.path().join("more.jsonl");
    std::fs::write(
        &json,
        "{\"subject\":\"cust-6\",\"purpose\":\"sale\",\"status\":\"withdrawn\",\"source\":\"gpc\"}\n",
    )
    .unwrap();
    let out = evident(d, &["consent", "import", json.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["recorded"], 1);
    assert_eq!(state(d, "cust-6"), [("sale".into(), false)]);

    // A file with a column it does not know is refused whole: exit 2.
    let bad = tmp.path().join("bad.csv");
    std::fs::write(
        &bad,
        "subject,purpose,status,colour\ncust-7,marketing,withdrawn,red\n",
    )
    .unwrap();
    let out = evident(d, &["consent", "import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown column `colour`"),
        "{}",
        stderr(&out)
    );
    assert!(state(d, "cust-7").is_empty());
}

/// A process killed between logging a change and writing its row (simulated by deleting the
/// row) gets the row back when the next process opens the engine; an erased subject's rows
/// are not brought back.
#[test]
fn a_row_lost_to_a_crash_is_restored_from_the_ledger_and_erasure_stays_final() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let db = d.join("evident.db");
    let d = d.to_str().unwrap();
    assert!(evident(d, &["init"]).status.success());
    for (verb, purpose) in [("grant", "marketing"), ("withdraw", "analytics")] {
        let mut args = vec!["consent", verb, "subject-9", purpose];
        if verb == "grant" {
            args.extend(["--notice-hash", NOTICE_HASH]);
        }
        let out = evident(d, &args);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let before = state(d, "subject-9");
    assert_eq!(before.len(), 2);
    let rows = |sql: &str| {
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute(sql, [])
            .unwrap()
    };
    // The crash: the marketing grant's row never written; the next open must look again.
    assert_eq!(rows("DELETE FROM consent WHERE purpose = 'marketing'"), 1);
    rows("DELETE FROM meta WHERE key = 'consent.repaired_through'");
    assert_eq!(state(d, "subject-9"), before, "restored on open");

    let out = evident(d, &["log", "erase", "--subject", "subject-9"]);
    assert!(out.status.success(), "{}", stderr(&out));
    rows("DELETE FROM meta WHERE key = 'consent.repaired_through'");
    assert!(state(d, "subject-9").is_empty(), "erasure is not undone");
}

const NOTICE_HASH: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
