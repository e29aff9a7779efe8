//! `evident dsr open`, `verify-identity`, `approve`, `deny`, `extend`, `run`, `status` and
//! `list`: data-subject requests (GDPR Art. 15–20, CCPA) over the data map's systems and the
//! ledger, every step a `privacy.dsr.*` ledger event.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use evident::privacy::dsr::export::{to_csv, to_json};
use evident::privacy::dsr::{
    KeyringKeys, Kind, LocalKeys, NewRequest, Regime, Request, RunOptions, RunReport,
};
use serde_json::{json, Value};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::time_arg::when;
use crate::verbs::privacy::load::load;

/// Data-subject requests: access, portability, rectification, erasure, restriction.
///
/// A request moves received → identity_verified → approved (or denied, with a reason) →
/// executing → completed. `run` drives it against every system of the data map (the active
/// one, or --map), each system in one transaction (a failed system is rolled back, shown as
/// failed, and resumed by the next run), and for an erasure then the ledger itself. Due
/// dates: GDPR one month from receipt (+2 months, once), CCPA 45 days (+45, once).
///
/// Examples:
///   evident dsr open erasure 17 --regime gdpr
///   evident dsr verify-identity dsr-0123456789abcdef --method "email code to the address on file"
///   evident dsr approve dsr-0123456789abcdef
///   evident dsr run dsr-0123456789abcdef --dry-run
///   evident dsr run dsr-0123456789abcdef
///   evident dsr open access 17 && evident dsr run dsr-… --out subject-17.json
///   evident dsr open rectification 17 --field patients.email
///   evident dsr run dsr-… --set patients.email=new@example.org
///   evident dsr deny dsr-… --reason "identity could not be verified"
///   evident dsr extend dsr-… --reason "complex request across 14 systems"
///   evident dsr list --overdue
///   evident dsr certificate dsr-… --out erasure-17.json
///   evident dsr verify-certificate erasure-17.json --verifier-key 'evident+1a2b3c4d+AbC…'
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum DsrCommand {
    /// Open a request (logged as privacy.dsr.opened; the subject id is an erasable field).
    Open(OpenArgs),
    /// Record how the requester's identity was checked.
    VerifyIdentity(VerifyArgs),
    /// Approve a verified request for execution.
    Approve(IdArgs),
    /// Refuse a request, with the reason given to the subject.
    Deny(ReasonArgs),
    /// Extend the due date once (GDPR +2 months, CCPA +45 days), with the reason.
    Extend(ReasonArgs),
    /// Run an approved request over every system (--dry-run: report, write nothing).
    Run(RunArgs),
    /// A request's state, due date, and per-system outcome.
    Status(StatusArgs),
    /// Every request, with due dates and overdue flags.
    List(ListArgs),
    /// Issue the signed certificate of a completed erasure (logged as privacy.dsr.certified).
    Certificate(CertificateArgs),
    /// Check a certificate offline against the log's verifier key.
    VerifyCertificate(VerifyCertificateArgs),
}

/// A certificate to issue.
#[derive(Debug, Args)]
pub struct CertificateArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The request id (a completed erasure).
    pub id: String,
    /// Where to write it (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// A certificate to check.
#[derive(Debug, Args)]
pub struct VerifyCertificateArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The certificate file.
    pub file: PathBuf,
    /// The log's verifier key (`name+hex8+base64`, as `evident init` prints it); without
    /// it, the data directory's own (checking offline needs only this key).
    #[arg(long, value_name = "KEY")]
    pub verifier_key: Option<String>,
}

/// A new request.
#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// What is asked.
    #[arg(value_parser = ["access", "portability", "rectification", "erasure", "restriction"])]
    pub kind: String,
    /// The subject's id, as the data map's identity table holds it.
    pub subject: String,
    /// The law it is answered under.
    #[arg(long, default_value = "gdpr", value_parser = ["gdpr", "ccpa"])]
    pub regime: String,
    /// When it was received (YYYY-MM-DD or RFC 3339; default now): the deadline runs from it.
    #[arg(long, value_name = "TIME")]
    pub received: Option<String>,
    /// For rectification: a `table.column` to set (repeat); the values are given to `run`.
    #[arg(long = "field", value_name = "TABLE.COLUMN")]
    pub fields: Vec<String>,
    /// Print the request as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A request.
