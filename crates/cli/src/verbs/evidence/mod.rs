//! `evident evidence …`: evidence for the controls that a person or a scanner provides
//! (`add`, `list`, `show`, `get`, `ingest`), and what an auditor takes away: `bundle` writes a
//! framework's period evidence bundle, `sample` a seeded sample of one control's events;
//! `evident verify` checks either offline. Each verb's arguments and code live in a file of
//! their own.

mod add;
mod bundle;
mod get;
mod ingest;
mod list;
mod output;
mod period;
mod sample;

use anyhow::Result;
use clap::Subcommand;

/// Evidence for the controls and for auditors: files (an access review, a signed policy, a
/// scanner's report) kept encrypted in the data directory, each one ledger event naming its
/// SHA-256, the period it covers and until when it stands; and period bundles and samples,
/// verified offline with `evident verify`.
///
/// Examples:
///   evident evidence add review.pdf --control EV-AC-07 --effective-from 2026-07-01 --effective-to 2026-09-30
///   evident evidence bundle --framework soc2 --from 2026-01-01 --to 2026-06-30 -o soc2-h1.tar
///   evident evidence sample --control EV-AC-01 --from 2026-01-01 --to 2026-06-30 \
///       --n 25 --seed "auditor-2026-07-01" -o ev-ac-01.sample.json
///   evident verify soc2-h1.tar --vkey "$(evident log vkey)"
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum EvidenceCommand {
    Add(add::AddArgs),
    List(list::ListArgs),
    Show(list::ShowArgs),
    Get(get::GetArgs),
    Ingest(ingest::IngestArgs),
    Bundle(bundle::BundleArgs),
    Sample(sample::SampleArgs),
}

/// Runs one `evidence` subcommand.
pub fn run(cmd: EvidenceCommand) -> Result<()> {
    match cmd {
        EvidenceCommand::Add(args) => add::run(args),
        EvidenceCommand::List(args) => list::list(args),
        EvidenceCommand::Show(args) => list::show(args),
        EvidenceCommand::Get(args) => get::run(args),
        EvidenceCommand::Ingest(args) => ingest::run(args),
        EvidenceCommand::Bundle(args) => bundle::run(args),
        EvidenceCommand::Sample(args) => sample::run(args),
    }
}
