//! `evident demo`: the whole loop on the embedded default, over real HTTP. Start a server on
//! a free loopback port, create keys, append events, read the public tlog-tiles side, prove an
//! entry and verify the proof offline, prove consistency, and verify the whole log.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use clap::Args;
use evident::{Engine, Role};
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::proof::verify_consistency;
use evident_ledger::tiles::{decode_bundle, TilePath, TILE_WIDTH};
use evident_ledger::tlog_proof::TlogProof;
use serde_json::{json, Value};

use crate::packs;

/// Run a self-contained demonstration: start a server on a free loopback port, create a
/// key, append events over HTTP, fetch a proof and verify it offline, verify the log.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's data here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// How many events to append.
    #[arg(long, default_value_t = 1000)]
    pub events: u64,
}

/// A synthetic but realistic access event.
pub fn sample_event(i: u64) -> Value {
    let actors = [
        "dr.ames",
        "nurse.baker",
        "svc-billing",
        "dr.chen",
        "auditor.diaz",
    ];
    let actions = [
        "record.read",
        "record.update",
        "record.export",
        "claim.submit",
    ];
    let actor = actors[(i % actors.len() as u64) as usize];
    json!({
        "actor": {
            "id": actor,
            "type": if actor.starts_with("svc") { "service" } else { "user" },
            "roles": [if actor.starts_with("dr") { "clinician" } else { "staff" }],
            "ip": format!("192.0.2.{}", i % 250 + 1),
            "session": format!("s-{}", i / 10),
            "auth": {"method": "oidc", "mfa": !i.is_multiple_of(7), "amr": ["pwd", "otp"]}
        },
        "action": actions[(i % actions.len() as u64) as usize],
        "resource": {"type": "patient_record", "id": format!("pr-{:05}", i % 997)},
        "outcome": if i.is_multiple_of(11) { "denied" } else { "success" },
        "reason": if i.is_multiple_of(11) { "purpose of use missing" } else { "policy permit" },
        "policy": {"id": "phi-access", "version": "v3"},
        "request_id": format!("req-{i:08}"),
        "metadata": {"purpose_of_use": "TREATMENT", "client": "ehr-web/5.2"}
    })
}

fn step(n: u32, text: &str) {
    println!("[{n}] {text}");
}

