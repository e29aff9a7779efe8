//! `evident policy-doc`: policy documents rendered from the live configuration — listing
//! them with their drift, rendering one to Markdown or HTML, publishing one (a
//! `controls.policy_doc.published` ledger event), its history, one version, and a diff.

use std::io::Write;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use evident::controls::policy_docs::diff;
use evident::controls::policy_docs::published::{changed_settings, State};
use evident::controls::policy_docs::{Format, Setting};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::verdict::VerificationFailed;

/// Policy documents rendered from the live configuration, published with an approver.
///
/// Six documents ship: access-control, audit-logging, encryption, incident-response,
/// backup-recovery and data-retention. Each is a Markdown template whose `{{placeholders}}`
/// are filled from the engine's settings as they are now — the TLS minimum the catalog holds
/// the endpoint to, the key rotation period, the roles of the active Cedar policy pack, the
/// data map's retention periods — so the document says what the engine enforces. Put your
/// own `DIR/policy-docs/NAME.md` to replace one (or add a document); a placeholder naming a
/// setting that does not exist is refused with the template, line and setting (exit 2).
///
/// Publishing records the document's SHA-256, version, approver, the settings it used and its
/// text in the ledger. When a setting changes later, the published version is "drifted":
/// `list` shows it, and `list --check` exits 1 so a scheduled job can catch it.
///
/// Examples:
///
///   evident policy-doc list
///   evident policy-doc render encryption --format html > encryption.html
///   evident policy-doc publish encryption --approver "Dana Reyes, CISO"
///   evident policy-doc diff encryption             # published → what renders now
///   evident policy-doc history encryption
///   evident policy-doc show encryption 2
///   evident policy-doc settings                    # every {{name}} a template may use
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum PolicyDocCommand {
    List(ListArgs),
    Render(RenderArgs),
    Publish(PublishArgs),
    History(HistoryArgs),
    Show(ShowArgs),
    Diff(DiffArgs),
    Settings(SettingsArgs),
}

/// Every document with its state: unpublished, current, drifted (the live settings render
/// something else than its newest published version) or error (it does not render now).
///
/// Examples:
///
///   evident policy-doc list
///   evident policy-doc status --check     # exit 1 when a document drifted
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, visible_alias = "status")]
pub struct ListArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Exit 1 when a published document drifted or a template does not render.
    #[arg(long)]
    check: bool,
    /// JSON (one object per document) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Render a document from the live configuration, to standard output. Nothing is recorded.
///
/// Examples:
///
///   evident policy-doc render access-control
///   evident policy-doc render access-control --format html > access-control.html
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RenderArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The document (`evident policy-doc list` names them).
    name: String,
    /// `md` (Markdown, the form that is hashed and published) or `html` (one page).
    #[arg(long, default_value = "md", value_name = "md|html")]
    format: String,
}

/// Publish a document as rendered now: its next version, approved by WHO, recorded in the
/// ledger (`controls.policy_doc.published`) with its SHA-256 and the settings it used.
///
/// Example:
///
///   evident policy-doc publish data-retention --approver "Dana Reyes, CISO"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PublishArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The document.
    name: String,
    /// Who approved this version (a name or role, recorded as given).
    #[arg(long, value_name = "WHO")]
    approver: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Every published version (of one document when named), oldest first.
///
/// Examples:
///
///   evident policy-doc history
///   evident policy-doc history encryption --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct HistoryArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Only this document.
    name: Option<String>,
    /// JSON (one object per version) instead of a table.
    #[arg(long)]
    json: bool,
}

/// The text of a published version (the newest when VERSION is not given), checked against
/// its recorded hash.
///
/// Examples:
///
///   evident policy-doc show encryption
///   evident policy-doc show encryption 2 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The document.
    name: String,
    /// Its version number (`evident policy-doc history NAME` lists them).
    #[arg(value_name = "VERSION")]
    number: Option<u64>,
    /// JSON (the version's record with its text) instead of the text.
    #[arg(long)]
    json: bool,
}

/// What changed between two versions of a document: by default its newest published version
/// and what the live configuration renders now, with the settings that changed.
///
/// Examples:
///
///   evident policy-doc diff encryption
///   evident policy-doc diff encryption --from 1 --to 2
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The document.
    name: String,
    /// The older version (default: the newest published).
    #[arg(long, value_name = "VERSION")]
    from: Option<u64>,
    /// The newer version (default: what renders now).
    #[arg(long, value_name = "VERSION")]
    to: Option<u64>,
}

/// Every setting a template may name as `{{name}}`, with its value now.
///
/// Example:
///
///   evident policy-doc settings
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SettingsArgs {
    #[command(flatten)]
    dir: DataDir,
    /// JSON (name → value) instead of lines.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: PolicyDocCommand) -> Result<()> {
    match cmd {
        PolicyDocCommand::List(args) => list(args),
        PolicyDocCommand::Render(args) => render(args),
        PolicyDocCommand::Publish(args) => publish(args),
        PolicyDocCommand::History(args) => history(args),
        PolicyDocCommand::Show(args) => show(args),
        PolicyDocCommand::Diff(args) => diff_versions(args),
        PolicyDocCommand::Settings(args) => settings(args),
    }
}

