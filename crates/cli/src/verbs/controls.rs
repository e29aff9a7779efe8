//! `evident controls …`: the control catalog and its checks. `list` and `coverage` read the
//! catalog (the shipped one plus the data directory's `controls/*.toml`); `check` runs checks
//! against the live engine, each run a ledger event; `status` and `history` show where each
//! control stands and how it got there; `import` adds an OSCAL baseline or profile;
//! `except` and `exceptions` (in `controls/except.rs`) accept a failing control for a while;
//! `diff` (in `controls/diff.rs`) is a regression gate against a saved status.

mod diff;
mod except;

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use evident::controls::catalog::Implementation;
use evident::controls::coverage::{self, Class};
use evident::controls::{catalog, CheckRun, Verdict};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::verdict::VerificationFailed;

/// Controls: which operate, since when, and the evidence — computed from the engine's own
/// state and ledger.
///
/// Evident's controls are mapped to SOC 2, HIPAA, PCI DSS 4.0.1, GDPR and NIST SP 800-53 rev5
/// requirement ids. Add your own in DIR/controls/*.toml (same format as the repository's
/// catalog/). Start with `evident controls check` then `evident controls status`.
#[derive(Debug, Subcommand)]
pub enum ControlsCommand {
    /// List the catalog's controls: how each is tested, its check, cadence and mappings.
    ///
    /// The catalog is validated as it loads: a bad file is an error naming the file and line.
    List {
        #[command(flatten)]
        dir: DataDir,
        /// Only controls mapped to this framework (soc2, hipaa, pci, gdpr, nist-800-53, …).
        #[arg(long)]
        framework: Option<String>,
        /// JSON (one object per control) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run checks now against the live engine; each run is a `controls.check` ledger event.
    ///
    /// Without IDs, every automated and partly automated control is checked. Each result is
    /// pass, fail (with what to change), error (the check could not read what it needs) or
    /// inconclusive (it cannot decide, with the reason); a check never passes by default.
    /// Exits 1 when any control fails or errs, 0 otherwise.
    Check {
        #[command(flatten)]
        dir: DataDir,
        /// Control ids (e.g. EV-CRY-01); an unknown id is refused before anything runs.
        ids: Vec<String>,
        /// JSON (one object per run) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Each control's last result, since when it holds, and its trend (newest last: P pass,
    /// F fail, E error, I inconclusive). `overdue` marks a check older than its cadence.
    ///
    /// Manual and partly automated controls also show their evidence: current until a date,
    /// or a named gap (`evidence expired …`, `no evidence`). A failing control under an open
    /// exception shows as `failing (excepted until …)`.
    ///
    /// --json prints one object per control, in catalog order, with the fields control,
    /// title, implementation, cadence, result, since, checked, overdue, trend, direction,
    /// index, runs, evidence ({state, evidence_id, index, added_at, valid_until} or null) and
    /// exception (the open one or null): save it as a baseline for `evident controls diff`.
    Status {
        #[command(flatten)]
        dir: DataDir,
        /// JSON (one object per control) instead of a table.
        #[arg(long)]
        json: bool,
        /// Rebuild the stored status from the ledger's `controls.check` events first (after a
        /// lost database table or a crash between a run and its status update).
        #[arg(long)]
        rebuild: bool,
    },
    /// A control's check runs received in a period, from the ledger.
    History {
        #[command(flatten)]
        dir: DataDir,
        /// The control id.
        id: String,
        /// Start: a date (YYYY-MM-DD, from its first moment, UTC) or an RFC 3339 time.
        /// Default: 30 days ago.
        #[arg(long)]
        from: Option<String>,
        /// End: a date (YYYY-MM-DD, to its last moment, UTC) or an RFC 3339 time. Default: now.
        #[arg(long)]
        to: Option<String>,
        /// JSON (one object per run) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A framework's requirements, each automated, partly automated, manual, not applicable
    /// or a gap (nothing covers it), and the share of each class.
    Coverage {
        #[command(flatten)]
        dir: DataDir,
        /// soc2, hipaa, pci, gdpr, nist-800-53, nist-800-53-privacy, or an imported one.
        #[arg(long)]
        framework: String,
        /// Only the gaps.
        #[arg(long)]
        gaps: bool,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Import an OSCAL 1.x catalog (e.g. another NIST baseline, resolved) or profile as a
    /// framework of the catalog, kept in DIR/controls/frameworks/NAME.json; logged.
    ///
    /// Your controls and dispositions in DIR/controls/*.toml can then map to its ids, and
    /// `evident controls coverage --framework NAME` shows its gaps.
    Import {
        #[command(flatten)]
        dir: DataDir,
        /// The OSCAL JSON file.
        file: PathBuf,
        /// The framework id to import it as (a-z, 0-9, `-`).
        #[arg(long)]
        name: String,
        /// Replace an imported framework of that name.
        #[arg(long)]
        replace: bool,
    },
    /// OSCAL 1.1.2 documents: Evident's component-definition, assessment-results for a period.
    #[command(subcommand)]
    Oscal(crate::verbs::oscal::OscalCommand),
    Except(except::ExceptArgs),
    Exceptions(except::ExceptionsArgs),
    Diff(diff::DiffArgs),
}

/// Runs one `controls` subcommand.
pub fn run(cmd: ControlsCommand) -> Result<()> {
    match cmd {
        ControlsCommand::List {
            dir,
            framework,
            json,
        } => list(&dir, framework.as_deref(), json),
        ControlsCommand::Check { dir, ids, json } => check(&dir, &ids, json),
        ControlsCommand::Status { dir, json, rebuild } => status(&dir, json, rebuild),
        ControlsCommand::History {
            dir,
            id,
            from,
            to,
            json,
        } => history(&dir, &id, from.as_deref(), to.as_deref(), json),
        ControlsCommand::Coverage {
            dir,
            framework,
            gaps,
            json,
        } => show_coverage(&dir, &framework, gaps, json),
        ControlsCommand::Oscal(cmd) => crate::verbs::oscal::run(cmd),
        ControlsCommand::Except(args) => except::except(args),
        ControlsCommand::Exceptions(args) => except::list(args),
        ControlsCommand::Diff(args) => diff::run(args),
        ControlsCommand::Import {
            dir,
            file,
            name,
            replace,
        } => {
            let engine = open(&dir.data_dir)?;
            let actor = caller::privileged_actor("importing a framework")?;
            let done = engine.controls().import(&file, &name, replace, &actor)?;
            println!(
                "imported {} `{}` as `{}`: {} controls and enhancements{}",
                done.kind,
                done.title,
                done.framework,
                done.requirements,
                if done.without_title > 0 {
                    format!(
                        " ({} without a title in the shipped baselines)",
                        done.without_title
                    )
                } else {
                    String::new()
                }
            );
            println!("kept in {} (sha256 {})", done.path, done.sha256);
            Ok(())
        }
    }
}

fn load_catalog(dir: &DataDir) -> Result<catalog::Catalog> {
    Ok(catalog::load(Some(&dir.data_dir))?)
}

fn list(dir: &DataDir, framework: Option<&str>, json: bool) -> Result<()> {
    let catalog = load_catalog(dir)?;
    let framework = match framework {
        Some(name) => Some(catalog.framework(name)?.id.clone()),
        None => None,
    };
    let chosen = catalog.controls.iter().filter(|c| {
        framework
            .as_ref()
            .is_none_or(|f| c.frameworks.contains_key(f))
    });
    for c in chosen {
        if json {
            println!("{}", serde_json::to_string(c)?);
        } else {
            let maps: Vec<String> = c
                .frameworks
                .iter()
                .map(|(f, ids)| format!("{f} {}", ids.join(" ")))
                .collect();
            println!(
                "{:<10} {:<17} {:<29} {:>4}  {}\n{:<10} {}",
                c.id,
                c.implementation.as_str(),
                c.check.as_deref().unwrap_or("-"),
                c.cadence.to_string(),
                c.title,
                "",
                maps.join("; ")
            );
        }
    }
    Ok(())
}

fn check(dir: &DataDir, ids: &[String], json: bool) -> Result<()> {
    let engine = open(&dir.data_dir)?;
    let runs = engine.controls().check(ids, &caller::actor())?;
    print_runs(&runs, json)?;
    let failed: Vec<&str> = runs
        .iter()
        .filter(|r| matches!(r.outcome.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| r.control.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(VerificationFailed(format!(
            "{} of {} control(s) failed or could not be checked: {}",
            failed.len(),
            runs.len(),
            failed.join(", ")
        ))
        .into())
    }
}

fn print_runs(runs: &[CheckRun], json: bool) -> Result<()> {
    for run in runs {
        if json {
            println!("{}", serde_json::to_string(run)?);
            continue;
        }
        println!(
            "{:<10} {:<12} {}  [index {}]",
            run.control,
            run.outcome.verdict.as_str(),
            run.outcome.reason,
            run.index
        );
        if let Some(remedy) = &run.outcome.remedy {
            println!("{:<10} {:<12} to fix: {remedy}", "", "");
        }
    }
    Ok(())
}

fn status(dir: &DataDir, json: bool, rebuild: bool) -> Result<()> {
    let engine = open(&dir.data_dir)?;
    let controls = engine.controls();
    if rebuild {
        let (replayed, updated) = controls.rebuild_status()?;
        eprintln!(
            "replayed {replayed} check run(s) from the ledger; {updated} control(s) moved on"
        );
    }
    for s in controls.status(evident::event::now_us())? {
        if json {
            println!("{}", serde_json::to_string(&s)?);
            continue;
        }
        let evidence = match (&s.evidence, s.evidence_gap()) {
            (_, Some(gap)) => format!("  [GAP: {gap}]"),
            (Some(e), None) => format!(
                "  [evidence current until {}]",
                e.valid_until.as_deref().unwrap_or("")
            ),
            (None, None) => String::new(),
        };
        println!(
            "{:<10} {:<14} since {:<28} {:<9} {:<30} {}{}{}",
            s.control,
            s.shown_result(),
            s.since.as_deref().unwrap_or("-"),
            s.direction,
            s.trend,
            s.title,
            if s.overdue && s.implementation != Implementation::Manual {
                "  (overdue)"
            } else {
                ""
            },
            evidence
        );
    }
    Ok(())
}

fn history(
    dir: &DataDir,
    id: &str,
    from: Option<&str>,
    to: Option<&str>,
    json: bool,
) -> Result<()> {
    let (from_us, to_us) = evident::controls::period::period(
        ("--from", from),
        ("--to", to),
        evident::event::now_us(),
    )?;
    let engine = open(&dir.data_dir)?;
    let items = engine.controls().history(id, from_us, to_us)?;
    for item in &items {
        if json {
            println!("{}", serde_json::to_string(item)?);
        } else {
            println!(
                "{:<28} {:<12} {}  [index {}]",
                item.time, item.result, item.reason, item.index
            );
        }
    }
    if !json {
        eprintln!(
            "{} run(s) of {id} from {} to {}",
            items.len(),
            evident::event::format_time(from_us),
            evident::event::format_time(to_us)
        );
    }
    Ok(())
}

fn show_coverage(dir: &DataDir, framework: &str, gaps: bool, json: bool) -> Result<()> {
    let catalog = load_catalog(dir)?;
    let report = coverage::coverage(&catalog, framework)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("{} — {}", report.framework, report.name);
    for row in report
        .rows
        .iter()
        .filter(|r| !gaps || r.class == Class::Gap)
    {
        let detail = if row.controls.is_empty() {
            row.note.clone().unwrap_or_default()
        } else {
            row.controls.join(", ")
        };
        println!(
            "{:<22} {:<17} {}{}",
            row.requirement,
            row.class.as_str(),
            detail,
            row.title
                .as_deref()
                .map(|t| format!("  ({t})"))
                .unwrap_or_default()
        );
    }
    let shares: Vec<String> = report
        .counts
        .iter()
        .map(|(class, n)| format!("{} {n} ({}%)", class.as_str(), report.share(*class)))
        .collect();
    println!("{} requirements: {}", report.rows.len(), shares.join(", "));
    let gap_ids: Vec<&str> = report.gaps().map(|r| r.requirement.as_str()).collect();
    if !gap_ids.is_empty() {
        println!("gaps: {}", gap_ids.join(", "));
    }
    Ok(())
}
