//! `evident evidence get ID -o FILE`: a piece of evidence decrypted back into a file, after
//! its SHA-256 and size are checked against the ledger event that recorded it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::data_dir::{open, DataDir};
use crate::verdict::VerificationFailed;

/// Write a piece of evidence back to a file: decrypted, then checked against the SHA-256
/// and size its ledger event recorded. A file that does not match (altered, swapped for
/// another id's) exits 1 and nothing is written; an existing output file is never
/// overwritten.
///
/// Example:
///
///   evident evidence get evd-0123456789abcdef01234567 -o review.pdf
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GetArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The evidence id (`evident evidence list` shows them).
    id: String,
    /// Where to write it (must not exist).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
}

pub fn run(args: GetArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let keys = engine.keyring(false)?;
    let (e, content) = match engine.controls().evidence_content(&keys, &args.id) {
        Err(evident::Error::Integrity(why)) => return Err(VerificationFailed(why).into()),
        other => other?,
    };
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.output)
        .with_context(|| format!("creating {} (it must not exist)", args.output.display()))?;
    out.write_all(&content)
        .and_then(|()| out.sync_all())
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "wrote {} ({} bytes, sha256 {} as ledger entry {} recorded)",
        args.output.display(),
        e.size,
        e.sha256,
        e.index
    );
    Ok(())
}
