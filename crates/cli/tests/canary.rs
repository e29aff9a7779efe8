//! The canary test: card numbers, SSNs and keys planted in requests must appear nowhere
//! Evident writes — not in the database files, not in its logs (at debug level), not in any
//! export (HTTP reads, tiles, proofs, CLI output).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

mod common;

/// Each canary as planted, and the spellings of it that must not appear anywhere.
const CANARIES: &[(&str, &[&str])] = &[
    (
        "4111 1111 1111 1111",
        &["4111 1111 1111 1111", "4111111111111111"],
    ),
    (
        "5555-5555-5555-4444",
        &["5555-5555-5555-4444", "5555555555554444"],
    ),
    ("378282246310005", &["378282246310005"]),
    ("536-22-1234", &["536-22-1234", "536221234"]),
    ("912-70-5544", &["912-70-5544", "912705544"]),
    // Cards followed by their expiry date or CVV, an SSN followed by other numbers, and an
    // IBAN: shapes whose candidates run on past the value (they were once stored raw).
    (
        "4539 1488 0343 6467 12/29",
        &["4539 1488 0343 6467", "4539148803436467"],
    ),
    ("4532015112830366 1229 737", &["4532015112830366"]),
    (
        "5425 2334 3010 9903 03/28",
        &["5425 2334 3010 9903", "5425233430109903"],
    ),
    (
        "3714 496353 98431 11/27",
        &["3714 496353 98431", "371449635398431"],
    ),
    ("536-22-8410 12", &["536-22-8410", "536228410"]),
    (
        "DE89 3704 0044 0532 0130 00",
        &["DE89 3704 0044 0532 0130 00", "DE89370400440532013000"],
    ),
    ("AKIA4HKQ7ZJ3T2UWXY5B", &["AKIA4HKQ7ZJ3T2UWXY5B"]),
    (
        "ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP",
        &["8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP"],
    ),
    (
        "sk_live_51Hx9Kq2mW7vL4tR8yB1nC5hJ0sDgA2eZ9uPq",
        &["51Hx9Kq2mW7vL4tR8yB1nC5hJ0sDgA2eZ9uPq"],
    ),
];
/// One value of each national, health-plan and financial identifier, after the label it is
/// found by, with its entity: the engine masks them only once its list of entities it always
/// masks (`LEDGER_REDACTED`) names them.
const IDENTIFIERS: &[(&str, &str, &str)] = &[
    ("us_passport", "passport no. 912803456", "912803456"),
    (
        "us_driver_license",
        "driver's license: D1234567",
        "D1234567",
    ),
    (
        "us_bank_account",
        "bank account number 000123456789",
        "000123456789",
    ),
    ("aba_routing", "routing number 011000015", "011000015"),
    ("us_mbi", "MBI 1EG4-TE5-MK73", "1EG4-TE5-MK73"),
    ("health_plan_id", "member id: XJH123456789", "XJH123456789"),
    ("claim_number", "claim #: 2024881234", "2024881234"),
    ("rx_number", "Rx# 4471208", "4471208"),
    (
        "prior_auth",
        "prior authorization: PA-20250318",
        "PA-20250318",
    ),
    ("provider_tax_id", "provider TIN: 12-3456789", "12-3456789"),
    (
        "medical_license",
        "medical license no. MD123456",
        "MD123456",
    ),
    ("uk_nhs", "NHS number: 943 476 5919", "943 476 5919"),
    ("uk_nino", "NI number AB 12 34 56 C", "AB 12 34 56 C"),
    ("uk_passport", "passport no. AB1234567", "AB1234567"),
    (
        "uk_driving_licence",
        "licence MORGA657054SM9IJ",
        "MORGA657054SM9IJ",
    ),
    ("ca_sin", "SIN: 193 456 787", "193 456 787"),
    ("es_nif", "DNI 12345678Z", "12345678Z"),
    ("es_nie", "NIE X1234567L", "X1234567L"),
    (
        "it_fiscal_code",
        "codice fiscale RSSMRA85T10A562S",
        "RSSMRA85T10A562S",
    ),
    ("de_tax_id", "Steuer-ID: 65929970489", "65929970489"),
    ("de_social_security", "RVNR 65170839J003", "65170839J003"),
    (
        "de_health_insurance",
        "Versichertennummer: A123456780",
        "A123456780",
    ),
    (
        "fr_nir",
        "NIR 2 69 05 49 588 157 80",
        "2 69 05 49 588 157 80",
    ),
    ("pl_pesel", "PESEL: 44051401359", "44051401359"),
    ("se_personnummer", "personnummer 811228-9874", "811228-9874"),
    ("fi_personal_id", "hetu 131052-308T", "131052-308T"),
    ("in_aadhaar", "Aadhaar: 2345 6789 0124", "2345 6789 0124"),
    ("in_pan", "PAN: ABCPD1234E", "ABCPD1234E"),
    ("au_tfn", "TFN 123 456 782", "123 456 782"),
    ("au_medicare", "Medicare card 2123 45670 1", "2123 45670 1"),
    ("au_abn", "ABN 51 824 753 556", "51 824 753 556"),
    ("sg_nric", "NRIC S1234567D", "S1234567D"),
    ("za_id", "ID number 8001015009087", "8001015009087"),
    ("kr_rrn", "RRN 900101-1234568", "900101-1234568"),
    (
        "crypto",
        "wallet 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    ),
    ("de_passport", "Reisepassnummer: C01X00T47", "C01X00T47"),
    ("de_id_card", "Personalausweisnummer L01X00T47", "L01X00T47"),
    (
        "de_driving_licence",
        "Führerscheinnummer: B072RRE2I55",
        "B072RRE2I55",
    ),
    ("es_passport", "pasaporte: PAA123456", "PAA123456"),
    ("it_passport", "passaporto n. YA1234567", "YA1234567"),
    (
        "it_identity_card",
        "carta d'identità CA12345AA",
        "CA12345AA",
    ),
    ("it_driving_licence", "patente n. MI1234567X", "MI1234567X"),
    ("it_vat_code", "partita IVA 07624110040", "07624110040"),
    ("in_passport", "Indian passport: J8369854", "J8369854"),
    ("in_voter_id", "Voter ID: ABC1234567", "ABC1234567"),
    ("kr_passport", "Korean passport: M123A4567", "M123A4567"),
    (
        "kr_driving_licence",
        "driver's license: 11-22-123456-78",
        "11-22-123456-78",
    ),
    ("ng_nin", "NIN: 23456789019", "23456789019"),
    ("ph_tin", "TIN: 123-456-789", "123-456-789"),
    ("th_tnin", "Thai ID: 1101700230708", "1101700230708"),
    ("tr_tckn", "TC Kimlik No: 10000000146", "10000000146"),
];

/// The identifiers (by entity) whose value, or its letters and digits alone, is in
/// `haystack`.
fn identifier_hits(haystack: &[u8]) -> Vec<&'static str> {
    let contains = |s: &str| haystack.windows(s.len()).any(|w| w == s.as_bytes());
    IDENTIFIERS
        .iter()
        .filter(|(_, _, value)| {
            let compact: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
            contains(value) || contains(&compact)
        })
        .map(|(entity, _, _)| *entity)
        .collect()
}

