//! `evident bench dsr`: data-subject requests (issue 21) against PostgreSQL. A fresh schema
//! holds five related tables (patients → encounters → prescriptions, patients → invoices,
//! patients → contacts; foreign keys, indexes on the identity and join columns), bulk-loaded
//! with COPY, and a data map over it. Evident's access (find + export) and erasure (every
//! field's strategy in one transaction, then the verification read) are timed per subject,
//! and a bulk erasure in subjects/s, each next to the limit measured in the same run: the same
//! statements issued bare, through `psql` (a process per subject reading a script) and through
//! one prepared tokio-postgres connection. The schema is dropped at the end unless `--keep`.
//! See docs/performance.md.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use evident::privacy::datamap::{RowErasure, System};
use evident::privacy::dsr::connector::{erase, export};
use evident::privacy::dsr::export::{to_json, SystemExport};
use evident::privacy::dsr::{db, plan, strategy, LocalKeys, Session};
use tokio_postgres::{Client, NoTls, Statement};

use super::dsr_fixture::{bar, data_map, load, pick, subject_id, ROWS_PER_SUBJECT};
use super::measure::{fmt_d, percentile, ThreadTime};

/// Issue 21's targets: p99 per subject with indexed identity columns, and bulk erasure.
const P99_TARGET: Duration = Duration::from_millis(250);
const BULK_TARGET: f64 = 1_000.0;

/// Subjects per transaction in the bare batched bulk run.
const BATCH: usize = 100;

/// What the benchmark is asked for.
pub struct Size {
    /// rows in all five tables
    pub rows: u64,
    /// subjects timed one at a time, for each of Evident, psql and the bare client
    pub subjects: usize,
    /// subjects erased one after another for each bulk figure (default: 1,000, or as many as
    /// the rows leave)
    pub bulk: Option<usize>,
}

