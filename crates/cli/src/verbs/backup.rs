//! `evident backup`, `evident backup test` and `evident restore`: encrypted, consistent copies
//! of a data directory, proved restorable, and restored.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::verdict::VerificationFailed;

/// Write an encrypted, consistent backup of the data directory while the server runs.
///
/// The file holds a snapshot of the log database, the signing and redaction keys, the
/// TLS pair and the evidence files (DIR/evidence/, already encrypted), encrypted with AES-256-GCM under a data key wrapped by the root key (see
/// `evident keys`); the root key travels sealed under its passphrase, so a restore needs
/// only the file and EVIDENT_ROOT_PASSPHRASE. The backup is logged.
///
/// Examples:
///   evident backup --out /backups/evident-$(date +%F).evb
///   evident backup test /backups/evident-2026-11-22.evb   restore to scratch, verify, log it
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub test: Option<BackupCommand>,
    #[command(flatten)]
    pub dir: DataDir,
    /// The backup file to write (never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Restore FILE into a scratch directory, verify the whole log there, and record the
    /// outcome as a ledger event (contingency-plan evidence). Exit 1 if it fails.
    Test {
        #[command(flatten)]
        dir: DataDir,
        /// The backup file.
        file: PathBuf,
    },
}

/// Restore a backup into a new data directory and verify the whole log there.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file.
    pub file: PathBuf,
    /// The directory to create (must not exist or be empty).
    #[arg(long, env = "EVIDENT_DATA_DIR", value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// Writes a backup, or with `test`, restores one to scratch and verifies it.
pub fn backup(args: BackupArgs) -> Result<()> {
    let BackupArgs { test, dir, out } = args;
    let actor = caller::actor();
    match test {
        Some(BackupCommand::Test { dir, file }) => {
            let engine = open(&dir.data_dir)?;
            match evident::backup::test(&engine, &file, &actor) {
                Ok(report) => {
                    println!(
                        "backup {} restored and verified: {} entries, {} signed checkpoints, root {}; recorded in the ledger",
                        file.display(),
                        report.entries,
                        report.checkpoints,
                        report.root
                    );
                    Ok(())
                }
                Err(e) => Err(VerificationFailed(format!(
                    "backup {} failed its restore test (recorded in the ledger): {e}",
                    file.display()
                ))
                .into()),
            }
        }
        None => {
            let out = out.context("give --out FILE (or `evident backup test FILE`)")?;
            let engine = open(&dir.data_dir)?;
            let report = evident::backup::create(&engine, &out, &actor)?;
            println!(
                "wrote {} ({} bytes, {} entries), sha256 {}",
                report.path.display(),
                report.bytes,
                report.entries,
                report.sha256
            );
            Ok(())
        }
    }
}

/// Restores a backup into a new data directory, verifying the whole log there.
pub fn restore(args: RestoreArgs) -> Result<()> {
    let RestoreArgs {
        file,
        data_dir: dir,
    } = args;
    caller::privileged_actor("restoring a backup")?;
    let report = evident::backup::restore(&file, &dir)
        .with_context(|| format!("restoring {} into {}", file.display(), dir.display()))?;
    println!(
        "restored `{}` into {}: {} entries, {} signed checkpoints verified, root {}",
        report.origin,
        report.dir.display(),
        report.entries,
        report.checkpoints,
        report.root
    );
    Ok(())
}
