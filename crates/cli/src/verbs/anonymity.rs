//! `evident anonymity check` and `evident anonymity safe-harbor`: file tools over a CSV or
//! JSON-lines table (no data directory, nothing recorded). The measures, the generalization
//! and the Safe Harbor mapping live in `evident_privacy::anonymity`; this module turns flags
//! into a request and the report into text, JSON and an exit status.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use evident::privacy::anonymity::{
    self, CheckReport, Format, Hierarchy, Request, Table, Thresholds,
};
use evident_detect::Detector;

use crate::verdict::FindingsReported;

/// Check a table before release: k-anonymity, l-diversity, t-closeness, HIPAA Safe Harbor.
#[derive(Debug, Subcommand)]
pub enum AnonymityCommand {
    // Boxed: the check's flags outweigh the other verb's many times over.
    Check(Box<CheckArgs>),
    SafeHarbor(SafeHarborArgs),
}

/// Measure how anonymous a table is, and optionally generalize it to a target k.
///
/// Rows are grouped into equivalence classes by the quasi-identifiers (--quasi); each class
/// is measured: its size (k-anonymity), its distinct sensitive values (distinct l-diversity),
/// exp of their entropy (entropy l-diversity) and the Earth Mover's Distance of their
/// distribution from the whole table's (t-closeness: ordered distance when the sensitive
/// column is --numeric, equal distance otherwise). With --target-k the quasi-identifiers are
/// generalized (Mondrian: numeric ones to ranges, others to sets of values or to their
/// ancestor in a --hierarchy), the result is
/// written to -o and checked, and the information lost is reported.
///
/// Exit status: 0 every threshold asked for holds (or none was asked), 1 some class breaks
/// one (the worst are listed), 2 bad input (missing column, empty file, ragged row, a
/// non-number in a --numeric column).
///
/// Examples:
///   evident anonymity check patients.csv --quasi age,zip,sex --sensitive diagnosis --k 5 --l 2
///   evident anonymity check patients.csv --quasi age,zip,sex --numeric age,zip \
///       --sensitive diagnosis --target-k 5 -o release.csv
///   evident anonymity check visits.jsonl --quasi age,zip --sensitive charge --numeric charge --t 0.2 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CheckArgs {
    /// The table: CSV with a header row, or JSON lines (one flat object a line).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The quasi-identifier columns, comma-separated.
    #[arg(long, value_name = "COLS", value_delimiter = ',', required = true)]
    pub quasi: Vec<String>,
    /// The sensitive column (needed for --l, --entropy-l and --t).
    #[arg(long, value_name = "COL")]
    pub sensitive: Option<String>,
    /// Columns holding numbers: numeric quasi-identifiers generalize to ranges; a numeric
    /// sensitive column is compared by ordered distance for t-closeness.
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub numeric: Vec<String>,
    /// Require every class to have at least N rows.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub k: Option<u64>,
    /// Require every class to have at least N distinct sensitive values.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub l: Option<u64>,
    /// Require every class's sensitive values to have entropy at least ln(X).
    #[arg(long, value_name = "X")]
    pub entropy_l: Option<f64>,
    /// Require every class to be within Earth Mover's Distance X (0 to 1) of the table.
    #[arg(long, value_name = "X")]
    pub t: Option<f64>,
    /// Generalize the quasi-identifiers until every class has N rows, then check the result.
    #[arg(long, value_name = "N", requires = "output", value_parser = clap::value_parser!(u64).range(1..))]
    pub target_k: Option<u64>,
    /// A generalization hierarchy for a categorical quasi-identifier, used by --target-k: a
    /// CSV file without header, one row per value from the value up to the top
    /// (`13053,1305*,130**,*`). Classes then publish the lowest common ancestor. Repeatable.
    #[arg(long, value_name = "COL=FILE")]
    pub hierarchy: Vec<String>,
    /// Where --target-k writes the generalized table.
    #[arg(long, short, value_name = "OUT", requires = "target_k")]
    pub output: Option<PathBuf>,
    /// The input's format (default: from the extension; .jsonl, .ndjson, .json are JSON lines).
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// The output's format (default: the input's).
    #[arg(long, value_enum)]
    pub output_format: Option<FileFormat>,
    /// Violating classes to list, in text and in --json (the rest are counted).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub show: usize,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// List which of HIPAA Safe Harbor's eighteen identifier types a table still holds.
