//! Consent through the engine: grants and withdrawals as ledger events with indexed state,
//! history with inclusion proofs that verify, GPC opt-outs, expiry, import, erasure of the
//! subject, and a Cedar policy that needs consent for a purpose.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeMap;

use evident::access::authzen::EvaluationsRequest;
use evident::access::pack::PackFiles;
use evident::access::{Answer, Caller};
use evident::privacy::consent::import::ImportFormat;
use evident::privacy::consent::{notice_hash, ConsentChange, LawfulBasis};
use evident::Engine;
use serde_json::json;

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    (dir, engine)
}

fn change(subject: &str, purpose: &str) -> ConsentChange {
    ConsentChange {
        subject: subject.into(),
        purpose: purpose.into(),
        basis: LawfulBasis::Consent,
        source: "web".into(),
        notice_hash: Some(notice_hash("We send offers by email.")),
        at_us: None,
        expires_us: None,
    }
}

#[test]
fn grants_and_withdrawals_are_logged_indexed_and_proven() {
    let (_dir, engine) = engine();
    let consent = engine.consent();
    let granted = consent.grant(&change("s-1", "marketing"), "alice").unwrap();
    let mut withdrawal = change("s-1", "marketing");
    withdrawal.notice_hash = None;
    let withdrawn = consent.withdraw(&withdrawal, "alice").unwrap();
    assert!(withdrawn.index > granted.index);
    consent.grant(&change("s-1", "analytics"), "alice").unwrap();
    assert!(!consent.is_granted("s-1", "marketing").unwrap());
    assert!(consent.is_granted("s-1", "analytics").unwrap());
    let now: Vec<(String, bool)> = consent
        .current("s-1")
        .unwrap()
        .into_iter()
        .map(|s| (s.record.purpose, s.in_force))
        .collect();
    assert_eq!(
        now,
        [("analytics".into(), true), ("marketing".into(), false)]
    );

    let log = engine.log();
    let history = consent.history(&log, "s-1", "marketing").unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0].record.granted && !history[1].record.granted);
    for step in &history {
        let p = &step.proof;
        assert_eq!(p.index, step.record.index);
        evident_ledger::proof::verify_inclusion(p.index, p.size, &p.leaf, &p.proof, &p.root)
            .unwrap();
        assert!(p.checkpoint.is_some());
        // The event names the action and the purpose, and not the subject in clear.
        let bytes = engine.entry_bytes(p.index).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("evident.consent."), "{text}");
        assert!(text.contains("\"marketing\""), "{text}");
        assert!(!text.contains("\"s-1\""), "the subject in clear: {text}");
    }
    let event = engine.event(history[0].proof.index, true).unwrap();
    assert!(
        event
            .revealed
            .iter()
            .any(|v| v.path == "/metadata/subject" && v.value.contains("s-1")),
        "the subject revealed: {:?}",
        event.revealed
    );
}

#[test]
fn a_grant_lapses_at_its_expiry() {
    let (_dir, engine) = engine();
    let consent = engine.consent();
    let mut c = change("s-2", "marketing");
    let now = evident::event::now_us();
    c.at_us = Some(now - 10_000_000);
    c.expires_us = Some(now - 1_000_000);
    consent.grant(&c, "alice").unwrap();
    assert!(!consent.is_granted("s-2", "marketing").unwrap());
    let state = consent.current("s-2").unwrap();
    assert!(state[0].record.granted && !state[0].in_force);
}

#[test]
fn gpc_records_an_opt_out_of_the_configured_purposes() {
    let (_dir, engine) = engine();
    let consent = engine.consent();
    let mut sale = change("s-3", "sale");
    sale.source = "app".into();
    consent.grant(&sale, "alice").unwrap();
    let records = consent.gpc_opt_out("s-3", None, "web").unwrap();
    let purposes: Vec<&str> = records.iter().map(|r| r.purpose.as_str()).collect();
    assert_eq!(purposes, ["sale", "share", "targeted_advertising"]);
    assert!(records.iter().all(|r| !r.granted && r.source == "gpc"));
    assert!(!consent.is_granted("s-3", "sale").unwrap());
    let only = ["profiling".to_string()];
    let records = consent.gpc_opt_out("s-3", Some(&only), "web").unwrap();
    assert_eq!(records.len(), 1);
    assert!(consent.gpc_opt_out("s-3", Some(&[]), "web").is_err());
}

#[test]
fn bad_changes_are_refused_and_record_nothing() {
    let (_dir, engine) = engine();
    let consent = engine.consent();
    let size = engine.log().size();
    let mut c = change("s-4", "Marketing!");
    assert!(consent.grant(&c, "alice").is_err());
    c.purpose = "marketing".into();
    c.notice_hash = None;
    assert!(consent.grant(&c, "alice").is_err());
    assert_eq!(engine.log().size(), size);
    assert!(consent.current("s-4").unwrap().is_empty());
    assert!(consent.current("").is_err());
}

