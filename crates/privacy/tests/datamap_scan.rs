//! The data-map scan over the EHR fixture, in SQLite and in PostgreSQL: the categories it
//! proposes for each personal column, the identity table and joins it proposes from the
//! foreign keys, the drift it reports, and the merge of its proposals into the map text.
//!
//! PostgreSQL tests read `EVIDENT_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`);
//! without it they are skipped loudly, or fail when `CI` is set. Each uses a schema of its
//! own and drops it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

#[path = "datamap_fixture.rs"]
mod fixture;

use std::collections::BTreeMap;
use std::path::Path;

use evident_detect::Detector;
use evident_privacy::datamap::introspect::{self, Source};
use evident_privacy::datamap::{parse, scan, write};

fn sqlite_fixture(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("ehr.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&fixture::ehr_sql()).unwrap();
    db
}

fn categories(report: &scan::ScanReport) -> BTreeMap<String, &'static str> {
    report
        .proposals
        .iter()
        .map(|p| (format!("{}.{}", p.table, p.column), p.category))
        .collect()
}

/// The categories every engine's scan must propose for the fixture (what the map lacks).
fn assert_fixture_proposals(report: &scan::ScanReport, map_has_patients: bool) {
    let found = categories(report);
    let expected = [
        ("patients.phone", "user.contact.phone_number"),
        (
            "patients.ssn",
            "user.government_id.national_identification_number",
        ),
        ("patients.dob", "user.demographic.date_of_birth"),
        ("patients.first_name", "user.name.first"),
        ("patients.last_name", "user.name.last"),
        ("encounters.diagnosis", "user.health_and_medical"),
        ("prescriptions.drug", "user.health_and_medical"),
        ("prescriptions.dosage", "user.health_and_medical"),
        ("invoices.iban", "user.financial.bank_account"),
    ];
    for (column, category) in expected {
        assert_eq!(
            found.get(column).copied(),
            Some(category),
            "{column}: {found:#?}"
        );
    }
    if !map_has_patients {
        assert_eq!(
            found.get("patients.email").copied(),
            Some("user.contact.email")
        );
    }
    // Columns that are not personal are not proposed.
    for column in [
        "encounters.room",
        "prescriptions.refills",
        "invoices.status",
        "patients.id",
    ] {
        assert!(!found.contains_key(column), "{column}: {found:#?}");
    }
    // The detector's evidence is counts, never values.
    let ssn = report.proposals.iter().find(|p| p.column == "ssn").unwrap();
    assert!(
        ssn.evidence
            .iter()
            .any(|e| e == &format!("detector: ssn {n}/{n}", n = fixture::PATIENTS)),
        "{:?}",
        ssn.evidence
    );
    let dob = report.proposals.iter().find(|p| p.column == "dob").unwrap();
    assert!(
        dob.evidence.iter().any(|e| e == "name: dob"),
        "{:?}",
        dob.evidence
    );
    let json = serde_json::to_string(report).unwrap();
    assert!(
        !json.contains("example.org") && !json.contains("Lovelace") && !json.contains("DE89"),
        "values leaked"
    );
}

fn assert_fixture_joins(report: &scan::ScanReport) {
    let identity = report.identity.as_ref().unwrap();
    assert_eq!(
        (identity.table.as_str(), identity.column.as_str()),
        ("patients", "id")
    );
    let joins: BTreeMap<&str, &str> = report
        .joins
        .iter()
        .map(|j| (j.table.as_str(), j.join.as_str()))
        .collect();
    assert_eq!(
        joins,
        BTreeMap::from([
            ("encounters", "patient_id -> patients.id"),
            ("invoices", "patient_id -> patients.id"),
            ("prescriptions", "encounter_id -> encounters.id"),
        ])
    );
    let rx = report
        .joins
        .iter()
        .find(|j| j.table == "prescriptions")
        .unwrap();
    assert_eq!(rx.path, ["prescriptions", "encounters", "patients"]);
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
}