/// Runs the demonstration, step by step, and fails at the first step that does not hold.
pub fn run(args: DemoArgs) -> Result<()> {
    let DemoArgs { data_dir, events } = args;
    ensure!(events >= 2, "--events must be at least 2");
    let scratch = tempdir()?;
    let dir = data_dir.unwrap_or_else(|| scratch.clone());
    let started = Instant::now();

    let engine =
        Arc::new(Engine::open(&dir, true).with_context(|| format!("opening {}", dir.display()))?);
    step(
        1,
        &format!("log `{}` in {}", engine.origin(), dir.display()),
    );
    let admin = engine.create_api_key(Role::Admin, Some("demo admin"), "demo")?;
    let writer = engine.create_api_key(Role::Writer, Some("demo ingest"), "demo")?;
    let vkey = engine.verifier_key();
    step(
        2,
        &format!("created an admin and a writer API key; verifier key {vkey}"),
    );

    let server = evident_server::LoopbackServer::start(engine.clone())?;
    let base = server.base.clone();
    step(3, &format!("server listening on {base}"));

    let agent = ureq::Agent::new_with_defaults();
    let bearer = |token: &str| format!("Bearer {token}");
    let health: Value = agent
        .get(format!("{base}/healthz"))
        .call()?
        .body_mut()
        .read_json()?;
    ensure!(health["status"] == "ok", "health check failed: {health}");

    let mut first_checkpoint = None;
    let mut sent = 0;
    while sent < events {
        let n = (events - sent).min(100);
        let batch: Vec<Value> = (sent..sent + n).map(sample_event).collect();
        let reply: Value = agent
            .post(format!("{base}/v1/events"))
            .header("Authorization", bearer(&writer.token))
            .send_json(&batch)?
            .body_mut()
            .read_json()?;
        ensure!(
            reply["events"].as_array().map(Vec::len) == Some(n as usize),
            "bad append reply: {reply}"
        );
        first_checkpoint.get_or_insert(reply["checkpoint"].clone());
        sent += n;
    }
    step(4, &format!("appended {events} events over HTTP in batches of 100; each answer came once durable and signed"));

    // An unauthenticated or malformed request is refused and stores nothing.
    let size_before = engine.size();
    let refused = agent
        .post(format!("{base}/v1/events"))
        .send_json(json!({"action": "x"}));
    ensure!(
        matches!(refused, Err(ureq::Error::StatusCode(401))),
        "an unauthenticated append was not refused"
    );
    // The refusal is answered at once and recorded moments later as one `auth.login.failed`
    // event (PCI DSS 10.2.1.4); the event it carried is never stored.
    let size_before = failed_login_recorded(&engine, size_before)?;
    let refused = agent
        .post(format!("{base}/v1/events"))
        .header("Authorization", bearer(&writer.token))
        .content_type("application/json")
        .send("{\"actor\": ");
    ensure!(
        matches!(refused, Err(ureq::Error::StatusCode(400))),
        "malformed JSON was not refused"
    );
    ensure!(
        engine.size() == size_before,
        "a refused request changed the log"
    );
    step(
        5,
        "an unauthenticated append got 401 (recorded as a failed login), malformed JSON got 400; neither event was stored",
    );

    // Card numbers, SSNs and keys never enter the ledger: the engine masks them first.
    let leaky = json!({
        "actor": {"id": "svc-billing", "type": "service"},
        "action": "payment.refund",
        "resource": {"type": "claim", "id": "c-77"},
        "outcome": "failure",
        "reason": "gateway refused card 4111 1111 1111 1111",
        "metadata": {"upstream_auth": "Bearer ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP"}
    });
    let reply: Value = agent
        .post(format!("{base}/v1/events"))
        .header("Authorization", bearer(&writer.token))
        .send_json(&leaky)?
        .body_mut()
        .read_json()?;
    let index = reply["events"][0]["index"]
        .as_u64()
        .context("no index in the reply")?;
    let stored: Value = agent
        .get(format!("{base}/v1/events/{index}"))
        .header("Authorization", bearer(&writer.token))
        .call()?
        .body_mut()
        .read_json()?;
    let text = stored["event"].to_string();
    ensure!(
        reply["redacted"] == 2 && !text.contains("4111 1111") && !text.contains("ghp_8fK2"),
        "a card number or token reached the ledger: {text}"
    );
    step(
        6,
        &format!(
            "an event quoting a card number and a token was stored as {:?} (redacted before the ledger)",
            stored["event"]["reason"].as_str().unwrap_or_default()
        ),
    );

    access(&agent, &base, &admin.token, &writer.token, &engine)?;

    let verifier = NoteVerifier::parse(&vkey)?;
    let note = agent
        .get(format!("{base}/log/checkpoint"))
        .call()?
        .body_mut()
        .read_to_string()?;
    let checkpoint = verifier
        .verify_checkpoint(&note)
        .context("the public checkpoint does not verify")?;
    step(
        8,
        &format!(
            "public /log/checkpoint verifies: size {}, root {}",
            checkpoint.size,
            B64.encode(checkpoint.root)
        ),
    );

    let index = checkpoint.size / 2;
    let proof_text = agent
        .get(format!(
            "{base}/v1/proof/inclusion?index={index}&format=tlog-proof"
        ))
        .header("Authorization", bearer(&admin.token))
        .call()?
        .body_mut()
        .read_to_string()?;
    let bundle_path = TilePath::Entries {
        index: index / TILE_WIDTH,
        width: partial_width(index, checkpoint.size),
    };
    let bundle = agent
        .get(format!("{base}/log/{}", bundle_path.to_path()))
        .call()?
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_vec()?;
    let entries = decode_bundle(&bundle)?;
    let entry = entries
        .get((index % TILE_WIDTH) as usize)
        .context("the entry bundle is short")?;
    let proof = TlogProof::parse(&proof_text)?;
    let proved = proof
        .verify(&verifier, &leaf_hash(entry))
        .context("the tlog-proof does not verify")?;
    step(9, &format!(
        "entry {index} fetched from the public entry bundle {} and proved offline against the checkpoint of size {}",
        bundle_path.to_path(),
        proved.size
    ));
    let event: Value = serde_json::from_slice(entry)?;
    ensure!(
        event["actor"].get("ip").is_none(),
        "a personal field was stored in clear"
    );
    step(
        10,
        &format!(
            "the entry commits to the actor's IP address instead of storing it: {}",
            event["personal"]["/actor/ip"]
        ),
    );

    let first = first_checkpoint.context("no checkpoint")?;
    let from = first["size"].as_u64().context("no size")?;
    let old_root = B64.decode(first["root"].as_str().context("no root")?)?;
    let reply: Value = agent
        .get(format!(
            "{base}/v1/proof/consistency?from={from}&to={}",
            checkpoint.size
        ))
        .header("Authorization", bearer(&admin.token))
        .call()?
        .body_mut()
        .read_json()?;
    let hashes: Vec<[u8; 32]> = reply["proof"]
        .as_array()
        .context("no proof")?
        .iter()
        .map(|h| {
            let bytes = B64.decode(h.as_str().unwrap_or_default())?;
            <[u8; 32]>::try_from(bytes).map_err(|_| anyhow::anyhow!("bad hash"))
        })
        .collect::<Result<_>>()?;
    verify_consistency(from, checkpoint.size, &old_root, &checkpoint.root, &hashes)
        .context("the consistency proof does not verify")?;
    step(
        11,
        &format!(
            "the log at size {} is proved to extend the first checkpoint (size {from})",
            checkpoint.size
        ),
    );

    server.stop().context("stopping the server")?;
    let report = engine.verify(|_| {})?;
    if report.root != checkpoint.root && report.entries == checkpoint.size {
        bail!("the verified root differs from the served checkpoint");
    }
    step(
        12,
        &format!(
            "full log verify: {} entries, {} signed checkpoints, {} personal values checked",
            report.entries, report.checkpoints, report.personal
        ),
    );
    audit(&engine, &verifier, &dir, dir != scratch)?;
    engine.shutdown();
    println!("demo ok in {:.1}s", started.elapsed().as_secs_f64());
    if dir == scratch {
        let _ = std::fs::remove_dir_all(&scratch);
    } else {
        println!(
            "try: evident log tail --data-dir {} ; evident log verify --data-dir {}",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Applies the default policy pack over HTTP and asks for decisions the way an application
/// would: every decision lands in the ledger before the answer.
fn access(
    agent: &ureq::Agent,
    base: &str,
    admin: &str,
    writer: &str,
    engine: &Engine,
) -> Result<()> {
    let files = packs::default_pack();
    let reply: Value = agent
        .put(format!("{base}/v1/policy"))
        .header("Authorization", format!("Bearer {admin}"))
        .send_json(json!({ "files": files }))?
        .body_mut()
        .read_json()?;
    let size = engine.size();
    let now = evident::event::now_us() / 1_000_000;
    let ask = |context: Value| -> Result<Value> {
        Ok(agent
            .post(format!("{base}/access/v1/evaluation"))
            .header("Authorization", format!("Bearer {writer}"))
            .header("X-Request-ID", "demo-1")
            .send_json(json!({
                "subject": {"type": "User", "id": "carol"},
                "action": {"name": "read"},
                "resource": {"type": "PatientRecord", "id": "pr-1001"},
                "context": context
            }))?
            .body_mut()
            .read_json()?)
    };
    let stale = ask(
        json!({"authn": {"mfa": true, "auth_time": now - 7200}, "purpose_of_use": "treatment"}),
    )?;
    let fresh =
        ask(json!({"authn": {"mfa": true, "auth_time": now - 60}, "purpose_of_use": "treatment"}))?;
    ensure!(
        stale["decision"] == false && fresh["decision"] == true,
        "unexpected decisions: {stale} / {fresh}"
    );
    ensure!(
        engine.size() >= size + 2,
        "the decisions were not logged before they were answered"
    );
    step(
        7,
        &format!(
            "policy v{} applied ({}); a PHI read with a 2-hour-old MFA was denied with {} and allowed after step-up — both decisions in the ledger",
            reply["version"],
            reply["hash"].as_str().unwrap_or_default().get(..19).unwrap_or_default(),
            stale["context"]
        ),
    );
    Ok(())
}

/// The width of the bundle holding `index` in a tree of `size` entries, if it is partial.
fn partial_width(index: u64, size: u64) -> Option<u8> {
    let start = index / TILE_WIDTH * TILE_WIDTH;
    let width = (size - start).min(TILE_WIDTH);
    (width < TILE_WIDTH).then_some(width as u8)
}

fn tempdir() -> Result<PathBuf> {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
    Ok(std::env::temp_dir().join(format!("evident-demo-{}", hex::encode(id))))
}

/// Waits (up to 5 s) for the failed login a refused request leaves in the log, checks it is
/// the only entry added and is `auth.login.failed`, and returns the new size.
fn failed_login_recorded(engine: &Engine, size_before: u64) -> Result<u64> {
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    while engine.size() == size_before && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    ensure!(
        engine.size() == size_before + 1,
        "a refused request should add one failed-login event, but the log went from {size_before} to {} entries",
        engine.size()
    );
    let record = engine.event(size_before, false)?;
    let action = record.entry["action"].as_str().unwrap_or_default();
    ensure!(
        action == "auth.login.failed",
        "a refused request stored `{action}` instead of a failed login"
    );
    Ok(size_before + 1)
}

/// The compliance lead's and the auditor's part: every control checked against the live
/// engine (each run a ledger event), a SOC 2 evidence bundle of the demo's period built, then
/// verified offline with only the log's public key — and a copy with one byte changed refused.
fn audit(
    engine: &Engine,
    verifier: &NoteVerifier,
    dir: &std::path::Path,
    keep: bool,
) -> Result<()> {
    use evident::controls::bundle::{verify_bundle, Period};
    use evident::controls::oscal_out::bundled::AssessmentResultsMember;
    use evident::controls::Verdict;

    let period_start = evident::event::now_us() - 3_600_000_000;
    let controls = engine.controls();
    let runs = controls.check(&[], "demo")?;
    let count = |v: Verdict| runs.iter().filter(|r| r.outcome.verdict == v).count();
    step(
        13,
        &format!(
            "{} controls checked against the live engine, each run a ledger event: {} pass, {} fail, {} error, {} inconclusive (a fresh demo has no backups, TLS or key rotation yet)",
            runs.len(),
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::Error),
            count(Verdict::Inconclusive)
        ),
    );
    let oscal = AssessmentResultsMember {
        catalog: controls.catalog()?,
        generated_at: evident::event::format_time(evident::event::now_us()),
    };
    let period = Period {
        from_us: period_start,
        to_us: evident::event::now_us() + 1_000_000,
    };
    let built = controls.bundle("soc2", period, &[&oscal], "demo")?;
    let verdict = verify_bundle(&built.bytes, verifier)?;
    ensure!(
        verdict.faults.is_empty(),
        "the demo's bundle does not verify: {:?}",
        verdict.faults
    );
    // Change one byte inside a stored check run (a "pass" made a "pbss"), as a forger would.
    let mut tampered = built.bytes.clone();
    let at = tampered
        .windows(8)
        .position(|w| w == b"\"result\"")
        .context("no check run in the bundle")?;
    tampered[at + 11] ^= 3;
    let refused = verify_bundle(&tampered, verifier).map_or(true, |v| !v.faults.is_empty());
    ensure!(refused, "a bundle with a changed byte verified");
    let path = dir.join("demo-soc2.tar");
    if keep {
        std::fs::write(&path, &built.bytes)?;
    }
    step(
        14,
        &format!(
            "SOC 2 evidence bundle built ({} bytes, {} events with inclusion proofs, OSCAL assessment-results inside{}) and verified offline with the public key alone: signatures, proofs and figures hold; {} finding(s) named (controls failing in the period); a copy with one byte changed is refused",
            built.bytes.len(),
            verdict.proven,
            if keep { format!(", kept as {}", path.display()) } else { String::new() },
            verdict.findings.len()
        ),
    );
    Ok(())
}
