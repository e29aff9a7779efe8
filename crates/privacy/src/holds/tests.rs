//! The checks a hold passes before it is recorded, and what it covers; placing, lifting and
//! the fold from the ledger are tested through the CLI (`crates/cli/tests/privacy_holds_cli.rs`).

use std::path::Path;

use super::*;
use crate::datamap;

const MAP: &str = r#"
[[systems]]
name = "ehr"
connection = "sqlite:ehr.db"
purpose = "treatment"
lawful_basis = "contract"
retention = "10y"

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "id"
fields = [{ name = "email", categories = ["user.contact.email"], erasure = "null" }]

[[systems.tables]]
name = "invoices"
primary_key = "id"
join = "patient_id -> patients.id"
fields = [{ name = "iban", categories = ["user.financial.bank_account"], erasure = "null" }]
"#;

fn request() -> HoldRequest {
    HoldRequest {
        case: "Doe v. Clinic".into(),
        reason: "litigation: preserve the patient's records".into(),
        subjects: vec!["patient-17".into()],
        datasets: vec!["ehr.invoices".into()],
        until_us: None,
    }
}

fn refusal(request: &HoldRequest, map: Option<&DataMap>) -> String {
    match check_request(request, map, 1_000_000) {
        Err(Error::BadRequest(message)) => message,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_request_needs_a_case_a_reason_and_something_covered() {
    let map = datamap::parse(Path::new("m.toml"), MAP).unwrap();
    assert!(check_request(&request(), Some(&map), 0).is_ok());
    let mut r = request();
    r.case = "  ".into();
    assert!(refusal(&r, Some(&map)).contains("case name"));
    let mut r = request();
    r.reason = "".into();
    assert!(refusal(&r, Some(&map)).contains("needs a reason"));
    let mut r = request();
    r.reason = "a\u{7}b".into();
    assert!(refusal(&r, Some(&map)).contains("control character"));
    let mut r = request();
    r.subjects.clear();
    r.datasets.clear();
    assert!(refusal(&r, Some(&map)).contains("at least one subject or dataset"));
    let mut r = request();
    r.until_us = Some(1_000_000);
    assert!(refusal(&r, Some(&map)).contains("not in the future"));
    let mut r = request();
    r.subjects = vec!["s".into(); MAX_SUBJECTS + 1];
    assert!(refusal(&r, Some(&map)).contains("at most"));
}

#[test]
fn datasets_must_be_in_the_active_map() {
    let map = datamap::parse(Path::new("m.toml"), MAP).unwrap();
    assert!(refusal(&request(), None).contains("no data map is applied"));
    for bad in ["ehr.encounters", "crm", "ehr.", ".invoices"] {
        let mut r = request();
        r.datasets = vec![bad.into()];
        assert!(
            refusal(&r, Some(&map)).contains("is not a system or `system.table`"),
            "{bad}"
        );
    }
    let mut r = request();
    r.datasets = vec!["ehr".into()];
    assert!(check_request(&r, Some(&map), 0).is_ok());
    // A subject-only hold needs no map.
    let mut r = request();
    r.datasets.clear();
    assert!(check_request(&r, None, 0).is_ok());
}

#[test]
fn a_hold_covers_its_tables_or_whole_systems_until_lifted_or_ended() {
    let mut hold = Hold {
        hold_id: "hold-1".into(),
        case: "c".into(),
        reason: "r".into(),
        subjects: 0,
        subject_keys: Vec::new(),
        datasets: vec!["crm".into(), "ehr.invoices".into()],
        placed_by: "a".into(),
        placed_at: String::new(),
        until: None,
        until_us: Some(100),
        index: 1,
        lifted: None,
    };
    assert!(hold.covers_dataset("ehr", "invoices"));
    assert!(hold.covers_dataset("crm", "contacts"));
    assert!(!hold.covers_dataset("ehr", "patients"));
    assert!(hold.in_force(99));
    assert!(!hold.in_force(100), "it ends at its end");
    hold.until_us = None;
    assert!(hold.in_force(i64::MAX));
    hold.lifted = Some(Lifted {
        by: "b".into(),
        at: String::new(),
        reason: "settled".into(),
        index: 2,
    });
    assert!(!hold.in_force(0));
}
