//! `evident controls diff --baseline FILE`: a regression gate between a saved
//! `evident controls status --json` and the status now.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use evident::controls::diff::{parse_baseline, regressions};

use crate::data_dir::{open, DataDir};
use crate::verdict::VerificationFailed;

/// Compare the controls' status now with a baseline saved earlier: a regression gate for CI
/// and for change reviews.
///
/// The baseline is what `evident controls status --json` printed (one JSON object per
/// control). A regression is a control that passed then and fails or errs now (an open
/// exception does not hide it: it is named), whose evidence was current then and is expired
/// or missing now, whose check was within its cadence then and is overdue now, or that
/// passed then and is no longer in the catalog. Exits 1 naming each regression, 0 when there
/// is none, 2 when the baseline does not read (the line and the problem are named).
///
/// Example:
///
///   evident controls status --json > baseline.jsonl      # after a good release
///   evident controls check; evident controls diff --baseline baseline.jsonl
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The saved `evident controls status --json`.
    #[arg(long, value_name = "FILE")]
    baseline: PathBuf,
    /// JSON (one object per regression) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DiffArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.baseline)
        .with_context(|| format!("reading the baseline {}", args.baseline.display()))?;
    let baseline = parse_baseline(&text)
        .map_err(|e| anyhow::anyhow!("baseline {}: {e}", args.baseline.display()))?;
    let engine = open(&args.dir.data_dir)?;
    let now = engine.controls().status(evident::event::now_us())?;
    let found = regressions(&baseline, &now);
    for r in &found {
        if args.json {
            println!("{}", serde_json::to_string(r)?);
        } else {
            println!("{:<10} was {}, now {}", r.control, r.was, r.now);
        }
    }
    if found.is_empty() {
        eprintln!(
            "no regressions against the baseline ({} controls)",
            baseline.len()
        );
        Ok(())
    } else {
        Err(VerificationFailed(format!(
            "{} regression(s) against the baseline: {}",
            found.len(),
            found
                .iter()
                .map(|r| r.control.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into())
    }
}
