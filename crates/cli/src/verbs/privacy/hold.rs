//! `evident privacy hold …`: legal holds — place one on subjects and datasets of the data map,
//! lift it, list them, and ask whether a subject or table is held. The holds themselves live
//! in `evident_privacy::holds`; this module turns flags into calls and holds into text or JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use evident::event::now_us;
use evident::privacy::datamap::store::MapStore;
use evident::privacy::holds::{Hold, HoldRequest};

use crate::caller;
use crate::data_dir::{open_or_create, DataDir};
use crate::time_arg::when;
use crate::verdict::VerificationFailed;

/// Legal holds: keep a case's data whatever retention and erasure say (GDPR Art. 17(3)(e),
/// litigation, investigations). A hold covers data subjects, datasets of the active data map
/// (`system` or `system.table`), or both, until it is lifted or its `--until` passes. Placing
/// and lifting are privileged and recorded in the ledger; subjects are recorded only by a
/// keyed name, never in clear. Retention purges and erasure skip what a hold covers and say
/// which hold stopped them.
///
/// Examples:
///   evident privacy hold place --case "Doe v. Clinic" --reason "litigation hold, counsel's letter of 2026-12-01" \
///       --subject patient-17 --dataset ehr.invoices
///   evident privacy hold place --case AUDIT-2026 --reason "regulator's request" --dataset crm --until 2027-06-30
///   evident privacy hold place --case "Doe v. Clinic" --reason "…" --subjects-file subjects.txt
///   evident privacy hold list [--all] [--json]
///   evident privacy hold check --subject patient-17        (exit 1 when held)
///   evident privacy hold lift hold-3f2a… --reason "case settled"
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum HoldCommand {
    Place(PlaceArgs),
    Lift(LiftArgs),
    List(ListArgs),
    Check(CheckArgs),
}

/// Place a legal hold (privileged).
#[derive(Debug, Args)]
pub struct PlaceArgs {
    /// The case it belongs to: a matter number or name.
    #[arg(long)]
    pub case: String,
    /// Why the data must be kept.
    #[arg(long)]
    pub reason: String,
    /// A data subject's id (repeat for several).
    #[arg(long = "subject", value_name = "ID")]
    pub subjects: Vec<String>,
    /// A file of subject ids, one a line (blank lines and `#` comments skipped).
    #[arg(long, value_name = "FILE")]
    pub subjects_file: Option<PathBuf>,
    /// A dataset of the active data map: `system` or `system.table` (repeat for several).
    #[arg(long = "dataset", value_name = "SYSTEM[.TABLE]")]
    pub datasets: Vec<String>,
    /// When the hold ends by itself (YYYY-MM-DD or RFC 3339; default: until lifted).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Lift a legal hold (privileged).
#[derive(Debug, Args)]
pub struct LiftArgs {
    /// The hold's id (`hold-…`, from `place` or `list`).
    pub hold_id: String,
    /// Why it no longer applies.
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub dir: DataDir,
}

/// List the holds in force (or all with --all).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Also the lifted and ended ones.
    #[arg(long)]
    pub all: bool,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Whether a subject or a dataset is held now. Exit status: 0 not held, 1 held (the holds are
/// printed), 2 the question could not be answered.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A data subject's id.
    #[arg(long, required_unless_present = "dataset")]
    pub subject: Option<String>,
    /// A table: `system.table`.
    #[arg(long, value_name = "SYSTEM.TABLE")]
    pub dataset: Option<String>,
    #[command(flatten)]
    pub dir: DataDir,
}

/// Runs one `privacy hold` verb.
pub fn run(cmd: HoldCommand) -> Result<()> {
    match cmd {
        HoldCommand::Place(args) => place(args),
        HoldCommand::Lift(args) => lift(args),
        HoldCommand::List(args) => list(args),
        HoldCommand::Check(args) => check(args),
    }
}

fn place(args: PlaceArgs) -> Result<()> {
    let mut subjects = args.subjects.clone();
    if let Some(file) = &args.subjects_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        subjects.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    let until_us = args
        .until
        .as_deref()
        .map(|t| when(t, true, "--until"))
        .transpose()?;
    let request = HoldRequest {
        case: args.case,
        reason: args.reason,
        subjects,
        datasets: args.datasets,
        until_us,
    };
    let actor = caller::privileged_actor("placing a legal hold")?;
    let map = if request.datasets.is_empty() {
        None
    } else {
        MapStore::new(&args.dir.data_dir).load_active()?
    };
    let engine = open_or_create(&args.dir.data_dir)?;
    let hold = engine.holds().place(&request, map.as_ref(), &actor)?;
    println!(
        "{} placed (ledger entry {}): case {:?}, {} subject(s), datasets [{}]{}",
        hold.hold_id,
        hold.index,
        hold.case,
        hold.subjects,
        hold.datasets.join(", "),
        hold.until
            .as_deref()
            .map(|u| format!(", until {u}"))
            .unwrap_or_default()
    );
    Ok(())
}

fn lift(args: LiftArgs) -> Result<()> {
    let actor = caller::privileged_actor("lifting a legal hold")?;
    let engine = open_or_create(&args.dir.data_dir)?;
    let hold = engine.holds().lift(&args.hold_id, &args.reason, &actor)?;
    let index = hold.lifted.as_ref().map_or(0, |l| l.index);
    println!("{} lifted (ledger entry {index})", hold.hold_id);
    Ok(())
}

fn print(out: &mut impl Write, holds: &[Hold], now: i64) -> Result<()> {
    for h in holds {
        let state = match (&h.lifted, h.in_force(now)) {
            (Some(l), _) => format!("lifted {} by {}", l.at, l.by),
            (None, false) => "ended".to_owned(),
            (None, true) => "in force".to_owned(),
        };
        writeln!(
            out,
            "{}  {}  case {:?}  {} subject(s)  datasets [{}]  placed {} by {}{}\n    reason: {}",
            h.hold_id,
            state,
            h.case,
            h.subjects,
            h.datasets.join(", "),
            h.placed_at,
            h.placed_by,
            h.until
                .as_deref()
                .map(|u| format!("  until {u}"))
                .unwrap_or_default(),
            h.reason
        )?;
    }
    Ok(())
}

fn list(args: ListArgs) -> Result<()> {
    let engine = open_or_create(&args.dir.data_dir)?;
    let now = now_us();
    let holds: Vec<Hold> = engine
        .holds()
        .all()?
        .into_iter()
        .filter(|h| args.all || h.in_force(now))
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &holds)?;
        writeln!(out)?;
    } else if holds.is_empty() {
        writeln!(
            out,
            "no legal hold {}",
            if args.all {
                "was ever placed"
            } else {
                "is in force"
            }
        )?;
    } else {
        print(&mut out, &holds, now)?;
    }
    Ok(())
}

fn check(args: CheckArgs) -> Result<()> {
    let dataset = match &args.dataset {
        Some(d) => Some(
            d.split_once('.')
                .filter(|(s, t)| !s.is_empty() && !t.is_empty())
                .ok_or_else(|| anyhow::anyhow!("--dataset takes `system.table`, not `{d}`"))?,
        ),
        None => None,
    };
    let engine = open_or_create(&args.dir.data_dir)?;
    let now = now_us();
    let holds = engine
        .holds()
        .blocking(args.subject.as_deref(), dataset, now)?;
    if holds.is_empty() {
        println!("not held");
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    print(&mut out, &holds, now)?;
    Err(VerificationFailed(format!("held by {} legal hold(s)", holds.len())).into())
}
