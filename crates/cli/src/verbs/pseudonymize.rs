//! `evident pseudonymize`: columns of a CSV or JSON-lines table replaced by keyed pseudonyms
//! under the data directory's per-domain key, streamed from a file or stdin to a file or
//! stdout, and one ledger record of the run. The pseudonyms, the keys and the streaming live
//! in `evident_privacy::pseudonymize`; this module turns flags into a plan, writes the output
//! through a temporary file (renamed only on success) and records the run.

use std::io::{ErrorKind, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use evident::privacy::anonymity::Format;
use evident::privacy::pseudonymize::{
    Alphabet, ColumnRecord, Counts, Mode, Normalization, OpenOptions, Plan, Pseudonymizer,
    RunRecord, Target,
};
use evident::privacy::Error as PrivacyError;
use indicatif::{ProgressBar, ProgressStyle};

use crate::caller;
use crate::data_dir::{open, DataDir};

/// Replace identifier columns of a table with pseudonyms (GDPR Art. 4(5), 25, 32).
///
/// Each value of the --columns becomes `ps1.v<N>.<22 base64url characters>`: the first 128
/// bits of HMAC-SHA-256 under version N of the domain's key `pseudonym.<DOMAIN>` in the
/// keyring. The same value always gets the same pseudonym in a domain (joins still work);
/// other domains get unrelated ones. With --fpe a column gets an FF1 format-preserving token
/// instead (same length, same alphabet: digits, lower, upper or alnum; values outside the
/// alphabet or shorter than 6 digits / 5 letters / 4 alphanumerics are refused). Empty
/// values and JSON nulls are left as they are.
///
/// After `evident keys rotate pseudonym.DOMAIN` runs use the new version: new pseudonyms,
/// old ones still recognisable by their `v<N>`; --key-version N reproduces an older
/// version's pseudonyms until it is disabled or destroyed.
///
/// Input: a CSV file with a header row, or JSON lines (one flat object a line), or `-` for
/// stdin; the format comes from the extension (.jsonl, .ndjson, .json) unless --format says.
/// Output goes to --out (written to a temporary file and renamed when complete, so an error
/// leaves no partial file) or stdout. One ledger event (`evident.privacy.pseudonymized`)
/// records the domain, key version, columns and counts — never a value. Exit 2 on bad input
/// (unknown column, malformed row, missing key), naming the line.
///
/// Examples:
///   evident pseudonymize patients.csv --domain patients --columns mrn,email \
///       --normalize email --out patients.pseudo.csv --create-key
///   evident pseudonymize visits.jsonl --domain patients --columns mrn --fpe mrn=digits
///   cat crm.csv | evident pseudonymize - --domain customers --columns email > out.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PseudonymizeArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The table (CSV with a header row, or JSON lines); `-` for stdin.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    /// The domain: 1–54 characters of a-z, 0-9, `-`, `_`; its key is `pseudonym.DOMAIN`.
    #[arg(long, value_name = "NAME")]
    pub domain: String,
    /// The columns to pseudonymize, comma-separated.
    #[arg(long, value_name = "COLS", value_delimiter = ',', required = true)]
    pub columns: Vec<String>,
    /// Format-preserving tokens (FF1) instead of keyed hashes: an alphabet for every column
    /// (`--fpe digits`) or per column (`--fpe mrn=digits,code=alnum`); alphabets are
    /// digits, lower, upper, alnum.
    #[arg(long, value_name = "SPEC", value_delimiter = ',')]
    pub fpe: Vec<String>,
    /// Normalise values first: trim, lowercase, email (both) — off by default, so values
    /// that differ in case or spaces get different pseudonyms.
    #[arg(long, value_name = "LIST", default_value = "none")]
    pub normalize: String,
    /// csv or jsonl [default: from the input's extension; csv for stdin].
    #[arg(long, value_parser = ["csv", "jsonl"])]
    pub format: Option<String>,
    /// Write here instead of stdout (atomically: complete or not at all).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Create the domain's key if it does not exist yet (logged as a key creation).
    #[arg(long)]
    pub create_key: bool,
    /// Use this version of the domain's key (reproduces older pseudonyms).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub key_version: Option<u32>,
    /// Worker threads [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// The columns and their modes from `--columns` and `--fpe`.
pub fn targets(columns: &[String], fpe: &[String]) -> Result<Vec<Target>> {
    let mut all: Option<Alphabet> = None;
    let mut per_column: Vec<(String, Alphabet)> = Vec::new();
    for spec in fpe.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match spec.split_once('=') {
            Some((column, alphabet)) => {
                let column = column.trim();
                if !columns.iter().any(|c| c == column) {
                    bail!("--fpe names `{column}`, which is not among --columns");
                }
                per_column.push((column.to_owned(), Alphabet::parse(alphabet.trim())?));
            }
            None => all = Some(Alphabet::parse(spec)?),
        }
    }
    if all.is_some() && !per_column.is_empty() {
        bail!("--fpe takes one alphabet for every column or COL=ALPHABET pairs, not both");
    }
    let mut seen = std::collections::HashSet::new();
    columns
        .iter()
        .map(|c| {
            let c = c.trim();
            if c.is_empty() {
                bail!("--columns holds an empty name");
            }
            if !seen.insert(c) {
                bail!("--columns names `{c}` twice");
            }
            let fpe = per_column.iter().find(|(p, _)| p == c).map(|(_, a)| *a);
            let mode = match fpe.or(all) {
                Some(alphabet) => Mode::Fpe(alphabet),
                None => Mode::Hmac,
            };
            Ok(Target {
                column: c.to_owned(),
                mode,
            })
        })
        .collect()
}