fn state_word(state: State) -> &'static str {
    match state {
        State::Unpublished => "unpublished",
        State::Current => "current",
        State::Drifted => "drifted",
        State::Error => "error",
    }
}

fn list(args: ListArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let all = engine
        .controls()
        .policy_docs_status(&engine.policy_inputs())?;
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(
            out,
            "{:<20} {:<12} {:<8} {:<9} TITLE",
            "DOCUMENT", "STATE", "VERSION", "TEMPLATE"
        )?;
    }
    for d in &all {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(d)?)?;
            continue;
        }
        let version = d
            .published
            .as_ref()
            .map_or("-".to_string(), |p| format!("v{}", p.version));
        writeln!(
            out,
            "{:<20} {:<12} {:<8} {:<9} {}",
            d.document,
            state_word(d.state),
            version,
            d.template.as_str(),
            d.title
        )?;
        if let Some(error) = &d.error {
            writeln!(out, "  {error}")?;
        }
        if d.state == State::Drifted {
            writeln!(
                out,
                "  the live configuration renders another text: `evident policy-doc diff {}`, then publish again",
                d.document
            )?;
        }
    }
    drop(out);
    let bad = all
        .iter()
        .filter(|d| matches!(d.state, State::Drifted | State::Error))
        .count();
    if args.check && bad > 0 {
        return Err(VerificationFailed(format!(
            "{bad} policy document(s) drifted or do not render"
        ))
        .into());
    }
    Ok(())
}

fn render(args: RenderArgs) -> Result<()> {
    let format: Format = args.format.parse()?;
    let engine = open(&args.dir.data_dir)?;
    let rendered = engine
        .controls()
        .render_policy_doc(&args.name, &engine.policy_inputs())?;
    let text = match format {
        Format::Markdown => rendered.markdown,
        Format::Html => rendered.html,
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

fn publish(args: PublishArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let actor = caller::privileged_actor("publishing a policy document")?;
    let published = engine.controls().publish_policy_doc(
        &args.name,
        &engine.policy_inputs(),
        &args.approver,
        &actor,
    )?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&evident::controls::policy_docs::Published {
                markdown: None,
                ..published
            })?
        );
    } else {
        println!(
            "published {} v{} ({}), approved by {}, ledger entry {}",
            published.document,
            published.version,
            published.sha256,
            published.approver,
            published.index
        );
    }
    Ok(())
}

fn history(args: HistoryArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let all = engine.controls().policy_doc_history(args.name.as_deref())?;
    let mut out = std::io::stdout().lock();
    for p in &all {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(p)?)?;
        } else {
            writeln!(
                out,
                "{} v{} {} approved by {} published by {} at {} (entry {})",
                p.document,
                p.version,
                p.sha256,
                p.approver,
                p.published_by,
                p.published_at,
                p.index
            )?;
        }
    }
    if all.is_empty() && !args.json {
        writeln!(out, "no policy document was published yet")?;
    }
    Ok(())
}

fn show(args: ShowArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let published = engine
        .controls()
        .policy_doc_version(&args.name, args.number)?;
    if args.json {
        println!("{}", serde_json::to_string(&published)?);
    } else {
        std::io::stdout()
            .lock()
            .write_all(published.text()?.as_bytes())?;
    }
    Ok(())
}

fn diff_versions(args: DiffArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let controls = engine.controls();
    let from = controls.policy_doc_version(&args.name, args.from)?;
    let (to_label, to_text, to_settings) = match args.to {
        Some(v) => {
            let to = controls.policy_doc_version(&args.name, Some(v))?;
            let settings: std::collections::BTreeMap<String, Setting> =
                serde_json::from_value(to.settings.clone()).unwrap_or_default();
            (format!("v{v}"), to.text()?.to_string(), settings)
        }
        None => {
            let now = controls.render_policy_doc(&args.name, &engine.policy_inputs())?;
            ("now".to_string(), now.markdown, now.settings)
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "--- {} v{}", args.name, from.version)?;
    writeln!(out, "+++ {} {to_label}", args.name)?;
    for (name, (then, now)) in changed_settings(&from.settings, &to_settings) {
        writeln!(out, "# setting {name}: {then} -> {now}")?;
    }
    let Some(lines) = diff::lines(from.text()?, &to_text) else {
        bail!("the documents are too long to compare line by line");
    };
    if lines.iter().all(|l| matches!(l, diff::Line::Same(_))) {
        writeln!(out, "# no difference")?;
        return Ok(());
    }
    out.write_all(diff::unified(&lines).as_bytes())?;
    Ok(())
}

fn settings(args: SettingsArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let settings = engine.controls().policy_settings(&engine.policy_inputs())?;
    if args.json {
        println!("{}", serde_json::to_string(&settings.values)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for (name, value) in &settings.values {
        let shown = match value {
            Setting::Text(t) => t.clone(),
            Setting::List(items) => format!("[{}]", items.join(", ")),
            Setting::Table { columns, rows } => {
                format!("table ({}), {} row(s)", columns.join(" | "), rows.len())
            }
        };
        writeln!(out, "{name} = {shown}")?;
    }
    for (prefix, why) in &settings.absent {
        if !settings
            .values
            .keys()
            .any(|k| k.starts_with(prefix.as_str()))
        {
            writeln!(out, "# {prefix}… absent: {why}")?;
        }
    }
    Ok(())
}
