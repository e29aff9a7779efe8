//! The access part: AuthZEN conformance with the shipped interop pack, the search scenario
//! against a model of its rules, pack versioning, the default compliance pack, break-glass,
//! logging of every decision and failing closed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};

use evident::access::authzen::{EvaluationsRequest, SearchKind, SearchRequest};
use evident::access::pack::PackFiles;
use evident::access::{Answer, Caller};
use evident::store::EventQuery;
use evident::{Engine, Error};
use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn conformance(name: &str) -> Value {
    let path = repo().join("../shared/conformance/authzen").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (../shared must sit beside the repo)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn engine_with(pack: &str) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    let files = PackFiles::load_dir(&repo().join("policies").join(pack)).unwrap();
    engine.access().apply(files, "test").unwrap();
    (dir, engine)
}

fn caller() -> Caller {
    Caller {
        method: "api_key".into(),
        id: "pep".into(),
    }
}

fn decide(engine: &Engine, request: &Value) -> Answer {
    let batch: EvaluationsRequest = serde_json::from_value(request.clone()).unwrap();
    engine
        .access()
        .evaluate_blocking(&batch, &caller(), Some("req-1"))
        .unwrap()
}

fn one(answer: Answer) -> evident::access::authzen::DecisionResponse {
    match answer {
        Answer::One(d) => d,
        Answer::Many(_) => panic!("expected a single decision"),
    }
}