#[derive(Debug, Args)]
pub struct IdArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The request id (`dsr-` and 16 hex digits).
    pub id: String,
}

/// An identity check.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The request id.
    pub id: String,
    /// How the identity was checked (never the evidence itself).
    #[arg(long)]
    pub method: String,
}

/// A step that needs a reason.
#[derive(Debug, Args)]
pub struct ReasonArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The request id.
    pub id: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

/// A run.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The request id.
    pub id: String,
    /// The data map (default: the data directory's active map).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Report per system and table what would change; write and log nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// For rectification: `table.column=value` (repeat, exactly the request's fields).
    #[arg(long, value_name = "TABLE.COLUMN=VALUE")]
    pub set: Vec<String>,
    /// For access and portability: where to write the subject's data.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The format of --out.
    #[arg(long, default_value = "json", value_parser = ["json", "csv"])]
    pub format: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A status read.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The request id.
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A listing.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// Only requests past their due date.
    #[arg(long)]
    pub overdue: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `dsr` verb.
pub fn run(cmd: DsrCommand) -> Result<()> {
    let now = evident::event::now_us();
    let actor = caller::actor();
    match cmd {
        DsrCommand::Open(a) => {
            let engine = open(&a.dir.data_dir)?;
            let new = NewRequest {
                kind: Kind::parse(&a.kind).context("unknown kind")?,
                regime: Regime::parse(&a.regime).context("unknown regime")?,
                subject: a.subject,
                fields: a.fields,
                received_us: match a.received.as_deref() {
                    Some(t) => when(t, false, "--received")?,
                    None => now,
                },
            };
            let r = engine.dsr().open(&new, &actor)?;
            print(&r, now, a.json);
        }
        DsrCommand::VerifyIdentity(a) => {
            let engine = open(&a.dir.data_dir)?;
            print(
                &engine.dsr().verify_identity(&a.id, &a.method, &actor)?,
                now,
                false,
            );
        }
        DsrCommand::Approve(a) => {
            let engine = open(&a.dir.data_dir)?;
            print(&engine.dsr().approve(&a.id, &actor)?, now, false);
        }
        DsrCommand::Deny(a) => {
            let engine = open(&a.dir.data_dir)?;
            print(&engine.dsr().deny(&a.id, &a.reason, &actor)?, now, false);
        }
        DsrCommand::Extend(a) => {
            let engine = open(&a.dir.data_dir)?;
            print(&engine.dsr().extend(&a.id, &a.reason, &actor)?, now, false);
        }
        DsrCommand::Run(a) => run_request(a, &actor)?,
        DsrCommand::Certificate(a) => {
            let engine = open(&a.dir.data_dir)?;
            let doc = engine.dsr().certificate(&a.id, &actor)?;
            let text = serde_json::to_string_pretty(&doc)?;
            match &a.out {
                Some(out) => {
                    std::fs::write(out, text + "\n")
                        .with_context(|| format!("writing `{}`", out.display()))?;
                    println!("certificate of `{}` written to {}", a.id, out.display());
                }
                None => println!("{text}"),
            }
        }
        DsrCommand::VerifyCertificate(a) => {
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("reading `{}`", a.file.display()))?;
            let doc: Value = serde_json::from_str(&text)
                .with_context(|| format!("`{}` is not JSON", a.file.display()))?;
            let key = match a.verifier_key {
                Some(key) => key,
                None => open(&a.dir.data_dir)?.verifier_key(),
            };
            match evident::privacy::dsr::certificate::verify(&doc, &key) {
                Ok(c) => println!(
                    "ok: request `{}` certified at ledger index {}, proven against the signed checkpoint of size {}",
                    c.request, c.index, c.checkpoint_size
                ),
                Err(e) => return Err(crate::verdict::VerificationFailed(e.to_string()).into()),
            }
        }
        DsrCommand::Status(a) => {
            let engine = open(&a.dir.data_dir)?;
            print(&engine.dsr().get(&a.id)?, now, a.json);
        }
        DsrCommand::List(a) => {
            let engine = open(&a.dir.data_dir)?;
            let all: Vec<Request> = engine
                .dsr()
                .list()?
                .into_iter()
                .filter(|r| !a.overdue || r.overdue(now))
                .collect();
            if a.json {
                let rows: Vec<Value> = all.iter().map(|r| r.to_json(now)).collect();
                println!("{}", json!({ "requests": rows }));
            } else {
                if all.is_empty() {
                    println!("no requests");
                }
                for r in &all {
                    line(r, now);
                }
            }
        }
    }
    Ok(())
}

