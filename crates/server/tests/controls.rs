//! The controls part over HTTP: the catalog, status, history and coverage (readers and
//! auditors), running checks (admins only), every bad input a 4xx with the error body and
//! nothing appended; and the scheduler, which runs the due checks of a running server without
//! any request, keeps going past a failed tick, and stops with the server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use evident::store::EventQuery;
use evident::{Engine, Role};
use evident_server::lockout::LockoutPolicy;
use evident_server::{LoopbackServer, ServerOptions, SCHEDULER_ACTOR};
use serde_json::{json, Value};

mod common;
mod support;
use common::client::{Client, Reply};
use support::Running;

/// An automated control whose check needs nothing but the engine's redactor.
const REDACTION: &str = "EV-LOG-03";
/// A manual control: no check to run.
const MANUAL: &str = "EV-GOV-01";

struct Api {
    server: Running,
    client: Client,
    admin: String,
    writer: String,
    reader: String,
    auditor: String,
}

fn api() -> Api {
    let server = Running::start();
    let client = Client::new(&server.base);
    Api {
        admin: server.key(Role::Admin),
        writer: server.key(Role::Writer),
        reader: server.key(Role::Reader),
        auditor: server.key(Role::Auditor),
        server,
        client,
    }
}

impl Api {
    fn get(&self, token: &str, path: &str) -> Reply {
        let auth = format!("Bearer {token}");
        self.client
            .send("GET", path, &[("Authorization", auth.as_bytes())], None)
    }

    fn post(&self, token: &str, path: &str, body: &[u8]) -> Reply {
        let auth = format!("Bearer {token}");
        self.client.send(
            "POST",
            path,
            &[("Authorization", auth.as_bytes())],
            Some(body),
        )
    }

    fn size(&self) -> u64 {
        self.server.engine.size()
    }
}

/// The reply's status, with its body in the message when it is not `expected`.
fn expect(reply: &Reply, expected: u16, what: &str) -> Value {
    assert_eq!(reply.status, expected, "{what}: {}", reply.text());
    reply.json()
}

/// A 4xx with the project's error body, its code and message.
fn refused(reply: &Reply, status: u16, code: &str, what: &str) -> String {
    let body = expect(reply, status, what);
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    body["error"]["message"].as_str().unwrap().to_string()
}

/// Every `controls.check` event in the ledger.
fn check_events(engine: &Engine) -> Vec<Value> {
    engine
        .log()
        .query(&EventQuery {
            action: Some("controls.check".into()),
            limit: 1000,
            ..EventQuery::default()
        })
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.entry)
        .collect()
}

#[test]
fn the_catalog_reads_whole_or_by_framework_and_refuses_an_unknown_framework() {
    let api = api();
    let all = expect(&api.get(&api.auditor, "/v1/controls"), 200, "the catalog");
    let controls = all["controls"].as_array().unwrap();
    assert!(controls.len() >= 15, "{} controls", controls.len());
    assert!(all["catalog"].as_str().unwrap().len() >= 16);
    for c in controls {
        assert_eq!(c["origin"], "shipped", "{c}");
        assert!(c.get("location").is_none(), "a path on the server: {c}");
    }
    let hipaa = expect(
        &api.get(&api.reader, "/v1/controls?framework=hipaa"),
        200,
        "the HIPAA controls",
    );
    let mapped = hipaa["controls"].as_array().unwrap();
    assert!(!mapped.is_empty() && mapped.len() < controls.len());
    assert!(mapped.iter().all(|c| c["frameworks"]["hipaa"].is_array()));
    assert_eq!(hipaa["framework"], "hipaa");

    // The organisation's own controls are read as the catalog is, marked as theirs.
    let own = api.server.dir.path().join("controls");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("acme.toml"),
        r#"[[control]]
id = "ACME-BK-1"
title = "Backups are restore-tested weekly"
description = "Our payments database backups are restored and verified each week."
implementation = "automated"
check = "backup.restore_tested"
cadence = "1d"
params = { max_age_days = 7 }
evidence = ["evident.backup.tested"]
frameworks = { soc2 = ["A1.2"] }
"#,
    )
    .unwrap();
    let soc2 = expect(
        &api.get(&api.auditor, "/v1/controls?framework=soc2"),
        200,
        "the SOC 2 controls",
    );
    let acme = soc2["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ACME-BK-1")
        .unwrap_or_else(|| panic!("the local control is missing: {soc2}"));
    assert_eq!(acme["origin"], "local");

    let before = api.size();
    let message = refused(
        &api.get(&api.auditor, "/v1/controls?framework=iso-27001"),
        400,
        "bad_request",
        "an unknown framework",
    );
    assert!(message.contains("iso-27001"), "{message}");
    refused(
        &api.get(&api.auditor, "/v1/controls?colour=red"),
        400,
        "bad_request",
        "an unknown parameter",
    );
    assert_eq!(api.size(), before, "a refused read appended");
}

