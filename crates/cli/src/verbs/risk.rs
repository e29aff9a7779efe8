//! `evident risk …`: the risk register (HIPAA 164.308(a)(1)(ii)(A–B), SOC 2 CC3) — add,
//! update and close risks, list and show them with their residual risk computed from the
//! linked controls' live status, export the register (CSV, JSON) and write the
//! risk-analysis report (Markdown).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use evident::controls::registers::risk::{NewRisk, Risk, RiskChange};
use evident::controls::registers::risk_export;
use evident::event::now_us;

use crate::caller;
use crate::data_dir::{open, DataDir};

/// The risk register: risks, their treatment, and residual risk from live control status.
///
/// Each risk has an asset, a threat, a likelihood and an impact (1–5), an owner, a treatment
/// (mitigate, accept, transfer, avoid) and the catalog's controls that treat it. Inherent
/// risk is likelihood × impact. Residual risk is recomputed every time the register is
/// read: each linked control that is effective now (its check passes, is not overdue, and
/// any evidence it needs is current) lowers the likelihood one step, down to 1; a failing,
/// erring, overdue or never-checked control lowers nothing. Every add, update and close is
/// a `controls.risk.*` ledger event; the register is read back from them.
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:

  evident risk add --title \"Stolen laptop exposes PHI\" --asset laptops --threat theft \\
      --likelihood 3 --impact 4 --owner it-lead --treatment mitigate \\
      --control EV-CRY-01 --control EV-AC-01
  evident risk list
  evident risk update R-001 --likelihood 2 --reason \"full-disk encryption rolled out\"
  evident risk report -o risk-analysis.md
  evident risk export --format csv -o risks.csv
  evident risk close R-001 --reason \"laptops retired\"")]
pub enum RiskCommand {
    Add(AddArgs),
    Update(UpdateArgs),
    Close(CloseArgs),
    List(ListArgs),
    Show(ShowArgs),
    Export(ExportArgs),
    Report(ReportArgs),
}

/// Add a risk to the register (one `controls.risk.added` event).
///
/// Every linked control must be in the catalog in force (`evident controls list`); an
/// unknown control, a likelihood or impact outside 1–5 or an unknown treatment is refused
/// (exit 2) and nothing is stored.
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident risk add --title \"Card data in application logs\" --asset payments-api \\
      --threat \"a developer logs a request body\" --likelihood 4 --impact 5 \\
      --owner payments-lead --treatment mitigate --control EV-LOG-03")]
pub struct AddArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The risk's id (default: the next R-NNN).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// A short title.
    #[arg(long)]
    title: String,
    /// The asset at risk (a system, a data set, a site).
    #[arg(long)]
    asset: String,
    /// The threat (what could happen).
    #[arg(long)]
    threat: String,
    /// 1 (rare) to 5 (almost certain).
    #[arg(long, allow_negative_numbers = true, value_name = "1-5")]
    likelihood: i64,
    /// 1 (negligible) to 5 (severe).
    #[arg(long, allow_negative_numbers = true, value_name = "1-5")]
    impact: i64,
    /// Who owns the risk.
    #[arg(long)]
    owner: String,
    /// mitigate, accept, transfer or avoid.
    #[arg(long, value_name = "TREATMENT")]
    treatment: String,
    /// A control of the catalog that treats it (repeat for several).
    #[arg(long = "control", value_name = "CONTROL_ID")]
    controls: Vec<String>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Change an open risk's fields: only those given change (one `controls.risk.updated`
/// event holding them).
#[derive(Debug, Args)]
#[command(after_help = "Examples:

  evident risk update R-002 --impact 3 --reason \"card data now tokenized at the edge\"
  evident risk update R-002 --control EV-LOG-03 --control EV-CRY-02   # replaces the list
  evident risk update R-002 --no-controls --treatment accept")]
pub struct UpdateArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The risk's id.
    id: String,
    /// A new title.
    #[arg(long)]
    title: Option<String>,
    /// A new asset.
    #[arg(long)]
    asset: Option<String>,
    /// A new threat.
    #[arg(long)]
    threat: Option<String>,
    /// A new likelihood, 1–5.
    #[arg(long, allow_negative_numbers = true, value_name = "1-5")]
    likelihood: Option<i64>,
    /// A new impact, 1–5.
    #[arg(long, allow_negative_numbers = true, value_name = "1-5")]
    impact: Option<i64>,
    /// A new owner.
    #[arg(long)]
    owner: Option<String>,
    /// A new treatment: mitigate, accept, transfer or avoid.
    #[arg(long, value_name = "TREATMENT")]
    treatment: Option<String>,
    /// The linked controls, replacing the old list (repeat for several).
    #[arg(
        long = "control",
        value_name = "CONTROL_ID",
        conflicts_with = "no_controls"
    )]
    controls: Vec<String>,
    /// Unlink every control.
    #[arg(long)]
    no_controls: bool,
    /// Why it changes (kept in the event).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Close an open risk, with a reason (one `controls.risk.closed` event).
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident risk close R-003 --reason \"the legacy FTP server was decommissioned\"")]
pub struct CloseArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The risk's id.
    id: String,
    /// Why it is closed.
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// List the open risks (with --all, the closed ones too), highest residual first.
#[derive(Debug, Args)]
#[command(after_help = "Examples:

  evident risk list
  evident risk list --all --json | jq -r 'select(.residual.rating == \"critical\") | .id'")]
