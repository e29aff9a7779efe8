//! Validation of map text: a valid map loads with its paths; every rule's error names the
//! right line (and file).

use std::path::Path;

use super::*;

const GOOD: &str = r#"format = 1

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
fields = [
  { name = "email", categories = ["user.contact.email"], erasure = "null" },
  { name = "ssn", categories = ["user.government_id.national_identification_number"], erasure = "keyed_hash", key = "dsr-hash" },
]

[[systems.tables]]
name = "encounters"
primary_key = "id"
join = "patient_id -> patients.id"
fields = [
  { name = "diagnosis", categories = ["user.health_and_medical"], erasure = "fixed", value = "[erased]", export = true },
]

[[systems.tables]]
name = "prescriptions"
primary_key = ["id"]
join = "encounter_id -> encounters.id"
lawful_basis = "legal_obligation"
retention = "6y"
erasure = "delete_row"

[[systems.tables.fields]]
name = "drug"
categories = ["user.health_and_medical"]
erasure = "keep"
reason = "pharmacy records are kept for 6 years"
export = false
"#;

fn errors(text: &str) -> Vec<(usize, String)> {
    match parse(Path::new("map.toml"), text) {
        Ok(_) => Vec::new(),
        Err(crate::Error::DataMap(d)) => d.0.into_iter().map(|d| (d.line, d.message)).collect(),
        Err(e) => panic!("not a map error: {e}"),
    }
}

