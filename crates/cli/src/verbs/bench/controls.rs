//! `evident bench controls`: the controls part on a log the size a year of operation makes —
//! by default 10 million events holding a year of hourly checks of 50 controls — each figure
//! next to its target or the limit measured in the same run (SHA-256 over the same bytes):
//! `controls status`, a status rebuild, a quarter's history and OSCAL assessment-results, and
//! a SOC 2 evidence bundle of the whole period built and verified offline.
//!
//! The log is written through the library with chosen receive times (one hour apart for the
//! checks, the other events spread between them), so the year is a real year in the ledger's
//! own index. The 50 controls are the catalog's checked controls plus controls of the
//! benchmark's own (a file in the data directory, as an organisation adds them).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use evident::controls::{catalog, run_event, Outcome};
use evident::{AuditEvent, Engine, PreparedEntry};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::verbs::bench::measure::{fmt_d, percentile};
use crate::verbs::demo::sample_event;

const HOUR_US: i64 = 3_600_000_000;

/// What to build.
pub struct Size {
    /// events in the log
    pub events: u64,
    /// controls checked hourly
    pub controls: usize,
    /// days of checks
    pub days: u64,
}

/// Runs the benchmark and prints its figures.
pub fn run(dir: Option<PathBuf>, size: Size) -> Result<()> {
    let keep = dir.is_some();
    let scratch = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("evident-bench-controls-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let result = measure(&scratch, &size);
    if !keep {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    result
}

fn measure(scratch: &std::path::Path, size: &Size) -> Result<()> {
    let hours = size.days * 24;
    let checks = hours * size.controls as u64;
    if checks > size.events {
        bail!(
            "{} controls checked hourly for {} days make {checks} runs, more than --events {}",
            size.controls,
            size.days,
            size.events
        );
    }
    println!(
        "evident bench controls — {} events, {} of them check runs ({} controls hourly for {} days)",
        size.events, checks, size.controls, size.days
    );
    let dir = scratch.join("data");
    let engine = Arc::new(Engine::open(&dir, true)?);
    let controls = extra_controls(&dir, size.controls)?;
    let catalog = catalog::load(Some(&dir))?;

    // The log: per hour, the other events then one run of each control.
    let start = evident::event::now_us() - (size.days as i64) * 24 * HOUR_US;
    let filler_per_hour = (size.events - checks) / hours.max(1);
    let bar = ProgressBar::new(size.events).with_style(ProgressStyle::with_template(
        "writing the log {bar:40} {pos}/{len} events ({per_sec}, {eta})",
    )?);
    let started = Instant::now();
    let mut batch: Vec<PreparedEntry> = Vec::with_capacity(10_000);
    let mut written = 0u64;
    for hour in 0..hours {
        let at = start + hour as i64 * HOUR_US;
        let extra = if hour == hours - 1 {
            size.events - checks - filler_per_hour * hours
        } else {
            0
        };
        for i in 0..filler_per_hour + extra {
            let step = HOUR_US / (filler_per_hour + extra + 1) as i64;
            let event = AuditEvent::from_json(sample_event(written + i))?;
            batch.push(event.prepare(at + step * i as i64)?);
        }
        written += filler_per_hour + extra;
        for (n, id) in controls.iter().enumerate() {
            let control = catalog
                .control(id)
                .ok_or_else(|| anyhow::anyhow!("control {id} vanished"))?;
            // One run in 200 fails, and passes again the next hour.
            let outcome = if (hour + n as u64).is_multiple_of(200) {
                Outcome::fail("a benchmark failure", "nothing: it passes next hour")
            } else {
                Outcome::pass("a benchmark pass")
            };
            let event = run_event(&catalog, control, "sha256:bench", &outcome, "bench");
            batch.push(event.prepare(at + HOUR_US - 1000 + n as i64)?);
        }
        written += controls.len() as u64;
        if batch.len() >= 10_000 || hour == hours - 1 {
            bar.set_position(written);
            engine.append_prepared_blocking(std::mem::take(&mut batch))?;
        }
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "log written: {} events in {secs:.0} s ({:.0} events/s, preparation and durable appends, one producer)",
        engine.size(),
        engine.size() as f64 / secs
    );
    let started = Instant::now();
    engine.index_now()?;
    println!(
        "query indexes caught up in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let parts = engine.controls();
    let started = Instant::now();
    let (replayed, updated) = parts.rebuild_status()?;
    println!(
        "status rebuilt from the ledger (only after a lost table): {replayed} runs replayed, {updated} controls, {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // `controls status`: one stored row per control, whatever the log's length.
    let now = evident::event::now_us();
    let mut samples = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        std::hint::black_box(parts.status(now)?);
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "controls status ({} controls): p50 {} p99 {} (target ≤ 100 ms)",
        catalog.controls.len(),
        fmt_d(percentile(&samples, 0.5)),
        fmt_d(percentile(&samples, 0.99))
    );

    // A quarter of one control's runs, and of all of them as OSCAL assessment-results.
    let quarter_from = now - 91 * 24 * HOUR_US;
    let t = Instant::now();
    let one = parts.history(&controls[0], quarter_from, now)?;
    println!(
        "history of one control for a quarter: {} runs in {}",
        one.len(),
        fmt_d(t.elapsed())
    );
    let t = Instant::now();
    let ar = parts.oscal_assessment_results(None, quarter_from, now, now)?;
    let ar_secs = t.elapsed();
    let bytes = serde_json::to_vec(&ar)?;
    let t = Instant::now();
    std::hint::black_box(Sha256::digest(&bytes));
    println!(
        "OSCAL assessment-results for a quarter: {} in {} (SHA-256 of its {} bytes: {})",
        ar["assessment-results"]["results"][0]["observations"]
            .as_array()
            .map_or(0, Vec::len)
            .to_string()
            + " observations",
        fmt_d(ar_secs),
        bytes.len(),
        fmt_d(t.elapsed().max(Duration::from_nanos(1)))
    );
    bundle(&engine, start, now)?;
    engine.shutdown();
    Ok(())
}

/// A SOC 2 bundle of the whole simulated period: build and offline verification, next to
/// SHA-256 over the bundle's bytes (the least verification can cost) in the same run.
fn bundle(engine: &Engine, from_us: i64, to_us: i64) -> Result<()> {
    use evident::controls::bundle::{verify_bundle, Period};
    use evident_ledger::note::NoteVerifier;

    let period = Period {
        from_us,
        to_us: to_us + 1,
    };
    let t = Instant::now();
    let built = engine.controls().bundle("soc2", period, &[], "bench")?;
    let build = t.elapsed();
    let t = Instant::now();
    std::hint::black_box(Sha256::digest(&built.bytes));
    let hash = t.elapsed();
    let verifier = NoteVerifier::parse(&engine.verifier_key())?;
    let t = Instant::now();
    let verdict = verify_bundle(&built.bytes, &verifier)?;
    let verify = t.elapsed();
    if !verdict.faults.is_empty() {
        bail!(
            "the benchmark's bundle does not verify: {:?}",
            verdict.faults
        );
    }
    println!(
        "SOC 2 bundle of the whole period: {} events, {:.1} MB; build {} (target ≤ 60 s), verify {} (target ≤ 20 s); SHA-256 of its bytes {} ({:.0}× of it to verify)",
        verdict.proven,
        built.bytes.len() as f64 / 1e6,
        fmt_d(build),
        fmt_d(verify),
        fmt_d(hash),
        verify.as_secs_f64() / hash.as_secs_f64().max(1e-9)
    );
    Ok(())
}

/// The controls the benchmark checks: the catalog's checked controls, then controls of its
/// own (written to DIR/controls/bench.toml) up to `count`; answers their ids.
fn extra_controls(dir: &std::path::Path, count: usize) -> Result<Vec<String>> {
    let shipped = catalog::load(None)?;
    let mut ids: Vec<String> = shipped
        .controls
        .iter()
        .filter(|c| c.check.is_some())
        .map(|c| c.id.clone())
        .take(count)
        .collect();
    let mut file = String::from("# Controls of `evident bench controls`.\n");
    for n in ids.len()..count {
        let id = format!("BENCH-{n:03}");
        file.push_str(&format!(
            "\n[[control]]\nid = \"{id}\"\ntitle = \"Benchmark control {n}\"\n\
             description = \"A control of the benchmark, checked hourly.\"\n\
             implementation = \"automated\"\ncheck = \"redaction.active\"\ncadence = \"1h\"\n\
             evidence = [\"controls.check\"]\nframeworks = {{ soc2 = [\"CC7.1\"], nist-800-53 = [\"SI-4\"] }}\n"
        ));
        ids.push(id);
    }
    let controls_dir = dir.join("controls");
    std::fs::create_dir_all(&controls_dir)?;
    std::fs::write(controls_dir.join("bench.toml"), file)?;
    Ok(ids)
}
