//! `evident policy …`: the versions of the Cedar policy pack that decides access (apply,
//! show, history, rollback) and its tests for policy-as-code CI.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use evident::access::authzen::EvaluationsRequest;
use evident::access::pack::{self, PackDiff, PackFiles};
use evident::access::Answer;
use evident::event::format_time;
use serde_json::{json, Value};

use crate::caller;
use crate::data_dir::{open, open_or_create, DataDir};
use crate::verdict::VerificationFailed;

/// Manage the Cedar policy pack that decides access: apply, show, history, rollback, test.
///
/// A pack is a directory with `schema.cedarschema`, `*.cedar` policies, `entities.json`
/// (users, roles, resources as Cedar entity JSON) and optionally `pack.toml`. Policies are
/// validated strictly against the schema; a pack that fails is refused with Cedar's
/// diagnostics and the active one stays. Every change is a ledger event with the new
/// version's hash and a readable diff.
///
/// Examples:
///   evident policy apply policies/default
///   evident policy test tests/access-cases.json --pack policies/default
///   evident policy rollback 3
#[derive(Debug, Subcommand)]
#[command(verbatim_doc_comment)]
pub enum PolicyCommand {
    /// Validate a pack directory and make it the active version (logged, with a diff).
    Apply {
        #[command(flatten)]
        dir: DataDir,
        /// The pack directory.
        #[arg(value_name = "PACK_DIR")]
        pack: PathBuf,
        /// Validate and print the diff against the active version, but change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the active version (or version N): hash, who applied it, and its files.
    Show {
        #[command(flatten)]
        dir: DataDir,
        /// Which version (default: the active one).
        #[arg(value_name = "VERSION")]
        number: Option<u64>,
        /// Write the pack's files into this directory instead of printing them.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// List every version: number, hash, when, who, how (apply or rollback).
    History {
        #[command(flatten)]
        dir: DataDir,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make an earlier version active again (as a new version; logged).
    Rollback {
        #[command(flatten)]
        dir: DataDir,
        /// The version whose content becomes active.
        #[arg(value_name = "VERSION")]
        number: u64,
    },
    /// Check expected decisions, for policy-as-code CI. Exits 1 on any mismatch, printing each.
    ///
    /// CASES.json is either an array of {"name": "...", "request": {AuthZEN evaluation},
    /// "expected": true|false} (a batch request with "evaluations" expects an array of
    /// {"decision": …}), or an object {"evaluation": [...], "evaluations": [...]} as in the
    /// AuthZEN interop decision tables. Test decisions are not logged: they are not access.
    #[command(verbatim_doc_comment)]
    Test {
        /// The cases file.
        #[arg(value_name = "CASES.json")]
        cases: PathBuf,
        /// Test this pack directory (default: the active version in --data-dir).
        #[arg(long, value_name = "PACK_DIR")]
        pack: Option<PathBuf>,
        #[command(flatten)]
        dir: DataDir,
    },
}

/// Runs one `policy` subcommand.
pub fn run(cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Apply { dir, pack, dry_run } => apply(&dir.data_dir, &pack, dry_run),
        PolicyCommand::Show { dir, number, out } => show(&dir.data_dir, number, out.as_deref()),
        PolicyCommand::History { dir, json } => history(&dir.data_dir, json),
        PolicyCommand::Rollback {
            dir,
            number: version,
        } => {
            let engine = open(&dir.data_dir)?;
            let actor = caller::privileged_actor("rolling back the policy")?;
            let applied = engine.access().rollback(version, &actor)?;
            println!(
                "version {} is active ({}), with the content of version {version}",
                applied.version, applied.hash
            );
            println!("{}", applied.diff.summary());
            Ok(())
        }
        PolicyCommand::Test { cases, pack, dir } => test(&cases, pack.as_deref(), &dir.data_dir),
    }
}

fn apply(dir: &Path, pack_dir: &Path, dry_run: bool) -> Result<()> {
    let files = PackFiles::load_dir(pack_dir)?;
    if dry_run {
        let compiled = pack::compile(files)?;
        let engine = open(dir).ok();
        let active = match &engine {
            Some(e) => e.access().active()?,
            None => None,
        };
        let diff = PackDiff::between(active.as_deref(), &compiled);
        println!("valid ({}); not applied (--dry-run)", compiled.hash);
        for w in &compiled.warnings {
            println!("warning: {w}");
        }
        println!("{}", diff.summary());
        return Ok(());
    }
    let engine = open_or_create(dir)?;
    let actor = caller::privileged_actor("applying a policy pack")?;
    let applied = engine.access().apply(files, &actor)?;
    for w in &applied.warnings {
        println!("warning: {w}");
    }
    if applied.changed {
        println!(
            "version {} is active ({}); the change is in the ledger",
            applied.version, applied.hash
        );
        println!("{}", applied.diff.summary());
    } else {
        println!(
            "unchanged: version {} already has this content ({})",
            applied.version, applied.hash
        );
    }
    Ok(())
}

fn show(dir: &Path, version: Option<u64>, out: Option<&Path>) -> Result<()> {
    let engine = open(dir)?;
    let (stored, files) = engine.access().version(version)?;
    println!(
        "version {} {} applied {} by {} ({})",
        stored.version,
        stored.hash,
        format_time(stored.created_us),
        stored.actor,
        stored.origin
    );
    match out {
        Some(out) => {
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            for (name, text) in &files.0 {
                let path = out.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            println!("wrote {} files to {}", files.0.len(), out.display());
        }
        None => {
            for (name, text) in &files.0 {
                println!("\n==> {name} <==\n{}", text.trim_end());
            }
        }
    }
    Ok(())
}

fn history(dir: &Path, as_json: bool) -> Result<()> {
    let engine = open(dir)?;
    let active = engine.access().active()?.map(|p| p.version);
    let versions = engine.access().history()?;
    if versions.is_empty() && !as_json {
        println!("no policy pack was ever applied; `evident policy apply DIR`");
    }
    for v in versions {
        let is_active = Some(v.version) == active;
        if as_json {
            println!(
                "{}",
                json!({"version": v.version, "hash": v.hash, "applied_at": format_time(v.created_us),
                       "applied_by": v.actor, "origin": v.origin, "active": is_active})
            );
        } else {
            println!(
                "{} {:>4}  {}  {}  {:<20} {}",
                if is_active { "*" } else { " " },
                v.version,
                &v.hash,
                format_time(v.created_us),
                v.actor,
                v.origin
            );
        }
    }
    Ok(())
}

struct Case {
    name: String,
    request: Value,
    expected: Value,
}

fn load_cases(path: &Path) -> Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let mut cases = Vec::new();
    let mut push = |name: String, case: &Value| -> Result<()> {
        let request = case
            .get("request")
            .cloned()
            .with_context(|| format!("{name}: no `request`"))?;
        let expected = match case.get("expected") {
            Some(Value::String(s)) if s == "allow" || s == "permit" => Value::Bool(true),
            Some(Value::String(s)) if s == "deny" => Value::Bool(false),
            Some(v @ (Value::Bool(_) | Value::Array(_))) => v.clone(),
            _ => bail!("{name}: `expected` must be true, false, \"allow\", \"deny\" or an array"),
        };
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .map_or(name, str::to_string);
        cases.push(Case {
            name,
            request,
            expected,
        });
        Ok(())
    };
    match &value {
        Value::Array(items) => {
            for (i, case) in items.iter().enumerate() {
                push(format!("case {}", i + 1), case)?;
            }
        }
        Value::Object(map) if map.contains_key("evaluation") || map.contains_key("evaluations") => {
            for key in ["evaluation", "evaluations"] {
                for (i, case) in map
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    push(format!("{key}[{i}]"), case)?;
                }
            }
        }
        _ => bail!(
            "{}: expected an array of cases or an object with `evaluation` / `evaluations`",
            path.display()
        ),
    }
    if cases.is_empty() {
        bail!("{} holds no cases", path.display());
    }
    Ok(cases)
}

fn test(cases_path: &Path, pack_dir: Option<&Path>, dir: &Path) -> Result<()> {
    let cases = load_cases(cases_path)?;
    let pack = match pack_dir {
        Some(p) => std::sync::Arc::new(pack::compile(PackFiles::load_dir(p)?)?),
        None => open(dir)?.access().require_active()?,
    };
    let now = evident::event::now_us() / 1_000_000;
    let mut failed = 0;
    for case in &cases {
        let outcome = serde_json::from_value::<EvaluationsRequest>(case.request.clone())
            .map_err(|e| anyhow::anyhow!("malformed request: {e}"))
            .and_then(|batch| Ok(evident::access::decide_offline(&pack, &batch, now)?));
        let got = match &outcome {
            Ok(Answer::One(d)) => Value::Bool(d.decision),
            Ok(Answer::Many(m)) => Value::Array(
                m.evaluations
                    .iter()
                    .map(|d| json!({"decision": d.decision}))
                    .collect(),
            ),
            Err(e) => {
                failed += 1;
                println!("FAIL {}: error: {e:#}", case.name);
                continue;
            }
        };
        if got != case.expected {
            failed += 1;
            let detail = match &outcome {
                Ok(Answer::One(d)) => d.context.as_ref().map(|c| format!(" ({c})")),
                _ => None,
            };
            println!(
                "FAIL {}: expected {}, got {}{}\n     request: {}",
                case.name,
                case.expected,
                got,
                detail.unwrap_or_default(),
                case.request
            );
        }
    }
    println!(
        "{} cases against {} ({}): {} passed, {failed} failed",
        cases.len(),
        pack_dir.map_or_else(
            || format!("version {}", pack.version),
            |p| p.display().to_string()
        ),
        pack.hash,
        cases.len() - failed
    );
    if failed > 0 {
        return Err(VerificationFailed(format!("{failed} policy test case(s) failed")).into());
    }
    Ok(())
}
