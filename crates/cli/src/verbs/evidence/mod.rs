//! `evident evidence …`: what an auditor takes away. `bundle` writes a framework's period
//! evidence bundle, `sample` a seeded sample of one control's events; `evident verify`
//! checks either offline. Each verb's arguments and code live in a file of its own.

mod bundle;
mod output;
mod period;
mod sample;

use anyhow::Result;
use clap::Subcommand;

/// Evidence for auditors: period bundles and samples, verified offline with `evident verify`.
///
/// Examples:
///   evident evidence bundle --framework soc2 --from 2026-01-01 --to 2026-06-30 -o soc2-h1.tar
///   evident evidence sample --control EV-AC-01 --from 2026-01-01 --to 2026-06-30 \
///       --n 25 --seed "auditor-2026-07-01" -o ev-ac-01.sample.json
///   evident verify soc2-h1.tar --vkey "$(evident log vkey)"
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum EvidenceCommand {
    Bundle(bundle::BundleArgs),
    Sample(sample::SampleArgs),
}

/// Runs one `evidence` subcommand.
pub fn run(cmd: EvidenceCommand) -> Result<()> {
    match cmd {
        EvidenceCommand::Bundle(args) => bundle::run(args),
        EvidenceCommand::Sample(args) => sample::run(args),
    }
}
