//! The data-subject-request fixture: a clinic's database of 20,000 patients with encounters,
//! prescriptions, invoices, messages and their attachments, all tied by foreign keys, loaded
//! in a few set-based statements into SQLite (a temporary file) or PostgreSQL (a schema of
//! its own, `dsr_<pid>_<nanos>`, dropped afterwards), with its data map. Rows are read back
//! as text so tests can compare them byte for byte.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Patients (data subjects) in the fixture.
pub const SUBJECTS: u32 = 20_000;

/// The tables, parents first.
pub const TABLES: [&str; 6] = [
    "patients",
    "encounters",
    "prescriptions",
    "invoices",
    "messages",
    "attachments",
];

/// The schema and rows. `pg` picks the dialect of dates and of the number series.
pub fn sql(pg: bool) -> String {
    let series = format!(
        "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {SUBJECTS}) SELECT n FROM g) AS s"
    );
    let date = |expr: &str| {
        if pg {
            format!("CAST({expr} AS date)")
        } else {
            expr.to_string()
        }
    };
    let dob = date("'19' || (40 + n % 50) || '-0' || (1 + n % 9) || '-1' || (n % 9)");
    let seen = date("'2024-0' || (1 + n % 9) || '-2' || (n % 9)");
    format!(
        "CREATE TABLE patients (
            id INTEGER PRIMARY KEY,
            mrn TEXT NOT NULL,
            first_name TEXT,
            last_name TEXT,
            email TEXT,
            phone TEXT,
            ssn TEXT,
            dob DATE,
            created_at TEXT
        );
        CREATE TABLE encounters (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            encounter_date DATE,
            diagnosis TEXT,
            room INTEGER
        );
        CREATE INDEX encounters_patient ON encounters(patient_id);
        CREATE TABLE prescriptions (
            id INTEGER PRIMARY KEY,
            encounter_id INTEGER NOT NULL REFERENCES encounters(id),
            drug TEXT,
            dosage TEXT,
            refills INTEGER
        );
        CREATE INDEX prescriptions_encounter ON prescriptions(encounter_id);
        CREATE TABLE invoices (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            iban TEXT,
            amount INTEGER
        );
        CREATE INDEX invoices_patient ON invoices(patient_id);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            body TEXT
        );
        CREATE INDEX messages_patient ON messages(patient_id);
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            file_name TEXT
        );
        CREATE INDEX attachments_message ON attachments(message_id);
        INSERT INTO patients SELECT n, 'MRN-' || (100000 + n), 'First' || n, 'Last' || n,
            'patient' || n || '@example.org', '(415) 555-' || (1000 + n % 9000),
            (100 + n % 800) || '-' || (10 + n % 80) || '-' || (1000 + n % 9000), {dob}, '2024-01-01'
            FROM {series};
        INSERT INTO encounters SELECT 2 * n - 1, n, {seen}, 'diagnosis A of ' || n, 100 + n % 20 FROM {series};
        INSERT INTO encounters SELECT 2 * n, n, {seen}, 'diagnosis B of ' || n, 100 + n % 20 FROM {series};
        INSERT INTO prescriptions SELECT n, n, 'drug' || (n % 50), (5 * (1 + n % 10)) || ' mg', n % 4 FROM {series};
        INSERT INTO prescriptions SELECT {SUBJECTS} + n, {SUBJECTS} + n, 'drug' || (n % 50), '10 mg', 0 FROM {series};
        INSERT INTO invoices SELECT n, n, 'DE89370400440' || (100000000 + n), 100 + n % 900 FROM {series};
        INSERT INTO messages SELECT n, n, 'message from patient ' || n FROM {series};
        INSERT INTO attachments SELECT n, n, 'scan-' || n || '.pdf' FROM {series};
        "
    )
}

/// The data map of the fixture, with `connection` lines for the system.
pub fn map(connection: &str) -> String {
    format!(
        r#"format = 1

[[systems]]
name = "clinic"
{connection}
purpose = "treatment of the patient"
lawful_basis = "contract"
retention = "10y"

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "id"
fields = [
  {{ name = "mrn", categories = ["user.health_and_medical.record_id"], erasure = "keyed_hash", key = "clinic-erasure" }},
  {{ name = "first_name", categories = ["user.name.first"], erasure = "fixed", value = "erased" }},
  {{ name = "last_name", categories = ["user.name.last"], erasure = "fixed", value = "erased" }},
  {{ name = "email", categories = ["user.contact.email"], erasure = "null" }},
  {{ name = "phone", categories = ["user.contact.phone_number"], erasure = "null" }},
  {{ name = "ssn", categories = ["user.government_id.national_identification_number"], erasure = "encrypt_then_shred" }},
  {{ name = "dob", categories = ["user.demographic.date_of_birth"], erasure = "random" }},
]

[[systems.tables]]
name = "encounters"
primary_key = "id"
join = "patient_id -> patients.id"
fields = [
  {{ name = "diagnosis", categories = ["user.health_and_medical"], erasure = "null" }},
]

[[systems.tables]]
name = "prescriptions"
primary_key = "id"
join = "encounter_id -> encounters.id"
lawful_basis = "legal_obligation"
fields = [
  {{ name = "drug", categories = ["user.health_and_medical"], erasure = "keep", reason = "pharmacy law" }},
  {{ name = "dosage", categories = ["user.health_and_medical"], erasure = "keep", reason = "pharmacy law" }},
]

[[systems.tables]]
name = "invoices"
primary_key = "id"
join = "patient_id -> patients.id"
erasure = "delete_row"
fields = [
  {{ name = "iban", categories = ["user.financial.bank_account"], erasure = "null" }},
]

[[systems.tables]]
name = "messages"
primary_key = "id"
join = "patient_id -> patients.id"
erasure = "delete_row"
fields = [
  {{ name = "body", categories = ["user.content"], erasure = "null" }},
]

[[systems.tables]]
name = "attachments"
primary_key = "id"
join = "message_id -> messages.id"
erasure = "delete_row"
fields = [
  {{ name = "file_name", categories = ["user.content"], erasure = "null" }},
]
"#
    )
}

