//! The controls part against a real engine: each check reads live state and changes its
//! answer when that state changes; every run is a ledger event; status, history and the
//! refusals that leave nothing stored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};

use evident::access::authzen::EvaluationsRequest;
use evident::access::pack::PackFiles;
use evident::access::Caller;
use evident::controls::{CheckRun, Verdict};
use evident::store::EventQuery;
use evident::{AuditEvent, Engine};
use serde_json::{json, Value};

const DAY_US: i64 = 86_400_000_000;
const PASS: &[u8] = b"correct horse battery staple";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now_us() -> i64 {
    evident::event::now_us()
}

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    (dir, engine)
}

fn apply(engine: &Engine, files: PackFiles) {
    engine.access().apply(files, "test").unwrap();
}

fn default_pack() -> PackFiles {
    PackFiles::load_dir(&repo().join("policies/default")).unwrap()
}

/// Runs one control's check now.
fn run(engine: &Engine, id: &str) -> CheckRun {
    let mut runs = engine
        .controls()
        .check(&[id.to_string()], "tester")
        .unwrap();
    assert_eq!(runs.len(), 1);
    runs.remove(0)
}

fn expect(engine: &Engine, id: &str, verdict: Verdict) -> CheckRun {
    let r = run(engine, id);
    assert_eq!(r.outcome.verdict, verdict, "{id}: {r:#?}");
    r
}

/// Adds an organisation's catalog file to the data directory.
fn org_file(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join("controls")).unwrap();
    std::fs::write(dir.join("controls").join(name), text).unwrap();
}

