//! The data-subject-request connectors against real databases: SQLite, and PostgreSQL at
//! `EVIDENT_TEST_PG_URL` (each test in a schema of its own; skipped loudly without the
//! variable, a failure under `CI`), over the 20,000-patient fixture. Export contents, erasure
//! per strategy, rows of other subjects byte-identical, deletes in foreign-key order, the
//! dry run writing nothing, idempotence, schema drift and a failing write rolling the whole
//! system back, an unknown subject.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

#[path = "dsr_fixture.rs"]
mod fixture;

use evident_privacy::dsr::connector::{erase, export};
use evident_privacy::dsr::export::{to_csv, to_json, SystemExport};
use evident_privacy::dsr::keys::{is_keyed_hash, is_sealed};
use evident_privacy::dsr::LocalKeys;
use fixture::Fixture;

const SUBJECT: &str = "17";

fn keys() -> LocalKeys {
    LocalKeys::new([7; 32])
}

/// Runs `check` on SQLite, then on PostgreSQL when configured.
fn each(check: fn(&Fixture)) {
    check(&Fixture::sqlite());
    if let Some(url) = fixture::pg_url() {
        check(&Fixture::pg(&url));
    }
}

/// The ids of the subject's rows per table (patient 17: encounters 33 and 34, their
/// their prescriptions 33 and 34, invoice, message and attachment 17).
fn subject_rows(table: &str) -> Vec<i64> {
    match table {
        "encounters" => vec![33, 34],
        "prescriptions" => vec![33, 34],
        _ => vec![17],
    }
}

#[test]
fn export_holds_the_subjects_rows_of_every_table() {
    each(|db| {
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        let tables = export(system, SUBJECT).unwrap();
        let by_name = |n: &str| tables.iter().find(|t| t.table == n).unwrap();
        assert_eq!(tables[0].table, "patients", "identity table first");
        let patients = by_name("patients");
        assert_eq!(patients.rows.len(), 1);
        let email = patients.columns.iter().position(|c| c == "email").unwrap();
        assert_eq!(
            patients.rows[0][email].as_deref(),
            Some("patient17@example.org")
        );
        for table in fixture::TABLES {
            let ids: Vec<i64> = by_name(table)
                .rows
                .iter()
                .map(|r| r[0].as_deref().unwrap().parse().unwrap())
                .collect();
            assert_eq!(ids, subject_rows(table), "{table}");
        }
        let export = [SystemExport {
            system: "clinic".into(),
            tables,
        }];
        let json = to_json(&export).to_string();
        assert!(
            json.contains("\"email\":\"patient17@example.org\""),
            "{json}"
        );
        assert!(!json.contains("patient18@"), "another subject leaked");
        let csv = to_csv(&export);
        assert!(csv.starts_with("system,table,row,column,value\n"));
        assert!(csv.contains("clinic,patients,1,email,patient17@example.org\n"));
        assert!(
            csv.contains("clinic,prescriptions,2,dosage,25 mg\n"),
            "{csv}"
        );
    });
}