/// Where the input comes from.
fn is_stdin(input: &Path) -> bool {
    input.as_os_str() == "-"
}

/// Runs `plan` over `input` (a file, or stdin for `-`) into `out` (a file written through a
/// temporary one and renamed, or stdout). `commit` runs after the table is complete and
/// before the file takes its name (the ledger record). Shared with `evident bench
/// pseudonymize`, so the benchmark measures this path.
pub fn transform(
    plan: &Plan<'_>,
    input: &Path,
    out: Option<&Path>,
    show_progress: bool,
    commit: impl FnOnce(&Counts) -> Result<()>,
) -> Result<Counts> {
    let bar = if show_progress && !is_stdin(input) && std::io::stderr().is_terminal() {
        let len = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::new(len).with_style(style)
    } else {
        ProgressBar::hidden()
    };
    let mut progress = |bytes: u64| bar.set_position(bytes);
    let run = |output: &mut dyn Write, progress: &mut dyn FnMut(u64)| -> Result<Counts> {
        let counts = if is_stdin(input) {
            plan.run(std::io::stdin(), output, progress)
        } else {
            let file = std::fs::File::open(input)
                .with_context(|| format!("opening `{}`", input.display()))?;
            plan.run(file, output, progress)
        };
        // A reader that stopped reading (`… | head`) is not a failure: main knows the io error.
        counts.map_err(|e| match e {
            PrivacyError::Io { source, .. } if source.kind() == ErrorKind::BrokenPipe => {
                anyhow::Error::from(source)
            }
            other => other.into(),
        })
    };
    let counts = match out {
        Some(out) => {
            let parent = match out.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            // Dropped (and removed) on any error below: no partial output file.
            let temp = tempfile::Builder::new()
                .prefix(".evident-pseudonymize-")
                .tempfile_in(parent)
                .with_context(|| format!("creating a temporary file in `{}`", parent.display()))?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, temp);
            let counts = run(&mut writer, &mut progress)?;
            let temp = writer
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing `{}`", out.display()))?;
            temp.as_file()
                .sync_all()
                .with_context(|| format!("writing `{}`", out.display()))?;
            commit(&counts)?;
            temp.persist(out)
                .map_err(|e| e.error)
                .with_context(|| format!("writing `{}`", out.display()))?;
            counts
        }
        None => {
            let stdout = std::io::stdout();
            let mut writer = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let counts = run(&mut writer, &mut progress)?;
            writer.flush()?;
            commit(&counts)?;
            counts
        }
    };
    bar.finish_and_clear();
    Ok(counts)
}

