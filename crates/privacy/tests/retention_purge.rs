//! Retention purges against real databases: SQLite, and PostgreSQL at `EVIDENT_TEST_PG_URL`
//! (each test in a schema of its own, dropped after), over the data-subject-request fixture
//! with a map that gives encounters (anonymized) and invoices (deleted) a `retention_from`.
//! Rows past the period purged and every other row byte-identical, the dry run writing
//! nothing, dataset and subject holds respected and reported, idempotence, a table without
//! `retention_from` reported and untouched, and an unreachable database failing cleanly.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

#[path = "dsr_fixture.rs"]
mod fixture;

use std::path::Path;

use evident_privacy::datamap::DataMap;
use evident_privacy::dsr::LocalKeys;
use evident_privacy::holds::Hold;
use evident_privacy::retention::{purge_system, HeldBy, SystemPurge};
use fixture::Fixture;

/// 2025-06-15 00:00 UTC: with `1y`, encounters dated 2024-01 … 2024-05 are past (those of
/// patients whose number is 0–4 mod 9), 2024-06-2x … 2024-09 are not.
const NOW: i64 = 1_749_945_600_000_000;

fn keys() -> LocalKeys {
    LocalKeys::new([7; 32])
}

fn map(db: &Fixture) -> DataMap {
    map_with(
        db,
        r#"fields = [{ name = "email", categories = ["user.contact.email"], erasure = "null" }]"#,
    )
}

/// The map, with `patients` as the rest of the patients table (its fields, and any retention).
fn map_with(db: &Fixture, patients: &str) -> DataMap {
    let text = format!(
        r#"format = 1

[[systems]]
name = "clinic"
{}
purpose = "treatment of the patient"
lawful_basis = "contract"
retention = "10y"

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "id"
{}

[[systems.tables]]
name = "encounters"
primary_key = "id"
join = "patient_id -> patients.id"
retention = "1y"
retention_from = "encounter_date"
fields = [
  {{ name = "diagnosis", categories = ["user.health_and_medical"], erasure = "null" }},
]

[[systems.tables]]
name = "invoices"
primary_key = "id"
join = "patient_id -> patients.id"
retention = "5y"
retention_from = "issued_on"
erasure = "delete_row"
fields = [
  {{ name = "iban", categories = ["user.financial.bank_account"], erasure = "null" }},
]
"#,
        db.connection(),
        patients
    );
    evident_privacy::datamap::parse(Path::new("datamap.toml"), &text).unwrap()
}

/// The fixture with an `issued_on` date on invoices: 2019-01-01 for even ids (past `5y`),
/// 2024-01-01 for odd ones.
fn each(check: fn(&Fixture)) {
    let prepare = |db: Fixture| {
        db.exec("ALTER TABLE invoices ADD COLUMN issued_on DATE");
        db.exec("UPDATE invoices SET issued_on = '2019-01-01' WHERE id % 2 = 0");
        db.exec("UPDATE invoices SET issued_on = '2024-01-01' WHERE id % 2 = 1");
        db
    };
    check(&prepare(Fixture::sqlite()));
    if let Some(url) = fixture::pg_url() {
        check(&prepare(Fixture::pg(&url)));
    }
}

fn no_holds(s: &str) -> String {
    format!("key-of-{s}")
}

fn purge(db: &Fixture, holds: &[Hold], dry_run: bool) -> SystemPurge {
    let map = map(db);
    let held_by = HeldBy {
        holds,
        subject_key: &no_holds,
    };
    purge_system(
        map.system("clinic").unwrap(),
        &held_by,
        &keys(),
        NOW,
        dry_run,
    )
    .unwrap()
}

fn hold(id: &str, subjects: &[&str], datasets: &[&str]) -> Hold {
    Hold {
        hold_id: id.into(),
        case: "Doe v. Clinic".into(),
        reason: "litigation".into(),
        subjects: subjects.len(),
        subject_keys: subjects.iter().map(|s| no_holds(s)).collect(),
        datasets: datasets.iter().map(|d| (*d).to_owned()).collect(),
        placed_by: "op".into(),
        placed_at: "2025-01-01T00:00:00Z".into(),
        until: None,
        until_us: None,
        index: 1,
        lifted: None,
    }
}

/// Whether encounter `id` (of patient `(id + 1) / 2`) is past `1y` at [`NOW`].
fn encounter_past(id: i64) -> bool {
    let patient = (id + 1) / 2;
    patient % 9 <= 4
}

fn table<'a>(p: &'a SystemPurge, name: &str) -> &'a evident_privacy::retention::TablePurge {
    p.tables.iter().find(|t| t.table == name).unwrap()
}

const SUBJECTS: i64 = fixture::SUBJECTS as i64;

#[test]
fn rows_past_their_period_are_purged_and_no_other_row_changes() {
    each(|db| {
        let before = db.dump_all();
        let report = purge(db, &[], false);
        let past_encounters = (1..=2 * SUBJECTS).filter(|&id| encounter_past(id)).count() as u64;
        let enc = table(&report, "encounters");
        assert_eq!(enc.action, "anonymize");
        assert_eq!(enc.cutoff.as_deref(), Some("2024-06-15"));
        assert_eq!(
            (enc.past, enc.changed, enc.held),
            (past_encounters, past_encounters, 0)
        );
        assert!(enc.digest.as_deref().unwrap().starts_with("sha256:"));
        let inv = table(&report, "invoices");
        assert_eq!(inv.action, "delete");
        assert_eq!(
            (inv.past, inv.changed),
            (SUBJECTS as u64 / 2, SUBJECTS as u64 / 2)
        );
        let patients = table(&report, "patients");
        assert_eq!(patients.status, "not_purgeable");
        assert!(patients
            .reason
            .as_deref()
            .unwrap()
            .contains("retention_from"));
        assert_eq!(patients.changed, 0);

        let after = db.dump_all();
        for name in fixture::TABLES {
            if name != "encounters" && name != "invoices" {
                assert_eq!(before[name], after[name], "{name} changed");
            }
        }
        for (id, row) in &before["encounters"] {
            let now = &after["encounters"][id];
            if encounter_past(*id) {
                assert!(
                    !now.contains("diagnosis"),
                    "encounter {id} kept its diagnosis: {now}"
                );
            } else {
                assert_eq!(now, row, "encounter {id} within its period changed");
            }
        }
        for (id, row) in &before["invoices"] {
            match after["invoices"].get(id) {
                Some(now) => {
                    assert_eq!(id % 2, 1, "invoice {id} past its period survived");
                    assert_eq!(now, row, "invoice {id} changed");
                }
                None => assert_eq!(id % 2, 0, "invoice {id} within its period deleted"),
            }
        }
    });
}