#[test]
fn erasure_applies_each_strategy_and_touches_no_other_subject() {
    each(|db| {
        let before = db.dump_all();
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        let report = erase(system, SUBJECT, &keys(), false).unwrap();
        let verification = report.verification.clone().unwrap();
        assert!(verification.clean, "{verification:?}");
        // Children first: a row is deleted before the row it refers to.
        let order: Vec<&str> = report.tables.iter().map(|t| t.table.as_str()).collect();
        let at = |n: &str| order.iter().position(|t| *t == n).unwrap();
        assert!(at("attachments") < at("messages") && at("messages") < at("patients"));
        let table = |n: &str| report.tables.iter().find(|t| t.table == n).unwrap();
        assert_eq!((table("invoices").found, table("invoices").changed), (1, 1));
        assert_eq!(table("attachments").changed, 1);
        assert_eq!(table("encounters").changed, 2);
        assert_eq!(table("prescriptions").changed, 0, "keep fields stay");
        assert_eq!(table("patients").changed, 1);

        let after = db.dump_all();
        for name in fixture::TABLES {
            let mine = subject_rows(name);
            let (b, a) = (&before[name], &after[name]);
            for (id, row) in b {
                if !mine.contains(id) {
                    assert_eq!(
                        a.get(id),
                        Some(row),
                        "{name} row {id} of another subject changed"
                    );
                }
            }
            assert_eq!(
                a.keys().filter(|id| !mine.contains(id)).count(),
                b.len() - mine.len()
            );
        }
        for deleted in ["invoices", "messages", "attachments"] {
            assert!(!after[deleted].contains_key(&17), "{deleted}");
        }
        assert_eq!(after["prescriptions"][&33], before["prescriptions"][&33]);
        let patient = export(system, SUBJECT).unwrap();
        let p = &patient[0];
        let get = |c: &str| p.rows[0][p.columns.iter().position(|x| x == c).unwrap()].clone();
        assert!(
            is_keyed_hash(get("mrn").as_deref().unwrap()),
            "{:?}",
            get("mrn")
        );
        assert_eq!(get("first_name").as_deref(), Some("erased"));
        assert_eq!(get("email"), None);
        assert_eq!(get("phone"), None);
        assert!(is_sealed(get("ssn").as_deref().unwrap()));
        let dob = get("dob").unwrap();
        assert_eq!(dob.len(), 10, "a date: {dob}");
        let encounters = &patient
            .iter()
            .find(|t| t.table == "encounters")
            .unwrap()
            .rows;
        assert!(
            encounters.iter().all(|r| r[1].is_none()),
            "diagnoses nulled"
        );

        // A second run finds the subject, changes nothing and says so.
        let again = erase(system, SUBJECT, &keys(), false).unwrap();
        assert_eq!(again.changed, 0, "{again:?}");
        assert!(again.already_erased && !report.already_erased);
        assert!(again.verification.unwrap().clean);
        assert_eq!(db.dump_all(), after, "the second run wrote");
    });
}

#[test]
fn a_dry_run_reports_and_writes_nothing() {
    each(|db| {
        let before = db.dump_all();
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        let report = erase(system, SUBJECT, &keys(), true).unwrap();
        assert!(report.dry_run && report.verification.is_none());
        let patients = report
            .tables
            .iter()
            .find(|t| t.table == "patients")
            .unwrap();
        assert_eq!((patients.found, patients.changed), (1, 1));
        let strategies: Vec<(&str, &str, u64)> = patients
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.strategy, f.rows))
            .collect();
        assert!(strategies.contains(&("ssn", "encrypt_then_shred", 1)));
        assert!(strategies.contains(&("dob", "random", 1)));
        assert_eq!(report.changed, 1 + 2 + 1 + 1 + 1);
        assert_eq!(db.dump_all(), before, "the dry run wrote");
    });
}

#[test]
fn schema_drift_fails_the_system_and_leaves_it_untouched() {
    each(|db| {
        db.exec("ALTER TABLE patients DROP COLUMN phone");
        let before = db.dump_all();
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        let e = erase(system, SUBJECT, &keys(), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("system `clinic`") && e.contains("`patients.phone`"),
            "{e}"
        );
        assert!(e.contains("schema drift"), "{e}");
        assert_eq!(db.dump_all(), before);
    });
}