/// Runs the benchmark against the database at `url` (never printed: it may hold a password).
pub fn run(url: Option<String>, size: Size, keep: bool) -> Result<()> {
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        bail!(
            "no database: give --pg-url postgres://USER@HOST:PORT/DB, or set EVIDENT_TEST_PG_URL"
        );
    };
    let patients = size.rows / ROWS_PER_SUBJECT;
    let size = Size {
        bulk: Some(size.bulk.unwrap_or_else(|| {
            let left = patients.saturating_sub(4 * size.subjects as u64) / 5;
            left.clamp(1, 1_000) as usize
        })),
        ..size
    };
    let bulk = size.bulk.unwrap_or(1);
    let wanted = 4 * size.subjects as u64 + 5 * bulk as u64;
    if patients < wanted.max(1) {
        bail!(
            "--rows {} makes {patients} subjects ({ROWS_PER_SUBJECT} rows each), fewer than the {wanted} the run erases (4 × --subjects + 5 × --bulk): give more rows or fewer subjects",
            size.rows
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (client, connection) = rt
        .block_on(tokio_postgres::connect(&url, NoTls))
        .context("connecting to PostgreSQL (the URL is not shown)")?;
    rt.spawn(connection);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let schema = format!("evident_bench_dsr_{}_{stamp}", std::process::id());
    println!(
        "schema {schema}: {patients} subjects × {ROWS_PER_SUBJECT} rows = {} rows in 5 tables",
        patients * ROWS_PER_SUBJECT
    );
    let result = (|| {
        let started = Instant::now();
        rt.block_on(load(&client, &schema, patients))?;
        println!(
            "loaded with COPY, keys and indexes built, analysed: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        measure(&rt, &client, &url, &schema, patients, size.subjects, bulk)
    })();
    if keep {
        println!("kept schema {schema} (--keep)");
    } else if let Err(e) =
        rt.block_on(client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")))
    {
        eprintln!("could not drop schema {schema}: {e}");
    } else {
        println!("dropped schema {schema}");
    }
    result
}

/// One table's statements, exactly as Evident's plan builds them.
struct TableSql {
    select: String,
    /// `UPDATE` of the erased fields, or `DELETE`, of one row by its key
    write: String,
    /// the erased fields' stand-in values (the bare runs compute no hashes nor ciphertexts)
    values: Vec<Option<String>>,
}

/// The plan's statements for `system`, children first as Evident runs them.
fn statements(system: &System) -> Result<Vec<TableSql>> {
    let mut db = db::open(system)?;
    let live = db.columns()?;
    let plan = plan::plan(db.as_ref(), system, &live)?;
    Ok(plan
        .tables
        .iter()
        .map(|tp| {
            if tp.table.erasure == RowErasure::DeleteRow {
                return TableSql {
                    select: tp.select.clone(),
                    write: tp.delete(db.as_ref()),
                    values: Vec::new(),
                };
            }
            let changed: Vec<usize> = (0..tp.table.fields.len())
                .filter(|&i| strategy::name(&tp.field(i).erasure) != "keep")
                .collect();
            let values = changed
                .iter()
                .map(|&i| match strategy::name(&tp.field(i).erasure) {
                    "null" => None,
                    _ if tp.field_types[i].starts_with("date") => Some("2000-01-01".into()),
                    _ => Some("erased-0123456789abcdef0123456789abcdef".into()),
                })
                .collect();
            TableSql {
                select: tp.select.clone(),
                write: tp.update(db.as_ref(), &changed),
                values,
            }
        })
        .collect())
}

/// Latencies and CPU of one kind of call.
#[derive(Default)]
struct Samples {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Samples {
    fn time<T>(&mut self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let cpu = ThreadTime::this_thread();
        let started = Instant::now();
        let out = f()?;
        self.wall.push(started.elapsed());
        if let (Some(a), Some(b)) = (cpu, ThreadTime::this_thread()) {
            self.cpu.push(Duration::from_nanos((b - a).ran_ns));
        }
        Ok(out)
    }

    fn sorted(&self) -> (Vec<Duration>, Vec<Duration>) {
        let (mut w, mut c) = (self.wall.clone(), self.cpu.clone());
        w.sort_unstable();
        c.sort_unstable();
        (w, c)
    }

    fn p(&self, q: f64) -> Duration {
        percentile(&self.sorted().0, q)
    }

    fn line(&self, what: &str) -> String {
        let (w, c) = self.sorted();
        let cpu = if c.is_empty() {
            "CPU n/a".to_owned()
        } else {
            format!(
                "client CPU p50 {} p99 {}",
                fmt_d(percentile(&c, 0.5)),
                fmt_d(percentile(&c, 0.99))
            )
        };
        format!(
            "{what:<48} p50 {:>10}  p99 {:>10}  ({cpu})",
            fmt_d(percentile(&w, 0.5)),
            fmt_d(percentile(&w, 0.99))
        )
    }
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "n/a".into();
    }
    format!("{:.1}×", a.as_secs_f64() / b.as_secs_f64())
}

/// A bare client: one connection, every statement prepared once.
struct Bare<'a> {
    client: &'a Client,
    selects: Vec<Statement>,
    writes: Vec<(Statement, Vec<Option<String>>)>,
}

impl<'a> Bare<'a> {
    async fn new(client: &'a Client, sql: &[TableSql]) -> Result<Self> {
        let mut selects = Vec::new();
        let mut writes = Vec::new();
        for t in sql {
            selects.push(client.prepare(&t.select).await?);
            writes.push((client.prepare(&t.write).await?, t.values.clone()));
        }
        Ok(Self {
            client,
            selects,
            writes,
        })
    }

    /// Every table's keys of the subject's rows (the first column of each select).
    async fn find(&self, subject: &str) -> Result<Vec<Vec<Option<String>>>> {
        let mut found = Vec::new();
        for s in &self.selects {
            let rows = self.client.query(s, &[&subject]).await?;
            found.push(rows.iter().map(|r| r.get::<_, Option<String>>(0)).collect());
        }
        Ok(found)
    }

    async fn access(&self, subject: &str) -> Result<usize> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .await?;
        let mut n = 0;
        for s in &self.selects {
            n += self.client.query(s, &[&subject]).await?.len();
        }
        self.client.batch_execute("ROLLBACK").await?;
        Ok(n)
    }

    async fn erase(&self, subject: &str) -> Result<u64> {
        self.erase_batch(&[subject.to_owned()]).await
    }

    /// The same statements for each subject in turn, in one transaction.
    async fn erase_batch(&self, subjects: &[String]) -> Result<u64> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .await?;
        let mut changed = 0;
        for subject in subjects {
            let found = self.find(subject).await?;
            for ((stmt, values), keys) in self.writes.iter().zip(&found) {
                for key in keys {
                    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                        values.iter().map(|v| v as _).collect();
                    params.push(key);
                    changed += self.client.execute(stmt, &params).await?;
                }
            }
        }
        self.client.batch_execute("COMMIT").await?;
        // the verification read
        for subject in subjects {
            self.find(subject).await?;
        }
        Ok(changed)
    }
}

/// A SQL literal for psql.
fn literal(v: &Option<String>) -> String {
    match v {
        None => "NULL".into(),
        Some(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

/// `sql` with `$1`, `$2`… replaced by literals.
fn bind(sql: &str, params: &[Option<String>]) -> String {
    let mut out = sql.to_owned();
    for (i, p) in params.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), &literal(p));
    }
    out
}