#[test]
fn erasing_the_subject_removes_its_consent_and_the_log_still_verifies() {
    let (_dir, engine) = engine();
    let consent = engine.consent();
    consent.grant(&change("s-5", "marketing"), "alice").unwrap();
    consent.grant(&change("s-6", "marketing"), "alice").unwrap();
    let report = engine.erase_subject("s-5", "dpo").unwrap();
    assert!(report.removed >= 1, "the event's personal subject field");
    assert!(consent.current("s-5").unwrap().is_empty());
    assert!(consent
        .history(&engine.log(), "s-5", "marketing")
        .unwrap()
        .is_empty());
    assert!(consent.is_granted("s-6", "marketing").unwrap());
    engine.verify(|_| {}).unwrap();
}

#[test]
fn an_import_records_good_rows_and_reports_bad_ones_strict_records_none() {
    let (_dir, engine) = engine();
    let consent = engine.consent();
    let file = "subject,purpose,status,basis,notice\n\
         s-7,marketing,granted,consent,We email offers.\n\
         s-8,marketing,granted,because,We email offers.\n\
         s-9,analytics,withdrawn,,\n";
    let strict = consent
        .import(file.as_bytes(), ImportFormat::Csv, true, "alice")
        .unwrap();
    assert!(strict.refused);
    assert_eq!(strict.recorded, 0);
    assert!(consent.current("s-7").unwrap().is_empty());
    let report = consent
        .import(file.as_bytes(), ImportFormat::Csv, false, "alice")
        .unwrap();
    assert_eq!((report.rows, report.recorded), (3, 2));
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 3);
    assert_eq!(report.errors[0].field.as_deref(), Some("basis"));
    assert!(consent.is_granted("s-7", "marketing").unwrap());
    assert_eq!(consent.current("s-9").unwrap().len(), 1);
}

/// A pack whose one policy permits reading a customer record for marketing only while its
/// data subject consents to marketing.
fn consent_pack() -> PackFiles {
    let mut files = BTreeMap::new();
    files.insert(
        "schema.cedarschema".to_string(),
        r#"
entity User;
entity Customer { data_subject: String };
type ConsentState = { marketing: Bool, analytics: Bool };
action read appliesTo {
  principal: [User],
  resource: [Customer],
  context: { purpose: String, consent: ConsentState }
};
"#
        .to_string(),
    );
    files.insert(
        "policies.cedar".to_string(),
        r#"
@id("marketing-needs-consent")
permit (principal, action == Action::"read", resource is Customer)
when { context.purpose == "marketing" && context.consent.marketing };
"#
        .to_string(),
    );
    files.insert(
        "pack.toml".to_string(),
        "[consent]\npurposes = [\"marketing\", \"analytics\"]\n".to_string(),
    );
    PackFiles(files)
}

fn read_for_marketing(engine: &Engine, subject: &str, forged: bool) -> bool {
    let mut context = json!({"purpose": "marketing"});
    if forged {
        context["consent"] = json!({"marketing": true, "analytics": true});
    }
    let request: EvaluationsRequest = serde_json::from_value(json!({
        "subject": {"type": "User", "id": "agent"},
        "action": {"name": "read"},
        "resource": {"type": "Customer", "id": "c-1", "properties": {"data_subject": subject}},
        "context": context
    }))
    .unwrap();
    let caller = Caller {
        method: "api_key".into(),
        id: "pep".into(),
    };
    match engine
        .access()
        .evaluate_blocking(&request, &caller, None)
        .unwrap()
    {
        Answer::One(d) => d.decision,
        Answer::Many(_) => panic!("expected one decision"),
    }
}

#[test]
fn a_policy_that_needs_consent_permits_after_grant_and_denies_after_withdrawal_or_expiry() {
    let (_dir, engine) = engine();
    engine.access().apply(consent_pack(), "test").unwrap();
    let consent = engine.consent();
    assert!(
        !read_for_marketing(&engine, "s-10", false),
        "no consent yet"
    );
    assert!(
        !read_for_marketing(&engine, "s-10", true),
        "a caller's own context.consent is replaced"
    );
    consent
        .grant(&change("s-10", "marketing"), "alice")
        .unwrap();
    assert!(
        read_for_marketing(&engine, "s-10", false),
        "after the grant"
    );
    assert!(
        !read_for_marketing(&engine, "s-11", false),
        "another subject"
    );
    let mut withdrawal = change("s-10", "marketing");
    withdrawal.notice_hash = None;
    consent.withdraw(&withdrawal, "alice").unwrap();
    assert!(
        !read_for_marketing(&engine, "s-10", false),
        "after withdrawal"
    );

    let mut lapsed = change("s-12", "marketing");
    let now = evident::event::now_us();
    lapsed.at_us = Some(now - 10_000_000);
    lapsed.expires_us = Some(now + 1_500_000);
    consent.grant(&lapsed, "alice").unwrap();
    assert!(read_for_marketing(&engine, "s-12", false), "before expiry");
    std::thread::sleep(std::time::Duration::from_millis(1_600));
    assert!(!read_for_marketing(&engine, "s-12", false), "after expiry");
}

#[test]
fn consent_settings_with_a_bad_purpose_are_refused() {
    let (_dir, engine) = engine();
    let mut pack = consent_pack();
    pack.0.insert(
        "pack.toml".into(),
        "[consent]\npurposes = [\"Mark eting\"]\n".into(),
    );
    let err = engine.access().apply(pack, "test").unwrap_err().to_string();
    assert!(err.contains("[consent] purpose"), "{err}");
}