fn sql(dir: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(dir.join("evident.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn.execute_batch(statement).unwrap();
}

fn decide(engine: &Engine, request: Value) -> bool {
    let batch: EvaluationsRequest = serde_json::from_value(request).unwrap();
    let caller = Caller {
        method: "api_key".into(),
        id: "pep".into(),
    };
    match engine
        .access()
        .evaluate_blocking(&batch, &caller, None)
        .unwrap()
    {
        evident::access::Answer::One(d) => d.decision,
        evident::access::Answer::Many(_) => panic!("one answer expected"),
    }
}

#[test]
fn every_run_is_a_ledger_event_and_status_follows() {
    let (_dir, engine) = engine();
    let first = expect(&engine, "EV-OPS-01", Verdict::Fail);
    assert!(first
        .outcome
        .remedy
        .as_deref()
        .unwrap()
        .contains("evident backup test"));
    let event = engine.event(first.index, false).unwrap().entry;
    assert_eq!(event["action"], "controls.check");
    assert_eq!(
        event["resource"],
        json!({"type": "control", "id": "EV-OPS-01"})
    );
    assert_eq!(event["outcome"], "failure");
    let meta = &event["metadata"];
    assert_eq!(meta["result"], "fail");
    assert_eq!(meta["check"], "backup.restore_tested");
    assert_eq!(meta["check_version"], json!(first.check_version));
    assert!(first.check_version.starts_with("sha256:"));
    assert_eq!(meta["observed"]["max_age_days"], 30);
    assert_eq!(meta["requested_by"], "tester");
    assert!(meta["catalog"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(meta["frameworks"]["soc2"], json!(["A1.2", "A1.3"]));

    // A backup that restores and verifies: the check now passes and relies on that event.
    engine.set_key_provider(std::sync::Arc::new(
        evident::crypto::local::LocalProvider::with_passphrase(engine.dir(), PASS, true).unwrap(),
    ));
    // The restore test opens the backup's root key as an operator would, from the environment.
    std::env::set_var(
        "EVIDENT_ROOT_PASSPHRASE",
        std::str::from_utf8(PASS).unwrap(),
    );
    let backup = engine.dir().join("b.evb");
    evident::backup::create(&engine, &backup, "tester").unwrap();
    evident::backup::test(&engine, &backup, "tester").unwrap();
    let passed = expect(&engine, "EV-OPS-01", Verdict::Pass);
    let tested = engine
        .query(&EventQuery {
            action: Some("evident.backup.tested".into()),
            limit: 10,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(passed.outcome.evidence, [tested.events[0].index]);

    let status = engine.controls().status(now_us()).unwrap();
    let ops = status.iter().find(|s| s.control == "EV-OPS-01").unwrap();
    assert_eq!(ops.result, "pass");
    assert_eq!(ops.trend, "FP");
    assert_eq!(ops.direction, "improving");
    assert_eq!(ops.runs, 2);
    assert_eq!(ops.index, Some(passed.index));
    assert!(!ops.overdue);
    let manual = status.iter().find(|s| s.control == "EV-GOV-01").unwrap();
    assert_eq!(manual.result, "manual");
    let never = status.iter().find(|s| s.control == "EV-AC-05").unwrap();
    assert_eq!(never.result, "never checked");
    assert!(never.overdue);
    assert!(engine
        .controls()
        .due(now_us())
        .unwrap()
        .contains(&"EV-AC-05".to_string()));

    // A backup that does not restore: the newest test failed, so the control fails.
    std::fs::write(&backup, b"not a backup").unwrap();
    assert!(evident::backup::test(&engine, &backup, "tester").is_err());
    let failed = expect(&engine, "EV-OPS-01", Verdict::Fail);
    assert!(
        failed.outcome.reason.contains("failed"),
        "{}",
        failed.outcome.reason
    );

    // History over the period holds the three runs; an empty period none.
    let runs = engine
        .controls()
        .history("EV-OPS-01", now_us() - DAY_US, now_us() + 1)
        .unwrap();
    let results: Vec<&str> = runs.iter().map(|r| r.result.as_str()).collect();
    assert_eq!(results, ["fail", "pass", "fail"]);
    assert!(engine
        .controls()
        .history("EV-OPS-01", now_us() - 3 * DAY_US, now_us() - 2 * DAY_US)
        .unwrap()
        .is_empty());

    // The stored status can be rebuilt from the ledger alone.
    sql(engine.dir(), "DELETE FROM control_status;");
    let (replayed, updated) = engine.controls().rebuild_status().unwrap();
    assert_eq!((replayed, updated), (3, 1));
    let ops = engine
        .controls()
        .status(now_us())
        .unwrap()
        .into_iter()
        .find(|s| s.control == "EV-OPS-01")
        .unwrap();
    assert_eq!((ops.result.as_str(), ops.trend.as_str()), ("fail", "FPF"));
}

#[test]
fn refusals_store_nothing() {
    let (_dir, engine) = engine();
    let size = engine.size();
    let unknown = engine
        .controls()
        .check(&["EV-AC-01".into(), "EV-NOPE".into()], "tester")
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("no control `EV-NOPE`"), "{unknown}");
    let manual = engine
        .controls()
        .check(&["EV-GOV-01".into()], "tester")
        .unwrap_err()
        .to_string();
    assert!(manual.contains("manual control"), "{manual}");
    let period = engine
        .controls()
        .history("EV-OPS-01", now_us(), now_us() - DAY_US)
        .unwrap_err()
        .to_string();
    assert!(period.contains("at or after"), "{period}");
    assert!(engine.controls().history("EV-NOPE", 0, 1).is_err());
    // A bad file in the data directory: every verb refuses, naming it, and nothing runs.
    org_file(engine.dir(), "bad.toml", "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"nope\"\ncadence = \"1d\"\n");
    let bad = engine
        .controls()
        .check(&[], "tester")
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("bad.toml:6") && bad.contains("unknown check `nope`"),
        "{bad}"
    );
    assert!(engine.controls().status(now_us()).is_err());
    assert_eq!(engine.size(), size, "nothing was appended");
    let rows: i64 = rusqlite::Connection::open(engine.dir().join("evident.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM control_status", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "no status was stored");
}

#[test]
fn policy_checks_evaluate_the_active_pack() {
    let (_dir, engine) = engine();
    // No pack: nothing to test, and the check says so rather than passing.
    expect(&engine, "EV-AC-01", Verdict::Inconclusive);
    apply(&engine, default_pack());
    let mfa = expect(&engine, "EV-AC-01", Verdict::Pass);
    assert!(mfa.outcome.observed["grants_with_mfa"].as_u64().unwrap() > 0);
    assert_eq!(mfa.outcome.evidence.len(), 1, "the policy.applied event");
    let phi = expect(&engine, "EV-AC-02", Verdict::Pass);
    assert!(phi.outcome.observed["grants"].as_u64().unwrap() > 0);

    // A pack whose privileged delete lost its MFA condition.
    let mut weak = default_pack();
    weak.0.insert(
        "privileged.cedar".into(),
        r#"@id("privileged-delete-no-mfa")
permit (principal in Role::"admin", action == Action::"delete", resource is Document);
@id("privileged-administer-with-mfa")
permit (principal in Role::"admin", action == Action::"administer", resource is Settings)
when { context has authn && context.authn has mfa && context.authn.mfa };"#
            .into(),
    );
    apply(&engine, weak);
    let failed = expect(&engine, "EV-AC-01", Verdict::Fail);
    let violations = failed.outcome.observed["violations"].as_array().unwrap();
    assert!(violations
        .iter()
        .any(|v| v["permitted_by"] == json!(["privileged-delete-no-mfa"])
            && v["context"] == "no authentication facts"));
    // administer checks MFA but not its age: the stale variant catches it
    assert!(violations
        .iter()
        .any(|v| v["action"] == "administer" && v["context"] == "MFA too old"));
    assert!(failed.outcome.remedy.unwrap().contains("permitted_by"));

    // A pack whose PHI read forgot the purpose of use.
    let mut no_purpose = default_pack();
    no_purpose.0.insert(
        "phi.cedar".into(),
        r#"@id("phi-read-any-purpose")
permit (principal in Role::"viewer", action == Action::"read", resource is PatientRecord)
when {
  principal has department && resource has department &&
  principal.department == resource.department &&
  context has authn && context.authn has mfa && context.authn.mfa
};"#
        .into(),
    );
    apply(&engine, no_purpose);
    let failed = expect(&engine, "EV-AC-02", Verdict::Fail);
    let violations = failed.outcome.observed["violations"].as_array().unwrap();
    assert!(violations
        .iter()
        .any(|v| v["context"] == "no purpose of use"));
    assert!(violations
        .iter()
        .any(|v| v["context"] == "purpose `marketing`"));
    assert!(!violations
        .iter()
        .any(|v| v["context"] == "no authentication facts"));

    // Settings that name nothing in the pack: inconclusive, with the reason.
    org_file(
        engine.dir(),
        "org.toml",
        "[[control]]\nid = \"ORG-PHI\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"access.phi_purpose_of_use\"\ncadence = \"1d\"\nparams = { phi_types = [\"Chart\"] }\n",
    );
    let r = expect(&engine, "ORG-PHI", Verdict::Inconclusive);
    assert!(r.outcome.reason.contains("phi_types"));
}

#[test]
fn access_review_and_break_glass_follow_what_happened() {
    let (dir, engine) = engine();
    apply(&engine, default_pack());
    expect(&engine, "EV-AC-04", Verdict::Fail);
    engine.access().review("auditor").unwrap();
    let ok = expect(&engine, "EV-AC-04", Verdict::Pass);
    assert_eq!(ok.outcome.observed["reviewed_policy"], "v1");
    // A new policy version makes the review stale.
    let mut next = default_pack();
    next.0.insert("extra.cedar".into(), "@id(\"x\")\nforbid (principal, action == Action::\"delete\", resource is Document) when { false };".into());
    apply(&engine, next);
    let stale = expect(&engine, "EV-AC-04", Verdict::Fail);
    assert!(
        stale.outcome.reason.contains("v2"),
        "{}",
        stale.outcome.reason
    );

    expect(&engine, "EV-AC-03", Verdict::Pass);
    let now = now_us() / 1_000_000;
    let granted = decide(
        &engine,
        json!({"subject": {"type": "User", "id": "dave"}, "action": {"name": "read"},
               "resource": {"type": "PatientRecord", "id": "pr-1001"},
               "context": {"authn": {"mfa": true, "auth_time": now - 10}, "break_glass": true,
                           "justification": "patient unconscious in the ED, no cardiologist reachable"}}),
    );
    assert!(granted);
    let open = expect(&engine, "EV-AC-03", Verdict::Pass);
    assert_eq!(open.outcome.observed["open_within_time"], 1);
    // Two days unreviewed: overdue.
    sql(
        dir.path(),
        &format!(
            "UPDATE break_glass SET opened_us = {}",
            now_us() - 2 * DAY_US
        ),
    );
    let overdue = expect(&engine, "EV-AC-03", Verdict::Fail);
    assert_eq!(
        overdue.outcome.observed["overdue"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Reviewed now by a second person, but two days late: still a failure, named.
    let id = engine.access().break_glass(true).unwrap()[0].id.clone();
    engine
        .access()
        .review_break_glass(&id, "carol", "approved", "checked the chart")
        .unwrap();
    let late = expect(&engine, "EV-AC-03", Verdict::Fail);
    assert_eq!(
        late.outcome.observed["reviewed_late"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!late.outcome.evidence.is_empty(), "the review event");
}

#[test]
fn keys_and_their_gate() {
    let (dir, engine) = engine();
    let provider = std::sync::Arc::new(
        evident::crypto::local::LocalProvider::with_passphrase(dir.path(), PASS, true).unwrap(),
    );
    engine.check_provider(provider.as_ref()).unwrap();
    let keys = engine.keyring_with(provider);
    // No key yet; own keys unsealed: the check fails for that.
    let r = expect(&engine, "EV-CRY-01", Verdict::Fail);
    assert!(r.outcome.reason.contains("not sealed"));
    org_file(
        dir.path(),
        "keys.toml",
        "[[control]]\nid = \"ORG-KEYS\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"crypto.key_rotation\"\ncadence = \"1d\"\nparams = { max_age_days = 90, require_own_keys_sealed = false }\n\n[[control]]\nid = \"ORG-GATE\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"crypto.regulated_keys_gated\"\ncadence = \"1d\"\nparams = { must_be_regulated = [\"phi*\"] }\n",
    );
    expect(&engine, "ORG-KEYS", Verdict::Inconclusive);
    keys.create("phi-notes", "test").unwrap();
    let fresh = expect(&engine, "ORG-KEYS", Verdict::Pass);
    assert_eq!(fresh.outcome.observed["root_provider"], "local");
    assert_eq!(fresh.outcome.evidence.len(), 1, "the key's created event");
    sql(
        dir.path(),
        &format!(
            "UPDATE crypto_keys SET created_us = {}",
            now_us() - 100 * DAY_US
        ),
    );
    let old = expect(&engine, "ORG-KEYS", Verdict::Fail);
    assert_eq!(
        old.outcome.observed["older_than_allowed"][0]["key"],
        "phi-notes"
    );
    keys.rotate("phi-notes", "test").unwrap();
    expect(&engine, "ORG-KEYS", Verdict::Pass);

    // The key guards PHI by its name but is not regulated.
    let unmarked = expect(&engine, "ORG-GATE", Verdict::Fail);
    assert_eq!(unmarked.outcome.observed["unmarked"], json!(["phi-notes"]));
    keys.classify("phi-notes", true, "test").unwrap();
    expect(&engine, "ORG-GATE", Verdict::Inconclusive); // no pack yet
    apply(&engine, default_pack());
    let gated = expect(&engine, "ORG-GATE", Verdict::Pass);
    assert!(!gated.outcome.observed["may_decrypt_with_purpose"]
        .as_array()
        .unwrap()
        .is_empty());
    // A pack that lets anyone decrypt, and does not treat keys as regulated.
    let mut open = default_pack();
    open.0.insert(
        "crypto.cedar".into(),
        "@id(\"anyone-decrypts\")\npermit (principal, action == Action::\"decrypt\", resource is EncryptionKey);".into(),
    );
    apply(&engine, open);
    let r = expect(&engine, "ORG-GATE", Verdict::Fail);
    assert!(!r.outcome.observed["open_to_strangers"]
        .as_array()
        .unwrap()
        .is_empty());
    let mut lax = default_pack();
    lax.0.insert(
        "pack.toml".into(),
        lax.0["pack.toml"].replace("\"EncryptionKey\", ", ""),
    );
    apply(&engine, lax);
    let r = expect(&engine, "ORG-GATE", Verdict::Fail);
    assert_eq!(r.outcome.observed["not_fail_closed"], json!(["phi-notes"]));
}

#[test]
fn log_api_keys_spikes_redaction_and_privacy() {
    let (dir, engine) = engine();
    // An empty log has no checkpoint to judge.
    expect(&engine, "EV-LOG-01", Verdict::Inconclusive);
    let ok = expect(&engine, "EV-LOG-01", Verdict::Pass);
    assert!(ok.outcome.observed["entries"].as_u64().unwrap() >= 1);
    expect(&engine, "EV-LOG-03", Verdict::Pass);
    let retention = expect(&engine, "EV-PRV-01", Verdict::Inconclusive);
    assert!(retention.outcome.reason.contains("privacy part"));

    // API keys: a fresh one passes; a year-old unused one fails; revoked, it passes.
    let key = engine
        .create_api_key(evident::Role::Writer, Some("svc"), "test")
        .unwrap();
    expect(&engine, "EV-AC-06", Verdict::Pass);
    sql(
        dir.path(),
        &format!(
            "UPDATE api_keys SET created_us = {}",
            now_us() - 400 * DAY_US
        ),
    );
    let old = expect(&engine, "EV-AC-06", Verdict::Fail);
    assert_eq!(old.outcome.observed["older_than_allowed"][0]["id"], key.id);
    assert_eq!(
        old.outcome.observed["unused_longer_than_allowed"][0]["id"],
        key.id
    );
    assert_eq!(old.outcome.evidence.len(), 1, "its creation event");
    assert!(engine.authenticate(&key.token).unwrap().is_some());
    let used = expect(&engine, "EV-AC-06", Verdict::Fail);
    assert!(used.outcome.observed["unused_longer_than_allowed"]
        .as_array()
        .unwrap()
        .is_empty());
    engine.revoke_api_key(&key.id, "test").unwrap();
    expect(&engine, "EV-AC-06", Verdict::Pass);

    // Denied decisions: a burst over the floor with no baseline is a spike.
    apply(&engine, default_pack());
    expect(&engine, "EV-AC-05", Verdict::Pass);
    for _ in 0..25 {
        assert!(!decide(
            &engine,
            json!({"subject": {"type": "User", "id": "carol"}, "action": {"name": "delete"},
                   "resource": {"type": "Document", "id": "handbook"}}),
        ));
    }
    let spike = expect(&engine, "EV-AC-05", Verdict::Fail);
    assert_eq!(
        spike.outcome.observed["denied_decisions"]["last_window"],
        25
    );
    assert_eq!(spike.outcome.evidence.len(), 25);

    // A stored personal value altered behind the engine's back: the log no longer verifies.
    let event = AuditEvent::from_json(
        json!({"actor": {"id": "u", "ip": "192.0.2.1"}, "action": "a",
        "resource": {"type": "r"}, "outcome": "success"}),
    )
    .unwrap();
    engine.append_blocking(vec![event]).unwrap();
    sql(dir.path(), "UPDATE personal SET value = '\"198.51.100.9\"'");
    let broken = expect(&engine, "EV-LOG-01", Verdict::Fail);
    assert!(
        broken.outcome.reason.contains("does not verify"),
        "{}",
        broken.outcome.reason
    );
}

#[test]
fn the_tls_certificate_is_read_from_the_data_directory() {
    let (dir, engine) = engine();
    let missing = expect(&engine, "EV-CRY-03", Verdict::Fail);
    assert!(missing.outcome.reason.contains("no certificate"));
    let tls = dir.path().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let cert = |days_left: i64| {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(days_left);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    };
    std::fs::write(tls.join("cert.pem"), cert(365)).unwrap();
    let ok = expect(&engine, "EV-CRY-03", Verdict::Pass);
    assert_eq!(ok.outcome.observed["key"], "ECDSA P-256");
    assert_eq!(ok.outcome.observed["self_signed"], true);
    std::fs::write(tls.join("cert.pem"), cert(10)).unwrap();
    let soon = expect(&engine, "EV-CRY-03", Verdict::Fail);
    assert!(
        soon.outcome.reason.contains("expires in"),
        "{}",
        soon.outcome.reason
    );
    std::fs::write(
        tls.join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    expect(&engine, "EV-CRY-03", Verdict::Fail);
}

#[test]
fn the_controls_themselves_are_monitored() {
    let (dir, engine) = engine();
    let lapsed = expect(&engine, "EV-GOV-05", Verdict::Fail);
    assert!(lapsed.outcome.observed["lapsed"].as_array().unwrap().len() >= 10);
    // Every other check now: none lapsed; the failures are new, so none fails for too long.
    let all: Vec<String> = engine
        .controls()
        .catalog()
        .unwrap()
        .controls
        .iter()
        .filter(|c| c.check.is_some() && c.id != "EV-GOV-05")
        .map(|c| c.id.clone())
        .collect();
    engine.controls().check(&all, "tester").unwrap();
    let ok = expect(&engine, "EV-GOV-05", Verdict::Pass);
    assert_eq!(
        ok.outcome.observed["watched"].as_u64().unwrap() as usize,
        all.len()
    );
    assert_eq!(ok.outcome.evidence.len(), all.len());
    // A failing control whose failure began 40 days ago.
    sql(
        dir.path(),
        &format!(
            "UPDATE control_status SET since_us = {} WHERE control = 'EV-OPS-01'",
            now_us() - 40 * DAY_US
        ),
    );
    let stale = expect(&engine, "EV-GOV-05", Verdict::Fail);
    assert_eq!(
        stale.outcome.observed["failing_too_long"][0]["control"],
        "EV-OPS-01"
    );
    assert!(stale.outcome.observed["lapsed"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// What `evident serve` records when it starts (`evident_server::started`), with `oidc`.
fn server_started(engine: &Engine, oidc: Value) {
    let event = evident::event::system_event(
        "evident.serve.started",
        "server",
        Some("127.0.0.1:8470"),
        json!({"tls": true, "oidc": oidc, "address": "127.0.0.1:8470"}),
    );
    engine.append_blocking(vec![event]).unwrap();
}

#[test]
fn token_lifetimes_are_read_from_the_newest_server_start() {
    let (_dir, engine) = engine();
    let r = expect(&engine, "EV-AC-08", Verdict::Inconclusive);
    assert!(r.outcome.reason.contains("no server start"), "{r:#?}");
    server_started(&engine, Value::Null);
    expect(&engine, "EV-AC-08", Verdict::Pass);
    server_started(
        &engine,
        json!({"issuer": "https://idp.example", "max_token_lifetime_seconds": null}),
    );
    let r = expect(&engine, "EV-AC-08", Verdict::Fail);
    assert!(r
        .outcome
        .remedy
        .unwrap()
        .contains("--oidc-max-token-lifetime 15m"));
    server_started(
        &engine,
        json!({"issuer": "https://idp.example", "max_token_lifetime_seconds": 3600}),
    );
    let r = expect(&engine, "EV-AC-08", Verdict::Fail);
    assert!(r.outcome.reason.contains("3600 s"), "{r:#?}");
    server_started(
        &engine,
        json!({"issuer": "https://idp.example", "max_token_lifetime_seconds": 600}),
    );
    let r = expect(&engine, "EV-AC-08", Verdict::Pass);
    assert_eq!(r.outcome.evidence, vec![engine.size() - 2]);
}

#[test]
fn pre_commit_scanning_is_read_from_the_listed_repositories() {
    let (dir, engine) = engine();
    let r = expect(&engine, "EV-OPS-03", Verdict::Inconclusive);
    assert!(r.outcome.reason.contains("no repositories"), "{r:#?}");
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(".git/hooks")).unwrap();
    org_file(
        dir.path(),
        "repos.toml",
        &format!(
            "[[settings]]\ncontrol = \"EV-OPS-03\"\nparams = {{ repositories = [{:?}] }}\n",
            repo.path().display().to_string()
        ),
    );
    let r = expect(&engine, "EV-OPS-03", Verdict::Fail);
    assert!(r.outcome.remedy.unwrap().contains("evident hook install"));
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nexec evident scan --staged \"$@\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    expect(&engine, "EV-OPS-03", Verdict::Pass);
}
