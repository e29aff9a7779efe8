//! `evident retention plan` and `run`: the data map's rows past their declared period,
//! deleted or anonymized as each table declares, legal holds permitting; each real run's
//! purge of a system is an `evident.privacy.retention.*` ledger event. The purge itself is
//! `evident_privacy::retention`; this module turns flags into a call and the report into text
//! or JSON.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use evident::event::{format_time, now_us};
use evident::privacy::dsr::KeyringKeys;
use evident::privacy::retention::RetentionReport;

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::time_arg::when;
use crate::verbs::privacy::load::load;

/// Retention: delete or anonymize the data map's rows past their period (GDPR Art. 5(1)(e)
/// storage limitation; HIPAA 164.316(b)(2) keeps what must be kept).
///
/// Each table of the data map has a `retention` period (`6y`, `18m`, `90d`) and, to be purged
/// by age, a `retention_from` column (a date or timestamp) the period runs from; a table
/// without one is reported as not purgeable, never guessed. A row is past its period when
/// its `retention_from` is before the cutoff (now less the period, on the calendar). What is
/// done follows the table's `erasure`: `delete_row` deletes the rows (children first, so
/// foreign keys hold), `fields` (the default) applies each field's erasure strategy and keeps
/// the row. Legal holds in force (`evident privacy hold`) win: a hold on the table (or its
/// system) skips the table, a hold on a subject skips that subject's rows; both are counted
/// and named.
///
/// `plan` is a dry run: per system and table the period, the cutoff, the rows past it, the
/// rows held back and by which holds, and what would be done. Nothing is written or logged.
/// `run` (privileged) does it, each system in one transaction (a failing system is rolled
/// back and the others still run), and appends one `evident.privacy.retention.purged` (or
/// `.failed`) event per system with the counts per table, the holds, and a SHA-256 over the
/// primary keys of the purged rows — never a value. Running it again changes nothing.
///
/// The engine's own ledger follows the map's `[[ledger]]` rules (`action = "consent.*"`,
/// `retention = "2y"`): the personal values of older entries of that action are deleted, the
/// entries themselves are kept, so `evident log verify` stays green. `--system evident` names
/// the ledger alone. While a hold on data subjects is in force, this purge waits.
///
/// Exit status: 0 done, 1 some system failed (it was left unchanged), 2 bad input (an unknown
/// system, no data map, a bad --now).
///
/// Examples:
///   evident retention plan                               # every system of the active map
///   evident retention plan --system ehr --json
///   evident retention plan --now 2027-01-01              # what would be past on that day
///   evident retention run --system ehr
///   evident retention run                                # every system; schedule it with
///                                                        # `evident serve --retention-interval 1d`
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum RetentionCommand {
    Plan(PlanArgs),
    Run(RunArgs),
}

/// What would be purged (dry run: nothing is written or logged).
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: Common,
    /// Compute the cutoffs as of this time (YYYY-MM-DD or RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// Purge the rows past their period (privileged; each system's purge is logged).
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: Common,
    /// Compute the cutoffs as of this earlier time (YYYY-MM-DD or RFC 3339) instead of now;
    /// a time in the future is refused (it would purge rows still within their period).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// What both verbs take.
#[derive(Debug, Args)]
pub struct Common {
    /// Only this system of the data map (repeat for several; default: every system).
    #[arg(long = "system", value_name = "NAME")]
    pub systems: Vec<String>,
    /// The data map file (default: the data directory's active map).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// The report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Runs one `retention` verb.
pub fn run(cmd: RetentionCommand) -> Result<()> {
    match cmd {
        RetentionCommand::Plan(a) => {
            let now = match &a.now {
                Some(t) => when(t, false, "--now")?,
                None => now_us(),
            };
            purge(&a.common, now, true)
        }
        RetentionCommand::Run(a) => {
            let real = now_us();
            let now = match &a.now {
                Some(t) => when(t, false, "--now")?,
                None => real,
            };
            if now > real {
                bail!(
                    "--now {} is in the future: a run purges only what is past its period today",
                    format_time(now)
                );
            }
            purge(&a.common, now, false)
        }
    }
}

fn purge(c: &Common, now: i64, dry_run: bool) -> Result<()> {
    let actor = if dry_run {
        caller::actor()
    } else {
        caller::privileged_actor("a retention purge")?
    };
    let engine = open(&c.dir.data_dir)?;
    let map = load(c.map.as_deref(), &c.dir.data_dir)?;
    let keyring = engine.keyring(true)?;
    let keys = KeyringKeys::new(&keyring, &actor);
    let report = engine
        .retention()
        .run(&map, &c.systems, &keys, now, dry_run, &actor)?;
    if c.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    if report.failed() {
        return Err(crate::verdict::VerificationFailed(format!(
            "retention {}: a system failed and was left unchanged",
            if dry_run { "plan" } else { "run" }
        ))
        .into());
    }
    Ok(())
}

/// The report as text, one line per table.
pub fn print(report: &RetentionReport) {
    println!(
        "retention {} as of {}",
        if report.dry_run { "plan" } else { "run" },
        report.now
    );
    for s in &report.systems {
        match (&s.purge, &s.error) {
            (Some(p), _) => {
                println!(
                    "system {}: {} row(s) {}, {} held back{}",
                    s.system,
                    p.changed,
                    if report.dry_run {
                        "would change"
                    } else {
                        "changed"
                    },
                    p.held,
                    s.ledger_index
                        .map(|i| format!(" (ledger entry {i})"))
                        .unwrap_or_default()
                );
                for t in &p.tables {
                    if t.status == "not_purgeable" {
                        println!(
                            "  {:<24} {:>6}  not purgeable: {}",
                            t.table,
                            t.period,
                            t.reason.as_deref().unwrap_or("")
                        );
                        continue;
                    }
                    println!(
                        "  {:<24} {:>6}  from {} before {}: {} past, {} held{}, {} {} ({})",
                        t.table,
                        t.period,
                        t.retention_from.as_deref().unwrap_or(""),
                        t.cutoff.as_deref().unwrap_or(""),
                        t.past,
                        t.held,
                        if t.holds.is_empty() {
                            String::new()
                        } else {
                            format!(" by {}", t.holds.join(", "))
                        },
                        t.changed,
                        match (t.action, report.dry_run) {
                            ("delete", true) => "to delete",
                            ("delete", false) => "deleted",
                            (_, true) => "to anonymize",
                            (_, false) => "anonymized",
                        },
                        t.status
                    );
                }
            }
            (None, error) => println!(
                "system {}: FAILED, nothing changed: {}{}",
                s.system,
                error.as_deref().unwrap_or(""),
                s.ledger_index
                    .map(|i| format!(" (ledger entry {i})"))
                    .unwrap_or_default()
            ),
        }
    }
    if !report.ledger.is_empty() {
        println!(
            "ledger (personal values only; entries are kept){}",
            report
                .ledger_index
                .map(|i| format!(" (ledger entry {i})"))
                .unwrap_or_default()
        );
        for l in &report.ledger {
            println!(
                "  {:<24} {:>6}  received before {}: {}",
                l.action,
                l.period,
                l.cutoff,
                match (l.status, l.values_deleted) {
                    ("held", _) => format!("held by {}", l.holds.join(", ")),
                    (_, Some(n)) => format!("{n} value(s) deleted"),
                    _ => "would delete their personal values".to_owned(),
                },
            );
        }
    }
}
