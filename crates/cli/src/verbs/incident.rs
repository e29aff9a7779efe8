//! `evident incident …`: the incident register (GDPR Art. 33/34, HIPAA 164.404–410, PCI DSS
//! 12.10) — open, classify, annotate, record notifications and close incidents, and show
//! what each owes: the notification clocks that run from its discovery.

use anyhow::Result;
use clap::{Args, Subcommand};
use evident::controls::registers::clocks::Obligation;
use evident::controls::registers::incident::{
    Classify, Incident, NewIncident, Notify, SOURCE_MANUAL,
};
use evident::event::now_us;

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::time_arg::when;
use crate::verdict::VerificationFailed;

/// The incident register and its notification clocks.
///
/// An incident is opened with the time it was discovered; every clock runs from then.
/// Classifying it says what it touched, and so what it owes:
///
///   personal data  the supervisory authority within 72 h (GDPR Art. 33); data subjects
///                  without undue delay if the risk to them is high (Art. 34)
///   PHI            each individual within 60 days (HIPAA 164.404); HHS within 60 days
///                  from 500 individuals, else in the annual log due 60 days after the
///                  calendar year ends (164.408); media within 60 days when more than 500
///                  residents of one State are affected (164.406)
///   card data      the acquirer and card brands, per their rules (PCI DSS 12.10.1)
///
/// `evident incident status` shows each obligation as done, late, due (with its deadline)
/// or overdue, and exits 1 when anything is overdue. Every step is a
/// `controls.incident.*` ledger event; a time before discovery or in the future, or a
/// negative count, is refused (exit 2) and nothing is stored. An incident is also opened
/// automatically when the log integrity check (EV-LOG-01) finds the log does not verify.
#[derive(Debug, Subcommand)]
#[command(
    verbatim_doc_comment,
    after_help = "Examples:

  evident incident open --title \"Misdirected lab results\" --discovered-at 2026-11-02T09:30:00Z
  evident incident classify inc-… --phi --personal-data --subjects 612
  evident incident status
  evident incident notify inc-… --to supervisory-authority --reference \"DPA case 2026-118\"
  evident incident update inc-… --note \"the recipient confirmed deletion\"
  evident incident close inc-… --reason \"contained; notifications made\""
)]
pub enum IncidentCommand {
    Open(OpenArgs),
    Classify(ClassifyArgs),
    Update(UpdateArgs),
    Notify(NotifyArgs),
    Close(CloseArgs),
    List(ListArgs),
    Show(ShowArgs),
    Status(StatusArgs),
}

/// Open an incident (one `controls.incident.opened` event); its clocks run from
/// --discovered-at.
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident incident open --title \"Backup bucket was public\" \\
      --description \"found by the cloud posture scan\" --discovered-at 2026-11-02T09:30:00Z")]
pub struct OpenArgs {
    #[command(flatten)]
    dir: DataDir,
    /// A short title. Name no person in it: it is kept in the ledger.
    #[arg(long)]
    title: String,
    /// What happened, as far as is known.
    #[arg(long, default_value = "")]
    description: String,
    /// When it was discovered: an RFC 3339 time or a date (its first moment, UTC); not in
    /// the future. Default: now.
    #[arg(long, value_name = "TIME")]
    discovered_at: Option<String>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Classify an open incident: what it touched and how many people (only what is given
/// changes; one `controls.incident.classified` event).
#[derive(Debug, Args)]
#[command(after_help = "Examples:

  evident incident classify inc-… --personal-data --subjects 40
  evident incident classify inc-… --phi --subjects 499
  evident incident classify inc-… --card-data=false")]
pub struct ClassifyArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The incident's id.
    id: String,
    /// Personal data was involved (GDPR); --personal-data=false to clear.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    personal_data: Option<bool>,
    /// Protected health information was involved (HIPAA).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    phi: Option<bool>,
    /// Cardholder data was involved (PCI DSS).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    card_data: Option<bool>,
    /// How many people are affected (0 or more).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    subjects: Option<i64>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Add a note to an open incident (one `controls.incident.updated` event).
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident incident update inc-… --note \"access keys rotated; logs preserved\"")]
pub struct UpdateArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The incident's id.
    id: String,
    /// The note. Name no person in it: it is kept in the ledger.
    #[arg(long, value_name = "TEXT")]
    note: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Record a notification made (one `controls.incident.notified` event); also for a closed
