//! The EHR-like fixture the data-map tests scan: patients, encounters, prescriptions and
//! invoices with foreign keys, filled with synthetic values (reserved example domains,
//! 555 phone numbers, made-up SSNs), as one SQL script that SQLite and PostgreSQL both run.
//! Shared by the privacy crate's scan tests and the CLI's (`#[path]`).

#![allow(dead_code)]

/// Rows of `patients`.
pub const PATIENTS: usize = 40;

/// The script: four tables, then their rows.
pub fn ehr_sql() -> String {
    let mut sql = String::from(
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
        CREATE TABLE prescriptions (
            id INTEGER PRIMARY KEY,
            encounter_id INTEGER NOT NULL REFERENCES encounters(id),
            drug TEXT,
            dosage TEXT,
            refills INTEGER
        );
        CREATE TABLE invoices (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            iban TEXT,
            issued_on DATE,
            status TEXT
        );
        ",
    );
    const FIRST: [&str; 8] = [
        "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John",
    ];
    const LAST: [&str; 8] = [
        "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus",
    ];
    const DIAGNOSES: [&str; 5] = [
        "E11.9 type 2 diabetes",
        "I10 hypertension",
        "J45.909 asthma",
        "M54.5 low back pain",
        "F41.1 anxiety",
    ];
    const DRUGS: [&str; 5] = [
        "metformin",
        "lisinopril",
        "albuterol",
        "ibuprofen",
        "sertraline",
    ];
    const IBANS: [&str; 4] = [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
    ];
    for i in 1..=PATIENTS {
        sql.push_str(&format!(
            "INSERT INTO patients VALUES ({i}, 'MRN-{mrn}', '{first}', '{last}', 'patient{i}@example.org', \
             '(415) 555-{phone:04}', '{a:03}-{g:02}-{s:04}', '19{y:02}-{m:02}-{d:02}', '2024-01-{d:02}');\n",
            mrn = 100_000 + i * 7,
            first = FIRST[i % FIRST.len()],
            last = LAST[(i * 3) % LAST.len()],
            phone = 1000 + i * 13,
            a = 120 + i,
            g = 10 + i % 80,
            s = 1000 + i * 37,
            y = 40 + i % 55,
            m = 1 + i % 12,
            d = 1 + i % 28,
        ));
    }
    for i in 1..=PATIENTS * 2 {
        sql.push_str(&format!(
            "INSERT INTO encounters VALUES ({i}, {p}, '2024-0{m}-{d:02}', '{diag}', {room});\n",
            p = 1 + i % PATIENTS,
            m = 1 + i % 9,
            d = 1 + i % 28,
            diag = DIAGNOSES[i % DIAGNOSES.len()],
            room = 100 + i % 20,
        ));
    }
    for i in 1..=PATIENTS * 3 {
        sql.push_str(&format!(
            "INSERT INTO prescriptions VALUES ({i}, {e}, '{drug}', '{mg} mg twice daily', {r});\n",
            e = 1 + i % (PATIENTS * 2),
            drug = DRUGS[i % DRUGS.len()],
            mg = 5 * (1 + i % 10),
            r = i % 4,
        ));
    }
    for i in 1..=PATIENTS {
        sql.push_str(&format!(
            "INSERT INTO invoices VALUES ({i}, {i}, '{iban}', '2024-02-{d:02}', 'open');\n",
            iban = IBANS[i % IBANS.len()],
            d = 1 + i % 28,
        ));
    }
    sql
}

/// A map of the fixture's system with nothing but the identity table's email mapped, a
/// column the database does not have (`fax`) and a recorded type that differs
/// (`email` as `varchar`): the scan proposes the rest and reports the drift.
pub fn partial_map(connection: &str) -> String {
    format!(
        r#"format = 1

[[systems]]
name = "ehr"
{connection}
purpose = "treatment and billing"
lawful_basis = "contract"
retention = "10y"

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "id"
fields = [
  {{ name = "email", categories = ["user.contact.email"], erasure = "null", type = "varchar" }},
  {{ name = "fax", categories = ["user.contact.fax_number"], erasure = "null" }},
]
"#
    )
}