const KEY_BODY: &str = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";

fn evident(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .env_remove("EVIDENT_DATA_DIR")
        .output()
        .unwrap()
}

fn hits(haystack: &[u8]) -> Vec<&'static str> {
    let mut found = Vec::new();
    for (_, spellings) in CANARIES {
        for s in *spellings {
            if haystack.windows(s.len()).any(|w| w == s.as_bytes()) {
                found.push(*s);
            }
        }
    }
    if haystack
        .windows(KEY_BODY.len())
        .any(|w| w == KEY_BODY.as_bytes())
    {
        found.push(KEY_BODY);
    }
    found
}

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn planted_cards_ssns_and_keys_appear_nowhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let dir_s = dir.to_str().unwrap();
    assert!(evident(&["init", "--data-dir", dir_s]).status.success());
    let admin = String::from_utf8(
        evident(&["apikey", "create", "--data-dir", dir_s, "--role", "admin"]).stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let log_path = tmp.path().join("server.log");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_evident"));
    serve
        .env("EVIDENT_LOG", "debug")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()));
    let (mut child, base) = common::spawn_serve(serve, dir_s);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let auth = format!("Bearer {admin}");
    let mut exports: Vec<u8> = Vec::new();
    let get = |path: &str| -> Vec<u8> {
        let mut reply = agent
            .get(format!("{base}{path}"))
            .header("Authorization", &auth)
            .call()
            .unwrap();
        let body = reply.body_mut().read_to_vec().unwrap();
        assert!(
            reply.status().is_success(),
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    };

    let events = json!([
        {
            "actor": {"id": "536-22-1234", "roles": ["clerk"], "session": "AKIA4HKQ7ZJ3T2UWXY5B"},
            "action": "payment.refund",
            "resource": {"type": "order", "id": "4111 1111 1111 1111"},
            "outcome": "success",
            "reason": "refund to card 4111 1111 1111 1111, amex 378282246310005",
            "request_id": "ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP",
            "personal": ["/metadata/contact"],
            "metadata": {
                "contact": "card 5555-5555-5555-4444 and itin 912-70-5544",
                "nested": [{"stripe": "sk_live_51Hx9Kq2mW7vL4tR8yB1nC5hJ0sDgA2eZ9uPq"}],
                "5555-5555-5555-4444": "a key that is a card",
                "payment": "card 4539 1488 0343 6467 12/29 then 4532015112830366 1229 737",
                "more": ["mc 5425 2334 3010 9903 03/28", "amex 3714 496353 98431 11/27 cvv 1234"],
                "ssn 536-22-8410 12": "iban DE89 3704 0044 0532 0130 00",
                "pem": format!("-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----"),
                "identifiers": IDENTIFIERS.iter().map(|(_, text, _)| *text).collect::<Vec<_>>()
            }
        },
        {"actor": {"id": "svc"}, "action": "login", "resource": {"type": "session"}, "outcome": "failure",
         "reason": "wrong password AKIA4HKQ7ZJ3T2UWXY5B"}
    ]);
    let reply = agent
        .post(format!("{base}/v1/events"))
        .header("Authorization", &auth)
        .send_json(&events)
        .unwrap();
    let mut reply = reply;
    let status = reply.status();
    let appended: Value = reply.body_mut().read_json().unwrap();
    assert_eq!(status, 200, "{appended}");
    assert!(appended["redacted"].as_u64().unwrap() >= 16, "{appended}");

    // Refused requests whose messages and URLs carry canaries: logged at debug level.
    let bad = json!({"actor": {"id": "u", "ip": "4111111111111111"}, "action": "a", "resource": {"type": "t"}, "outcome": "success"});
    let refused = agent
        .post(format!("{base}/v1/events"))
        .header("Authorization", &auth)
        .send_json(&bad)
        .unwrap();
    assert_eq!(refused.status(), 400);
    let wrong_key = agent
        .get(format!("{base}/v1/checkpoint"))
        .header(
            "Authorization",
            "Bearer ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP",
        )
        .call()
        .unwrap();
    assert_eq!(wrong_key.status(), 401);
    exports.extend(get(
        "/v1/events?actor=536-22-1234&resource_id=4111%201111%201111%201111",
    ));

    let mut redact = agent
        .post(format!("{base}/v1/redact"))
        .header("Authorization", &auth)
        .send_json(json!({"text": "pay 4111 1111 1111 1111 ssn 536-22-1234 card 4539 1488 0343 6467 12/29", "mode": "remove"}))
        .unwrap();
    let redacted: Value = redact.body_mut().read_json().unwrap();
    assert_eq!(
        redacted["text"],
        "pay [REDACTED:card] ssn [REDACTED:ssn] card [REDACTED:card] 12/29"
    );
    exports.extend(redacted.to_string().as_bytes());

    // Every read side.
    exports.extend(get("/v1/events"));
    let first = appended["events"][0]["index"].as_u64().unwrap();
    let stored = get(&format!("/v1/events/{first}?reveal=true"));
    let stored_text = String::from_utf8_lossy(&stored).into_owned();
    assert!(
        stored_text.contains("411111******1111"),
        "the masked form is kept: {stored_text}"
    );
    exports.extend(stored);
    exports.extend(get(&format!("/v1/events/{}", first + 1)));
    exports.extend(get("/v1/checkpoint"));
    exports.extend(get(&format!(
        "/v1/proof/inclusion?index={first}&format=tlog-proof"
    )));
    let size: Value = serde_json::from_slice(&get("/v1/checkpoint")).unwrap();
    let size = size["size"].as_u64().unwrap();
    exports.extend(get(&format!("/log/tile/entries/000.p/{size}")));
    exports.extend(get(&format!("/log/tile/0/000.p/{size}")));
    exports.extend(get("/log/checkpoint"));

    // Erasure by the raw SSN finds the pseudonymised subject.
    let mut erased = agent
        .post(format!("{base}/v1/personal/erase"))
        .header("Authorization", &auth)
        .send_json(json!({"subject": "536-22-1234"}))
        .unwrap();
    let erased: Value = erased.body_mut().read_json().unwrap();
    assert_eq!(erased["values_destroyed"], 1, "{erased}");

    child.kill().unwrap();
    child.wait().unwrap();

    for args in [
        vec!["log", "query", "--data-dir", dir_s],
        vec!["log", "tail", "--data-dir", dir_s, "-n", "100"],
        vec!["log", "show", "--data-dir", dir_s, "1", "--reveal"],
        vec!["log", "prove", "--data-dir", dir_s, "1"],
    ] {
        let out = evident(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        exports.extend(out.stdout);
        exports.extend(out.stderr);
    }
    let verify = evident(&["log", "verify", "--data-dir", dir_s]);
    assert!(
        verify.status.success(),
        "the log still verifies: {}",
        String::from_utf8_lossy(&verify.stderr)
    );

    let log = std::fs::read(&log_path).unwrap();
    let log_text = String::from_utf8_lossy(&log);
    assert!(
        log_text.contains("request refused") && log_text.contains("/v1/events?actor="),
        "debug logging was on: {log_text}"
    );
    assert_eq!(
        hits(&log),
        Vec::<&str>::new(),
        "canaries in the server log:\n{log_text}"
    );
    assert_eq!(hits(&exports), Vec::<&str>::new(), "canaries in an export");
    let mut files = Vec::new();
    all_files(&dir, &mut files);
    assert!(files.iter().any(|f| f.ends_with("evident.db")));
    let mut stored = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(
            hits(&bytes),
            Vec::<&str>::new(),
            "canaries in {}",
            file.display()
        );
        stored.extend(bytes);
    }

    // Each identifier is found by the detector the engine runs…
    let detector = evident_detect::Detector::builtin().unwrap();
    for (entity, text, value) in IDENTIFIERS {
        let found = detector.find(text.as_bytes());
        assert!(
            found
                .iter()
                .any(|f| detector.entity(f.rule).as_str() == *entity
                    && &text[f.start..f.end] == *value),
            "{entity}: {text:?} not found whole"
        );
    }
    // …and masked before the ledger, the logs and the exports.
    let unmasked: Vec<&str> = IDENTIFIERS
        .iter()
        .map(|(entity, _, _)| *entity)
        .filter(|name| {
            !evident::redaction::LEDGER_REDACTED
                .iter()
                .any(|e| e.as_str() == *name)
        })
        .collect();
    for (place, bytes) in [
        ("the data directory", &stored),
        ("the server log", &log),
        ("an export", &exports),
    ] {
        assert_eq!(
            identifier_hits(bytes),
            Vec::<&str>::new(),
            "identifiers in {place}; the engine's LEDGER_REDACTED leaves out {unmasked:?}"
        );
    }
}
