//! `evident privacy …`: the privacy data map (`privacy map check`, `show`, `apply`,
//! `history`, `scan`), the record of processing (`privacy ropa`) and legal holds
//! (`privacy hold`). The map's format, validation, storage and the scan live in
//! `evident_privacy::datamap`; this module turns flags into calls and reports into text,
//! JSON and exit codes. `scan` has a module of its own.

mod hold;
pub mod load;
mod ropa;
mod scan;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use evident::privacy::datamap::{self, store::MapStore, Erasure, Link};

use crate::caller;
use crate::data_dir::{open_or_create, DataDir};

use self::load::{invalid, load};

/// Privacy: the data map of the application's personal data, the record of processing
/// generated from it, and legal holds.
#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    #[command(subcommand)]
    Map(MapCommand),
    Ropa(ropa::RopaArgs),
    #[command(subcommand)]
    Hold(hold::HoldCommand),
}

/// The data map: which systems, tables and columns hold personal data, of which fideslang
/// categories, how each table joins to the data subject, why and how long it is kept, and
/// what erasure does to each column. See docs/privacy.md, "Data map".
///
/// Examples:
///   evident privacy map check datamap.toml
///   evident privacy map apply datamap.toml
///   evident privacy map show
///   evident privacy map scan --system ehr --map datamap.toml --toml
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum MapCommand {
    Check(CheckArgs),
    Show(ShowArgs),
    Apply(ApplyArgs),
    History(HistoryArgs),
    Scan(scan::ScanArgs),
}

/// Validate a data map. Exit status: 0 valid, 1 invalid (each problem printed as
/// FILE:LINE:COLUMN: message), 2 the file could not be read.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The map file (default: the active map of --data-dir).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Summarize a data map: systems, tables with their links, categories and erasure strategies.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The map file (default: the active map of --data-dir).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Print the validated map as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Validate a map file and make it the active map of the data directory: kept as a new
/// version, the activation recorded in the ledger with the map's SHA-256 (privileged).
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The map file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Validate only; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

/// List the applied versions of the data map.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Runs one `privacy` verb.
pub fn run(cmd: PrivacyCommand) -> Result<()> {
    match cmd {
        PrivacyCommand::Map(MapCommand::Check(args)) => check(args),
        PrivacyCommand::Map(MapCommand::Show(args)) => show(args),
        PrivacyCommand::Map(MapCommand::Apply(args)) => apply(args),
        PrivacyCommand::Map(MapCommand::History(args)) => history(args),
        PrivacyCommand::Map(MapCommand::Scan(args)) => scan::run(args),
        PrivacyCommand::Ropa(args) => ropa::run(args),
        PrivacyCommand::Hold(cmd) => hold::run(cmd),
    }
}

fn check(args: CheckArgs) -> Result<()> {
    let map = load(args.file.as_deref(), &args.dir.data_dir)?;
    let tables: usize = map.systems.iter().map(|s| s.tables.len()).sum();
    let fields: usize = map
        .systems
        .iter()
        .flat_map(|s| &s.tables)
        .map(|t| t.fields.len())
        .sum();
    println!(
        "{}: valid: {} system(s), {tables} table(s), {fields} field(s) ({})",
        map.file.display(),
        map.systems.len(),
        map.hash
    );
    Ok(())
}

fn strategy(e: &Erasure) -> String {
    match e {
        Erasure::Null => "null".into(),
        Erasure::Fixed { value } => format!("fixed {value}"),
        Erasure::KeyedHash { key } => format!("keyed_hash (key {key})"),
        Erasure::Random => "random".into(),
        Erasure::EncryptThenShred => "encrypt_then_shred".into(),
        Erasure::Keep { .. } => "keep".into(),
    }
}