#[test]
fn checks_run_by_an_admin_are_recorded_and_show_in_status_and_history() {
    let api = api();
    let status = expect(&api.get(&api.reader, "/v1/controls/status"), 200, "status");
    let row = |status: &Value, id: &str| {
        status["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["control"] == id)
            .unwrap_or_else(|| panic!("no {id} in {status}"))
            .clone()
    };
    assert_eq!(row(&status, REDACTION)["result"], "never checked");
    assert_eq!(row(&status, REDACTION)["overdue"], true);
    assert_eq!(row(&status, MANUAL)["result"], "manual");

    let body = format!(r#"{{"ids": ["{REDACTION}", "{REDACTION}"]}}"#);
    let ran = expect(
        &api.post(&api.admin, "/v1/controls/check", body.as_bytes()),
        200,
        "a check",
    );
    assert_eq!(ran["status"], "done");
    let runs = ran["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "a control named twice runs once: {ran}");
    assert_eq!(runs[0]["control"], REDACTION);
    assert_eq!(runs[0]["verdict"], "pass", "{ran}");
    assert_eq!(ran["summary"]["pass"], 1);
    let index = runs[0]["index"].as_u64().unwrap();
    let event = api.server.engine.event(index, false).unwrap().entry;
    assert_eq!(event["action"], "controls.check");
    let admin_id = api.admin.split('_').nth(1).unwrap();
    assert_eq!(
        event["metadata"]["requested_by"],
        format!("apikey:{admin_id}")
    );

    let status = expect(&api.get(&api.auditor, "/v1/controls/status"), 200, "status");
    let after = row(&status, REDACTION);
    assert_eq!(
        (
            after["result"].clone(),
            after["index"].clone(),
            after["overdue"].clone()
        ),
        (json!("pass"), json!(index), json!(false))
    );

    let history = expect(
        &api.get(
            &api.auditor,
            &format!("/v1/controls/{REDACTION}/history?from=2020-01-01"),
        ),
        200,
        "history",
    );
    let items = history["runs"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(items[0]["index"], index);
    assert_eq!(items[0]["result"], "pass");
    let none = expect(
        &api.get(
            &api.reader,
            &format!("/v1/controls/{REDACTION}/history?from=2020-01-01&to=2020-12-31"),
        ),
        200,
        "history of another year",
    );
    assert_eq!(none["runs"], json!([]));
    assert_eq!(
        none["to"], "2021-01-01T00:00:00Z",
        "`to` a date: to its last moment"
    );

    // An empty body checks every automated control.
    let every = expect(
        &api.post(&api.admin, "/v1/controls/check", b""),
        200,
        "every check",
    );
    let checked = every["runs"].as_array().unwrap();
    assert!(checked.len() >= 10, "{} runs", checked.len());
    assert!(checked.iter().all(|r| r["control"] != MANUAL));
}

#[test]
fn bad_input_is_a_4xx_with_the_error_body_and_appends_nothing() {
    let api = api();
    let before = api.size();
    let history = |query: &str| {
        api.get(
            &api.auditor,
            &format!("/v1/controls/{REDACTION}/history{query}"),
        )
    };
    let message = refused(
        &history("?from=2026-03-01&to=2026-02-01"),
        400,
        "bad_request",
        "a period out of order",
    );
    assert!(message.contains("at or after it ends"), "{message}");
    let message = refused(
        &history("?from=last-tuesday"),
        400,
        "bad_request",
        "an unparseable start",
    );
    assert!(
        message.contains("from `last-tuesday` is not a date"),
        "{message}"
    );
    refused(
        &history("?to=2026-13-45"),
        400,
        "bad_request",
        "an unparseable end",
    );
    refused(
        &history("?from=1969-01-01"),
        400,
        "bad_request",
        "before 1970",
    );
    let message = refused(
        &api.get(&api.auditor, "/v1/controls/EV-NOPE-99/history"),
        404,
        "not_found",
        "an unknown control",
    );
    assert!(message.contains("EV-NOPE-99"), "{message}");

    refused(
        &api.get(&api.auditor, "/v1/controls/coverage"),
        400,
        "bad_request",
        "coverage without a framework",
    );
    refused(
        &api.get(&api.auditor, "/v1/controls/coverage?framework=nope"),
        400,
        "bad_request",
        "coverage of an unknown framework",
    );

    let check = |body: &[u8]| api.post(&api.admin, "/v1/controls/check", body);
    let message = refused(
        &check(br#"{"ids": ["EV-NOPE-99"]}"#),
        404,
        "not_found",
        "checking an unknown control",
    );
    assert!(message.contains("EV-NOPE-99"), "{message}");
    let message = refused(
        &check(format!(r#"{{"ids": ["{REDACTION}", "{MANUAL}"]}}"#).as_bytes()),
        400,
        "bad_request",
        "checking a manual control",
    );
    assert!(message.contains("manual control"), "{message}");
    refused(
        &check(b"{\"ids\": "),
        400,
        "bad_request",
        "a body that is not JSON",
    );
    refused(
        &check(br#"{"ids": "EV-LOG-03"}"#),
        400,
        "bad_request",
        "ids not a list",
    );
    refused(
        &check(br#"{"controls": []}"#),
        400,
        "bad_request",
        "an unknown field",
    );
    refused(&check(b"[]"), 400, "bad_request", "an array for an object");
    let many: Vec<String> = (0..300).map(|i| format!("EV-X-{i}")).collect();
    let message = refused(
        &check(json!({ "ids": many }).to_string().as_bytes()),
        400,
        "bad_request",
        "too many ids",
    );
    assert!(message.contains("at most 256"), "{message}");
    assert_eq!(api.size(), before, "a refused request appended");
    assert!(check_events(&api.server.engine).is_empty());
}

#[test]
fn coverage_lists_every_requirement_with_its_class_and_shares() {
    let api = api();
    let soc2 = expect(
        &api.get(&api.auditor, "/v1/controls/coverage?framework=soc2"),
        200,
        "SOC 2 coverage",
    );
    let rows = soc2["rows"].as_array().unwrap();
    let cc61 = rows
        .iter()
        .find(|r| r["requirement"] == "CC6.1")
        .expect("CC6.1");
    assert!(!cc61["controls"].as_array().unwrap().is_empty(), "{cc61}");
    let shares: f64 = soc2["shares"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((shares - 100.0).abs() < 0.5, "shares sum to {shares}");
    assert!(
        soc2["shares"].get("automated").is_some(),
        "{}",
        soc2["shares"]
    );
    let nist = expect(
        &api.get(&api.reader, "/v1/controls/coverage?framework=nist"),
        200,
        "NIST coverage by an alias",
    );
    assert_eq!(nist["framework"], "nist-800-53");
    assert_eq!(nist["rows"].as_array().unwrap().len(), 287);
}

#[test]
fn auditors_read_the_evidence_and_nothing_else() {
    let api = api();
    // Something in the log, so a checkpoint and proofs exist.
    let event = json!({"actor": {"id": "u-1"}, "action": "record.read", "resource": {"type": "t"}, "outcome": "success"});
    expect(
        &api.post(&api.writer, "/v1/events", event.to_string().as_bytes()),
        200,
        "an append",
    );
    for path in [
        "/v1/controls",
        "/v1/controls/status",
        "/v1/controls/coverage?framework=pci",
        &format!("/v1/controls/{REDACTION}/history"),
        "/v1/checkpoint",
        "/v1/proof/inclusion?index=0",
        "/v1/proof/consistency?from=1",
    ] {
        expect(&api.get(&api.auditor, path), 200, path);
    }
    let before = api.size();
    let mut refusals = 0;
    for (method, path) in [
        ("GET", "/v1/events"),
        ("GET", "/v1/events/0"),
        ("GET", "/metrics"),
        ("GET", "/v1/apikeys"),
        ("GET", "/v1/policy"),
        ("POST", "/v1/events"),
        ("POST", "/v1/controls/check"),
        ("POST", "/v1/redact"),
    ] {
        let reply = if method == "GET" {
            api.get(&api.auditor, path)
        } else {
            api.post(&api.auditor, path, b"{}")
        };
        let message = refused(
            &reply,
            403,
            "forbidden",
            &format!("an auditor: {method} {path}"),
        );
        assert!(message.contains("the caller has `auditor`"), "{message}");
        refusals += 1;
    }
    // Only an admin runs checks.
    for token in [&api.writer, &api.reader] {
        refused(
            &api.post(token, "/v1/controls/check", b"{}"),
            403,
            "forbidden",
            "a writer or reader running checks",
        );
        refusals += 1;
    }
    // Each refusal is recorded (after its 403), and nothing else is.
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.size() < before + refusals {
        assert!(
            Instant::now() < deadline,
            "the refusals were not all recorded"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(api.size(), before + refusals);
    assert!(check_events(&api.server.engine).is_empty());
}

/// A server over its own data directory that runs the due checks every `every`.
fn scheduled(every: Duration) -> (tempfile::TempDir, Arc<Engine>, LoopbackServer) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
    let options = ServerOptions {
        lockout: LockoutPolicy::danger_disabled(),
        controls_schedule: Some(every),
        ..ServerOptions::default()
    };
    let server = LoopbackServer::start_with(engine.clone(), options).unwrap();
    (dir, engine, server)
}

/// Waits until the ledger holds `controls.check` events, and answers them.
fn wait_for_runs(engine: &Engine, within: Duration) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let events = check_events(engine);
        if !events.is_empty() {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "no scheduled check ran within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_scheduler_runs_the_due_checks_without_a_request_and_only_when_due() {
    let (_dir, engine, server) = scheduled(Duration::from_millis(100));
    let events = wait_for_runs(&engine, Duration::from_secs(30));
    assert!(events
        .iter()
        .all(|e| e["metadata"]["requested_by"] == SCHEDULER_ACTOR));
    // One tick checks every due control in one batch; wait for the batch to be recorded.
    let deadline = Instant::now() + Duration::from_secs(10);
    let automated = engine
        .controls()
        .catalog()
        .unwrap()
        .controls
        .iter()
        .filter(|c| c.check.is_some())
        .count();
    while check_events(&engine).len() < automated {
        assert!(
            Instant::now() < deadline,
            "the first tick did not check every control"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The status rows move on once the batch is durable.
    loop {
        // (A manual control is overdue while it lacks current evidence, which no check gives.)
        let overdue = engine.controls().due(evident::event::now_us()).unwrap();
        if overdue.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "overdue after a tick: {overdue:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Nothing is due again for a cadence (at least a minute): later ticks run nothing.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        check_events(&engine).len(),
        automated,
        "a check ran before it was due"
    );
    // And the server stops with its scheduler.
    server.stop().unwrap();
}

#[test]
fn a_failing_tick_is_logged_and_the_next_one_tries_again() {
    let dir = tempfile::tempdir().unwrap();
    // A local catalog file that does not parse: every tick fails until it is fixed.
    let own = dir.path().join("controls");
    std::fs::create_dir_all(&own).unwrap();
    let broken = own.join("acme.toml");
    std::fs::write(&broken, "[[control]\nid = ").unwrap();
    let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
    let options = ServerOptions {
        lockout: LockoutPolicy::danger_disabled(),
        controls_schedule: Some(Duration::from_millis(50)),
        ..ServerOptions::default()
    };
    let server = LoopbackServer::start_with(engine.clone(), options).unwrap();
    let client = Client::new(&server.base);
    let auditor = engine
        .create_api_key(Role::Auditor, None, "test")
        .unwrap()
        .token
        .to_string();
    std::thread::sleep(Duration::from_millis(400));
    assert!(check_events(&engine).is_empty());
    // The server keeps answering; the catalog's fault is the server's, and names no file.
    let health = client.send("GET", "/healthz", &[], None);
    assert_eq!(health.status, 200);
    let auth = format!("Bearer {auditor}");
    let reply = client.send(
        "GET",
        "/v1/controls/status",
        &[("Authorization", auth.as_bytes())],
        None,
    );
    let message = refused(&reply, 500, "internal", "a catalog that does not load");
    assert!(!message.contains("acme.toml"), "{message}");
    // Fixed, the next tick runs the due checks.
    std::fs::remove_file(&broken).unwrap();
    wait_for_runs(&engine, Duration::from_secs(30));
    server.stop().unwrap();
}
