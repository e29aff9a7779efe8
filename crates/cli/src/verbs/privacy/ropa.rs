//! `evident privacy ropa`: the record of processing activities (GDPR Art. 30) generated from
//! the active data map, the consent purposes in the ledger and the live controls, written as
//! HTML, CSV or JSON; `--publish` records the version's digest in the ledger, `--history`
//! lists the published versions. The record itself is built in `evident_privacy::ropa`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use evident::event::now_us;
use evident::privacy::ropa::{self, render::Format};

use crate::caller;
use crate::data_dir::{open_or_create, DataDir};
use crate::verdict::VerificationFailed;

use super::load::load;

/// Generate the record of processing activities (GDPR Art. 30(1)) from the data map: one
/// activity per purpose with its lawful bases, categories of data subjects and of personal
/// data (special categories marked), where it is held, recipients, transfers and their
/// safeguards, retention; the purposes consent was recorded for; and the security measures
/// (Art. 32) as the controls part last checked them. What the map does not declare is listed
/// under "gaps" (exit status 0 still; `--strict` makes gaps exit 1).
///
/// Examples:
///   evident privacy ropa --out ropa.html
///   evident privacy ropa --format csv > ropa.csv
///   evident privacy ropa --map datamap.toml --format json
///   evident privacy ropa --publish --out ropa-v3.html      (privileged: records its digest)
///   evident privacy ropa --history
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RopaArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = RopaFormat::Html)]
    pub format: RopaFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The map file (default: the active map of --data-dir).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Record this version in the ledger: its digest, the map's hash, a version number
    /// (privileged). Only the active map can be published.
    #[arg(long, conflicts_with_all = ["map", "history"])]
    pub publish: bool,
    /// List the published versions instead (version, digest, time, who).
    #[arg(long)]
    pub history: bool,
    /// Exit 1 when the record has gaps (for CI: the map must declare everything Art. 30 asks).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RopaFormat {
    /// one self-contained HTML page
    Html,
    /// one row per processing activity
    Csv,
    /// the whole record
    Json,
}

impl From<RopaFormat> for Format {
    fn from(f: RopaFormat) -> Format {
        match f {
            RopaFormat::Html => Format::Html,
            RopaFormat::Csv => Format::Csv,
            RopaFormat::Json => Format::Json,
        }
    }
}

/// Runs `privacy ropa`.
pub fn run(args: RopaArgs) -> Result<()> {
    if args.history {
        return history(&args);
    }
    let map = load(args.map.as_deref(), &args.dir.data_dir)?;
    let actor = if args.publish {
        Some(caller::privileged_actor(
            "publishing the record of processing",
        )?)
    } else {
        None
    };
    let engine = open_or_create(&args.dir.data_dir)?;
    let record = engine.record_of_processing(&map, now_us())?;
    let bytes = ropa::render::render(&record, args.format.into());
    match &args.out {
        Some(path) => {
            let tmp = path.with_extension("partial");
            std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        }
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{} processing activit{}, {} gap(s); digest {}",
        record.activities.len(),
        if record.activities.len() == 1 {
            "y"
        } else {
            "ies"
        },
        record.gaps.len(),
        record.digest()
    )?;
    for gap in &record.gaps {
        writeln!(err, "  gap: {gap}")?;
    }
    if let Some(actor) = actor {
        let version = ropa::publications(&engine.log())?
            .iter()
            .map(|p| p.version)
            .max()
            .unwrap_or(0)
            + 1;
        let receipt =
            engine.append_blocking(vec![ropa::published_event(&record, version, &actor)])?;
        let index = receipt.receipts.first().map_or(0, |r| r.index);
        writeln!(err, "published as version {version} (ledger entry {index})")?;
    }
    if args.strict && !record.gaps.is_empty() {
        return Err(
            VerificationFailed(format!("the record has {} gap(s)", record.gaps.len())).into(),
        );
    }
    Ok(())
}

fn history(args: &RopaArgs) -> Result<()> {
    let engine = open_or_create(&args.dir.data_dir)?;
    let published = ropa::publications(&engine.log())?;
    let mut out = std::io::stdout().lock();
    if args.format_is_json() {
        serde_json::to_writer_pretty(&mut out, &published)?;
        writeln!(out)?;
        return Ok(());
    }
    if published.is_empty() {
        writeln!(
            out,
            "no record of processing was published; `evident privacy ropa --publish`"
        )?;
    }
    for p in published {
        writeln!(
            out,
            "v{:<4} {}  {}  by {}  (map {}, entry {})",
            p.version, p.digest, p.published_at, p.published_by, p.map_hash, p.index
        )?;
    }
    Ok(())
}

impl RopaArgs {
    fn format_is_json(&self) -> bool {
        matches!(self.format, RopaFormat::Json)
    }
}