#[test]
fn interop_pack_passes_every_authzen_decision_table() {
    let (_dir, engine) = engine_with("interop");
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in ["todo-decisions.json", "gateway-decisions.json"] {
        let table = conformance(file);
        for case in table["evaluation"].as_array().unwrap() {
            let got = one(decide(&engine, &case["request"]));
            if json!(got.decision) != case["expected"] {
                failures.push(format!("{file}: {} -> {}", case["request"], got.decision));
            }
            checked += 1;
        }
        for case in table["evaluations"].as_array().into_iter().flatten() {
            let Answer::Many(got) = decide(&engine, &case["request"]) else {
                panic!("a batch answers a batch");
            };
            let got: Vec<Value> = got
                .evaluations
                .iter()
                .map(|d| json!({"decision": d.decision}))
                .collect();
            if Value::Array(got.clone()) != case["expected"] {
                failures.push(format!("{file}: batch {} -> {got:?}", case["request"]));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, 40 + 3 + 25);
    // every decision is in the ledger, with the policy hash and determining policies
    let page = engine
        .query(&EventQuery {
            action: Some("access.evaluate".into()),
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.events.len(), 40 + 6 + 25);
    let hash = engine.access().require_active().unwrap().hash.clone();
    for e in &page.events {
        assert_eq!(e.entry["policy"]["version"], json!(hash));
        assert!(e.entry["metadata"]["decision_id"]
            .as_str()
            .unwrap()
            .starts_with("dec_"));
        let allowed = e.entry["metadata"]["decision"].as_bool().unwrap();
        let determining = e.entry["metadata"]["determining_policies"]
            .as_array()
            .unwrap();
        assert_eq!(allowed, !determining.is_empty(), "{}", e.entry);
    }
}

/// The search scenario's rules, written independently of the Cedar policies.
fn model_allows(user: &Value, action: &str, record: &Value) -> bool {
    let owns = record["owner"] == user["id"];
    let same_department = record["department"] == user["department"];
    let manager = user["role"] == "manager";
    match action {
        "view" => owns || same_department || manager,
        "edit" => owns || (manager && same_department),
        "delete" => owns,
        _ => false,
    }
}

fn search(engine: &Engine, kind: SearchKind, request: Value) -> Vec<Value> {
    let mut results = Vec::new();
    let mut request = request;
    let mut pages = 0;
    loop {
        let req: SearchRequest = serde_json::from_value(request.clone()).unwrap();
        let (response, event) = engine.access().search(kind, &req, &caller(), None).unwrap();
        engine.append_blocking(vec![event]).unwrap();
        results.extend(response.results);
        pages += 1;
        if response.page.next_token.is_empty() {
            break;
        }
        request["page"]["token"] = json!(response.page.next_token);
    }
    assert!(pages >= 1);
    results
}

#[test]
fn search_scenario_matches_a_model_of_its_rules() {
    let (_dir, engine) = engine_with("interop");
    let users = conformance("search-users.json");
    let records = conformance("search-records.json");
    let users = users.as_array().unwrap();
    let records = records.as_array().unwrap();
    for action in ["view", "edit", "delete"] {
        // resource search, paged three at a time
        for user in users {
            let got = search(
                &engine,
                SearchKind::Resource,
                json!({
                    "subject": {"type": "user", "id": user["id"]},
                    "action": {"name": action},
                    "resource": {"type": "record"},
                    "page": {"limit": 3}
                }),
            );
            let mut got: Vec<String> = got
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect();
            got.sort();
            let mut want: Vec<String> = records
                .iter()
                .filter(|r| model_allows(user, action, r))
                .map(|r| r["id"].to_string())
                .collect();
            want.sort();
            assert_eq!(got, want, "{} {action}", user["id"]);
        }
        // subject search
        for record in records {
            let got = search(
                &engine,
                SearchKind::Subject,
                json!({
                    "subject": {"type": "user"},
                    "action": {"name": action},
                    "resource": {"type": "record", "id": record["id"].to_string()}
                }),
            );
            let mut got: Vec<String> = got
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect();
            got.sort();
            // the pack also holds the todo scenario's users; they have no department
            let mut want: Vec<String> = users
                .iter()
                .filter(|u| model_allows(u, action, record))
                .map(|u| u["id"].as_str().unwrap().to_string())
                .collect();
            want.sort();
            assert_eq!(got, want, "record {} {action}", record["id"]);
        }
    }
    // action search
    for user in users {
        for record in records {
            let got = search(
                &engine,
                SearchKind::Action,
                json!({
                    "subject": {"type": "user", "id": user["id"]},
                    "resource": {"type": "record", "id": record["id"].to_string()}
                }),
            );
            let got: Vec<&str> = got.iter().map(|r| r["name"].as_str().unwrap()).collect();
            let want: Vec<&str> = ["delete", "edit", "view"]
                .into_iter()
                .filter(|a| model_allows(user, a, record))
                .collect();
            assert_eq!(got, want, "{} on {}", user["id"], record["id"]);
        }
    }
}

#[test]
fn evaluations_semantics_defaults_and_item_errors() {
    let (_dir, engine) = engine_with("interop");
    let rick = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
    let beth = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
    let batch = |semantic: &str| {
        json!({
            "subject": {"type": "user", "id": beth},
            "action": {"name": "can_read_todos"},
            "resource": {"type": "todo", "id": "t1"},
            "options": {"evaluations_semantic": semantic},
            "evaluations": [
                {"action": {"name": "can_create_todo"}},
                {},
                {"subject": {"type": "user", "id": rick}, "action": {"name": "can_create_todo"}},
                {"resource": {"type": "nosuchtype", "id": "x"}},
            ]
        })
    };
    let decisions = |semantic: &str| match decide(&engine, &batch(semantic)) {
        Answer::Many(m) => m.evaluations,
        Answer::One(_) => panic!("batch"),
    };
    let all = decisions("execute_all");
    assert_eq!(
        all.iter().map(|d| d.decision).collect::<Vec<_>>(),
        [false, true, true, false]
    );
    assert_eq!(
        all[3].context.as_ref().unwrap()["error"]["status"],
        json!(400)
    );
    assert!(all[0].context.is_none(), "a plain deny says nothing more");
    assert_eq!(decisions("deny_on_first_deny").len(), 1);
    assert_eq!(decisions("permit_on_first_permit").len(), 2);
    // no items: a single evaluation of the defaults
    let single = decide(
        &engine,
        &json!({"subject": {"type": "user", "id": beth}, "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "t1"}}),
    );
    assert!(matches!(single, Answer::One(d) if d.decision));
    // a malformed single evaluation is the caller's error, and nothing is logged for it
    let before = engine.size();
    let bad: EvaluationsRequest = serde_json::from_value(json!({
        "subject": {"type": "user", "id": beth}, "action": {"name": "no_such_action"}, "resource": {"type": "todo", "id": "t1"}
    }))
    .unwrap();
    let err = engine
        .access()
        .evaluate_blocking(&bad, &caller(), None)
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err}");
    assert_eq!(engine.size(), before);
}

#[test]
fn invalid_packs_are_refused_with_diagnostics_and_the_active_one_stays() {
    let (dir, engine) = engine_with("interop");
    let active = engine.access().require_active().unwrap();
    let mut files = PackFiles::load_dir(&repo().join("policies/interop")).unwrap();
    // a typo in an attribute: strict validation names it
    files.0.insert(
        "typo.cedar".into(),
        "permit (principal, action == Action::\"view\", resource) when { resource.ownr == principal };\n".into(),
    );
    let err = engine
        .access()
        .apply(files.clone(), "test")
        .unwrap_err()
        .to_string();
    assert!(err.contains("ownr"), "{err}");
    assert!(err.contains("typo.cedar"), "{err}");
    // a syntax error: file, line and column
    files.0.insert(
        "typo.cedar".into(),
        "permit (principal, action, resource) when { ;\n".into(),
    );
    let err = engine
        .access()
        .apply(files.clone(), "test")
        .unwrap_err()
        .to_string();
    assert!(err.contains("typo.cedar:1:"), "{err}");
    // entity data that does not fit the schema
    files.0.remove("typo.cedar");
    files.0.insert(
        "entities.json".into(),
        r#"[{"uid": {"type": "todo", "id": "x"}, "attrs": {"ownerID": 7}, "parents": []}]"#.into(),
    );
    assert!(engine.access().apply(files.clone(), "test").is_err());
    // no schema
    files.0.remove("schema.cedarschema");
    assert!(engine.access().apply(files, "test").is_err());
    let still = engine.access().require_active().unwrap();
    assert_eq!(still.hash, active.hash);
    assert_eq!(engine.access().history().unwrap().len(), 1);
    drop(engine);
    // and after a restart
    let engine = Engine::open(dir.path(), false).unwrap();
    assert_eq!(engine.access().require_active().unwrap().hash, active.hash);
}

#[test]
fn versions_history_diff_and_rollback_are_logged() {
    let (_dir, engine) = engine_with("interop");
    let v1 = engine.access().require_active().unwrap();
    let mut files = v1.files.clone();
    let gateway = files.0["gateway.cedar"].replace(
        "@id(\"gateway-create-todo\")\npermit (principal in Role::\"editor\"",
        "@id(\"gateway-create-todo\")\npermit (principal in Role::\"admin\"",
    );
    assert_ne!(gateway, files.0["gateway.cedar"]);
    files.0.insert("gateway.cedar".into(), gateway);
    let applied = engine.access().apply(files.clone(), "alice").unwrap();
    assert!(applied.changed);
    assert_eq!(applied.version, 2);
    assert_eq!(applied.diff.policies_changed, ["gateway-create-todo"]);
    // the same files again change nothing
    assert!(!engine.access().apply(files, "alice").unwrap().changed);
    let rolled = engine.access().rollback(1, "bob").unwrap();
    assert_eq!(rolled.version, 3);
    assert_eq!(rolled.hash, v1.hash);
    let history = engine.access().history().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].origin, "rollback to 1");
    let events = engine
        .query(&EventQuery {
            action: Some("access.policy.applied".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(events.events.len(), 3);
    let last = &events.events.last().unwrap().entry;
    assert_eq!(last["metadata"]["hash"], json!(v1.hash));
    assert_eq!(
        last["metadata"]["diff"]["policies_changed"],
        json!(["gateway-create-todo"])
    );
    assert!(engine.access().rollback(9, "bob").is_err());
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn phi_read(user: &str, record: &str, context: Value) -> Value {
    json!({
        "subject": {"type": "User", "id": user},
        "action": {"name": "read"},
        "resource": {"type": "PatientRecord", "id": record},
        "context": context
    })
}

#[test]
fn default_pack_phi_needs_purpose_and_fresh_mfa_and_says_how_to_step_up() {
    let (_dir, engine) = engine_with("default");
    let fresh = json!({"mfa": true, "auth_time": now() - 60});
    let ok = one(decide(
        &engine,
        &phi_read(
            "carol",
            "pr-1001",
            json!({"authn": fresh, "purpose_of_use": "treatment"}),
        ),
    ));
    assert!(ok.decision);
    // no MFA, or an MFA older than 900 s: denied, with what would satisfy it
    for authn in [
        json!({"mfa": false}),
        json!({"mfa": true, "auth_time": now() - 3600}),
    ] {
        let denied = one(decide(
            &engine,
            &phi_read(
                "carol",
                "pr-1001",
                json!({"authn": authn, "purpose_of_use": "treatment"}),
            ),
        ));
        assert!(!denied.decision);
        let ctx = denied.context.unwrap();
        assert_eq!(ctx["reason"], json!("policy_denied"));
        assert_eq!(ctx["acr_values"], json!("urn:evident:acr:mfa"));
        assert_eq!(ctx["amr_values"], json!(["mfa"]));
    }
    // no purpose of use (or one outside TPO): denied, and stepping up would not help
    for purpose in [json!({}), json!({"purpose_of_use": "marketing"})] {
        let mut context = purpose.clone();
        context["authn"] = fresh.clone();
        let denied = one(decide(&engine, &phi_read("carol", "pr-1001", context)));
        assert!(!denied.decision);
        assert!(denied.context.is_none(), "{:?}", denied.context);
    }
    // another department
    let denied = one(decide(
        &engine,
        &phi_read(
            "dave",
            "pr-1001",
            json!({"authn": fresh, "purpose_of_use": "treatment"}),
        ),
    ));
    assert!(!denied.decision);
    // nor can the caller move a stored user to another department
    let mut moved = phi_read(
        "dave",
        "pr-1001",
        json!({"authn": fresh, "purpose_of_use": "treatment"}),
    );
    moved["subject"]["properties"] = json!({"department": "cardiology"});
    assert!(!one(decide(&engine, &moved)).decision);
    // the client cannot forge the clock: `now` is the server's
    let forged = one(decide(
        &engine,
        &phi_read(
            "carol",
            "pr-1001",
            json!({"authn": {"mfa": true, "auth_time": now() - 7200}, "now": now() - 7200, "purpose_of_use": "treatment"}),
        ),
    ));
    assert!(!forged.decision);
}

#[test]
fn privileged_actions_need_mfa() {
    let (_dir, engine) = engine_with("default");
    let delete = |user: &str, authn: Value| {
        one(decide(
            &engine,
            &json!({
                "subject": {"type": "User", "id": user},
                "action": {"name": "delete"},
                "resource": {"type": "Document", "id": "handbook"},
                "context": {"authn": authn}
            }),
        ))
    };
    let no_mfa = delete("alice", json!({"mfa": false}));
    assert!(!no_mfa.decision);
    assert_eq!(
        no_mfa.context.unwrap()["acr_values"],
        json!("urn:evident:acr:mfa")
    );
    assert!(delete("alice", json!({"mfa": true, "auth_time": now() - 10})).decision);
    // MFA does not make an editor an admin
    let editor = delete("bob", json!({"mfa": true, "auth_time": now() - 10}));
    assert!(!editor.decision);
    assert!(editor.context.is_none());
}

#[test]
fn break_glass_needs_a_justification_is_logged_high_and_reviewed_by_a_second_person() {
    let (_dir, engine) = engine_with("default");
    let mfa = json!({"mfa": true, "auth_time": now() - 30});
    let short = one(decide(
        &engine,
        &phi_read(
            "dave",
            "pr-1001",
            json!({"authn": mfa, "break_glass": true, "justification": "urgent"}),
        ),
    ));
    assert!(!short.decision);
    let ctx = short.context.unwrap();
    assert_eq!(ctx["reason"], json!("break_glass_justification_required"));
    assert_eq!(ctx["min_justification_chars"], json!(15));
    assert!(engine.access().break_glass(true).unwrap().is_empty());

    let why = "patient arrived unconscious in the ED, cardiology on call unreachable";
    let granted = one(decide(
        &engine,
        &phi_read(
            "dave",
            "pr-1001",
            json!({"authn": mfa, "break_glass": true, "justification": why}),
        ),
    ));
    assert!(granted.decision);
    let open = engine.access().break_glass(true).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].subject, "User::\"dave\"");
    assert_eq!(open[0].policies, "phi-break-glass-read");
    // the decision is high severity, names the policy and its controls; the justification
    // is committed, not stored in the clear
    let events = engine
        .query(&EventQuery {
            action: Some("access.evaluate".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    let event = events
        .events
        .iter()
        .find(|e| e.entry["metadata"]["decision_id"] == json!(open[0].decision_id))
        .unwrap();
    assert_eq!(event.entry["severity"], json!("high"));
    assert_eq!(event.entry["metadata"]["break_glass"], json!(true));
    assert!(event.entry["metadata"]["controls"]
        .as_array()
        .unwrap()
        .contains(&json!("HIPAA 164.312(a)(2)(ii)")));
    let raw = String::from_utf8(engine.entry_bytes(event.index).unwrap()).unwrap();
    assert!(!raw.contains("unconscious"), "{raw}");

    // no self-review, a note is needed, the outcome is one of two
    let id = open[0].id.clone();
    assert!(engine
        .access()
        .review_break_glass(&id, "dave", "approved", "fine")
        .is_err());
    assert!(engine
        .access()
        .review_break_glass(&id, "alice", "approved", " ")
        .is_err());
    assert!(engine
        .access()
        .review_break_glass(&id, "alice", "maybe", "x")
        .is_err());
    let closed = engine
        .access()
        .review_break_glass(&id, "alice", "approved", "confirmed with the ED log")
        .unwrap();
    assert_eq!(closed.reviewer.as_deref(), Some("alice"));
    assert!(engine.access().break_glass(true).unwrap().is_empty());
    assert!(engine
        .access()
        .review_break_glass(&id, "bob", "approved", "again")
        .is_err());
    let reviewed = engine
        .query(&EventQuery {
            action: Some("access.break_glass.reviewed".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(reviewed.events.len(), 1);
}

#[test]
fn a_decision_about_regulated_data_the_ledger_cannot_record_is_a_deny() {
    let (_dir, engine) = engine_with("default");
    let phi = phi_read(
        "carol",
        "pr-1001",
        json!({"authn": {"mfa": true, "auth_time": now() - 60}, "purpose_of_use": "treatment"}),
    );
    let document = json!({
        "subject": {"type": "User", "id": "carol"},
        "action": {"name": "read"},
        "resource": {"type": "Document", "id": "handbook"}
    });
    assert!(one(decide(&engine, &phi)).decision);
    let size = engine.size();
    engine.shutdown();
    let denied = one(decide(&engine, &phi));
    assert!(!denied.decision, "fail closed");
    assert_eq!(denied.context.unwrap()["reason"], json!("not_recorded"));
    // not regulated: the decision stands, marked as not recorded
    let open = one(decide(&engine, &document));
    assert!(open.decision);
    assert_eq!(open.context.unwrap()["recorded"], json!(false));
    assert_eq!(engine.size(), size);
}

#[test]
fn access_review_lists_grants_by_type_and_every_regulated_resource() {
    let (_dir, engine) = engine_with("default");
    let report = engine.access().review("auditor").unwrap();
    let row = |p: &str, a: &str, t: &str| {
        report
            .by_type
            .iter()
            .find(|r| r.principal == p && r.action == a && r.resource_type == t)
            .cloned()
    };
    assert!(row("User::\"carol\"", "read", "Document").unwrap().allowed > 0);
    assert!(row("User::\"carol\"", "update", "Document").is_none());
    let alice_delete = row("User::\"alice\"", "delete", "Document").unwrap();
    assert_eq!(alice_delete.allowed, 0);
    assert!(alice_delete.step_up > 0, "{alice_delete:?}");
    // dave reaches the cardiology record only by break-glass
    assert!(report
        .regulated
        .iter()
        .any(|r| r.principal == "User::\"dave\""
            && r.resource == "PatientRecord::\"pr-1001\""
            && r.access == "break_glass"));
    let csv = report.to_csv();
    assert!(csv.starts_with("scope,principal,"));
    assert!(csv.contains("regulated,"));
    let logged = engine
        .query(&EventQuery {
            action: Some("access.review.generated".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(logged.events.len(), 1);
}

#[test]
fn another_process_sees_a_new_version_within_a_second() {
    let (dir, first) = engine_with("interop");
    let second = Engine::open(dir.path(), false).unwrap();
    let v1 = second.access().require_active().unwrap().hash.clone();
    let mut files = first.access().require_active().unwrap().files.clone();
    files.0.insert(
        "extra.cedar".into(),
        "@id(\"extra\")\npermit (principal, action == Action::\"view\", resource);\n".into(),
    );
    let v2 = first.access().apply(files, "test").unwrap().hash;
    assert_ne!(v1, v2);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(second.access().require_active().unwrap().hash, v2);
}
