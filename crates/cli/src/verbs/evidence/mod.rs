//! `evident evidence …`: evidence for the controls that a person or a scanner provides.
//! Each variant's arguments and code live in a file of their own.

mod add;
mod get;
mod ingest;
mod list;

use anyhow::Result;
use clap::Subcommand;

/// Evidence for the controls: files (an access review, a signed policy, a scanner's report)
/// kept encrypted in the data directory, each one ledger event naming its SHA-256, the period
/// it covers and until when it stands.
///
/// Start with `evident evidence add review.pdf --control EV-AC-07`, then `evident controls
/// status` shows the control's evidence as current until it expires.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    Add(add::AddArgs),
    List(list::ListArgs),
    Show(list::ShowArgs),
    Get(get::GetArgs),
    Ingest(ingest::IngestArgs),
}

/// Runs one `evidence` subcommand.
pub fn run(cmd: EvidenceCommand) -> Result<()> {
    match cmd {
        EvidenceCommand::Add(args) => add::run(args),
        EvidenceCommand::List(args) => list::list(args),
        EvidenceCommand::Show(args) => list::show(args),
        EvidenceCommand::Get(args) => get::run(args),
        EvidenceCommand::Ingest(args) => ingest::run(args),
    }
}
