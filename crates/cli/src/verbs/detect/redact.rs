//! `evident redact`: stdin to stdout with every finding masked, pseudonymised or removed, for
//! log pipelines.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use evident_detect::{LineRedactor, RedactMode, Redactor};

use crate::verbs::detect::detector::{self, DetectArgs};

/// Redact stdin to stdout, line by line, for log pipelines.
///
/// Each line is written (and flushed) as soon as it is read, with every finding replaced.
/// Private key blocks spanning lines are removed whole.
///
/// Examples:
///   app 2>&1 | evident redact                       mask: 411111******1111
///   evident redact --mode pseudonym < app.log       [card:1f3a9c0b7d2e], stable per key
///   evident redact --mode remove --entity card --entity secret
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RedactArgs {
    /// What a finding becomes.
    #[arg(long, value_enum, default_value = "mask")]
    pub mode: RedactModeArg,
    /// Print a count of redactions per entity to stderr at the end.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub rules: DetectArgs,
}

/// How `evident redact` replaces what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RedactModeArg {
    /// the masked form: 411111******1111, ***-**-6789
    Mask,
    /// [card:1f3a9c0b7d2e]: a keyed HMAC pseudonym, the same for the same value and key
    Pseudonym,
    /// [REDACTED:card]
    Remove,
}

/// Copies stdin to stdout line by line, each line redacted and flushed as soon as it is read.
pub fn run(args: RedactArgs) -> Result<()> {
    let (detector, entities) = detector::build_detector(&args.rules)?;
    let mode = match args.mode {
        RedactModeArg::Mask => RedactMode::Mask,
        RedactModeArg::Pseudonym => RedactMode::Pseudonym,
        RedactModeArg::Remove => RedactMode::Remove,
    };
    let mut redactor = Redactor::new(
        Arc::new(detector),
        detector::fingerprinter(&args.rules)?,
        mode,
    );
    if let Some(only) = &entities {
        redactor = redactor.only(only);
    }
    let mut lines = LineRedactor::new(redactor);
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut line = Vec::with_capacity(4096);
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .context("reading stdin")?
            == 0
        {
            break;
        }
        let (redacted, findings) = lines.line_with_findings(&line);
        for entity in findings {
            *counts.entry(entity.as_str()).or_default() += 1;
        }
        out.write_all(&redacted)?;
        out.flush()?;
    }
    if args.stats {
        let total: usize = counts.values().sum();
        let detail: Vec<String> = counts.iter().map(|(e, n)| format!("{e} {n}")).collect();
        eprintln!(
            "redacted {total} value(s){}{}",
            if total > 0 { ": " } else { "" },
            detail.join(", ")
        );
    }
    Ok(())
}