fn run_request(a: RunArgs, actor: &str) -> Result<()> {
    let engine = open(&a.dir.data_dir)?;
    let map = load(a.map.as_deref(), &a.dir.data_dir)?;
    let dsr = engine.dsr();
    let request = dsr.get(&a.id)?;
    let mut set = Vec::new();
    for s in &a.set {
        let Some((field, value)) = s.split_once('=') else {
            bail!(
                "--set takes `table.column=value`, got `{}`",
                s.split('=').next().unwrap_or("")
            );
        };
        set.push((field.to_owned(), value.to_owned()));
    }
    let options = RunOptions {
        dry_run: a.dry_run,
        set,
    };
    let report = if request.kind == Kind::Erasure {
        // Keyed hashes, fillers and sealing under the subject's own key need the keyring.
        let keyring = engine.keyring(true)?;
        let keys = KeyringKeys::new(&keyring, actor);
        dsr.run(&a.id, &map, &keys, &options, actor)?
    } else {
        // Only an erasure uses keys.
        let keys = LocalKeys::new([0; 32]);
        dsr.run(&a.id, &map, &keys, &options, actor)?
    };
    if let Some(out) = &a.out {
        let text = match a.format.as_str() {
            "csv" => to_csv(&report.export),
            _ => to_json(&report.export).to_string(),
        };
        std::fs::write(out, text).with_context(|| format!("writing `{}`", out.display()))?;
    }
    print_run(&report, a.json);
    if report.systems.iter().any(|s| s.status == "failed") {
        bail!(
            "request `{}` is not complete: a system failed (fix it and run again; systems already done are not run again)",
            a.id
        );
    }
    Ok(())
}

fn print_run(report: &RunReport, json: bool) {
    let now = evident::event::now_us();
    if json {
        println!(
            "{}",
            json!({
                "request": report.request.to_json(now),
                "systems": report.systems,
            })
        );
        return;
    }
    for s in &report.systems {
        match &s.error {
            Some(e) => println!("{:<16} failed: {e}", s.system),
            None => println!("{:<16} {} {}", s.system, s.status, s.detail),
        }
    }
    line(&report.request, now);
}

fn print(r: &Request, now: i64, json: bool) {
    if json {
        println!("{}", r.to_json(now));
    } else {
        line(r, now);
        for (system, o) in &r.systems {
            match &o.error {
                Some(e) => println!("  {system}: failed ({e})"),
                None => println!("  {system}: {} (ledger index {})", o.status, o.index),
            }
        }
    }
}

fn line(r: &Request, now: i64) {
    let v = r.to_json(now);
    println!(
        "{} {} {} {} due {}{}",
        r.id,
        r.kind.name(),
        r.regime.name(),
        v["state"].as_str().unwrap_or(""),
        v["due_at"].as_str().unwrap_or(""),
        if r.overdue(now) { " OVERDUE" } else { "" }
    );
}
