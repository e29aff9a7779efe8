//! `evident consent grant`, `withdraw`, `show`, `history` and `import`: a data subject's
//! consent per purpose (GDPR Art. 6–7), each change a ledger event, through the data
//! directory's engine.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use evident::privacy::consent::import::{ImportFormat, ImportReport};
use evident::privacy::consent::{
    notice_hash, record_json, report_json, ConsentChange, LawfulBasis,
};
use serde_json::{json, Value};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::time_arg::when;
use crate::verdict::FindingsReported;

/// The largest import file read, in bytes.
const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

/// Record and read a data subject's consent per purpose (GDPR Art. 6–7).
///
/// Each grant or withdrawal is a ledger event whose subject is an erasable personal field;
/// the current state per subject and purpose is kept indexed beside the log. Erasing the
/// subject (`evident log erase`) removes their consent records too.
///
/// Examples:
///   evident consent grant cust-42 marketing --notice-file notice-v3.txt --source web
///   evident consent withdraw cust-42 marketing --source email
///   evident consent show cust-42
///   evident consent history cust-42 marketing
///   evident consent import consents.csv
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum ConsentCommand {
    /// Record that a subject grants a purpose.
    Grant(ChangeArgs),
    /// Record that a subject withdraws a purpose (the same arguments as grant).
    Withdraw(ChangeArgs),
    /// The current state of every purpose of a subject.
    Show(ShowArgs),
    /// Every change of a subject and purpose, with inclusion proofs.
    History(HistoryArgs),
    /// Import existing consent from CSV (header row) or JSON lines. Bad rows are reported
    /// by line and field and the good ones recorded (exit 1 if any row was bad), unless
    /// --strict, which records nothing when any row is bad.
    Import(ImportArgs),
}

/// One grant or withdrawal.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The data subject's pseudonymous id.
    pub subject: String,
    /// The purpose: lowercase letters, digits and `_` (e.g. marketing).
    pub purpose: String,
    /// The lawful basis, GDPR Art. 6(1)(a)–(f).
    #[arg(long, default_value = "consent", value_parser = [
        "consent", "contract", "legal_obligation", "vital_interests", "public_task",
        "legitimate_interests"
    ])]
    pub basis: String,
    /// Where it was given or withdrawn (web, app, email, …).
    #[arg(long, default_value = "cli")]
    pub source: String,
    /// The notice text the subject saw, from a file (its sha256 hash is recorded).
    #[arg(long, value_name = "FILE", conflicts_with = "notice_hash")]
    pub notice_file: Option<PathBuf>,
    /// The notice's hash, `sha256:<hex>`.
    #[arg(long, value_name = "HASH")]
    pub notice_hash: Option<String>,
    /// When it happened (YYYY-MM-DD or RFC 3339; default now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// When a grant lapses (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
    /// Print the record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which subject to show.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The data subject's pseudonymous id.
    pub subject: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which history to show.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The data subject's pseudonymous id.
    pub subject: String,
    /// The purpose.
    pub purpose: String,
}

/// What to import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The file (`-` for stdin).
    pub file: PathBuf,
    /// csv or jsonl [default: from the file's extension, else csv].
    #[arg(long, value_parser = ["csv", "jsonl"])]
    pub format: Option<String>,
    /// Record nothing if any row is bad.
    #[arg(long)]
    pub strict: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `consent` verb.
pub fn run(cmd: ConsentCommand) -> Result<()> {
    match cmd {
        ConsentCommand::Grant(args) => change(args, true),
        ConsentCommand::Withdraw(args) => change(args, false),
        ConsentCommand::Show(args) => show(args),
        ConsentCommand::History(args) => history(args),
        ConsentCommand::Import(args) => import(args),
    }
}

