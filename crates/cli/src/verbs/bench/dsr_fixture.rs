//! The fixture of `evident bench dsr`: the five related tables created in a fresh schema and
//! bulk-loaded with COPY, the data map over them, and the subjects a series picks.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use bytes::Bytes;
use evident::privacy::datamap::{self, Connection, DataMap};
use futures_util::SinkExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_postgres::Client;

/// Rows per patient: the patient, two encounters, a prescription per encounter, an invoice
/// and a contact.
pub(super) const ROWS_PER_SUBJECT: u64 = 7;

pub(super) fn bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len).with_style(style)
}

/// Creates the tables, COPYs the rows in, then adds keys, indexes and statistics.
pub(super) async fn load(client: &Client, schema: &str, patients: u64) -> Result<()> {
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             SET search_path TO {schema};
             CREATE TABLE patients (id bigint NOT NULL, subject_id text NOT NULL, mrn text,
                 first_name text, last_name text, email text, phone text, ssn text, dob date);
             CREATE TABLE encounters (id bigint NOT NULL, patient_id bigint NOT NULL, seen date,
                 diagnosis text);
             CREATE TABLE prescriptions (id bigint NOT NULL, encounter_id bigint NOT NULL,
                 drug text, dosage text, note text);
             CREATE TABLE invoices (id bigint NOT NULL, patient_id bigint NOT NULL, iban text,
                 amount integer);
             CREATE TABLE contacts (id bigint NOT NULL, patient_id bigint NOT NULL, name text,
                 phone text);"
        ))
        .await?;
    let pb = bar(patients * ROWS_PER_SUBJECT, "rows");
    type Line = fn(&mut String, u64);
    let tables: [(&str, u64, Line); 5] = [
        ("patients", 1, |s, i| {
            use std::fmt::Write as _;
            let _ = writeln!(
                s,
                "{i}\tS{i:09}\tMRN-{}\tFirst{i}\tLast{i}\tp{i}@example.org\t+1 415 555 {:04}\t{:03}-{:02}-{:04}\t19{}-{:02}-{:02}",
                100_000 + i,
                i % 10_000,
                100 + i % 800,
                10 + i % 80,
                1000 + i % 9000,
                40 + i % 50,
                1 + i % 12,
                1 + i % 28
            );
        }),
        ("encounters", 2, |s, id| {
            use std::fmt::Write as _;
            let _ = writeln!(
                s,
                "{id}\t{}\t2024-{:02}-{:02}\tdiagnosis of encounter {id}",
                id.div_ceil(2),
                1 + id % 12,
                1 + id % 28
            );
        }),
        ("prescriptions", 2, |s, id| {
            use std::fmt::Write as _;
            let _ = writeln!(
                s,
                "{id}\t{id}\tdrug{}\t{} mg\tnote on prescription {id}",
                id % 50,
                5 * (1 + id % 10)
            );
        }),
        ("invoices", 1, |s, i| {
            use std::fmt::Write as _;
            let _ = writeln!(
                s,
                "{i}\t{i}\tDE89370400440{}\t{}",
                100_000_000 + i,
                100 + i % 900
            );
        }),
        ("contacts", 1, |s, i| {
            use std::fmt::Write as _;
            let _ = writeln!(s, "{i}\t{i}\tNext of kin {i}\t+1 415 556 {:04}", i % 10_000);
        }),
    ];
    for (table, per, line) in tables {
        let sink = client
            .copy_in::<_, Bytes>(&format!("COPY {schema}.{table} FROM STDIN"))
            .await?;
        futures_util::pin_mut!(sink);
        let mut chunk = String::with_capacity(1 << 20);
        let mut pending = 0;
        for id in 1..=patients * per {
            line(&mut chunk, id);
            pending += 1;
            if chunk.len() >= (1 << 20) - 256 {
                sink.send(Bytes::from(std::mem::take(&mut chunk))).await?;
                chunk.reserve(1 << 20);
                pb.inc(pending);
                pending = 0;
            }
        }
        if !chunk.is_empty() {
            sink.send(Bytes::from(chunk)).await?;
        }
        pb.inc(pending);
        sink.finish().await?;
    }
    pb.finish_and_clear();
    let started = Instant::now();
    client
        .batch_execute(&format!(
            "SET search_path TO {schema};
             ALTER TABLE patients ADD PRIMARY KEY (id);
             CREATE UNIQUE INDEX patients_subject ON patients (subject_id);
             ALTER TABLE encounters ADD PRIMARY KEY (id);
             ALTER TABLE prescriptions ADD PRIMARY KEY (id);
             ALTER TABLE invoices ADD PRIMARY KEY (id);
             ALTER TABLE contacts ADD PRIMARY KEY (id);
             CREATE INDEX encounters_patient ON encounters (patient_id);
             CREATE INDEX prescriptions_encounter ON prescriptions (encounter_id);
             CREATE INDEX invoices_patient ON invoices (patient_id);
             CREATE INDEX contacts_patient ON contacts (patient_id);
             ALTER TABLE encounters ADD FOREIGN KEY (patient_id) REFERENCES patients (id);
             ALTER TABLE prescriptions ADD FOREIGN KEY (encounter_id) REFERENCES encounters (id);
             ALTER TABLE invoices ADD FOREIGN KEY (patient_id) REFERENCES patients (id);
             ALTER TABLE contacts ADD FOREIGN KEY (patient_id) REFERENCES patients (id);
             ANALYZE patients, encounters, prescriptions, invoices, contacts;"
        ))
        .await?;
    eprintln!(
        "  keys, indexes, foreign keys and statistics: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The data map of the benchmark's schema: every erasure strategy once or more.
pub(super) fn data_map(url: &str, schema: &str) -> Result<DataMap> {
    let text = format!(
        r#"format = 1

[[systems]]
name = "bench"
connection = "postgres"
url_env = "EVIDENT_TEST_PG_URL"
schema = "{schema}"
purpose = "treatment of the patient"
lawful_basis = "contract"
retention = "10y"

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "subject_id"
fields = [
  {{ name = "mrn", categories = ["user.health_and_medical.record_id"], erasure = "keyed_hash", key = "bench-erasure" }},
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
fields = [
  {{ name = "drug", categories = ["user.health_and_medical"], erasure = "keep", reason = "pharmacy law" }},
  {{ name = "note", categories = ["user.health_and_medical"], erasure = "null" }},
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
name = "contacts"
primary_key = "id"
join = "patient_id -> patients.id"
erasure = "delete_row"
fields = [
  {{ name = "name", categories = ["user.name"], erasure = "null" }},
  {{ name = "phone", categories = ["user.contact.phone_number"], erasure = "null" }},
]
"#
    );
    let mut map = datamap::parse(Path::new("bench-datamap.toml"), &text)
        .map_err(|e| anyhow::anyhow!("the benchmark's data map: {e}"))?;
    // The URL is given to the run, not written in a map (it may hold a password).
    for system in &mut map.systems {
        system.connection = Connection::Postgres {
            url_env: None,
            url: Some(url.to_owned()),
            schema: schema.to_owned(),
        };
    }
    Ok(map)
}

pub(super) fn subject_id(i: u64) -> String {
    format!("S{i:09}")
}

/// `count` distinct patient numbers in 1..=patients, reproducibly shuffled.
pub(super) fn pick(patients: u64, count: usize) -> Vec<u64> {
    let mut all: Vec<u64> = (1..=patients).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..count.min(all.len()) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = i + (state % (all.len() - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(count);
    all
}
