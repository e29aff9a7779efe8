//! `evident evidence …`: what an auditor takes away. `bundle` writes a framework's period
//! evidence bundle, `sample` a seeded sample of one control's events; `evident verify`
//! checks either offline. Each verb's arguments and code live in a file of its own.

mod bundle;
mod sample;

use anyhow::{Context, Result};
use clap::Subcommand;
use evident::controls::bundle::Period;

use crate::verbs::controls::when;

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

/// `--from` (a date's first moment) and `--to` (a date's last moment, so the period ends at
/// the next day's first), or RFC 3339 times; in order.
fn period(from: &str, to: &str) -> Result<Period> {
    let period = Period {
        from_us: when(from, false, "--from")?,
        to_us: when(to, true, "--to")?,
    };
    evident::controls::check_period(period.from_us, period.to_us)?;
    Ok(period)
}

/// Writes `bytes` to `path` whole or not at all (a temporary file beside it, renamed).
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("-o {}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