pub struct ListArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Closed risks too.
    #[arg(long)]
    all: bool,
    /// JSON (one object per risk) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Show one risk: its fields, its scores, how each linked control stands and its events.
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident risk show R-001")]
pub struct ShowArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The risk's id.
    id: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// one row per risk, for a spreadsheet (formula-like cells are defused with `'`)
    Csv,
    /// the register as a JSON array, as `GET /v1/risks` answers it
    Json,
}

/// Export the whole register (open and closed risks), residual scores as of now.
#[derive(Debug, Args)]
#[command(after_help = "Examples:

  evident risk export --format csv -o risks.csv
  evident risk export --format json > risks.json")]
pub struct ExportArgs {
    #[command(flatten)]
    dir: DataDir,
    /// csv or json.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Write the risk-analysis report (Markdown): heat maps of inherent and residual risk,
/// open risks by residual score, and the linked controls that are not effective now.
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident risk report -o risk-analysis-2026-q3.md")]
pub struct ReportArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(cmd: RiskCommand) -> Result<()> {
    match cmd {
        RiskCommand::Add(a) => add(a),
        RiskCommand::Update(a) => update(a),
        RiskCommand::Close(a) => close(a),
        RiskCommand::List(a) => list(a),
        RiskCommand::Show(a) => show(a),
        RiskCommand::Export(a) => export(a),
        RiskCommand::Report(a) => report(a),
    }
}

fn add(a: AddArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("recording a risk")?;
    let risk = engine.controls().add_risk(
        &NewRisk {
            id: a.id,
            title: a.title,
            asset: a.asset,
            threat: a.threat,
            likelihood: a.likelihood,
            impact: a.impact,
            owner: a.owner,
            treatment: a.treatment,
            controls: a.controls,
        },
        &actor,
        now_us(),
    )?;
    print_risk(&risk, a.json)
}

fn update(a: UpdateArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("changing a risk")?;
    let controls = if a.no_controls {
        Some(Vec::new())
    } else if a.controls.is_empty() {
        None
    } else {
        Some(a.controls)
    };
    let risk = engine.controls().update_risk(
        &a.id,
        &RiskChange {
            title: a.title,
            asset: a.asset,
            threat: a.threat,
            likelihood: a.likelihood,
            impact: a.impact,
            owner: a.owner,
            treatment: a.treatment,
            controls,
            reason: a.reason,
        },
        &actor,
        now_us(),
    )?;
    print_risk(&risk, a.json)
}

fn close(a: CloseArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("closing a risk")?;
    let risk = engine
        .controls()
        .close_risk(&a.id, &a.reason, &actor, now_us())?;
    print_risk(&risk, a.json)
}

fn list(a: ListArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let mut risks: Vec<Risk> = engine
        .controls()
        .risks(now_us())?
        .into_iter()
        .filter(|r| a.all || r.is_open())
        .collect();
    risks.sort_by(|x, y| {
        y.residual
            .score
            .cmp(&x.residual.score)
            .then(x.id.cmp(&y.id))
    });
    if a.json {
        for r in &risks {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    if risks.is_empty() {
        println!("no risks (add one with `evident risk add`)");
        return Ok(());
    }
    println!(
        "{:<10} {:<8} {:<18} {:<18} {:<9} {:<12} title",
        "id", "status", "inherent", "residual", "treatment", "owner"
    );
    for r in &risks {
        println!(
            "{:<10} {:<8} {:<18} {:<18} {:<9} {:<12} {}",
            r.id,
            r.status,
            format!("{} {}", r.inherent.score, r.inherent.rating),
            format!("{} {}", r.residual.score, r.residual.rating),
            r.treatment.as_str(),
            r.owner,
            r.title
        );
    }
    Ok(())
}

fn show(a: ShowArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let risk = engine.controls().risk(&a.id, now_us())?;
    print_risk(&risk, a.json)
}

fn write_out(output: Option<&PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing `{}`", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn export(a: ExportArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let risks = engine.controls().risks(now_us())?;
    let text = match a.format {
        Format::Csv => risk_export::csv(&risks),
        Format::Json => risk_export::json(&risks)? + "\n",
    };
    write_out(a.output.as_ref(), &text)
}

fn report(a: ReportArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let now = now_us();
    let risks = engine.controls().risks(now)?;
    write_out(a.output.as_ref(), &risk_export::report(&risks, now))
}

fn print_risk(r: &Risk, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(r)?);
        return Ok(());
    }
    println!("{}  {}  [{}]", r.id, r.title, r.status);
    println!("  asset:     {}", r.asset);
    println!("  threat:    {}", r.threat);
    println!("  owner:     {}", r.owner);
    println!("  treatment: {}", r.treatment.as_str());
    println!(
        "  inherent:  {} ({}) = likelihood {} × impact {}",
        r.inherent.score, r.inherent.rating, r.likelihood, r.impact
    );
    println!(
        "  residual:  {} ({}) = likelihood {} × impact {}",
        r.residual.score, r.residual.rating, r.residual.likelihood, r.residual.impact
    );
    for c in &r.linked {
        println!(
            "    {} {:<10} {}: {}",
            if c.effective { "✓" } else { "✗" },
            c.control,
            c.result,
            c.why
        );
    }
    if let Some(at) = &r.closed_at {
        println!(
            "  closed:    {at}: {}",
            r.close_reason.as_deref().unwrap_or("")
        );
    }
    println!(
        "  added {} by {}; changed {}; ledger entries {:?}",
        r.added_at, r.added_by, r.changed_at, r.events
    );
    Ok(())
}
