//! `evident controls oscal …`: OSCAL 1.1.2 documents from the catalog and the ledger — the
//! component-definition of Evident, and assessment-results for a period.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::Value;

use crate::data_dir::{open, DataDir};
use crate::dates::when;

/// OSCAL 1.1.2 documents for GRC tools and assessors (compliance-trestle, Lula, FedRAMP
/// tooling read them).
///
/// Examples:
///   evident controls oscal component -o evident-component.json
///   evident controls oscal results --from 2026-01-01 --to 2026-06-30 --framework soc2 -o ar.json
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum OscalCommand {
    /// The component-definition: the NIST SP 800-53 rev5 controls Evident's controls meet,
    /// each with the Evident controls, how they are tested and by which check.
    Component {
        #[command(flatten)]
        dir: DataDir,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Assessment-results for a period: one observation per control (its check runs, with
    /// links to the ledger entries) and one finding per control (satisfied when its last run
    /// in the period passed).
    Results {
        #[command(flatten)]
        dir: DataDir,
        /// Start: a date (YYYY-MM-DD, its first moment, UTC) or an RFC 3339 time.
        #[arg(long)]
        from: String,
        /// End: a date (YYYY-MM-DD, to its last moment, UTC) or an RFC 3339 time.
        #[arg(long)]
        to: String,
        /// Only the controls mapped to this framework (soc2, hipaa, pci, gdpr, nist-800-53 …).
        #[arg(long)]
        framework: Option<String>,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Runs one `controls oscal` subcommand.
pub fn run(cmd: OscalCommand) -> Result<()> {
    let now = evident::event::now_us();
    match cmd {
        OscalCommand::Component { dir, output } => {
            let engine = open(&dir.data_dir)?;
            let doc = engine.controls().oscal_component_definition(now)?;
            write(&doc, output)
        }
        OscalCommand::Results {
            dir,
            from,
            to,
            framework,
            output,
        } => {
            let from_us = when(&from, false, "--from")?;
            let to_us = when(&to, true, "--to")?;
            evident::controls::check_period(from_us, to_us)?;
            let engine = open(&dir.data_dir)?;
            let doc = engine.controls().oscal_assessment_results(
                framework.as_deref(),
                from_us,
                to_us,
                now,
            )?;
            write(&doc, output)
        }
    }
}

fn write(doc: &Value, output: Option<PathBuf>) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    match output {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}