/// incident, since closing it does not discharge what it owes.
#[derive(Debug, Args)]
#[command(after_help = "Examples:

  evident incident notify inc-… --to supervisory-authority --reference \"DPA case 2026-118\"
  evident incident notify inc-… --to hhs --at 2026-12-20T10:00:00Z
  evident incident notify inc-… --to individuals --reference \"letters mailed, batch 1\"")]
pub struct NotifyArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The incident's id.
    id: String,
    /// Who was notified: supervisory-authority, individuals, hhs, media, card-brands, other.
    #[arg(long, value_name = "RECIPIENT")]
    to: String,
    /// When: an RFC 3339 time or a date; not before discovery, not in the future. Default: now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// The recipient's case number, a letter's reference.
    #[arg(long, default_value = "")]
    reference: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Close an open incident (one `controls.incident.closed` event).
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident incident close inc-… --reason \"contained, root cause fixed, notifications made\"")]
pub struct CloseArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The incident's id.
    id: String,
    /// Why it is closed.
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// When it was closed: not before discovery, not in the future. Default: now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// List the incidents, newest first (with --open, only open ones).
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident incident list --open")]
pub struct ListArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Only open incidents.
    #[arg(long)]
    open: bool,
    /// JSON (one object per incident) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Show one incident: its classification, notes, notifications, obligations and events.
#[derive(Debug, Args)]
#[command(after_help = "Example:

  evident incident show inc-0123456789abcdef01234567 --json")]
pub struct ShowArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The incident's id.
    id: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// What is owed, by when, and what is overdue — for one incident or all of them.
/// Exits 1 when any notification is overdue.
#[derive(Debug, Args)]
#[command(after_help = "Examples:

  evident incident status                 # every incident with something owed
  evident incident status inc-… --json")]
pub struct StatusArgs {
    #[command(flatten)]
    dir: DataDir,
    /// One incident (default: all).
    id: Option<String>,
    /// JSON (one object per obligation, with its incident) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: IncidentCommand) -> Result<()> {
    match cmd {
        IncidentCommand::Open(a) => open_one(a),
        IncidentCommand::Classify(a) => classify(a),
        IncidentCommand::Update(a) => update(a),
        IncidentCommand::Notify(a) => notify(a),
        IncidentCommand::Close(a) => close(a),
        IncidentCommand::List(a) => list(a),
        IncidentCommand::Show(a) => show(a),
        IncidentCommand::Status(a) => status(a),
    }
}

fn at_or_now(text: Option<&str>, flag: &str) -> Result<Option<i64>> {
    text.map(|t| when(t, false, flag)).transpose()
}

fn open_one(a: OpenArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("opening an incident")?;
    let now = now_us();
    let discovered_us = at_or_now(a.discovered_at.as_deref(), "--discovered-at")?.unwrap_or(now);
    let incident = engine.controls().open_incident(
        &NewIncident {
            title: a.title,
            description: a.description,
            discovered_us,
            source: SOURCE_MANUAL.into(),
        },
        &actor,
        now,
    )?;
    print_incident(&incident, a.json)
}

fn classify(a: ClassifyArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("classifying an incident")?;
    let incident = engine.controls().classify_incident(
        &a.id,
        &Classify {
            personal_data: a.personal_data,
            phi: a.phi,
            card_data: a.card_data,
            subjects: a.subjects,
        },
        &actor,
        now_us(),
    )?;
    print_incident(&incident, a.json)
}

fn update(a: UpdateArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("updating an incident")?;
    let incident = engine
        .controls()
        .note_incident(&a.id, &a.note, &actor, now_us())?;
    print_incident(&incident, a.json)
}