#[test]
fn a_failing_write_rolls_the_whole_system_back() {
    each(|db| {
        // A table the map does not know refers to the subject's invoice: deleting it fails
        // after earlier tables were already written in the transaction.
        db.exec(
            "CREATE TABLE payments (id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL REFERENCES invoices(id));
             INSERT INTO payments VALUES (1, 17);",
        );
        let before = db.dump_all();
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        let e = erase(system, SUBJECT, &keys(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("system `clinic`"), "{e}");
        assert!(e.to_lowercase().contains("foreign key"), "{e}");
        assert_eq!(db.dump_all(), before, "a failed system was changed");
    });
}

#[test]
fn an_unknown_subject_is_a_clear_error_that_does_not_echo_the_id() {
    each(|db| {
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        for e in [
            erase(system, "999999", &keys(), false)
                .unwrap_err()
                .to_string(),
            export(system, "999999").unwrap_err().to_string(),
        ] {
            assert!(
                e.contains("unknown subject") && e.contains("`patients`"),
                "{e}"
            );
            assert!(!e.contains("999999"), "{e}");
        }
    });
}

#[test]
fn an_unreachable_system_is_a_clear_error_naming_it() {
    let text = fixture::map("connection = \"postgres://postgres@127.0.0.1:1/none\"");
    let map = evident_privacy::datamap::parse(std::path::Path::new("m.toml"), &text).unwrap();
    let system = map.system("clinic").unwrap();
    let e = erase(system, SUBJECT, &keys(), false)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("system `clinic`: connecting"), "{e}");
}

#[test]
fn a_subject_id_the_identity_column_cannot_hold_is_refused_without_echoing_it() {
    let Some(url) = fixture::pg_url() else { return };
    let db = Fixture::pg(&url);
    let before = db.dump_all();
    let map = db.datamap();
    let system = map.system("clinic").unwrap();
    let e = erase(system, "x'); DROP TABLE patients; --", &keys(), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not valid for its column's type"), "{e}");
    assert!(!e.contains("DROP"), "{e}");
    assert_eq!(db.dump_all(), before);
}

#[test]
fn a_session_erases_subject_after_subject_as_single_runs_do() {
    each(|db| {
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        let mut session = evident_privacy::dsr::Session::open(system).unwrap();
        let before = session.export(SUBJECT).unwrap();
        assert_eq!(before[0].rows.len(), 1);
        let report = session.erase(SUBJECT, &keys(), false).unwrap();
        assert!(report.verification.clone().unwrap().clean, "{report:?}");
        assert_eq!(report.changed, 1 + 2 + 1 + 1 + 1);
        // The next subject over the same connection, and the first one again: nothing left.
        let next = session.erase("18", &keys(), false).unwrap();
        assert_eq!(next.changed, report.changed);
        let again = session.erase(SUBJECT, &keys(), false).unwrap();
        assert!(again.already_erased && again.verification.unwrap().clean);
        let after = export(system, SUBJECT).unwrap();
        let p = &after[0];
        let email = p.columns.iter().position(|c| c == "email").unwrap();
        assert_eq!(p.rows[0][email], None);
        // A failure in one subject's transaction leaves the session usable.
        assert!(session.erase("no-such-subject", &keys(), false).is_err());
        assert_eq!(session.export("19").unwrap()[0].rows.len(), 1);
    });
}

#[test]
fn a_batch_erases_its_subjects_together_or_not_at_all() {
    each(|db| {
        let map = db.datamap();
        let system = map.system("clinic").unwrap();
        let mut session = evident_privacy::dsr::Session::open(system).unwrap();
        let before = db.dump_all();
        // An unknown subject in the batch: nobody is erased.
        let e = session
            .erase_batch(&["21", "999999", "22"], &keys())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown subject") && !e.contains("999999"),
            "{e}"
        );
        assert_eq!(db.dump_all(), before, "a failed batch wrote");
        let reports = session.erase_batch(&["21", "22", "23"], &keys()).unwrap();
        assert_eq!(reports.len(), 3);
        for r in &reports {
            assert_eq!(r.changed, 1 + 2 + 1 + 1 + 1, "{r:?}");
            assert!(r.verification.clone().unwrap().clean, "{r:?}");
        }
        let after = db.dump_all();
        for deleted in ["invoices", "messages", "attachments"] {
            for id in [21, 22, 23] {
                assert!(!after[deleted].contains_key(&id), "{deleted} {id}");
            }
            assert!(
                after[deleted].contains_key(&24),
                "{deleted}: another subject's row went"
            );
        }
    });
}
