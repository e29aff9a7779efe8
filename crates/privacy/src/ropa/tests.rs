//! The record built from a map: activities by purpose, special categories, gaps, the digest's
//! stability, and every format's escaping.

use std::path::Path;

use super::render::{render, Format};
use super::*;
use crate::datamap;

const MAP: &str = r#"format = 1

[controller]
name = "Clinic <Ltd>"
contact = "privacy@clinic.example"

[[systems]]
name = "ehr"
connection = "sqlite:ehr.db"
purpose = "treatment"
lawful_basis = "contract"
retention = "10y"
subjects = ["patient"]
recipients = ["laboratory"]
transfers = [{ country = "US", safeguard = "standard_contractual_clauses", details = "2021/914 module 2" }]

[[systems.tables]]
name = "patients"
primary_key = "id"
identity = "id"
retention_from = "created_at"
fields = [
  { name = "email", categories = ["user.contact.email"], erasure = "null" },
  { name = "mrn", categories = ["user.health_and_medical.record_id"], erasure = "null" },
]

[[systems.tables]]
name = "invoices"
primary_key = "id"
join = "patient_id -> patients.id"
purpose = "billing"
lawful_basis = "legal_obligation"
erasure = "delete_row"
fields = [
  { name = "iban", categories = ["user.financial.bank_account"], erasure = "null" },
]

[[systems]]
name = "crm"
connection = "sqlite:crm.db"
purpose = "treatment"
lawful_basis = "consent"
retention = "2y"

[[systems.tables]]
name = "contacts"
primary_key = "id"
identity = "id"
fields = [
  { name = "phone", categories = ["user.contact.phone_number"], erasure = "null" },
]
"#;

fn map() -> DataMap {
    datamap::parse(Path::new("map.toml"), MAP).unwrap()
}

fn measure(result: &str) -> Measure {
    Measure {
        control: "EV-CRY-01".into(),
        title: "Data at rest is encrypted".into(),
        result: result.into(),
        checked: Some("2026-12-01T00:00:00Z".into()),
    }
}

#[test]
fn one_activity_per_purpose_across_systems() {
    let consent = [ConsentPurpose {
        purpose: "newsletter".into(),
        grants: 3,
        withdrawals: 1,
        in_map: true,
    }];
    let record = build(&map(), &consent, &[measure("pass")], "2026-12-07T00:00:00Z");
    let purposes: Vec<&str> = record
        .activities
        .iter()
        .map(|a| a.purpose.as_str())
        .collect();
    assert_eq!(purposes, ["treatment", "billing"]);
    let treatment = &record.activities[0];
    assert_eq!(treatment.tables, ["ehr.patients", "crm.contacts"]);
    assert_eq!(
        treatment.lawful_bases,
        ["consent (Art. 6(1)(a))", "contract (Art. 6(1)(b))"]
    );
    assert_eq!(treatment.data_subjects, ["patient"]);
    assert_eq!(
        treatment.special_categories,
        ["user.health_and_medical.record_id"]
    );
    assert_eq!(treatment.recipients, ["laboratory"]);
    assert_eq!(treatment.transfers.len(), 1);
    assert_eq!(treatment.retention[0].from.as_deref(), Some("created_at"));
    assert_eq!(treatment.retention[1].period, "2y");
    let billing = &record.activities[1];
    assert!(billing.special_categories.is_empty());
    assert_eq!(billing.lawful_bases, ["legal_obligation (Art. 6(1)(c))"]);
    // `in_map` is computed, whatever the caller said; the gaps name what is undeclared.
    assert!(!record.consent_purposes[0].in_map);
    assert_eq!(record.gaps.len(), 2, "{:#?}", record.gaps);
    assert!(record.gaps[0].contains("`crm.contacts`"));
    assert!(record.gaps[1].contains("`newsletter`"));
}

#[test]
fn the_digest_follows_content_not_generation_time() {
    let a = build(&map(), &[], &[measure("pass")], "2026-12-07T00:00:00Z");
    let b = build(&map(), &[], &[measure("pass")], "2027-01-01T00:00:00Z");
    assert_eq!(a.digest(), b.digest());
    let failing = build(&map(), &[], &[measure("fail")], "2026-12-07T00:00:00Z");
    assert_ne!(a.digest(), failing.digest());
    assert!(a.digest().starts_with("sha256:") && a.digest().len() == 71);
    let no_measures = build(&map(), &[], &[], "2026-12-07T00:00:00Z");
    assert!(no_measures.gaps.iter().any(|g| g.contains("Art. 32")));
}

#[test]
fn consent_purposes_match_the_map_purpose_written_as_words() {
    assert_eq!(
        purpose_key("Treatment of the patient"),
        "treatment_of_the_patient"
    );
    assert_eq!(purpose_key("  billing / invoicing. "), "billing_invoicing");
    assert_eq!(purpose_key("marketing"), "marketing");
    let seen = |purpose: &str| ConsentPurpose {
        purpose: purpose.into(),
        grants: 1,
        withdrawals: 0,
        in_map: false,
    };
    let record = build(
        &map(),
        &[seen("treatment"), seen("billing"), seen("newsletter")],
        &[measure("pass")],
        "2026-12-07T00:00:00Z",
    );
    let matched: Vec<bool> = record.consent_purposes.iter().map(|c| c.in_map).collect();
    assert_eq!(matched, [true, true, false]);
}

#[test]
fn special_categories_are_those_of_articles_9_and_10() {
    for c in [
        "user.health_and_medical",
        "user.health_and_medical.genetic",
        "user.biometric.fingerprint",
        "user.demographic.religious_belief",
        "user.criminal_history",
    ] {
        assert!(is_special(c), "{c}");
    }
    for c in [
        "user.contact.email",
        "user.demographic.date_of_birth",
        "user.health_and_medical_x",
    ] {
        assert!(!is_special(c), "{c}");
    }
}

#[test]
fn every_format_escapes_and_holds_every_activity() {
    let record = build(&map(), &[], &[measure("pass")], "2026-12-07T00:00:00Z");
    let html = String::from_utf8(render(&record, Format::Html)).unwrap();
    assert!(html.contains("Clinic &lt;Ltd&gt;") && !html.contains("Clinic <Ltd>"));
    assert!(html.contains("<h3>treatment</h3>") && html.contains("<h3>billing</h3>"));
    assert!(html.contains("standard_contractual_clauses (Art. 46(2)(c))"));
    assert!(html.contains(&record.digest()));
    let csv = render(&record, Format::Csv);
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "Clinic <Ltd>");
    assert_eq!(&rows[0][3], "treatment");
    assert_eq!(&rows[0][8], "ehr.patients; crm.contacts");
    let json: serde_json::Value = serde_json::from_slice(&render(&record, Format::Json)).unwrap();
    assert_eq!(json["activities"].as_array().unwrap().len(), 2);
    assert_eq!(json["controller"]["name"], "Clinic <Ltd>");
    assert_eq!(Format::parse("pdf"), None);
}