/// The one error `text` has: its line and message.
fn one_error(text: &str) -> (usize, String) {
    let found = errors(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap()
}

#[test]
fn a_valid_map_loads_with_paths_to_the_identity_table() {
    let map = parse(Path::new("map.toml"), GOOD).unwrap();
    let ehr = map.system("ehr").unwrap();
    assert_eq!(ehr.tables.len(), 3);
    let rx = ehr.table("prescriptions").unwrap();
    assert_eq!(rx.path, ["prescriptions", "encounters", "patients"]);
    assert_eq!(rx.lawful_basis, LawfulBasis::LegalObligation);
    assert_eq!(rx.retention.to_string(), "6y");
    assert_eq!(rx.erasure, RowErasure::DeleteRow);
    assert_eq!(rx.fields[0].line, 35);
    assert!(!rx.fields[0].export);
    let patients = ehr.table("patients").unwrap();
    assert_eq!(patients.retention.to_string(), "10y");
    assert_eq!(
        patients.field("ssn").unwrap().erasure,
        Erasure::KeyedHash {
            key: "dsr-hash".into()
        }
    );
    assert_eq!(patients.line, 10);
    assert!(map.hash.starts_with("sha256:"));
}

#[test]
fn an_unknown_category_is_named_with_its_line_and_the_nearest_name() {
    let text = GOOD.replace("\"user.contact.email\"", "\"user.contact.emial\"");
    let (line, message) = one_error(&text);
    assert_eq!(line, 15);
    assert!(
        message.contains("`user.contact.emial` is not a fideslang data category"),
        "{message}"
    );
    assert!(
        message.contains("did you mean `user.contact.email`?"),
        "{message}"
    );
}

#[test]
fn a_table_without_a_join_path_is_refused() {
    let text = GOOD.replace("join = \"patient_id -> patients.id\"\n", "");
    let (line, message) = one_error(&text);
    assert_eq!(line, 20);
    assert!(
        message.contains("table `encounters` has no join path"),
        "{message}"
    );
}

#[test]
fn a_join_to_an_unknown_table_or_column_is_refused() {
    let (line, message) = one_error(&GOOD.replace("-> patients.id", "-> people.id"));
    assert_eq!(line, 22);
    assert!(
        message.contains("joins to `people`, which system `ehr` does not declare"),
        "{message}"
    );
    let (line, message) = one_error(&GOOD.replace("-> patients.id", "-> patients.uuid"));
    assert_eq!(line, 22);
    assert!(
        message.contains("`patients.uuid`, which is not a column"),
        "{message}"
    );
    let (line, message) =
        one_error(&GOOD.replace("patient_id -> patients.id", "patient_id = patients.id"));
    assert_eq!(line, 22);
    assert!(message.contains("is not a join"), "{message}");
}

#[test]
fn joins_in_a_cycle_are_refused_once() {
    let text = GOOD.replace(
        "identity = \"id\"\n",
        "join = \"last_rx -> prescriptions.id\"\n",
    );
    let found = errors(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    let (line, message) = &found[0];
    assert_eq!(*line, 13);
    assert!(
        message.contains("joins form a cycle: patients -> prescriptions -> encounters -> patients"),
        "{message}"
    );
}

#[test]
fn erasure_strategies_and_their_parameters_are_checked() {
    let (line, message) = one_error(&GOOD.replace("erasure = \"null\"", "erasure = \"nullify\""));
    assert_eq!(line, 15);
    assert!(
        message.contains("`nullify` is not an erasure strategy; use one of null, fixed"),
        "{message}"
    );
    let (line, message) = one_error(&GOOD.replace(", key = \"dsr-hash\"", ""));
    assert_eq!(line, 16);
    assert!(
        message.contains("erasure `keyed_hash` of field `ssn` needs `key`"),
        "{message}"
    );
    let (line, message) =
        one_error(&GOOD.replace("reason = \"pharmacy records are kept for 6 years\"\n", ""));
    assert_eq!(line, 38);
    assert!(message.contains("needs `reason`"), "{message}");
    let (line, message) =
        one_error(&GOOD.replace("erasure = \"null\"", "erasure = \"null\", value = 0"));
    assert_eq!(line, 15);
    assert!(
        message.contains("`value` is not a parameter of erasure `null`"),
        "{message}"
    );
}

#[test]
fn lawful_basis_must_be_one_of_article_6() {
    let (line, message) =
        one_error(&GOOD.replace("\"legal_obligation\"", "\"legitimate_interest\""));
    assert_eq!(line, 31);
    assert!(
        message.contains("`legitimate_interest` is not a lawful basis of GDPR Art. 6(1)"),
        "{message}"
    );
    assert!(message.contains("legitimate_interests"), "{message}");
}

#[test]
fn retention_periods_are_checked() {
    let (line, message) = one_error(&GOOD.replace("retention = \"6y\"", "retention = \"6 years\""));
    assert_eq!(line, 32);
    assert!(
        message.contains("`6 years` is not a retention period"),
        "{message}"
    );
}

#[test]
fn missing_settings_are_named_on_the_table() {
    let text = GOOD.replace("purpose = \"treatment\"\n", "");
    let found = errors(&text);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found.iter().all(|(_, m)| m.contains("has no `purpose`")));
    assert_eq!(found[0].0, 10);
}

#[test]
fn duplicate_names_are_refused() {
    let text = GOOD.replace("name = \"encounters\"", "name = \"patients\"");
    let found = errors(&text);
    assert!(
        found.iter().any(|(l, m)| *l == 20
            && m.contains(
                "duplicate table `patients` in system `ehr` (first declared on line 11)"
            )),
        "{found:#?}"
    );
    let (line, message) = one_error(&GOOD.replace("name = \"ssn\"", "name = \"email\""));
    assert_eq!(line, 16);
    assert!(message.contains("duplicate field `email`"), "{message}");
    let twice = format!("{GOOD}\n[[systems]]\nname = \"ehr\"\nconnection = \"sqlite:x.db\"\n");
    let (line, message) = one_error(&twice);
    assert_eq!(line, 43);
    assert!(
        message.contains("duplicate system `ehr` (first declared on line 4)"),
        "{message}"
    );
}

#[test]
fn connections_never_hold_a_password() {
    let (line, message) = one_error(&GOOD.replace(
        "\"sqlite:ehr.db\"",
        "\"postgres://app:hunter2@db.internal/ehr\"",
    ));
    assert_eq!(line, 5);
    assert!(message.contains("holds a password"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    let (_, message) = one_error(&GOOD.replace(
        "\"sqlite:ehr.db\"",
        "\"postgres://app@db.internal/ehr?password=x\"",
    ));
    assert!(message.contains("holds a password"), "{message}");
    let ok = GOOD.replace(
        "\"sqlite:ehr.db\"",
        "\"postgres\"\nurl_env = \"EHR_DATABASE_URL\"\nschema = \"clinic\"",
    );
    let map = parse(Path::new("map.toml"), &ok).unwrap();
    assert_eq!(
        map.systems[0].connection,
        Connection::Postgres {
            url_env: Some("EHR_DATABASE_URL".into()),
            url: None,
            schema: "clinic".into()
        }
    );
    let (line, message) = one_error(&GOOD.replace("\"sqlite:ehr.db\"", "\"postgres\""));
    assert_eq!(line, 5);
    assert!(message.contains("needs `url_env`"), "{message}");
    let (_, message) = one_error(&GOOD.replace("\"sqlite:ehr.db\"", "\"mysql://x\""));
    assert!(message.contains("is not a connection"), "{message}");
}

#[test]
fn toml_errors_and_unknown_keys_have_a_line() {
    let (line, message) = one_error(&GOOD.replace(
        "primary_key = [\"id\"]",
        "primary_key = [\"id\"\nprimary_key2 = 1",
    ));
    assert!(line >= 29, "{line} {message}");
    let (line, message) = one_error(&GOOD.replace(
        "erasure = \"delete_row\"",
        "erasure = \"delete_row\"\nowner = \"x\"",
    ));
    assert_eq!(line, 34);
    assert!(message.contains("owner"), "{message}");
    let (line, _) = one_error("format = 2\n");
    assert_eq!(line, 1);
}

#[test]
fn every_error_is_reported_at_once_in_line_order() {
    let text = GOOD
        .replace("\"user.contact.email\"", "\"user.contact.emial\"")
        .replace("retention = \"6y\"", "retention = \"six\"")
        .replace("erasure = \"keep\"", "erasure = \"shred\"");
    let lines: Vec<usize> = errors(&text).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [15, 32, 38]);
    let err = parse(Path::new("dir/map.toml"), &text)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("dir/map.toml:15:"), "{err}");
}

/// GOOD with the record-of-processing declarations: a controller, the system's subjects,
/// recipients and a transfer, and one table with subjects of its own.
fn with_processing() -> String {
    GOOD.replacen(
        "format = 1\n",
        "format = 1\n\n[controller]\nname = \"Clinic Ltd\"\ncontact = \"privacy@clinic.example\"\ndpo = \"dpo@clinic.example\"\n",
        1,
    )
    .replacen(
        "retention = \"10y\"\n",
        "retention = \"10y\"\nsubjects = [\"patient\"]\nrecipients = [\"billing processor\"]\ntransfers = [{ country = \"US\", recipient = \"cloud host\", safeguard = \"standard_contractual_clauses\" }]\n",
        1,
    )
    .replacen(
        "retention = \"6y\"\n",
        "retention = \"6y\"\nsubjects = [\"patient\", \"next_of_kin\"]\n",
        1,
    )
}

#[test]
fn controller_subjects_recipients_and_transfers_are_read() {
    let map = parse(Path::new("map.toml"), &with_processing()).unwrap();
    let controller = map.controller.as_ref().unwrap();
    assert_eq!(controller.name, "Clinic Ltd");
    assert_eq!(controller.dpo.as_deref(), Some("dpo@clinic.example"));
    let ehr = map.system("ehr").unwrap();
    assert_eq!(ehr.recipients, ["billing processor"]);
    assert_eq!(ehr.transfers[0].country, "US");
    assert_eq!(
        ehr.transfers[0].safeguard,
        Safeguard::StandardContractualClauses
    );
    assert_eq!(ehr.table("patients").unwrap().subjects, ["patient"]);
    assert_eq!(
        ehr.table("prescriptions").unwrap().subjects,
        ["patient", "next_of_kin"]
    );
    // Without the declarations the map is still valid; the subjects are just unknown.
    let plain = parse(Path::new("map.toml"), GOOD).unwrap();
    assert!(plain.controller.is_none());
    assert!(plain.system("ehr").unwrap().tables[0].subjects.is_empty());
}

#[test]
fn bad_processing_declarations_are_named_at_their_line() {
    let text = with_processing();
    let (line, message) = one_error(&text.replace("[\"patient\"]", "[\"patients\"]"));
    assert_eq!(line, 14);
    assert!(
        message.contains("`patients` is not a fideslang data subject"),
        "{message}"
    );
    let (_, message) = one_error(&text.replace("country = \"US\"", "country = \"UK\""));
    assert!(
        message.contains("`UK` is not an ISO 3166-1 alpha-2"),
        "{message}"
    );
    let (_, message) = one_error(&text.replace("standard_contractual_clauses", "sccs"));
    assert!(
        message.contains("`sccs` is not a transfer safeguard"),
        "{message}"
    );
    let (line, message) = one_error(&text.replace("name = \"Clinic Ltd\"", "name = \"  \""));
    assert_eq!(line, 4);
    assert!(message.contains("`controller.name` is empty"), "{message}");
    let (_, message) = one_error(&text.replace("[\"patient\", \"next_of_kin\"]", "[]"));
    assert!(message.contains("`subjects` is empty"), "{message}");
    let (_, message) = one_error(&text.replace(
        "[\"patient\", \"next_of_kin\"]",
        "[\"patient\", \"patient\"]",
    ));
    assert!(message.contains("listed twice"), "{message}");
    let found = errors(&text.replace("dpo = ", "dpo_email = "));
    assert!(
        found.iter().any(|(_, m)| m.contains("dpo_email")),
        "{found:?}"
    );
}

#[test]
fn ledger_retention_rules_are_read_and_checked_by_line() {
    let base = GOOD.lines().count();
    let rules = "[[ledger]]\naction = \"consent.*\"\nretention = \"2y\"\n\n[[ledger]]\naction = \"access.decision\"\nretention = \"90d\"\n";
    let map = parse(Path::new("map.toml"), &format!("{GOOD}{rules}")).unwrap();
    assert_eq!(map.ledger.len(), 2);
    assert_eq!(map.ledger[0].action, "consent.*");
    assert_eq!(map.ledger[0].retention.to_string(), "2y");
    assert_eq!(map.ledger[1].line, base + 5);

    let (line, message) = one_error(&format!(
        "{GOOD}{}",
        rules.replace("\"90d\"", "\"90 days\"")
    ));
    assert_eq!(line, base + 7);
    assert!(
        message.contains("`90 days` is not a retention period"),
        "{message}"
    );
    let (line, message) = one_error(&format!(
        "{GOOD}{}",
        rules.replace("access.decision", "access decision")
    ));
    assert_eq!(line, base + 6);
    assert!(message.contains("is not an event action"), "{message}");
    let (line, message) = one_error(&format!(
        "{GOOD}{}",
        rules.replace("access.decision", "consent.*")
    ));
    assert_eq!(line, base + 6);
    assert!(
        message.contains("duplicate ledger action `consent.*` (first declared on line"),
        "{message}"
    );
    let found = errors(&format!(
        "{GOOD}[[ledger]]\naction = \"x\"\nretention = \"1y\"\nkeep = true\n"
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
}
