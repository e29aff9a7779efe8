//! `evident privacy map scan`: introspect a system's database, propose categories and
//! joins for what the map does not cover, report drift; print them as a table, JSON or a
//! TOML fragment, and merge them into the map file only when confirmed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use evident::privacy::datamap::{introspect, scan, write};
use evident_detect::Detector;

use crate::data_dir::DataDir;

/// Propose fideslang categories and joins for a system's unmapped columns.
///
/// Reads the schema of the system's database (tables, columns, types, primary and foreign
/// keys), samples up to --sample non-null values of every column the map does not list,
/// and runs them through the detector and through column-name rules. Each proposal has a
/// confidence and its evidence (`detector: email 187/200`, `name: dob`); joins come from
/// foreign keys leading to the identity table. Mapped tables and columns the database lacks,
/// and changed types, are reported as drift. Sampled values are never printed.
///
/// The map is never changed unless --write is given, and then only after a confirmation at
/// the terminal (or --yes); the merged map is validated before it is written.
///
/// Examples:
///   evident privacy map scan --system ehr --map datamap.toml
///   evident privacy map scan --system ehr --map datamap.toml --toml
///   evident privacy map scan --system ehr --map datamap.toml --write
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ScanArgs {
    /// The system to scan, as named in the map.
    #[arg(long, value_name = "NAME")]
    pub system: String,
    /// The map file (default: the active map of --data-dir).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Values sampled per column at most.
    #[arg(long, value_name = "N", default_value_t = scan::DEFAULT_SAMPLE as u32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sample: u32,
    /// Print the report as one JSON object.
    #[arg(long, conflicts_with = "toml")]
    pub json: bool,
    /// Print the proposals as a TOML fragment of the map.
    #[arg(long)]
    pub toml: bool,
    /// Merge the proposals into the --map file (asks first).
    #[arg(long, requires = "map")]
    pub write: bool,
    /// With --write: do not ask.
    #[arg(long, requires = "write")]
    pub yes: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Runs `privacy map scan`.
pub fn run(args: ScanArgs) -> Result<()> {
    if args.write && !args.yes && !std::io::stdin().is_terminal() {
        bail!("--write changes the map only after a confirmation at a terminal; there is none (pass --yes to merge without asking)");
    }
    let map = super::load::load(args.map.as_deref(), &args.dir.data_dir)?;
    let Some(system) = map.system(&args.system) else {
        let names: Vec<&str> = map.systems.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "the map has no system `{}` (it has {})",
            args.system,
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
    };
    let mut source = introspect::open(system)?;
    let detector = Detector::builtin()?;
    let report = scan::scan(system, source.as_mut(), &detector, args.sample as usize)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if args.toml {
        write!(out, "{}", write::fragment(system, &report))?;
    } else {
        print_report(&mut out, &report)?;
    }
    out.flush()?;
    drop(out);
    if args.write {
        let Some(path) = &args.map else {
            bail!("--write needs --map FILE");
        };
        let nothing = report.proposals.is_empty() && report.joins.is_empty();
        if nothing {
            eprintln!("nothing to merge into {}", path.display());
            return Ok(());
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let (merged, _) = write::merge(path, &text, system, &report).context(
            "the map with the proposals merged would not be valid; merge by hand from --toml",
        )?;
        if !args.yes && !confirm(path)? {
            bail!("not merged: {} is unchanged", path.display());
        }
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, &merged).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
        eprintln!(
            "merged {} proposed field(s) and {} table(s) into {}; review it, then `evident privacy map apply {}`",
            report.proposals.len(),
            report.joins.len() + usize::from(report.identity.as_ref().is_some_and(|i| !i.mapped)),
            path.display(),
            path.display()
        );
    }
    Ok(())
}

fn confirm(path: &std::path::Path) -> Result<bool> {
    eprint!("merge these proposals into {}? [y/N] ", path.display());
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn print_report(out: &mut impl Write, r: &scan::ScanReport) -> Result<()> {
    writeln!(
        out,
        "system {}: {} tables, {} columns; {} columns not in the map sampled (up to {} values each)",
        r.system, r.tables, r.columns, r.columns_sampled, r.sample
    )?;
    match &r.identity {
        Some(i) if i.mapped => writeln!(out, "identity table: {}.{} (mapped)", i.table, i.column)?,
        Some(i) => writeln!(out, "identity table: {}.{} (proposed)", i.table, i.column)?,
        None => writeln!(
            out,
            "identity table: none found (no table with personal data that others refer to)"
        )?,
    }
    if r.proposals.is_empty() {
        writeln!(out, "\nno unmapped column looks personal")?;
    } else {
        writeln!(out, "\nproposed categories:")?;
        writeln!(
            out,
            "  {:<32} {:<52} {:>5}  evidence",
            "column", "category", "conf"
        )?;
        for p in &r.proposals {
            writeln!(
                out,
                "  {:<32} {:<52} {:>5.2}  {}{}",
                format!("{}.{}", p.table, p.column),
                p.category,
                p.confidence,
                p.evidence.join(", "),
                if p.table_mapped {
                    ""
                } else {
                    "  (table not in the map)"
                }
            )?;
        }
    }
    if !r.joins.is_empty() {
        writeln!(out, "\nproposed joins:")?;
        for j in &r.joins {
            writeln!(
                out,
                "  {:<24} join = \"{}\"  (path {})",
                j.table,
                j.join,
                j.path.join(" -> ")
            )?;
        }
    }
    for t in &r.unreachable {
        writeln!(out, "\ntable {t} holds personal data but no foreign key leads to the identity table: map it by hand")?;
    }
    if r.drift.is_empty() {
        writeln!(
            out,
            "\nno drift: every mapped table and column is in the database"
        )?;
    } else {
        writeln!(out, "\ndrift:")?;
        for d in &r.drift {
            match &d.column {
                Some(c) => writeln!(out, "  {}.{}: {}", d.table, c, d.message)?,
                None => writeln!(out, "  {}: {}", d.table, d.message)?,
            }
        }
    }
    Ok(())
}
