//! `evident scan`: find card numbers, PHI and secrets in files, trees, stdin or git's staging
//! area, and report them as text, JSON lines or SARIF.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use evident_detect::walk::{scan_paths, WalkOptions};
use evident_detect::{Finding, Outcome, Scanner};
use indicatif::{ProgressBar, ProgressStyle};

use crate::verbs::detect::detector::{self, DetectArgs};
use crate::verbs::detect::git;
use crate::verdict::FindingsReported;

/// Find card numbers, PHI identifiers and secrets in files, trees or stdin.
///
/// Directories are walked in parallel, honouring .gitignore; binary files are skipped.
/// Findings never show the raw value: a masked excerpt and a keyed fingerprint.
/// Exit status: 0 nothing found, 1 findings, 2 error.
///
/// Examples:
///   evident scan .                         scan the working tree
///   evident scan --staged                  what `git commit` would record (pre-commit hook)
///   evident scan src --format sarif > evident.sarif
///   evident scan . --format json > baseline.jsonl   then: --baseline baseline.jsonl
///   kubectl logs app | evident scan -      scan stdin
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ScanArgs {
    /// Files or directories; `-` reads stdin. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Scan the files staged in git (their staged content, not the working copy).
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ScanFormat,
    /// Accept the findings listed in FILE (JSON lines from `--format json`): a finding with
    /// the same rule, path and fingerprint is not reported.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Drop findings scored below this (0 to 1; context words raise a score).
    #[arg(long, default_value_t = 0.0, value_name = "SCORE")]
    pub min_score: f32,
    /// Do not honour .gitignore, .ignore and git excludes.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip hidden files and directories (scanned by default: .env files hold secrets).
    #[arg(long)]
    pub no_hidden: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Worker threads (default: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Colour human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub rules: DetectArgs,
}

/// How `evident scan` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// one line per finding, coloured on a terminal
    Human,
    /// JSON lines: one finding object per line
    Json,
    /// one SARIF 2.1.0 log
    Sarif,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// when stdout is a terminal and NO_COLOR is unset
    Auto,
    /// always
    Always,
    /// never
    Never,
}

/// Scans what the arguments name and reports the findings; `quiet` drops the summary line.
pub fn run(args: ScanArgs, quiet: bool) -> Result<()> {
    let (detector, entities) = detector::build_detector(&args.rules)?;
    let fingerprints = detector::fingerprinter(&args.rules)?;
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let progress = spinner();
    let collected = Mutex::new(Collected {
        findings: Vec::new(),
        errors: Vec::new(),
        files: 0,
        bytes: 0,
        binary: 0,
    });
    let record =
        |path: String, outcome: evident_detect::Result<Outcome>, findings: Vec<Finding>| {
            let Ok(mut c) = collected.lock() else { return };
            c.files += 1;
            match outcome {
                Ok(Outcome::Scanned { bytes }) => c.bytes += bytes,
                Ok(Outcome::Binary) => c.binary += 1,
                Ok(Outcome::Allowlisted) => {}
                Err(e) => c.errors.push(format!("{path}: {e}")),
            }
            c.findings.extend(findings);
            progress.set_message(format!("{} files, {} MB", c.files, c.bytes / 1_000_000));
        };

    if args.staged {
        for (path, content) in git::staged_files()? {
            let mut found = Vec::new();
            let outcome = Scanner::new(&detector, &fingerprints)
                .min_score(args.min_score)
                .scan_bytes(&content, &path, &mut |f| found.push(f));
            record(path, Ok(outcome), found);
        }
    } else {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        let (stdin, files): (Vec<PathBuf>, Vec<PathBuf>) =
            paths.into_iter().partition(|p| p.as_os_str() == "-");
        if !stdin.is_empty() {
            let mut found = Vec::new();
            let outcome = Scanner::new(&detector, &fingerprints)
                .min_score(args.min_score)
                .scan_reader(std::io::stdin().lock(), "-", &mut |f| found.push(f));
            record("-".into(), outcome, found);
        }
        if !files.is_empty() {
            let options = WalkOptions {
                hidden: !args.no_hidden,
                ignore_files: !args.no_ignore,
                threads: args.threads,
                max_file_size: args.max_file_size,
                min_score: args.min_score,
            };
            scan_paths(&detector, &fingerprints, &files, &options, &|report| {
                let path = report.path.to_string_lossy().into_owned();
                record(path, report.outcome, report.findings);
            })?;
        }
    }
    progress.finish_and_clear();

    let mut collected = collected
        .into_inner()
        .map_err(|_| anyhow!("a scanning thread panicked"))?;
    if let Some(only) = &entities {
        collected.findings.retain(|f| only.contains(&f.entity));
    }
    let total = collected.findings.len();
    if let Some(baseline) = &baseline {
        collected
            .findings
            .retain(|f| !baseline.contains(&baseline_key(f)));
    }
    let accepted = total - collected.findings.len();
    collected
        .findings
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.start.cmp(&b.start)));

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ScanFormat::Json => {
            for f in &collected.findings {
                serde_json::to_writer(&mut out, f)?;
                out.write_all(b"\n")?;
            }
        }
        ScanFormat::Sarif => {
            let log = evident_detect::sarif::log(
                &detector,
                &collected.findings,
                env!("CARGO_PKG_VERSION"),
            );
            serde_json::to_writer_pretty(&mut out, &log)?;
            out.write_all(b"\n")?;
        }
        ScanFormat::Human => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            for f in &collected.findings {
                writeln!(out, "{}", human_line(f, color))?;
            }
        }
    }
    out.flush()?;
    for error in &collected.errors {
        eprintln!("error: {error}");
    }
    if (args.format == ScanFormat::Human && !quiet) || !collected.errors.is_empty() {
        let mut summary = format!(
            "{} finding(s) in {} file(s), {:.1} MB scanned",
            collected.findings.len(),
            collected.files,
            collected.bytes as f64 / 1e6
        );
        if collected.binary > 0 {
            summary.push_str(&format!(", {} binary file(s) skipped", collected.binary));
        }
        if accepted > 0 {
            summary.push_str(&format!(", {accepted} accepted by the baseline"));
        }
        eprintln!("{summary}");
    }
    if !collected.errors.is_empty() {
        bail!("{} input(s) could not be scanned", collected.errors.len());
    }
    if collected.findings.is_empty() {
        Ok(())
    } else {
        Err(FindingsReported(collected.findings.len()).into())
    }
}

type BaselineKey = (String, String, String);

fn read_baseline(path: &Path) -> Result<HashSet<BaselineKey>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the baseline {}", path.display()))?;
    let mut keys = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let finding: Finding = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: not a finding (expected JSON lines from `evident scan --format json`)",
                path.display(),
                n + 1
            )
        })?;
        keys.insert((finding.rule, finding.path, finding.fingerprint));
    }
    Ok(keys)
}

fn baseline_key(f: &Finding) -> BaselineKey {
    (f.rule.clone(), f.path.clone(), f.fingerprint.clone())
}

struct Collected {
    findings: Vec<Finding>,
    errors: Vec<String>,
    files: u64,
    bytes: u64,
    binary: u64,
}

fn human_line(f: &Finding, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    format!(
        "{}:{}:{}  {}  {}  {}",
        paint("35", &f.path),
        paint("32", &f.line.to_string()),
        f.column,
        paint("1;31", f.entity.as_str()),
        paint("2", &f.rule),
        f.masked
    )
}

fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} scanning: {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
