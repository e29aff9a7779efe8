//! The risk and incident registers against a real engine: residual risk follows a linked
//! control's live status as it flips; every change is a ledger event and the registers are
//! read back from them; bad input stores nothing; a log that does not verify opens an
//! incident; a period bundle carries both registers with proofs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;

use evident::controls::bundle::format::read_tar;
use evident::controls::bundle::{verify_bundle, Period};
use evident::controls::registers::clocks::{GDPR_AUTHORITY_US, HOUR_US};
use evident::controls::registers::incident::{Classify, NewIncident, Notify, SOURCE_LOG_TAMPER};
use evident::controls::registers::risk::{NewRisk, RiskChange};
use evident::controls::Verdict;
use evident::event::now_us;
use evident::store::EventQuery;
use evident::{AuditEvent, Engine, Error};
use evident_ledger::note::NoteVerifier;
use serde_json::{json, Value};

const DAY_US: i64 = 86_400_000_000;

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    (dir, engine)
}

fn sql(dir: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(dir.join("evident.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn.execute_batch(statement).unwrap();
}

fn check(engine: &Engine, id: &str, verdict: Verdict) {
    let runs = engine
        .controls()
        .check(&[id.to_string()], "tester")
        .unwrap();
    assert_eq!(
        runs[0].outcome.verdict, verdict,
        "{id}: {:?}",
        runs[0].outcome
    );
}

fn laptop_risk(controls: &[&str]) -> NewRisk {
    NewRisk {
        id: None,
        title: "Stale API keys are used by an attacker".into(),
        asset: "the API".into(),
        threat: "a leaked key".into(),
        likelihood: 4,
        impact: 5,
        owner: "security-lead".into(),
        treatment: "mitigate".into(),
        controls: controls.iter().map(|c| c.to_string()).collect(),
    }
}

fn actions(engine: &Engine, resource_type: &str) -> Vec<String> {
    engine
        .query(&EventQuery {
            resource_type: Some(resource_type.into()),
            limit: 100,
            ..EventQuery::default()
        })
        .unwrap()
        .events
        .iter()
        .map(|e| e.entry["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn residual_risk_follows_a_linked_control_as_it_flips() {
    let (dir, engine) = engine();
    let controls = engine.controls();
    engine
        .create_api_key(evident::Role::Writer, Some("svc"), "test")
        .unwrap();
    check(&engine, "EV-AC-06", Verdict::Pass);

    let risk = controls
        .add_risk(&laptop_risk(&["EV-AC-06", "EV-AC-06"]), "alice", now_us())
        .unwrap();
    assert_eq!(risk.id, "R-001");
    assert_eq!(
        risk.controls,
        ["EV-AC-06"],
        "a control linked twice counts once"
    );
    assert_eq!(
        (risk.inherent.score, risk.inherent.rating),
        (20, "critical")
    );
    assert_eq!(
        risk.residual.likelihood, 3,
        "one passing control: one step lower"
    );
    assert_eq!((risk.residual.score, risk.residual.rating), (15, "high"));
    assert!(risk.linked[0].effective);

    // The key grows old: the control fails, and the residual risk is back to inherent.
    sql(
        dir.path(),
        &format!(
            "UPDATE api_keys SET created_us = {}",
            now_us() - 400 * DAY_US
        ),
    );
    check(&engine, "EV-AC-06", Verdict::Fail);
    let risk = controls.risk("R-001", now_us()).unwrap();
    assert!(!risk.linked[0].effective);
    assert_eq!(risk.residual.score, 20);
    assert!(
        risk.linked[0].why.contains("fail"),
        "{}",
        risk.linked[0].why
    );

    // A control never checked lowers nothing either.
    let risk = controls
        .update_risk(
            "R-001",
            &RiskChange {
                controls: Some(vec!["EV-AC-05".into()]),
                impact: Some(2),
                reason: Some("keys rotated".into()),
                ..RiskChange::default()
            },
            "alice",
            now_us(),
        )
        .unwrap();
    assert_eq!((risk.impact, risk.residual.score), (2, 8));
    assert_eq!(risk.linked[0].result, "never checked");

    let closed = controls
        .close_risk("R-001", "the service was retired", "alice", now_us())
        .unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.events.len(), 3);
    assert_eq!(
        actions(&engine, "risk"),
        [
            "controls.risk.added",
            "controls.risk.updated",
            "controls.risk.closed"
        ]
    );
    // Read back from the ledger alone, by a fresh engine.
    drop(engine);
    let engine = Engine::open(dir.path(), false).unwrap();
    let again = engine.controls().risk("R-001", now_us()).unwrap();
    assert_eq!((again.status, again.impact), ("closed", 2));
    assert_eq!(
        again.close_reason.as_deref(),
        Some("the service was retired")
    );
    let refused = engine
        .controls()
        .update_risk(
            "R-001",
            &RiskChange {
                likelihood: Some(1),
                ..RiskChange::default()
            },
            "a",
            now_us(),
        )
        .unwrap_err();
    assert!(matches!(refused, Error::Conflict(_)), "{refused}");
}

#[test]
fn bad_risks_store_nothing() {
    let (_dir, engine) = engine();
    let controls = engine.controls();
    let size = engine.size();
    let unknown = controls
        .add_risk(&laptop_risk(&["EV-NOPE-9"]), "alice", now_us())
        .unwrap_err();
    assert!(matches!(unknown, Error::BadRequest(_)));
    assert!(
        unknown.to_string().contains("no control `EV-NOPE-9`"),
        "{unknown}"
    );
    for (likelihood, impact) in [(-1, 3), (0, 3), (6, 3), (3, -2), (3, 9)] {
        let bad = NewRisk {
            likelihood,
            impact,
            ..laptop_risk(&[])
        };
        let e = controls.add_risk(&bad, "alice", now_us()).unwrap_err();
        assert!(e.to_string().contains("1 (lowest) to 5"), "{e}");
    }
    let bad = NewRisk {
        treatment: "ignore".into(),
        ..laptop_risk(&[])
    };
    assert!(controls.add_risk(&bad, "alice", now_us()).is_err());
    let bad = NewRisk {
        id: Some("../x".into()),
        ..laptop_risk(&[])
    };
    assert!(controls.add_risk(&bad, "alice", now_us()).is_err());
    assert!(controls
        .update_risk(
            "R-404",
            &RiskChange {
                impact: Some(1),
                ..RiskChange::default()
            },
            "a",
            now_us()
        )
        .is_err());
    assert_eq!(engine.size(), size, "a refused change appended");

    let first = controls
        .add_risk(&laptop_risk(&[]), "alice", now_us())
        .unwrap();
    let taken = NewRisk {
        id: Some(first.id.clone()),
        ..laptop_risk(&[])
    };
    assert!(matches!(
        controls.add_risk(&taken, "alice", now_us()).unwrap_err(),
        Error::Conflict(_)
    ));
    let second = controls
        .add_risk(&laptop_risk(&[]), "alice", now_us())
        .unwrap();
    assert_eq!((first.id.as_str(), second.id.as_str()), ("R-001", "R-002"));
}

#[test]
fn incident_clocks_and_refusals() {
    let (_dir, engine) = engine();
    let controls = engine.controls();
    let now = now_us();
    let size = engine.size();
    let future = controls
        .open_incident(
            &NewIncident {
                title: "lost tape".into(),
                description: String::new(),
                discovered_us: now + 1,
                source: "manual".into(),
            },
            "alice",
            now,
        )
        .unwrap_err();
    assert!(future.to_string().contains("in the future"), "{future}");
    assert_eq!(engine.size(), size);

    let discovered = now - 80 * HOUR_US;
    let opened = controls
        .open_incident(
            &NewIncident {
                title: "Misdirected export".into(),
                description: "a report went to the wrong customer".into(),
                discovered_us: discovered,
                source: "manual".into(),
            },
            "alice",
            now,
        )
        .unwrap();
    assert!(
        opened.obligations.is_empty(),
        "nothing owed before classification"
    );
    let id = opened.id.clone();

    let size = engine.size();
    let negative = controls
        .classify_incident(
            &id,
            &Classify {
                personal_data: Some(true),
                subjects: Some(-3),
                ..Classify::default()
            },
            "alice",
            now,
        )
        .unwrap_err();
    assert!(negative.to_string().contains("0 or more"), "{negative}");
    let before = controls
        .notify_incident(
            &id,
            &Notify {
                recipient: "supervisory-authority".into(),
                at_us: Some(discovered - 1),
                reference: String::new(),
            },
            "alice",
            now,
        )
        .unwrap_err();
    assert!(
        before
            .to_string()
            .contains("before the incident was discovered"),
        "{before}"
    );
    let closed_early = controls
        .close_incident(&id, Some(discovered - 1), "x", "alice", now)
        .unwrap_err();
    assert!(closed_early
        .to_string()
        .contains("before the incident was discovered"));
    assert_eq!(engine.size(), size, "a refused change appended");

    let classified = controls
        .classify_incident(
            &id,
            &Classify {
                personal_data: Some(true),
                subjects: Some(40),
                ..Classify::default()
            },
            "alice",
            now,
        )
        .unwrap();
    let authority = |i: &evident::controls::registers::incident::Incident| {
        i.obligations
            .iter()
            .find(|o| o.recipient == "supervisory-authority")
            .unwrap()
            .state
    };
    assert_eq!(authority(&classified), "overdue", "80 h after discovery");
    // The same incident read as of exactly 72 h after discovery: due, not overdue.
    let at_deadline = controls
        .incident(&id, discovered + GDPR_AUTHORITY_US)
        .unwrap();
    assert_eq!(authority(&at_deadline), "due");
    let a_microsecond_later = controls
        .incident(&id, discovered + GDPR_AUTHORITY_US + 1)
        .unwrap();
    assert_eq!(authority(&a_microsecond_later), "overdue");

    let noted = controls
        .note_incident(&id, "the customer confirmed deletion", "bob", now)
        .unwrap();
    assert_eq!(noted.notes[0].by, "bob");
    let closed = controls
        .close_incident(&id, None, "contained", "alice", now_us())
        .unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(authority(&closed), "overdue", "closing discharges nothing");
    assert!(matches!(
        controls
            .note_incident(&id, "more", "bob", now_us())
            .unwrap_err(),
        Error::Conflict(_)
    ));
    let notified = controls
        .notify_incident(
            &id,
            &Notify {
                recipient: "supervisory-authority".into(),
                at_us: None,
                reference: "case 118".into(),
            },
            "alice",
            now_us(),
        )
        .unwrap();
    assert_eq!(authority(&notified), "late");
    assert_eq!(
        actions(&engine, "incident"),
        [
            "controls.incident.opened",
            "controls.incident.classified",
            "controls.incident.updated",
            "controls.incident.closed",
            "controls.incident.notified"
        ]
    );
}

#[test]
fn a_log_that_does_not_verify_opens_one_incident() {
    let (dir, engine) = engine();
    check(&engine, "EV-LOG-01", Verdict::Inconclusive);
    check(&engine, "EV-LOG-01", Verdict::Pass);
    assert!(engine.controls().incidents(now_us()).unwrap().is_empty());
    let event = AuditEvent::from_json(json!({"actor": {"id": "u", "ip": "192.0.2.1"},
        "action": "a", "resource": {"type": "r"}, "outcome": "success"}))
    .unwrap();
    engine.append_blocking(vec![event]).unwrap();
    sql(dir.path(), "UPDATE personal SET value = '\"198.51.100.9\"'");
    check(&engine, "EV-LOG-01", Verdict::Fail);
    check(&engine, "EV-LOG-01", Verdict::Fail);
    let incidents = engine.controls().incidents(now_us()).unwrap();
    assert_eq!(incidents.len(), 1, "one open incident, not one per run");
    assert_eq!(incidents[0].source, SOURCE_LOG_TAMPER);
    assert_eq!(incidents[0].opened_by, "evident");
    assert!(incidents[0].description.contains("does not verify"));
}

#[test]
fn a_period_bundle_carries_the_registers_with_proofs() {
    let (_dir, engine) = engine();
    let controls = engine.controls();
    let start = now_us();
    controls
        .add_risk(&laptop_risk(&["EV-AC-06"]), "alice", now_us())
        .unwrap();
    let incident = controls
        .open_incident(
            &NewIncident {
                title: "Backup bucket was public".into(),
                description: String::new(),
                discovered_us: now_us() - HOUR_US,
                source: "manual".into(),
            },
            "alice",
            now_us(),
        )
        .unwrap();
    controls.check(&["EV-AC-06".into()], "tester").unwrap();
    let period = Period {
        from_us: start - HOUR_US,
        to_us: now_us() + 1_000_000,
    };
    let built = controls.bundle("soc2", period, &[], "tester").unwrap();
    let verifier = NoteVerifier::parse(&engine.verifier_key()).unwrap();
    let verdict = verify_bundle(&built.bytes, &verifier).unwrap();
    assert!(verdict.faults.is_empty(), "{:?}", verdict.faults);
    let check_runs = built.manifest.events.len();
    assert_eq!(
        verdict.proven,
        check_runs + 2,
        "the risk's and the incident's events are proven too"
    );
    let members = read_tar(&built.bytes).unwrap();
    let risks: Value = serde_json::from_slice(&members["registers/risks.json"]).unwrap();
    assert_eq!(risks["records"][0]["id"], "R-001");
    let incidents: Value = serde_json::from_slice(&members["registers/incidents.json"]).unwrap();
    assert_eq!(incidents["records"][0]["id"], json!(incident.id));
    for index in [
        risks["records"][0]["events"][0].as_u64().unwrap(),
        incident.events[0],
    ] {
        let entry = &members[&format!("registers/entries/{index:012}.json")];
        assert_eq!(entry, &engine.entry_bytes(index).unwrap());
        assert!(members.contains_key(&format!("registers/proofs/{index:012}.tlog-proof")));
    }

    // A register entry dropped from the bundle is named.
    let mut cut = members.clone();
    let manifest = cut.remove("manifest.json").unwrap();
    let index = incident.events[0];
    cut.remove(&format!("registers/entries/{index:012}.json"));
    let edited = evident::controls::bundle::format::write_tar(&cut, &manifest).unwrap();
    let verdict = verify_bundle(&edited, &verifier).unwrap();
    assert!(
        verdict
            .faults
            .iter()
            .any(|f| f.contains("a register record's event is missing")),
        "{:?}",
        verdict.faults
    );

    // A period before anything was recorded carries no record.
    let empty = Period {
        from_us: start - 3 * HOUR_US,
        to_us: start - 2 * HOUR_US,
    };
    if let Ok(built) = controls.bundle("soc2", empty, &[], "tester") {
        let members = read_tar(&built.bytes).unwrap();
        let risks: Value = serde_json::from_slice(&members["registers/risks.json"]).unwrap();
        assert_eq!(risks["records"], json!([]));
    }
}