fn notify(a: NotifyArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("recording a notification")?;
    let incident = engine.controls().notify_incident(
        &a.id,
        &Notify {
            recipient: a.to,
            at_us: at_or_now(a.at.as_deref(), "--at")?,
            reference: a.reference,
        },
        &actor,
        now_us(),
    )?;
    print_incident(&incident, a.json)
}

fn close(a: CloseArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let actor = caller::privileged_actor("closing an incident")?;
    let incident = engine.controls().close_incident(
        &a.id,
        at_or_now(a.at.as_deref(), "--at")?,
        &a.reason,
        &actor,
        now_us(),
    )?;
    print_incident(&incident, a.json)
}

fn list(a: ListArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let mut incidents = engine.controls().incidents(now_us())?;
    incidents.reverse();
    incidents.retain(|i| !a.open || i.is_open());
    if a.json {
        for i in &incidents {
            println!("{}", serde_json::to_string(i)?);
        }
        return Ok(());
    }
    if incidents.is_empty() {
        println!("no incidents");
    }
    for i in &incidents {
        let overdue = i.obligations.iter().filter(|o| o.overdue()).count();
        println!(
            "{}  {:<6} discovered {}  {}{}",
            i.id,
            i.status,
            i.discovered_at,
            i.title,
            if overdue > 0 {
                format!("  [{overdue} overdue]")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

fn show(a: ShowArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let incident = engine.controls().incident(&a.id, now_us())?;
    print_incident(&incident, a.json)
}

fn obligation_line(o: &Obligation) -> String {
    let when = match (&o.notified_at, &o.due) {
        (Some(at), _) => format!("notified {at}"),
        (None, Some(due)) => format!("by {due}"),
        (None, None) => "no fixed deadline".to_string(),
    };
    let note = o
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!(
        "{:<8} {:<22} {:<40} {}: {}{}",
        o.state, o.recipient, when, o.rule, o.what, note
    )
}

fn status(a: StatusArgs) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let now = now_us();
    let incidents: Vec<Incident> = match &a.id {
        Some(id) => vec![engine.controls().incident(id, now)?],
        None => engine.controls().incidents(now)?,
    };
    let mut overdue = 0;
    for i in &incidents {
        if a.json {
            for o in &i.obligations {
                let mut value = serde_json::to_value(o)?;
                value["incident"] = serde_json::json!(i.id);
                println!("{value}");
            }
        } else if !i.obligations.is_empty() || a.id.is_some() {
            println!(
                "{}  {} [{}], discovered {}",
                i.id, i.title, i.status, i.discovered_at
            );
            if !i.classification.classified {
                println!(
                    "  not classified yet: `evident incident classify {}` sets the clocks",
                    i.id
                );
            }
            for o in &i.obligations {
                println!("  {}", obligation_line(o));
            }
        }
        overdue += i.obligations.iter().filter(|o| o.overdue()).count();
    }
    if overdue > 0 {
        return Err(VerificationFailed(format!("{overdue} notification(s) overdue")).into());
    }
    Ok(())
}

fn print_incident(i: &Incident, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(i)?);
        return Ok(());
    }
    println!("{}  {}  [{}]", i.id, i.title, i.status);
    if !i.description.is_empty() {
        println!("  {}", i.description);
    }
    println!(
        "  discovered {}; opened {} by {} ({})",
        i.discovered_at, i.opened_at, i.opened_by, i.source
    );
    let c = &i.classification;
    if c.classified {
        println!(
            "  touched: personal data {}, PHI {}, card data {}; people affected: {}",
            c.personal_data,
            c.phi,
            c.card_data,
            c.subjects.map_or("unknown".to_string(), |n| n.to_string())
        );
    } else {
        println!("  not classified yet");
    }
    for n in &i.notes {
        println!("  note {} ({}): {}", n.at, n.by, n.text);
    }
    for n in &i.notifications {
        println!("  notified {} at {} {}", n.recipient, n.at, n.reference);
    }
    for o in &i.obligations {
        println!("  {}", obligation_line(o));
    }
    if let Some(at) = &i.closed_at {
        println!("  closed {at}: {}", i.close_reason.as_deref().unwrap_or(""));
    }
    println!("  ledger entries {:?}", i.events);
    Ok(())
}
