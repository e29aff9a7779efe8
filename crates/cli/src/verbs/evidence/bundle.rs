//! `evident evidence bundle`: a framework's period evidence bundle, one ustar file.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use evident::controls::bundle::format::sha256_hex;
use evident::controls::oscal_out::bundled::AssessmentResultsMember;

use crate::caller;
use crate::data_dir::{open, DataDir};

/// Write a period evidence bundle: every check run, evidence and exception event of a
/// framework's controls over a period, with proofs, the catalog and policy versions in force,
/// an HTML report (control × time grid) and the period's OSCAL assessment-results. Verify it
/// with `evident verify FILE --vkey KEY`.
///
/// The bundle holds the signed checkpoints at the period's ends and the consistency proof
/// between them, each event's exact bytes and a tlog-proof against the end checkpoint, and a
/// manifest listing every member's SHA-256 (docs/controls.md describes the layout). Nothing
/// is stored; gaps and failures are shown in the report, and `verify` names them.
///
/// Examples:
///   evident evidence bundle --framework soc2 --from 2026-01-01 --to 2026-06-30 -o soc2-h1.tar
///   evident evidence bundle --framework hipaa --from 2026-01-01T00:00:00Z \
///       --to 2026-04-01T00:00:00Z -o hipaa-q1.tar --data-dir /var/lib/evident
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BundleArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// soc2, hipaa, pci, gdpr, nist-800-53, nist-800-53-privacy, or an imported one.
    #[arg(long)]
    pub framework: String,
    #[command(flatten)]
    pub period: super::period::PeriodArgs,
    /// The bundle file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Builds and writes the bundle.
pub fn run(args: BundleArgs) -> Result<()> {
    let period = args.period.period()?;
    let engine = open(&args.dir.data_dir)?;
    let controls = engine.controls();
    // The OSCAL assessment-results of the period join the bundle as one more verified member.
    let oscal = AssessmentResultsMember {
        catalog: controls.catalog()?,
        generated_at: evident::event::format_time(evident::event::now_us()),
    };
    let built = controls.bundle(&args.framework, period, &[&oscal], &caller::actor())?;
    super::output::write_whole(&args.output, &built.bytes)?;
    let m = &built.manifest;
    println!(
        "wrote {} ({} bytes, sha256 {}): {} over {} … {}",
        args.output.display(),
        built.bytes.len(),
        sha256_hex(&built.bytes),
        m.framework,
        m.from,
        m.to
    );
    println!(
        "{} controls, {} events, tree sizes {} … {}; {} gap(s), {} failure(s) without a later pass or exception",
        m.figures.controls.len(),
        m.events.len(),
        m.start.size,
        m.end.size,
        m.figures.gap_count(),
        m.figures.unresolved_count()
    );
    Ok(())
}