/// The psql scripts of one subject: access, and erasure (its rows' keys read beforehand).
fn psql_scripts(sql: &[TableSql], subject: &str, keys: &[Vec<Option<String>>]) -> (String, String) {
    let subject = [Some(subject.to_owned())];
    let selects: String = sql
        .iter()
        .map(|t| format!("{};\n", bind(&t.select, &subject)))
        .collect();
    let access = format!("BEGIN ISOLATION LEVEL REPEATABLE READ;\n{selects}ROLLBACK;\n");
    let mut writes = String::new();
    for (t, keys) in sql.iter().zip(keys) {
        for key in keys {
            let mut params = t.values.clone();
            params.push(key.clone());
            writes.push_str(&bind(&t.write, &params));
            writes.push_str(";\n");
        }
    }
    let erase =
        format!("BEGIN ISOLATION LEVEL REPEATABLE READ;\n{selects}{writes}COMMIT;\n{selects}");
    (access, erase)
}

fn psql(url: &str, script: &Path) -> Result<()> {
    let status = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-o",
            "/dev/null",
            "-d",
            url,
            "-f",
        ])
        .arg(script)
        .stdout(Stdio::null())
        .status()
        .context("running psql (is it installed and on PATH?)")?;
    if !status.success() {
        bail!("psql failed on {}: {status}", script.display());
    }
    Ok(())
}

