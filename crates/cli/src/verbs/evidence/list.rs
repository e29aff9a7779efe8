//! `evident evidence list [--control ID]` and `evident evidence show ID`: what the ledger
//! records of the evidence added (metadata only; `get` gives a file back).

use anyhow::Result;
use clap::Args;

use crate::data_dir::{open, DataDir};

/// List the evidence added (oldest first): id, control, until when it stands (`current` or
/// `EXPIRED`), the file's name and size.
///
/// Examples:
///
///   evident evidence list
///   evident evidence list --control EV-AC-07 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Only this control's evidence.
    #[arg(long, value_name = "ID")]
    control: Option<String>,
    /// JSON (one object per piece of evidence) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Show what the ledger records of one piece of evidence: its control, SHA-256, size, media
/// type, the period it covers, until when it stands, who added it and why.
///
/// Example:
///
///   evident evidence show evd-0123456789abcdef01234567
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The evidence id (`evident evidence list` shows them).
    id: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn list(args: ListArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let now = evident::event::now_us();
    let all = engine.controls().list_evidence(args.control.as_deref())?;
    for e in &all {
        if args.json {
            println!("{}", serde_json::to_string(e)?);
            continue;
        }
        println!(
            "{}  {:<10} {} {:<27} {} ({} bytes)",
            e.evidence_id,
            e.control,
            if e.is_current(now) {
                "current until"
            } else {
                "EXPIRED since"
            },
            e.valid_until,
            e.file_name,
            e.size
        );
    }
    if !args.json {
        eprintln!("{} piece(s) of evidence", all.len());
    }
    Ok(())
}

pub fn show(args: ShowArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let e = engine.controls().evidence(&args.id)?;
    super::add::print_one(&e, args.json)
}