/// The table's format: `--format`, else the input's extension (CSV for stdin).
pub fn format_of(flag: Option<&str>, input: &Path) -> Format {
    match flag {
        Some("jsonl") => Format::JsonLines,
        Some(_) => Format::Csv,
        None if is_stdin(input) => Format::Csv,
        None => Format::from_path(input),
    }
}

/// Runs `evident pseudonymize`.
pub fn run(args: PseudonymizeArgs, quiet: bool) -> Result<()> {
    let targets = targets(&args.columns, &args.fpe)?;
    let normalization = Normalization::parse(&args.normalize)?;
    let format = format_of(args.format.as_deref(), &args.input);
    if !is_stdin(&args.input) && !args.input.is_file() {
        bail!("`{}` is not a file", args.input.display());
    }
    if let Some(out) = &args.out {
        if !is_stdin(&args.input) && same_file(&args.input, out) {
            bail!("--out would overwrite the input `{}`", args.input.display());
        }
    }
    let actor = caller::actor();
    let engine = open(&args.dir.data_dir)?;
    let keyring = engine.keyring(args.create_key)?;
    let options = OpenOptions {
        version: args.key_version,
        create: args.create_key,
    };
    let pseudonymizer = Pseudonymizer::open(&keyring, &args.domain, &options, &actor)?;
    let workers = args.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let plan = Plan {
        pseudonymizer: &pseudonymizer,
        targets,
        normalization,
        format,
        file: if is_stdin(&args.input) {
            PathBuf::from("stdin")
        } else {
            args.input.clone()
        },
        workers,
    };
    let record = |counts: &Counts| -> Result<()> {
        let record = RunRecord {
            domain: args.domain.clone(),
            key_version: pseudonymizer.version(),
            columns: plan
                .targets
                .iter()
                .map(|t| ColumnRecord {
                    name: t.column.clone(),
                    mode: t.mode.label(),
                })
                .collect(),
            normalization,
            rows: counts.rows,
            values: counts.values,
            skipped: counts.skipped,
            via: "cli",
            requested_by: actor.clone(),
        };
        engine
            .append_blocking(vec![record.event()])
            .context("recording the run in the ledger")?;
        Ok(())
    };
    let counts = transform(&plan, &args.input, args.out.as_deref(), !quiet, record)?;
    if !quiet {
        eprintln!(
            "pseudonymized {} value(s) in {} row(s) ({} empty left as is); domain `{}`, key `pseudonym.{}` version {}",
            counts.values,
            counts.rows,
            counts.skipped,
            args.domain,
            args.domain,
            pseudonymizer.version()
        );
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    fn cols(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fpe_specs_are_global_or_per_column() {
        let t = targets(&cols(&["a", "b"]), &[]).unwrap();
        assert!(t.iter().all(|t| t.mode == Mode::Hmac));
        let t = targets(&cols(&["a", "b"]), &cols(&["digits"])).unwrap();
        assert!(t.iter().all(|t| t.mode == Mode::Fpe(Alphabet::Digits)));
        let t = targets(&cols(&["a", "b"]), &cols(&["b=alnum"])).unwrap();
        assert_eq!(t[0].mode, Mode::Hmac);
        assert_eq!(t[1].mode, Mode::Fpe(Alphabet::Alnum));
        assert!(targets(&cols(&["a"]), &cols(&["c=digits"])).is_err());
        assert!(targets(&cols(&["a"]), &cols(&["digits", "a=lower"])).is_err());
        assert!(targets(&cols(&["a"]), &cols(&["hex"])).is_err());
        assert!(targets(&cols(&["a", "a"]), &[]).is_err());
    }
}