/// `EVIDENT_TEST_PG_URL`, or `None` (skipped loudly); under `CI` an unset URL fails.
pub fn pg_url() -> Option<String> {
    match std::env::var("EVIDENT_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("EVIDENT_TEST_PG_URL is not set, and CI is: the PostgreSQL DSR tests must run")
        }
        _ => {
            eprintln!("SKIPPED: set EVIDENT_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run the PostgreSQL DSR tests");
            None
        }
    }
}

/// A loaded fixture database.
pub enum Fixture {
    /// a SQLite file (in a temporary directory kept alive here)
    Sqlite(PathBuf, tempfile::TempDir),
    /// a PostgreSQL schema, dropped on drop
    Pg(Box<PgSchema>),
}

impl Fixture {
    /// The fixture in a fresh SQLite file.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("clinic.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(&format!("BEGIN; {} COMMIT;", sql(false)))
            .unwrap();
        Fixture::Sqlite(db, dir)
    }

    /// The fixture in a fresh PostgreSQL schema; panics (loudly) when the server is unreachable.
    pub fn pg(url: &str) -> Self {
        Fixture::Pg(Box::new(PgSchema::create(url)))
    }

    /// The map's `connection` lines for this database.
    pub fn connection(&self) -> String {
        match self {
            Fixture::Sqlite(path, _) => format!("connection = \"sqlite:{}\"", path.display()),
            Fixture::Pg(s) => format!(
                "connection = \"postgres\"\nurl_env = \"EVIDENT_TEST_PG_URL\"\nschema = \"{}\"",
                s.name
            ),
        }
    }

    /// The validated data map over this database.
    pub fn datamap(&self) -> evident_privacy::datamap::DataMap {
        evident_privacy::datamap::parse(Path::new("datamap.toml"), &map(&self.connection()))
            .unwrap()
    }

    /// Runs SQL statements.
    pub fn exec(&self, sql: &str) {
        match self {
            Fixture::Sqlite(path, _) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Fixture::Pg(s) => s
                .runtime
                .block_on(
                    s.client
                        .batch_execute(&format!("SET search_path TO {}; {sql}", s.name)),
                )
                .unwrap(),
        }
    }

    /// Every row of `table` as text, by id.
    pub fn dump(&self, table: &str) -> BTreeMap<i64, String> {
        match self {
            Fixture::Sqlite(path, _) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
                let width = stmt.column_count();
                let mut rows = stmt.query([]).unwrap();
                let mut out = BTreeMap::new();
                while let Some(row) = rows.next().unwrap() {
                    let id: i64 = row.get(0).unwrap();
                    let text = (0..width)
                        .map(|i| match row.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Text(t) => {
                                format!("{:?}", String::from_utf8_lossy(t))
                            }
                            other => format!("{other:?}"),
                        })
                        .collect::<Vec<_>>()
                        .join("|");
                    out.insert(id, text);
                }
                out
            }
            Fixture::Pg(s) => {
                let sql = format!(
                    "SELECT CAST(id AS bigint), t::text FROM {}.{table} AS t",
                    s.name
                );
                let rows = s.runtime.block_on(s.client.query(&sql, &[])).unwrap();
                rows.iter().map(|r| (r.get(0), r.get(1))).collect()
            }
        }
    }

    /// Every table's dump.
    pub fn dump_all(&self) -> BTreeMap<&'static str, BTreeMap<i64, String>> {
        TABLES.iter().map(|t| (*t, self.dump(t))).collect()
    }
}

/// A schema of its own, dropped when dropped.
pub struct PgSchema {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    /// its name
    pub name: String,
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
                .unwrap_or_else(|e| {
                    panic!("EVIDENT_TEST_PG_URL is set but PostgreSQL is unreachable: {e}")
                });
            tokio::spawn(conn);
            client
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("dsr_{}_{nanos}", std::process::id());
        let sql = format!(
            "CREATE SCHEMA {name}; SET search_path TO {name}; {}",
            sql(true)
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