#[test]
fn sqlite_schema_is_read_with_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_fixture(dir.path());
    let mut source = introspect::Sqlite::open("ehr", &db).unwrap();
    let schema = source.schema().unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["encounters", "invoices", "patients", "prescriptions"]
    );
    let rx = schema.table("prescriptions").unwrap();
    assert_eq!(rx.primary_key, ["id"]);
    assert_eq!(rx.foreign_keys[0].parent, "encounters");
    assert_eq!(rx.foreign_keys[0].columns, ["encounter_id"]);
    assert_eq!(rx.foreign_keys[0].parent_columns, ["id"]);
    assert_eq!(
        schema
            .table("patients")
            .unwrap()
            .column("dob")
            .unwrap()
            .data_type,
        "date"
    );
    assert_eq!(source.sample("patients", "email", 5).unwrap().len(), 5);
}

#[test]
fn sqlite_scan_proposes_categories_joins_and_drift_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_fixture(dir.path());
    let file = dir.path().join("datamap.toml");
    let text = fixture::partial_map(&format!("connection = \"sqlite:{}\"", db.display()));
    let map = parse(&file, &text).unwrap();
    let system = map.system("ehr").unwrap();
    let mut source = introspect::open(system).unwrap();
    let detector = Detector::builtin().unwrap();
    let report = scan::scan(system, source.as_mut(), &detector, scan::DEFAULT_SAMPLE).unwrap();
    assert_fixture_proposals(&report, true);
    assert!(report.identity.as_ref().unwrap().mapped);
    assert_fixture_joins(&report);
    // Drift: the mapped `fax` is gone, `email` is `text`, not `varchar`.
    let drift: Vec<(Option<&str>, &str)> = report
        .drift
        .iter()
        .map(|d| (d.column.as_deref(), d.message.as_str()))
        .collect();
    assert_eq!(drift.len(), 2, "{drift:#?}");
    assert!(drift
        .iter()
        .any(|(c, m)| *c == Some("fax") && m.contains("the table has none")));
    assert!(drift
        .iter()
        .any(|(c, m)| *c == Some("email") && m.contains("`varchar`, the database `text`")));

    // The proposals merged into the map text make a valid map that covers them all.
    let (merged, merged_map) = write::merge(&file, &text, system, &report).unwrap();
    assert!(
        merged.starts_with(&text[..text.find("fields = [").unwrap()]),
        "the user's lines are kept"
    );
    let ehr = merged_map.system("ehr").unwrap();
    assert_eq!(
        ehr.table("prescriptions").unwrap().path,
        ["prescriptions", "encounters", "patients"]
    );
    assert_eq!(
        ehr.table("encounters").unwrap().purpose,
        "treatment and billing"
    );
    assert!(ehr.table("patients").unwrap().field("ssn").is_some());
    let mut again = introspect::open(ehr).unwrap();
    let second = scan::scan(ehr, again.as_mut(), &detector, 50).unwrap();
    assert!(second.proposals.is_empty(), "{:#?}", second.proposals);
    assert!(second.joins.is_empty());
}

#[test]
fn a_map_with_no_tables_gets_an_identity_table_proposed() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_fixture(dir.path());
    let file = dir.path().join("datamap.toml");
    let text = format!(
        "[[systems]]\nname = \"ehr\"\nconnection = \"sqlite:{}\"\npurpose = \"care\"\nlawful_basis = \"contract\"\nretention = \"6y\"\n",
        db.display()
    );
    let map = parse(&file, &text).unwrap();
    let system = map.system("ehr").unwrap();
    let mut source = introspect::open(system).unwrap();
    let report = scan::scan(system, source.as_mut(), &Detector::builtin().unwrap(), 100).unwrap();
    assert_fixture_proposals(&report, false);
    assert!(!report.identity.as_ref().unwrap().mapped);
    assert_fixture_joins(&report);
    let fragment = write::fragment(system, &report);
    assert!(fragment.contains("identity = \"id\""), "{fragment}");
    let (_, merged) = write::merge(&file, &text, system, &report).unwrap();
    assert_eq!(merged.systems[0].tables.len(), 4);
}

