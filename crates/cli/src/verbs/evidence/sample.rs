//! `evident evidence sample`: a seeded, reproducible sample of one control's events.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::caller;
use crate::data_dir::{open, DataDir};

/// Draw a reproducible sample of one control's events in a period (its check runs and its
/// evidence), with the proof that the population is the log's: the checkpoints at both
/// ends, their consistency proof, every member's leaf hash and inclusion proof.
///
/// The draw: each event's key is SHA-256(seed ‖ 0x00 ‖ its ledger index as 8 bytes
/// big-endian); events are ordered by key and the first N taken. Anyone with the seed
/// re-derives it: `evident verify FILE --vkey KEY --seed SEED`.
///
/// Examples:
///   evident evidence sample --control EV-AC-01 --from 2026-01-01 --to 2026-06-30 \
///       --n 25 --seed "auditor-2026-07-01" -o ev-ac-01.sample.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SampleArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The control id (e.g. EV-AC-01).
    #[arg(long)]
    pub control: String,
    #[command(flatten)]
    pub period: super::period::PeriodArgs,
    /// How many events to draw (all of them when the population is smaller).
    #[arg(long, default_value_t = 25)]
    pub n: usize,
    /// The seed, chosen by the auditor.
    #[arg(long)]
    pub seed: String,
    /// The sample file to write (JSON).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Draws and writes the sample.
pub fn run(args: SampleArgs) -> Result<()> {
    let period = args.period.period()?;
    let engine = open(&args.dir.data_dir)?;
    let sample =
        engine
            .controls()
            .sample(&args.control, period, args.n, &args.seed, &caller::actor())?;
    super::output::write_whole(&args.output, &serde_json::to_vec_pretty(&sample)?)?;
    println!(
        "wrote {}: {} of {} event(s) of {} over {} … {} (tree sizes {} … {}), seed `{}`",
        args.output.display(),
        sample.sample.len(),
        sample.population_count,
        sample.control,
        sample.from,
        sample.to,
        sample.start.size,
        sample.end.size,
        sample.seed
    );
    Ok(())
}