///
/// Every cell is scanned by the detector (as `evident scan` does), with its column name as
/// the label. Identifier types the detector cannot recognize (names, addresses and ZIP
/// codes, most dates, vehicle and device serials, URLs, biometrics, photographs) are listed
/// as not checkable, with the columns whose names suggest them: review those by hand.
///
/// Exit status: 0 none of the checkable types found, 1 some found, 2 bad input.
///
/// Example:
///   evident anonymity safe-harbor release.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SafeHarborArgs {
    /// The table: CSV with a header row, or JSON lines.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The input's format (default: from the extension).
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// A table file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// comma-separated values with a header row
    Csv,
    /// JSON lines
    Jsonl,
}

fn format_of(path: &Path, flag: Option<FileFormat>) -> Format {
    match flag {
        Some(FileFormat::Csv) => Format::Csv,
        Some(FileFormat::Jsonl) => Format::JsonLines,
        None => Format::from_path(path),
    }
}

/// Runs one `anonymity` verb.
pub fn run(cmd: AnonymityCommand) -> Result<()> {
    match cmd {
        AnonymityCommand::Check(args) => check(*args),
        AnonymityCommand::SafeHarbor(args) => safe_harbor(args),
    }
}

fn check(args: CheckArgs) -> Result<()> {
    if let Some(t) = args.t {
        if !(0.0..=1.0).contains(&t) {
            bail!("--t must be between 0 and 1, not {t}");
        }
    }
    if let Some(l) = args.entropy_l {
        if l < 1.0 || !l.is_finite() {
            bail!("--entropy-l must be at least 1, not {l}");
        }
    }
    let input_format = format_of(&args.file, args.format);
    let table = Table::read(&args.file, input_format)?;
    let request = Request {
        quasi: args.quasi.iter().map(|q| q.trim().to_owned()).collect(),
        numeric: args.numeric.iter().map(|q| q.trim().to_owned()).collect(),
        sensitive: args.sensitive.clone(),
        thresholds: Thresholds {
            k: args.k,
            l: args.l,
            entropy_l: args.entropy_l,
            t: args.t,
        },
        target_k: args.target_k,
        hierarchies: args
            .hierarchy
            .iter()
            .map(|spec| {
                let Some((column, file)) = spec.split_once('=') else {
                    bail!("--hierarchy takes COLUMN=FILE, not `{spec}`");
                };
                Ok((column.trim().to_owned(), Hierarchy::read(Path::new(file))?))
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let outcome = anonymity::check(&table, &request)?;
    if let (Some(generalized), Some(out)) = (&outcome.generalized, &args.output) {
        let output_format = match args.output_format {
            Some(_) => format_of(out, args.output_format),
            None => input_format,
        };
        generalized.write(out, output_format)?;
    }
    let mut report = outcome.report;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        report.violations.truncate(args.show);
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        print_check(&mut stdout, &report, args.output.as_deref(), args.show)?;
    }
    stdout.flush()?;
    if report.passed() {
        Ok(())
    } else {
        Err(FindingsReported(report.violations_total as usize).into())
    }
}

fn print_check(
    out: &mut impl Write,
    report: &CheckReport,
    written: Option<&Path>,
    show: usize,
) -> Result<()> {
    let m = &report.measures;
    if let Some(g) = &report.generalization {
        writeln!(
            out,
            "{}: {} rows; before generalization k = {}{} in {} classes",
            report.file,
            m.rows,
            g.before.k,
            g.before
                .distinct_l
                .map(|l| format!(", l = {l}"))
                .unwrap_or_default(),
            g.before.classes
        )?;
        writeln!(
            out,
            "generalized to k ≥ {} (Mondrian){}: information loss NCP {:.4} (0 none, 1 all), \
             discernibility {}, average class size {:.2}·k",
            g.target_k,
            written
                .map(|p| format!(", written to {}", p.display()))
                .unwrap_or_default(),
            g.loss.ncp,
            g.loss.discernibility,
            g.loss.average_class_size_ratio
        )?;
    } else {
        writeln!(out, "{}: {} rows", report.file, m.rows)?;
    }
    writeln!(
        out,
        "quasi-identifiers {}: {} equivalence classes",
        report.quasi.join(", "),
        m.classes
    )?;
    let verdict = |asked: bool, holds: bool| match (asked, holds) {
        (false, _) => "",
        (true, true) => "  ok",
        (true, false) => "  FAILS",
    };
    let broken = |name: &'static str| report.violations.iter().any(|v| v.breaks.contains(&name));
    let t = report.thresholds;
    writeln!(
        out,
        "  k-anonymity          k = {}{}{}",
        m.k,
        t.k.map(|k| format!(" (required {k})")).unwrap_or_default(),
        verdict(t.k.is_some(), !broken("k"))
    )?;
    if let (Some(sensitive), Some(l), Some(el), Some(tc)) =
        (&report.sensitive, m.distinct_l, m.entropy_l, m.t)
    {
        writeln!(out, "sensitive attribute {sensitive}:")?;
        writeln!(
            out,
            "  distinct l-diversity l = {l}{}{}",
            t.l.map(|l| format!(" (required {l})")).unwrap_or_default(),
            verdict(t.l.is_some(), !broken("l"))
        )?;
        writeln!(
            out,
            "  entropy l-diversity  l = {el:.4}{}{}",
            t.entropy_l
                .map(|l| format!(" (required {l})"))
                .unwrap_or_default(),
            verdict(t.entropy_l.is_some(), !broken("entropy_l"))
        )?;
        let distance = match m.distance {
            Some(anonymity::Distance::Ordered) => "ordered distance",
            _ => "equal distance",
        };
        writeln!(
            out,
            "  t-closeness          t = {tc:.4} ({distance}){}{}",
            t.t.map(|t| format!(" (required ≤ {t})"))
                .unwrap_or_default(),
            verdict(t.t.is_some(), !broken("t"))
        )?;
    }
    if report.passed() {
        return Ok(());
    }
    writeln!(
        out,
        "{} equivalence classes break a threshold:",
        report.violations_total
    )?;
    for v in report.violations.iter().take(show) {
        let values: Vec<String> = v
            .quasi
            .iter()
            .map(|(c, val)| format!("{c}={val}"))
            .collect();
        write!(
            out,
            "  line {}: {}  size {}",
            v.first_line,
            values.join(" "),
            v.measure.size
        )?;
        if report.sensitive.is_some() {
            write!(
                out,
                ", distinct {}, entropy l {:.3}, t {:.3}",
                v.measure.distinct, v.measure.entropy_l, v.measure.t
            )?;
        }
        writeln!(out, "  (breaks {})", v.breaks.join(", "))?;
    }
    let listed = report.violations.len().min(show) as u64;
    if report.violations_total > listed {
        writeln!(out, "  … and {} more", report.violations_total - listed)?;
    }
    Ok(())
}

fn safe_harbor(args: SafeHarborArgs) -> Result<()> {
    let table = Table::read(&args.file, format_of(&args.file, args.format))?;
    let detector = Detector::builtin()?;
    let report = anonymity::safe_harbor::check(&table, &detector)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        writeln!(
            stdout,
            "{}: {} rows, {} cells scanned for HIPAA Safe Harbor's 18 identifier types",
            args.file.display(),
            report.rows,
            report.cells
        )?;
        for c in &report.categories {
            let status = match c.status {
                "present" => "PRESENT",
                "absent" => "absent",
                "not_found" => "none found (partly checked)",
                _ => "not checkable",
            };
            write!(stdout, "  {:>2}. {:<27} {}", c.number, status, c.name)?;
            if c.cells > 0 {
                write!(
                    stdout,
                    ": {} cells in {} (first on line {})",
                    c.cells,
                    c.columns.join(", "),
                    c.first_line.unwrap_or(0)
                )?;
            }
            writeln!(stdout)?;
            if c.status != "present" && c.status != "absent" && !c.note.is_empty() {
                writeln!(stdout, "      {}", c.note)?;
            }
            if c.status != "present" && !c.suggested_by_column_name.is_empty() {
                writeln!(
                    stdout,
                    "      review by hand: column name suggests it: {}",
                    c.suggested_by_column_name.join(", ")
                )?;
            }
        }
    }
    stdout.flush()?;
    let present = report.present().count();
    if present == 0 {
        Ok(())
    } else {
        Err(FindingsReported(present).into())
    }
}