#[test]
fn a_dry_run_writes_nothing_and_reports_what_a_run_does() {
    each(|db| {
        let before = db.dump_all();
        let plan = purge(db, &[], true);
        assert!(plan.dry_run);
        assert_eq!(db.dump_all(), before, "the dry run wrote");
        let run = purge(db, &[], false);
        for (p, r) in plan.tables.iter().zip(&run.tables) {
            assert_eq!(p.table, r.table);
            assert_eq!(
                (p.past, p.changed, p.held),
                (r.past, r.changed, r.held),
                "{}",
                p.table
            );
            assert_eq!(p.digest, r.digest, "{}", p.table);
        }
        assert_eq!(table(&plan, "encounters").status, "would_purge");
    });
}

#[test]
fn a_second_run_changes_nothing() {
    each(|db| {
        let first = purge(db, &[], false);
        assert!(first.changed > 0);
        let after_first = db.dump_all();
        let second = purge(db, &[], false);
        assert_eq!(second.changed, 0, "{second:?}");
        assert_eq!(table(&second, "invoices").past, 0);
        assert!(
            table(&second, "encounters").past > 0,
            "anonymized rows stay"
        );
        assert_eq!(db.dump_all(), after_first);
    });
}

#[test]
fn dataset_and_subject_holds_are_respected_and_reported() {
    each(|db| {
        let before = db.dump_all();
        // Patient 18 (encounters 35 and 36 of 2024-01, invoice 18 of 2019) is held; so is the
        // whole invoices table.
        let holds = [
            hold("hold-subject", &["18"], &[]),
            hold("hold-table", &[], &["clinic.invoices"]),
        ];
        let report = purge(db, &holds, false);
        let inv = table(&report, "invoices");
        assert_eq!(inv.status, "held");
        assert_eq!((inv.held, inv.changed), (SUBJECTS as u64 / 2, 0));
        assert_eq!(inv.holds, ["hold-table"]);
        let enc = table(&report, "encounters");
        assert_eq!(enc.held, 2);
        assert_eq!(enc.changed, enc.past - 2);
        assert_eq!(enc.holds, ["hold-subject"]);
        let after = db.dump_all();
        assert_eq!(before["invoices"], after["invoices"]);
        for id in [35, 36] {
            assert_eq!(before["encounters"][&id], after["encounters"][&id]);
        }
        assert_ne!(before["encounters"][&37], after["encounters"][&37]);
    });
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"[[systems]]
name = "gone"
connection = "sqlite:{}"
purpose = "p"
lawful_basis = "contract"
retention = "1y"

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "id"
retention_from = "created_at"
fields = [{{ name = "email", categories = ["user.contact.email"], erasure = "null" }}]
"#,
        dir.path().join("missing.db").display()
    );
    let map = evident_privacy::datamap::parse(Path::new("datamap.toml"), &text).unwrap();
    let held_by = HeldBy {
        holds: &[],
        subject_key: &no_holds,
    };
    let err = purge_system(map.system("gone").unwrap(), &held_by, &keys(), NOW, false)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("system `gone`:"), "{err}");
    assert!(
        !dir.path().join("missing.db").exists(),
        "the purge created a database"
    );
}

#[test]
fn a_failing_write_rolls_the_whole_system_back() {
    each(|db| {
        let before = db.dump_all();
        // Every patient was created on 2024-01-01: past `1y`. Their `mrn` is NOT NULL, so
        // anonymizing it to NULL fails — after the encounters (children first) were written.
        let map = map_with(
            db,
            "retention = \"1y\"\nretention_from = \"created_at\"\nfields = [{ name = \"mrn\", categories = [\"user.health_and_medical.record_id\"], erasure = \"null\" }]",
        );
        let held_by = HeldBy {
            holds: &[],
            subject_key: &no_holds,
        };
        let err = purge_system(map.system("clinic").unwrap(), &held_by, &keys(), NOW, false)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("system `clinic`:"), "{err}");
        assert_eq!(db.dump_all(), before, "a failed purge left changes");
    });
}

#[test]
fn an_unreachable_postgres_server_is_a_clear_error() {
    let text = r#"[[systems]]
name = "warehouse"
connection = "postgres://postgres@127.0.0.1:1/test"
purpose = "p"
lawful_basis = "contract"
retention = "1y"

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "id"
retention_from = "created_at"
fields = [{ name = "email", categories = ["user.contact.email"], erasure = "null" }]
"#;
    let map = evident_privacy::datamap::parse(Path::new("datamap.toml"), text).unwrap();
    let held_by = HeldBy {
        holds: &[],
        subject_key: &no_holds,
    };
    let err = purge_system(
        map.system("warehouse").unwrap(),
        &held_by,
        &keys(),
        NOW,
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("system `warehouse`: connecting:"), "{err}");
}
