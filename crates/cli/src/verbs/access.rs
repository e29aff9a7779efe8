//! `evident access …`: access governance beside the policy pack: one-off decisions,
//! break-glass reviews and access reviews, each recorded in the ledger.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use evident::access::authzen::EvaluationsRequest;
use evident::access::Answer;
use evident::event::format_time;
use serde_json::json;

use crate::caller;
use crate::data_dir::{open, DataDir};

/// Access governance: one-off decisions, break-glass reviews, access reviews.
#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Decide one AuthZEN request (JSON file or `-` for stdin) and log the decision.
    Evaluate {
        #[command(flatten)]
        dir: DataDir,
        /// An AuthZEN evaluation or evaluations request.
        #[arg(value_name = "REQUEST.json")]
        request: PathBuf,
    },
    /// Emergency-access reviews: every break-glass grant waits for a second person.
    #[command(subcommand)]
    BreakGlass(BreakGlassCommand),
    /// Who can perform which actions on which resource types and on each regulated resource,
    /// by exhaustive evaluation over the entity data. The run is logged as evidence.
    Review {
        #[command(flatten)]
        dir: DataDir,
        /// json or csv.
        #[arg(long, value_enum, default_value = "json")]
        format: ReviewFormat,
        /// Write the report here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReviewFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum BreakGlassCommand {
    /// List open reviews (with --all, closed ones too).
    List {
        #[command(flatten)]
        dir: DataDir,
        /// Closed reviews too.
        #[arg(long)]
        all: bool,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Close a review. The reviewer must not be the person who broke the glass. Logged.
    Review {
        #[command(flatten)]
        dir: DataDir,
        /// The review id (from `list`).
        id: String,
        /// approved (justified) or violation (to be followed up).
        #[arg(long, value_enum)]
        outcome: ReviewOutcome,
        /// What was checked.
        #[arg(long)]
        note: String,
        /// Who reviews (default: $USER).
        #[arg(long, env = "USER", value_name = "NAME")]
        reviewer: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReviewOutcome {
    Approved,
    Violation,
}

/// Runs one `access` subcommand.
pub fn run(cmd: AccessCommand) -> Result<()> {
    match cmd {
        AccessCommand::Evaluate { dir, request } => {
            let text = if request.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(&request)
                    .with_context(|| format!("reading {}", request.display()))?
            };
            let batch: EvaluationsRequest =
                serde_json::from_str(&text).context("the request is not an AuthZEN request")?;
            let engine = open(&dir.data_dir)?;
            let answer =
                engine
                    .access()
                    .evaluate_blocking(&batch, &caller::access_caller(), None)?;
            let out = match answer {
                Answer::One(d) => serde_json::to_string_pretty(&d)?,
                Answer::Many(m) => serde_json::to_string_pretty(&m)?,
            };
            println!("{out}");
            Ok(())
        }
        AccessCommand::BreakGlass(BreakGlassCommand::List { dir, all, json }) => {
            let engine = open(&dir.data_dir)?;
            let reviews = engine.access().break_glass(!all)?;
            if reviews.is_empty() && !json {
                println!("no {}break-glass reviews", if all { "" } else { "open " });
            }
            for r in reviews {
                if json {
                    println!(
                        "{}",
                        json!({"id": r.id, "subject": r.subject, "action": r.action,
                               "resource": r.resource, "policies": r.policies,
                               "opened_at": format_time(r.opened_us),
                               "state": if r.closed_us.is_some() {"closed"} else {"open"},
                               "reviewer": r.reviewer, "outcome": r.outcome, "note": r.note})
                    );
                } else {
                    println!(
                        "{}  {}  {} {} {}  [{}]  {}",
                        r.id,
                        format_time(r.opened_us),
                        r.subject,
                        r.action,
                        r.resource,
                        r.closed_us.map_or("open".to_string(), |_| format!(
                            "{} by {}",
                            r.outcome.as_deref().unwrap_or("?"),
                            r.reviewer.as_deref().unwrap_or("?")
                        )),
                        r.policies
                    );
                }
            }
            Ok(())
        }
        AccessCommand::BreakGlass(BreakGlassCommand::Review {
            dir,
            id,
            outcome,
            note,
            reviewer,
        }) => {
            let engine = open(&dir.data_dir)?;
            let outcome = match outcome {
                ReviewOutcome::Approved => "approved",
                ReviewOutcome::Violation => "violation",
            };
            let closed = engine
                .access()
                .review_break_glass(&id, &reviewer, outcome, &note)?;
            println!(
                "review {} closed as {outcome} by {}; logged",
                closed.id,
                closed.reviewer.as_deref().unwrap_or("?")
            );
            Ok(())
        }
        AccessCommand::Review { dir, format, out } => {
            let engine = open(&dir.data_dir)?;
            let report = engine.access().review(&caller::actor())?;
            let text = match format {
                ReviewFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
                ReviewFormat::Csv => report.to_csv(),
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "wrote {} ({} type rows, {} regulated rows, {} evaluations); the review is in the ledger",
                        path.display(),
                        report.by_type.len(),
                        report.regulated.len(),
                        report.evaluations
                    );
                }
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}
