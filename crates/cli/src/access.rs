//! `evident policy …` and `evident access …`: policy versions, policy tests, one-off
//! decisions, break-glass reviews and access reviews.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use evident::access::authzen::EvaluationsRequest;
use evident::access::pack::{self, PackDiff, PackFiles};
use evident::access::{Answer, Caller};
use evident::event::format_time;
use serde_json::{json, Value};

use crate::args::{AccessCommand, BreakGlassCommand, PolicyCommand, ReviewFormat, ReviewOutcome};
use crate::caller;
use crate::data_dir::{open, open_or_create};
use crate::verdict::VerificationFailed;

pub fn policy(cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Apply { dir, pack, dry_run } => apply(&dir.data_dir, &pack, dry_run),
        PolicyCommand::Show { dir, number, out } => show(&dir.data_dir, number, out.as_deref()),
        PolicyCommand::History { dir, json } => history(&dir.data_dir, json),
        PolicyCommand::Rollback {
            dir,
            number: version,
        } => {
            let engine = open(&dir.data_dir)?;
            let applied = engine.access().rollback(version, &caller::actor())?;
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
    let applied = engine.access().apply(files, &caller::actor())?;
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

pub fn access(cmd: AccessCommand) -> Result<()> {
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
            let answer = engine
                .access()
                .evaluate_blocking(&batch, &Caller::cli(), None)?;
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