fn change(args: ChangeArgs, granted: bool) -> Result<()> {
    let notice = match (&args.notice_file, &args.notice_hash) {
        (Some(file), _) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the notice `{}`", file.display()))?;
            Some(notice_hash(&text))
        }
        (None, hash) => hash.clone(),
    };
    let change = ConsentChange {
        subject: args.subject,
        purpose: args.purpose,
        basis: LawfulBasis::parse(&args.basis)?,
        source: args.source,
        notice_hash: notice,
        at_us: args
            .at
            .as_deref()
            .map(|t| when(t, false, "--at"))
            .transpose()?,
        expires_us: args
            .expires
            .as_deref()
            .map(|t| when(t, false, "--expires"))
            .transpose()?,
    };
    let engine = open(&args.dir.data_dir)?;
    let actor = caller::actor();
    let record = engine.consent().record(&change, granted, &actor)?;
    if args.json {
        println!(
            "{}",
            record_json(&record, record.in_force(evident::event::now_us()))
        );
    } else {
        println!(
            "{} `{}` at ledger index {}",
            if granted { "granted" } else { "withdrawn" },
            record.purpose,
            record.index
        );
    }
    Ok(())
}

fn show(args: ShowArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let states = engine.consent().current(&args.subject)?;
    if args.json {
        let rows: Vec<Value> = states
            .iter()
            .map(|s| record_json(&s.record, s.in_force))
            .collect();
        println!("{}", json!({ "consents": rows }));
        return Ok(());
    }
    if states.is_empty() {
        println!("no consent recorded for this subject");
    }
    for s in &states {
        let r = &s.record;
        let state = match (r.granted, s.in_force) {
            (true, true) => "granted",
            (true, false) => "expired",
            (false, _) => "withdrawn",
        };
        println!(
            "{:<24} {:<9} basis={} source={} at={} index={}",
            r.purpose,
            state,
            r.basis,
            r.source,
            evident::event::format_time(r.at_us),
            r.index
        );
    }
    Ok(())
}

fn history(args: HistoryArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let log = engine.log();
    let changes = engine
        .consent()
        .history(&log, &args.subject, &args.purpose)?;
    let rows: Vec<Value> = changes
        .iter()
        .map(|c| {
            let mut row = record_json(&c.record, c.record.in_force(evident::event::now_us()));
            row["proof"] = json!({
                "index": c.proof.index,
                "size": c.proof.size,
                "leaf": hex::encode(c.proof.leaf),
                "root": hex::encode(c.proof.root),
                "path": c.proof.proof.iter().map(hex::encode).collect::<Vec<_>>(),
            });
            row
        })
        .collect();
    println!("{}", json!({ "history": rows }));
    Ok(())
}

fn import(args: ImportArgs) -> Result<()> {
    let format = match args.format.as_deref() {
        Some(f) => ImportFormat::parse(f)?,
        None => match args.file.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson" | "json") => ImportFormat::JsonLines,
            _ => ImportFormat::Csv,
        },
    };
    let mut bytes = Vec::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_IMPORT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
    } else {
        std::fs::File::open(&args.file)
            .and_then(|f| f.take(MAX_IMPORT_BYTES + 1).read_to_end(&mut bytes))
            .with_context(|| format!("reading `{}`", args.file.display()))?;
    }
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        bail!("the file is larger than {} MiB", MAX_IMPORT_BYTES >> 20);
    }
    let engine = open(&args.dir.data_dir)?;
    let actor = caller::actor();
    let report = engine
        .consent()
        .import(&bytes, format, args.strict, &actor)
        .with_context(|| format!("importing `{}`", args.file.display()))?;
    print_report(&report, args.json);
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(FindingsReported(report.errors.len()).into())
    }
}

fn print_report(report: &ImportReport, json: bool) {
    if json {
        println!("{}", report_json(report));
        return;
    }
    for e in &report.errors {
        match &e.field {
            Some(field) => eprintln!("line {}: {field}: {}", e.line, e.message),
            None => eprintln!("line {}: {}", e.line, e.message),
        }
    }
    let refused = if report.refused {
        " (strict: nothing recorded)"
    } else {
        ""
    };
    println!(
        "{} rows, {} recorded, {} refused{refused}",
        report.rows,
        report.recorded,
        report.errors.len()
    );
}