/// The PostgreSQL URL, or `None` (after saying so) when the tests should skip.
fn pg_url() -> Option<String> {
    match std::env::var("EVIDENT_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("EVIDENT_TEST_PG_URL is not set, and CI is: the PostgreSQL scan test must run")
        }
        _ => {
            eprintln!("SKIPPED: set EVIDENT_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run the PostgreSQL data-map test");
            None
        }
    }
}

/// A schema of its own, dropped when dropped.
struct PgSchema {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    name: String,
}

impl PgSchema {
    fn create(url: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = runtime.block_on(async {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("evident_datamap_{}_{nanos}", std::process::id());
        let sql = format!(
            "CREATE SCHEMA {name}; SET search_path TO {name}; {}",
            fixture::ehr_sql()
        );
        runtime.block_on(client.batch_execute(&sql)).unwrap();
        Self {
            runtime,
            client,
            name,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if let Err(e) = self.runtime.block_on(self.client.batch_execute(&sql)) {
            eprintln!("could not drop schema {}: {e}", self.name);
        }
    }
}

#[test]
fn postgres_scan_proposes_categories_joins_and_drift() {
    let Some(url) = pg_url() else { return };
    let schema = PgSchema::create(&url);
    let file = Path::new("datamap.toml");
    let text = fixture::partial_map(&format!(
        "connection = \"postgres\"\nurl_env = \"EVIDENT_TEST_PG_URL\"\nschema = \"{}\"",
        schema.name
    ));
    let map = parse(file, &text).unwrap();
    let system = map.system("ehr").unwrap();
    let mut source = introspect::open(system).unwrap();
    let db = source.schema().unwrap();
    let rx = db.table("prescriptions").unwrap();
    assert_eq!(rx.primary_key, ["id"]);
    assert_eq!(rx.foreign_keys[0].parent, "encounters");
    assert_eq!(rx.foreign_keys[0].parent_columns, ["id"]);
    assert_eq!(
        db.table("patients")
            .unwrap()
            .column("dob")
            .unwrap()
            .data_type,
        "date"
    );
    let report = scan::scan(
        system,
        source.as_mut(),
        &Detector::builtin().unwrap(),
        scan::DEFAULT_SAMPLE,
    )
    .unwrap();
    assert_fixture_proposals(&report, true);
    assert_fixture_joins(&report);
    assert!(report
        .drift
        .iter()
        .any(|d| d.column.as_deref() == Some("fax")));
    assert!(report
        .drift
        .iter()
        .any(|d| d.column.as_deref() == Some("email") && d.message.contains("`text`")));
    let (_, merged) = write::merge(file, &text, system, &report).unwrap();
    assert_eq!(merged.systems[0].tables.len(), 4);
}

#[test]
fn a_missing_url_variable_is_a_clear_error() {
    let text = fixture::partial_map(
        "connection = \"postgres\"\nurl_env = \"EVIDENT_TEST_SURELY_UNSET_URL\"",
    );
    let map = parse(Path::new("m.toml"), &text).unwrap();
    let err = introspect::open(&map.systems[0]).err().unwrap().to_string();
    assert!(
        err.contains("`EVIDENT_TEST_SURELY_UNSET_URL`") && err.contains("not set"),
        "{err}"
    );
}

#[test]
fn the_example_map_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/datamap_ehr.toml");
    let map = evident_privacy::datamap::load(&path).unwrap();
    let ehr = map.system("ehr").unwrap();
    assert_eq!(ehr.tables.len(), 4);
    assert_eq!(
        ehr.table("prescriptions").unwrap().path,
        ["prescriptions", "encounters", "patients"]
    );
}