#[allow(clippy::too_many_lines, reason = "one run, printed in order")]
fn measure(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    url: &str,
    schema: &str,
    patients: u64,
    k: usize,
    bulk: usize,
) -> Result<()> {
    let map = data_map(url, schema)?;
    let system = &map.systems[0];
    let keys = LocalKeys::new([7; 32]);
    let sql = statements(system)?;
    let chosen = pick(patients, 4 * k + 5 * bulk);
    let (evident_set, rest) = chosen.split_at(k);
    let (session_set, rest) = rest.split_at(k);
    let (bare_set, rest) = rest.split_at(k);
    let (psql_set, rest) = rest.split_at(k);
    let (bulk_evident, rest) = rest.split_at(bulk);
    let (bulk_session, rest) = rest.split_at(bulk);
    let (bulk_session_batched, rest) = rest.split_at(bulk);
    let (bulk_bare, bulk_batched) = rest.split_at(bulk);
    let bare = rt.block_on(Bare::new(client, &sql))?;
    println!(
        "{k} random subjects per series (each series its own subjects: an erased subject is not erased again; the series take turns)"
    );

    // Per subject, five series taking turns — Evident per request, Evident over one session,
    // a request's connection and schema read alone, the bare client, psql — with the order
    // rotated each round, so that the host's drift falls on all of them alike.
    let (mut e_access, mut e_erase) = (Samples::default(), Samples::default());
    let (mut s_access, mut s_erase) = (Samples::default(), Samples::default());
    let (mut connects, mut catalog) = (Samples::default(), Samples::default());
    let (mut b_access, mut b_erase) = (Samples::default(), Samples::default());
    let (mut p_access, mut p_erase) = (Samples::default(), Samples::default());
    let mut session = Session::open(system)?;
    let scripts = tempfile::tempdir()?;
    let mut psql_ok = true;
    let exported = |tables: Vec<evident::privacy::dsr::TableRows>| -> Result<usize> {
        let rows: usize = tables.iter().map(|t| t.rows.len()).sum();
        let json = to_json(&[SystemExport {
            system: system.name.clone(),
            tables,
        }]);
        std::hint::black_box(json.to_string());
        if rows != ROWS_PER_SUBJECT as usize {
            bail!("access found {rows} rows of a subject, not {ROWS_PER_SUBJECT}");
        }
        Ok(rows)
    };
    let clean_one = |report: evident::privacy::dsr::SystemErasure| -> Result<()> {
        if report.verification.as_ref().is_some_and(|v| v.clean) {
            Ok(())
        } else {
            bail!("the verification read found personal values left: {report:?}")
        }
    };
    let pb = bar(k as u64, "rounds");
    for j in 0..k {
        for step in 0..5 {
            match (step + j) % 5 {
                0 => {
                    let subject = subject_id(evident_set[j]);
                    e_access.time(|| exported(export(system, &subject)?))?;
                    e_erase.time(|| clean_one(erase(system, &subject, &keys, false)?))?;
                }
                1 => {
                    let subject = subject_id(session_set[j]);
                    s_access.time(|| exported(session.export(&subject)?))?;
                    s_erase.time(|| clean_one(session.erase(&subject, &keys, false)?))?;
                }
                2 => {
                    let mut db = connects.time(|| Ok(db::open(system)?))?;
                    catalog.time(|| Ok(db.columns()?))?;
                }
                3 => {
                    let subject = subject_id(bare_set[j]);
                    let n = b_access.time(|| rt.block_on(bare.access(&subject)))?;
                    if n != ROWS_PER_SUBJECT as usize {
                        bail!(
                            "the bare access found {n} rows of a subject, not {ROWS_PER_SUBJECT}"
                        );
                    }
                    b_erase.time(|| rt.block_on(bare.erase(&subject)))?;
                }
                _ if psql_ok => {
                    let subject = subject_id(psql_set[j]);
                    let found = rt.block_on(bare.find(&subject))?;
                    let (access, erasure) = psql_scripts(&sql, &subject, &found);
                    let a = scripts.path().join("access.sql");
                    let e = scripts.path().join("erase.sql");
                    std::fs::write(&a, access)?;
                    std::fs::write(&e, erasure)?;
                    let timed = p_access
                        .time(|| psql(url, &a))
                        .and_then(|()| p_erase.time(|| psql(url, &e)));
                    if let Err(err) = timed {
                        eprintln!("psql limit skipped: {err:#}");
                        psql_ok = false;
                    }
                }
                _ => {}
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();

    println!();
    println!("per subject ({k} subjects; latency is wall time, CPU is this process's thread):");
    println!(
        "{}",
        e_access.line("Evident access (find + export as JSON)")
    );
    println!("{}", s_access.line("  the same over one session"));
    println!("{}", b_access.line("  bare tokio-postgres, same SELECTs"));
    if psql_ok {
        println!(
            "{}",
            p_access.line("  psql, a process per request, same SELECTs")
        );
    }
    println!(
        "{}",
        e_erase.line("Evident erasure (strategies + verification)")
    );
    println!("{}", s_erase.line("  the same over one session"));
    println!("{}", b_erase.line("  bare tokio-postgres, same statements"));
    if psql_ok {
        println!(
            "{}",
            p_erase.line("  psql, a process per request, same statements")
        );
    }
    println!(
        "{}",
        connects.line("a request's connection: opening it (part of both)")
    );
    println!(
        "{}",
        catalog.line("  and reading the schema on it (erasure: twice)")
    );
    let ea99 = e_access.p(0.99);
    let ee99 = e_erase.p(0.99);
    println!(
        "access p99: {} = {} bare client{}",
        fmt_d(ea99),
        ratio(ea99, b_access.p(0.99)),
        if psql_ok {
            format!(", {} psql", ratio(ea99, p_access.p(0.99)))
        } else {
            String::new()
        }
    );
    println!(
        "erasure p99: {} = {} bare client{} — target ≤ {}: {}",
        fmt_d(ee99),
        ratio(ee99, b_erase.p(0.99)),
        if psql_ok {
            format!(", {} psql", ratio(ee99, p_erase.p(0.99)))
        } else {
            String::new()
        },
        fmt_d(P99_TARGET),
        if ee99.max(ea99) <= P99_TARGET {
            "met"
        } else {
            "NOT MET"
        }
    );

    // Bulk: many subjects one after another. Evident over a session and the bare client take
    // turns (subject by subject, then batch by batch), so that the host's drift and the
    // database's own background work fall on both alike.
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    let per_subject_cpu = |c: Option<ThreadTime>| {
        c.map_or(String::new(), |c| {
            format!(
                " ({} client CPU per subject)",
                fmt_d(Duration::from_nanos(c.ran_ns / bulk.max(1) as u64))
            )
        })
    };
    let clean = |report: evident::privacy::dsr::SystemErasure| -> Result<()> {
        if report.verification.as_ref().is_some_and(|v| v.clean) {
            Ok(())
        } else {
            bail!("the verification read found personal values left: {report:?}")
        }
    };
    /// Wall and CPU time summed over the calls it times.
    #[derive(Default)]
    struct Total {
        wall: Duration,
        cpu: Option<ThreadTime>,
    }
    impl Total {
        fn time<T>(&mut self, f: impl FnOnce() -> Result<T>) -> Result<T> {
            let cpu = ThreadTime::this_thread();
            let started = Instant::now();
            let out = f()?;
            self.wall += started.elapsed();
            if let (Some(a), Some(b)) = (cpu, ThreadTime::this_thread()) {
                self.cpu = Some(self.cpu.unwrap_or_default() + (b - a));
            }
            Ok(out)
        }
    }
    let pb = bar(5 * bulk as u64, "subjects");
    let mut per_request = Total::default();
    for &i in bulk_evident {
        per_request.time(|| clean(erase(system, &subject_id(i), &keys, false)?))?;
        pb.inc(1);
    }
    let (mut sessioned, mut bare_one) = (Total::default(), Total::default());
    for (round, (&e, &b)) in bulk_session.iter().zip(bulk_bare).enumerate() {
        let mut evident_one =
            || sessioned.time(|| clean(session.erase(&subject_id(e), &keys, false)?));
        if round % 2 == 0 {
            evident_one()?;
            bare_one.time(|| rt.block_on(bare.erase(&subject_id(b))))?;
        } else {
            bare_one.time(|| rt.block_on(bare.erase(&subject_id(b))))?;
            evident_one()?;
        }
        pb.inc(2);
    }
    let (mut session_batched, mut bare_batched) = (Total::default(), Total::default());
    for (round, (e, b)) in bulk_session_batched
        .chunks(BATCH)
        .zip(bulk_batched.chunks(BATCH))
        .enumerate()
    {
        let ids: Vec<String> = e.iter().map(|&i| subject_id(i)).collect();
        let subjects: Vec<&str> = ids.iter().map(String::as_str).collect();
        let bare_ids: Vec<String> = b.iter().map(|&i| subject_id(i)).collect();
        let mut evident_batch = || {
            session_batched.time(|| {
                for report in session.erase_batch(&subjects, &keys)? {
                    clean(report)?;
                }
                Ok(())
            })
        };
        // Whichever runs first in a round ran faster in trials: the two alternate.
        if round % 2 == 0 {
            evident_batch()?;
            bare_batched.time(|| rt.block_on(bare.erase_batch(&bare_ids)))?;
        } else {
            bare_batched.time(|| rt.block_on(bare.erase_batch(&bare_ids)))?;
            evident_batch()?;
        }
        pb.inc((e.len() + b.len()) as u64);
    }
    pb.finish_and_clear();
    let per_request_cpu = per_request.cpu;
    let per_request = rate(bulk, per_request.wall);
    let sessioned_cpu = sessioned.cpu;
    let sessioned = rate(bulk, sessioned.wall);
    let br = rate(bulk, bare_one.wall);
    let session_batched_cpu = session_batched.cpu;
    let session_batched = rate(bulk, session_batched.wall);
    let batched = rate(bulk, bare_batched.wall);
    let verdict = |r: f64| if r >= BULK_TARGET { "met" } else { "NOT MET" };
    println!();
    println!(
        "bulk erasure, {} subjects a series, one after another, each its own transaction unless batched; session and bare take turns (target ≥ {BULK_TARGET:.0}/s):",
        bulk
    );
    println!(
        "  Evident, a connection per request  {per_request:>7.0} subjects/s{} = {:.0} % of bare: {}",
        per_subject_cpu(per_request_cpu),
        100.0 * per_request / br.max(1e-9),
        verdict(per_request)
    );
    println!(
        "  Evident, one session               {sessioned:>7.0} subjects/s{} = {:.0} % of bare: {}",
        per_subject_cpu(sessioned_cpu),
        100.0 * sessioned / br.max(1e-9),
        verdict(sessioned)
    );
    println!(
        "  bare tokio-postgres (the limit)    {br:>7.0} subjects/s: {}",
        verdict(br)
    );
    println!(
        "  Evident, one session, {BATCH} a batch   {session_batched:>7.0} subjects/s{} = {:.0} % of bare batched: {}",
        per_subject_cpu(session_batched_cpu),
        100.0 * session_batched / batched.max(1e-9),
        verdict(session_batched)
    );
    println!(
        "  bare, {BATCH} subjects a transaction  {batched:>7.0} subjects/s: {}",
        verdict(batched)
    );
    std::io::stdout().flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{bind, pick};

    #[test]
    fn parameters_become_literals_highest_first() {
        let sql = "UPDATE t SET a = CAST($1::text AS text), b = CAST($2::text AS date) WHERE id = CAST($11::text AS bigint)";
        let mut params = vec![Some("it's".to_owned()), None];
        params.extend((3..=11).map(|n| Some(n.to_string())));
        assert_eq!(
            bind(sql, &params),
            "UPDATE t SET a = CAST('it''s'::text AS text), b = CAST(NULL::text AS date) WHERE id = CAST('11'::text AS bigint)"
        );
    }

    #[test]
    fn picked_subjects_are_distinct_and_in_range() {
        let mut p = pick(100, 60);
        assert_eq!(p.len(), 60);
        assert!(p.iter().all(|&i| (1..=100).contains(&i)));
        p.sort_unstable();
        p.dedup();
        assert_eq!(p.len(), 60);
    }
}
