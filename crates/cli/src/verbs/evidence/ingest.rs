//! `evident evidence ingest FILE --format sarif|ocsf`: a scanner's results kept as evidence
//! and recorded against each control they speak to.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use evident::controls::evidence::scan::ScanFormat;

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::verbs::evidence::add::EvidenceFlags;

/// Ingest a scanner's results as evidence: the file kept encrypted like `evidence add`, plus
/// one `evidence.ingested` ledger event per control it speaks to, with the counts of passed
/// and failed findings and the failed rule ids.
///
/// --format sarif reads SARIF 2.1.0 (Checkov, and most analysers); rule ids map to controls
/// through the catalog's mappings/checkov.toml and your DIR/controls/mappings/*.toml.
/// --format ocsf reads Prowler's JSON-OCSF output (an array of Detection Findings); each
/// finding's `unmapped.compliance` requirement ids (SOC2, HIPAA, GDPR, PCI-4.0,
/// NIST-800-53-Revision-5) map to the controls the catalog maps to those requirements.
/// A file that does not read, or none of whose findings map to a control, is refused (exit
/// 2) and nothing is stored. Failed findings are recorded, not judged: the command exits 0.
///
/// Examples:
///
///   checkov -d infra/ -o sarif --output-file-path out/ --soft-fail
///   evident evidence ingest out/results_sarif.sarif --format sarif
///
///   prowler aws --output-formats json-ocsf -o out/
///   evident evidence ingest out/prowler-output-*.ocsf.json --format ocsf --validity 30d
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct IngestArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The scanner's results file.
    file: PathBuf,
    /// Its format.
    #[arg(long, value_parser = ["sarif", "ocsf"])]
    format: String,
    #[command(flatten)]
    flags: EvidenceFlags,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: IngestArgs) -> Result<()> {
    let format = ScanFormat::parse(&args.format)
        .ok_or_else(|| anyhow::anyhow!("--format must be sarif or ocsf"))?;
    let options = args.flags.options(String::new())?;
    let engine = open(&args.dir.data_dir)?;
    let keys = engine.keyring(true)?;
    let done =
        engine
            .controls()
            .ingest_evidence(&keys, &args.file, format, &options, &caller::actor())?;
    if args.json {
        println!("{}", serde_json::to_string(&done)?);
        return Ok(());
    }
    println!(
        "{} from {}: {} finding(s), {} mapped to no control",
        done.evidence_id,
        if done.tool.is_empty() {
            "an unnamed tool"
        } else {
            &done.tool
        },
        done.findings,
        done.unmapped
    );
    for c in &done.controls {
        let failed: Vec<&str> = c.tally.failed_rules.iter().map(String::as_str).collect();
        println!(
            "  {:<10} passed {:>4}  failed {:>4}  [index {}]{}",
            c.control,
            c.tally.passed,
            c.tally.failed,
            c.index,
            if failed.is_empty() {
                String::new()
            } else {
                format!("  {}", failed.join(" "))
            }
        );
    }
    Ok(())
}
