//! `evident bench pseudonymize`: a generated CSV (by default a million rows, two identifier
//! columns) pseudonymized through `evident pseudonymize`'s own path (file in, temporary file
//! out and renamed, the ledger record) on every core, next to the limit measured in the same
//! run: bare HMAC-SHA-256 (ring, the same implementation) over the same values, on one core
//! and on as many threads as the run used. See docs/performance.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use evident::crypto::local::LocalProvider;
use evident::privacy::anonymity::Format;
use evident::privacy::pseudonymize::{
    Alphabet, Mode, Normalization, OpenOptions, Plan, Pseudonymizer, Target,
};
use evident::Engine;
use ring::hmac;

use crate::verbs::pseudonymize::transform;

/// The target of issue 21, values per second over CSV on this machine's two cores.
const TARGET: f64 = 500_000.0;

/// Writes `rows` rows: `patient_id` and `email` (pseudonymized), `visit` and `code` (kept).
fn generate(path: &Path, rows: u64) -> Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "patient_id,email,visit,code")?;
    let first = [
        "ana", "ben", "chloé", "dmitri", "eve", "farah", "gus", "hana",
    ];
    let last = [
        "smith", "okafor", "müller", "tanaka", "garcía", "nowak", "kim",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..rows {
        // xorshift: varied, reproducible values
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let f = first[(state % first.len() as u64) as usize];
        let l = last[((state >> 8) % last.len() as u64) as usize];
        writeln!(
            out,
            "{:09},{f}.{l}{}@example.org,2026-{:02}-{:02},{}",
            state % 1_000_000_000,
            i,
            1 + (state >> 20) % 12,
            1 + (state >> 24) % 28,
            ["J45", "E11", "I10", "Z00"][((state >> 30) % 4) as usize]
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The values of the pseudonymized columns, in memory, for the bare HMAC runs.
fn values(path: &Path) -> Result<Vec<String>> {
    let mut reader = csv::Reader::from_path(path)?;
    let mut all = Vec::new();
    for record in reader.records() {
        let record = record?;
        all.push(record[0].to_owned());
        all.push(record[1].to_owned());
    }
    Ok(all)
}

/// Bare HMAC-SHA-256 (truncated and encoded like a pseudonym, so the work compared is the
/// same) over `values` on `threads` threads: values per second, best of three.
fn bare_hmac(values: &[String], threads: usize) -> f64 {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use base64::Engine as _;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32]);
    let per = values.len().div_ceil(threads.max(1));
    let mut best = 0.0f64;
    for _ in 0..3 {
        let started = Instant::now();
        std::thread::scope(|s| {
            for part in values.chunks(per.max(1)) {
                let key = &key;
                s.spawn(move || {
                    let mut out = String::with_capacity(32);
                    for v in part {
                        out.clear();
                        let tag = hmac::sign(key, v.as_bytes());
                        B64URL.encode_string(&tag.as_ref()[..16], &mut out);
                        std::hint::black_box(&out);
                    }
                });
            }
        });
        best = best.max(values.len() as f64 / started.elapsed().as_secs_f64());
    }
    best
}

/// Runs the benchmark and prints its figures.
pub fn run(dir: Option<PathBuf>, rows: u64, threads: Option<usize>) -> Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("evident-bench-pseudonymize-")
        .tempdir()?;
    let base = dir.unwrap_or_else(|| scratch.path().to_path_buf());
    std::fs::create_dir_all(&base)?;
    let input = base.join("input.csv");
    let output = base.join("output.csv");
    let bytes = generate(&input, rows).context("generating the CSV")?;
    let workers = threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    println!(
        "pseudonymize: {rows} rows, {:.1} MB of CSV, 2 columns pseudonymized ({} values), {workers} worker thread(s)",
        bytes as f64 / 1e6,
        rows * 2
    );

    let data = base.join("data");
    let engine = Engine::open(&data, true)?;
    engine.set_key_provider(Arc::new(LocalProvider::with_passphrase(
        &data,
        b"benchmark passphrase",
        true,
    )?));
    let keyring = engine.keyring(false)?;
    let options = OpenOptions {
        version: None,
        create: true,
    };
    let pseudonymizer = Pseudonymizer::open(&keyring, "bench", &options, "bench")?;
    let plan = Plan {
        pseudonymizer: &pseudonymizer,
        targets: vec![
            Target {
                column: "patient_id".into(),
                mode: Mode::Hmac,
            },
            Target {
                column: "email".into(),
                mode: Mode::Hmac,
            },
        ],
        normalization: Normalization::NONE,
        format: Format::Csv,
        file: input.clone(),
        workers,
    };
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let counts = transform(&plan, &input, Some(&output), false, |_| Ok(()))?;
        best = best.min(started.elapsed().as_secs_f64());
        anyhow::ensure!(
            counts.values == rows * 2,
            "pseudonymized {} values, expected {}",
            counts.values,
            rows * 2
        );
    }
    // The output is real: same row count, pseudonyms where the identifiers were.
    let mut check = csv::Reader::from_path(&output)?;
    let first = check.records().next().context("no output rows")??;
    anyhow::ensure!(
        first[0].starts_with("ps1.v1.") && first[1].starts_with("ps1.v1."),
        "output not pseudonymized"
    );
    let ours = (rows * 2) as f64 / best;

    let values = values(&input)?;
    let bare_one = bare_hmac(&values, 1);
    let bare_all = bare_hmac(&values, workers);
    println!(
        "CSV → CSV through `evident pseudonymize`'s path: {ours:.0} values/s ({:.0} rows/s, {:.0} MB/s), best of 3 (target ≥ {TARGET:.0})",
        rows as f64 / best,
        bytes as f64 / best / 1e6
    );
    println!(
        "bare HMAC-SHA-256 over the same values (the limit): {bare_one:.0} values/s on 1 thread, {bare_all:.0} values/s on {workers} = ours at {:.0} % of the limit",
        100.0 * ours / bare_all
    );

    // FF1 for comparison: format-preserving tokens of the 9-digit ids, one thread.
    let ids: Vec<&String> = values.iter().step_by(2).take(50_000).collect();
    let started = Instant::now();
    for id in &ids {
        std::hint::black_box(pseudonymizer.fpe(id, Alphabet::Digits, Normalization::NONE)?);
    }
    println!(
        "FF1 format-preserving (9 digits), one thread: {:.0} values/s",
        ids.len() as f64 / started.elapsed().as_secs_f64()
    );
    if ours < TARGET {
        println!("below the target of {TARGET:.0} values/s");
    }
    engine.shutdown();
    Ok(())
}
