//! `evident privacy map …` as a user meets it: `check` exits 1 with FILE:LINE in stderr on
//! an invalid map, `scan` on a SQLite database proposes categories and joins without ever
//! printing a sampled value, `--write` refuses without a terminal unless `--yes`, and
//! `apply` keeps versions, records the hash in the ledger and refuses a hand-edited copy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

#[path = "../../privacy/tests/datamap_fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_evident"))
        .current_dir(dir)
        .env("HOME", dir)
        .env("EVIDENT_OPERATOR", "dpo-alice")
        .env("EVIDENT_DATA_DIR", dir.join("data"))
        .env_remove("EVIDENT_CONFIG")
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

/// A directory with the EHR fixture in `ehr.db` and a partial map of it in `datamap.toml`.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ehr.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&fixture::ehr_sql())
        .unwrap();
    let map = dir.path().join("datamap.toml");
    std::fs::write(&map, fixture::partial_map("connection = \"sqlite:ehr.db\"")).unwrap();
    (dir, map)
}

#[test]
fn check_reports_every_problem_with_file_and_line_and_exits_1() {
    let (dir, map) = setup();
    let (code, stdout, _) = run(dir.path(), &["privacy", "map", "check", "datamap.toml"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("datamap.toml: valid: 1 system(s), 1 table(s), 2 field(s)"),
        "{stdout}"
    );

    let text = std::fs::read_to_string(&map)
        .unwrap()
        .replace("\"user.contact.email\"", "\"user.contact.emial\"")
        .replace("lawful_basis = \"contract\"", "lawful_basis = \"because\"");
    std::fs::write(&map, text).unwrap();
    let (code, _, stderr) = run(dir.path(), &["privacy", "map", "check", "datamap.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("2 problems"), "{stderr}");
    assert!(
        stderr.contains("datamap.toml:7:16: `because` is not a lawful basis"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("datamap.toml:15:35: `user.contact.emial` is not a fideslang data category"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `user.contact.email`?"),
        "{stderr}"
    );

    let (code, _, stderr) = run(dir.path(), &["privacy", "map", "check", "missing.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("missing.toml"), "{stderr}");
    std::fs::write(dir.path().join("bad.toml"), "[[systems]\n").unwrap();
    let (code, _, stderr) = run(dir.path(), &["privacy", "map", "check", "bad.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("bad.toml:1:"), "{stderr}");
}

#[test]
fn scan_on_sqlite_proposes_without_printing_values() {
    let (dir, _) = setup();
    let (code, stdout, stderr) = run(
        dir.path(),
        &[
            "privacy",
            "map",
            "scan",
            "--system",
            "ehr",
            "--map",
            "datamap.toml",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    for expected in [
        "identity table: patients.id (mapped)",
        "patients.ssn",
        "user.government_id.national_identification_number",
        "detector: ssn 40/40",
        "encounters.diagnosis",
        "name: diagnosis",
        "prescriptions            join = \"encounter_id -> encounters.id\"  (path prescriptions -> encounters -> patients)",
        "patients.fax: the map lists this column; the table has none",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
    let (code, json, _) = run(
        dir.path(),
        &[
            "privacy",
            "map",
            "scan",
            "--system",
            "ehr",
            "--map",
            "datamap.toml",
            "--json",
            "--sample",
            "10",
        ],
    );
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["sample"], 10);
    let phone = report["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["column"] == "phone")
        .unwrap();
    assert_eq!(phone["category"], "user.contact.phone_number");
    let (code, toml, _) = run(
        dir.path(),
        &[
            "privacy",
            "map",
            "scan",
            "--system",
            "ehr",
            "--map",
            "datamap.toml",
            "--toml",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        toml.contains("join = \"patient_id -> patients.id\""),
        "{toml}"
    );
    for output in [&stdout, &json, &toml] {
        for value in [
            "example.org",
            "555-",
            "Lovelace",
            "DE89370400440532013000",
            "metformin",
        ] {
            assert!(
                !output.contains(value),
                "a sampled value `{value}` was printed"
            );
        }
    }
    let (code, _, stderr) = run(
        dir.path(),
        &[
            "privacy",
            "map",
            "scan",
            "--system",
            "billing",
            "--map",
            "datamap.toml",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the map has no system `billing` (it has ehr)"),
        "{stderr}"
    );
}

#[test]
fn write_needs_a_terminal_or_yes() {
    let (dir, map) = setup();
    let before = std::fs::read_to_string(&map).unwrap();
    let args = [
        "privacy",
        "map",
        "scan",
        "--system",
        "ehr",
        "--map",
        "datamap.toml",
        "--write",
    ];
    let (code, _, stderr) = run(dir.path(), &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("only after a confirmation at a terminal"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&map).unwrap(),
        before,
        "the map changed"
    );

    let mut yes = args.to_vec();
    yes.push("--yes");
    let (code, _, stderr) = run(dir.path(), &yes);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("merged"), "{stderr}");
    let after = std::fs::read_to_string(&map).unwrap();
    assert!(after.starts_with(&before[..before.find("fields = [").unwrap()]));
    assert!(after.contains("name = \"invoices\""), "{after}");
    let (code, stdout, stderr) = run(dir.path(), &["privacy", "map", "check", "datamap.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("4 table(s)"), "{stdout}");
}

#[test]
fn apply_keeps_versions_and_records_the_hash() {
    let (dir, _) = setup();
    let (code, stdout, stderr) = run(dir.path(), &["privacy", "map", "apply", "datamap.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("data map version 1 is active (sha256:"),
        "{stdout}"
    );
    let (_, again, _) = run(dir.path(), &["privacy", "map", "apply", "datamap.toml"]);
    assert!(again.contains("unchanged: version 1"), "{again}");
    let (code, shown, stderr) = run(dir.path(), &["privacy", "map", "show"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        shown.contains("table patients: identity table (subject id `id`)"),
        "{shown}"
    );
    let (_, history, _) = run(dir.path(), &["privacy", "map", "history", "--json"]);
    let line: Value = serde_json::from_str(history.lines().next().unwrap()).unwrap();
    assert_eq!(line["active"], true);
    let hash = line["hash"].as_str().unwrap().to_owned();

    let (code, events, stderr) = run(
        dir.path(),
        &["log", "query", "--action", "evident.privacy.map.applied"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(events.lines().count(), 1, "{events}");
    assert!(events.contains(&hash), "{events}");
    assert!(events.contains("dpo-alice"), "{events}");

    // A copy changed by hand is refused.
    let active = dir.path().join("data/privacy/datamap.toml");
    let mut text = std::fs::read_to_string(&active).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&active, text).unwrap();
    let (code, _, stderr) = run(dir.path(), &["privacy", "map", "show"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("was changed outside `evident privacy map apply`"),
        "{stderr}"
    );

    // An invalid map is never applied.
    std::fs::write(dir.path().join("bad.toml"), "[[systems]]\nname = \"x\"\n").unwrap();
    let (code, _, stderr) = run(dir.path(), &["privacy", "map", "apply", "bad.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("bad.toml:"), "{stderr}");
}