fn show(args: ShowArgs) -> Result<()> {
    let map = load(args.map.as_deref(), &args.dir.data_dir)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &map)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{} ({})", map.file.display(), map.hash)?;
    for s in &map.systems {
        let connection = match &s.connection {
            datamap::Connection::Sqlite { path } => format!("sqlite {}", path.display()),
            datamap::Connection::Postgres {
                url_env: Some(var),
                schema,
                ..
            } => {
                format!("postgres (URL in ${var}), schema {schema}")
            }
            datamap::Connection::Postgres { schema, .. } => format!("postgres, schema {schema}"),
        };
        writeln!(out, "\nsystem {}: {connection}", s.name)?;
        for t in &s.tables {
            let link = match &t.link {
                Link::Identity { column } => format!("identity table (subject id `{column}`)"),
                Link::Join {
                    column,
                    parent,
                    parent_column,
                } => {
                    format!(
                        "{column} -> {parent}.{parent_column}  (path {})",
                        t.path.join(" -> ")
                    )
                }
            };
            writeln!(out, "  table {}: {link}", t.name)?;
            writeln!(
                out,
                "    purpose {:?}, lawful basis {}, retention {}{}, erasure {}",
                t.purpose,
                t.lawful_basis.name(),
                t.retention,
                t.retention_from
                    .as_ref()
                    .map(|c| format!(" from `{c}`"))
                    .unwrap_or_default(),
                match t.erasure {
                    datamap::RowErasure::Fields => "per field",
                    datamap::RowErasure::DeleteRow => "deletes the row",
                }
            )?;
            for f in &t.fields {
                writeln!(
                    out,
                    "    {:<24} {:<50} {}{}",
                    f.name,
                    f.categories.join(", "),
                    strategy(&f.erasure),
                    if f.export { "" } else { "  (not exported)" }
                )?;
            }
        }
    }
    if !map.ledger.is_empty() {
        writeln!(
            out,
            "\nledger: personal values kept (entries are kept whole)"
        )?;
        for l in &map.ledger {
            writeln!(out, "  {:<24} {}", l.action, l.retention)?;
        }
    }
    let mut categories: Vec<&str> = map
        .systems
        .iter()
        .flat_map(|s| &s.tables)
        .flat_map(|t| &t.fields)
        .flat_map(|f| f.categories.iter().map(String::as_str))
        .collect();
    categories.sort_unstable();
    categories.dedup();
    writeln!(out, "\ncategories: {}", categories.join(", "))?;
    Ok(())
}

fn apply(args: ApplyArgs) -> Result<()> {
    let text = datamap::read(&args.file).map_err(invalid)?;
    let map = datamap::parse(&args.file, &text).map_err(invalid)?;
    if args.dry_run {
        println!(
            "{}: valid ({}); not applied (--dry-run)",
            args.file.display(),
            map.hash
        );
        return Ok(());
    }
    let actor = caller::privileged_actor("applying a data map")?;
    let engine = open_or_create(&args.dir.data_dir)?;
    let store = MapStore::new(&args.dir.data_dir);
    let staged = store.stage(&text)?;
    if !staged.changed {
        println!(
            "unchanged: version {} already has this content ({})",
            staged.version.version, staged.version.hash
        );
        return Ok(());
    }
    // Recorded first: a map whose activation is not in the ledger never becomes active.
    engine.append_blocking(vec![datamap::store::applied_event(&actor, &staged, &map)])?;
    store.activate(&staged)?;
    println!(
        "data map version {} is active ({}); the change is in the ledger",
        staged.version.version, staged.version.hash
    );
    Ok(())
}

fn history(args: HistoryArgs) -> Result<()> {
    let store = MapStore::new(&args.dir.data_dir);
    let active = store.active()?.map(|a| a.version);
    let versions = store.versions()?;
    if versions.is_empty() && !args.json {
        println!("no data map was ever applied; `evident privacy map apply FILE`");
    }
    for v in versions {
        let is_active = Some(v.version) == active;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"version": v.version, "hash": v.hash, "active": is_active})
            );
        } else {
            println!(
                "{} {:>4}  {}",
                if is_active { "*" } else { " " },
                v.version,
                v.hash
            );
        }
    }
    Ok(())
}
