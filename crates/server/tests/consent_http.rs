//! Consent over HTTP: grant, withdraw, GPC, current state, history with proofs and import;
//! every bad input a 4xx with nothing recorded, and no credential a 401.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use evident::Role;
use serde_json::{json, Value};

mod common;
mod support;
use common::client::{Client, Reply};
use support::Running;

struct Api {
    running: Running,
    client: Client,
    writer: String,
    admin: String,
    reader: String,
}

impl Api {
    fn start() -> Api {
        let running = Running::start();
        let client = Client::new(&running.base);
        Api {
            writer: running.key(Role::Writer),
            admin: running.key(Role::Admin),
            reader: running.key(Role::Reader),
            running,
            client,
        }
    }

    fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<&[u8]>) -> Reply {
        self.call_with(method, path, key, &[], body)
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        extra: &[(&str, &[u8])],
        body: Option<&[u8]>,
    ) -> Reply {
        let bearer = key.map(|k| format!("Bearer {k}"));
        let mut headers: Vec<(&str, &[u8])> = extra.to_vec();
        if let Some(b) = &bearer {
            headers.push(("authorization", b.as_bytes()));
        }
        self.client.send(method, path, &headers, body)
    }

    fn post(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(key), Some(body.to_string().as_bytes()))
    }

    fn state(&self, subject: &str) -> Vec<(String, bool)> {
        let r = self.call(
            "GET",
            &format!("/v1/consent/{subject}"),
            Some(&self.reader),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["consents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["purpose"].as_str().unwrap().to_string(),
                    c["in_force"].as_bool().unwrap(),
                )
            })
            .collect()
    }
}

#[test]
fn grant_withdraw_state_and_history_with_proofs() {
    let api = Api::start();
    let grant = json!({"subject": "cust-1", "purpose": "marketing", "status": "granted",
                       "notice": "We send offers by email.", "source": "web"});
    let r = api.post("/v1/consent", &api.writer, &grant);
    assert_eq!(r.status, 200, "{}", r.text());
    let rec = &r.json()["records"][0];
    assert_eq!(rec["granted"], true);
    assert!(rec["notice_hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(api.state("cust-1"), [("marketing".into(), true)]);

    let withdraw = json!({"subject": "cust-1", "purpose": "marketing", "status": "withdrawn"});
    let r = api.post("/v1/consent", &api.writer, &withdraw);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(api.state("cust-1"), [("marketing".into(), false)]);

    let r = api.call(
        "GET",
        "/v1/consent/cust-1/history?purpose=marketing",
        Some(&api.reader),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let history = r.json()["history"].as_array().unwrap().clone();
    assert_eq!(history.len(), 2);
    for change in &history {
        let proof = &change["proof"];
        assert_eq!(proof["index"], change["index"]);
        assert!(proof["checkpoint"].is_string());
        // The same proof the log's own endpoint gives.
        let own = api.call(
            "GET",
            &format!(
                "/v1/proof/inclusion?index={}&size={}",
                proof["index"], proof["size"]
            ),
            Some(&api.reader),
            None,
        );
        assert_eq!(own.json()["proof"], proof["proof"]);
        assert_eq!(own.json()["root"], proof["root"]);
    }
    let r = api.call("GET", "/v1/consent/cust-1/history", Some(&api.reader), None);
    assert_eq!(r.status, 400, "a missing purpose: {}", r.text());
}

#[test]
fn a_gpc_header_is_recorded_as_an_opt_out_when_asked() {
    let api = Api::start();
    let body = json!({"subject": "cust-2", "honor_gpc": true});
    let gpc: &[(&str, &[u8])] = &[("sec-gpc", b"1")];
    let r = api.call_with(
        "POST",
        "/v1/consent",
        Some(&api.writer),
        gpc,
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["gpc"], true);
    assert_eq!(
        api.state("cust-2"),
        [
            ("sale".into(), false),
            ("share".into(), false),
            ("targeted_advertising".into(), false)
        ]
    );
    let records = r.json()["records"].as_array().unwrap().clone();
    assert!(records.iter().all(|r| r["source"] == "gpc"));
    // Without the header there is nothing to record.
    let r = api.post("/v1/consent", &api.writer, &body);
    assert_eq!(r.status, 400, "{}", r.text());
    // Configured purposes.
    let body = json!({"subject": "cust-3", "honor_gpc": true, "gpc_purposes": ["profiling"]});
    let r = api.call_with(
        "POST",
        "/v1/consent",
        Some(&api.writer),
        gpc,
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(api.state("cust-3"), [("profiling".into(), false)]);
    // The header alone, not asked to honour it, records only the change given.
    let body = json!({"subject": "cust-4", "purpose": "analytics", "status": "withdrawn"});
    let r = api.call_with(
        "POST",
        "/v1/consent",
        Some(&api.writer),
        gpc,
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(api.state("cust-4"), [("analytics".into(), false)]);
}

#[test]
fn bad_input_is_a_4xx_and_records_nothing() {
    let api = Api::start();
    let size = api.running.engine.log().size();
    let cases: Vec<(&[u8], &str)> = vec![
        (b"{not json", "malformed"),
        (br#"[1, 2]"#, "malformed"),
        (br#"{"subject": 5, "purpose": "marketing", "status": "granted"}"#, "subject"),
        (br#"{"subject": "c", "purpose": ["m"], "status": "granted"}"#, "purpose"),
        (
            br#"{"subject": "c", "purpose": "marketing", "status": "granted", "basis": "whim", "notice": "n"}"#,
            "unknown lawful basis",
        ),
        (br#"{"subject": "c", "purpose": "marketing", "status": "maybe"}"#, "status"),
        (br#"{"subject": "c", "purpose": "Marketing", "status": "withdrawn"}"#, "purpose"),
        (br#"{"subject": "c", "purpose": "marketing", "status": "granted"}"#, "notice"),
        (br#"{"subject": "c", "purpose": "marketing"}"#, "go together"),
        (br#"{"subject": "c", "purpose": "marketing", "status": "withdrawn", "colour": 1}"#, "colour"),
        (
            br#"{"subject": "c", "purpose": "marketing", "status": "withdrawn", "time": "noon"}"#,
            "RFC 3339",
        ),
    ];
    for (body, says) in cases {
        let r = api.call("POST", "/v1/consent", Some(&api.writer), Some(body));
        assert_eq!(
            r.status,
            400,
            "{}: {}",
            String::from_utf8_lossy(body),
            r.text()
        );
        assert!(
            r.text().contains(says),
            "{} should say {says}: {}",
            String::from_utf8_lossy(body),
            r.text()
        );
    }
    assert_eq!(
        api.running.engine.log().size(),
        size,
        "nothing was appended"
    );
    assert!(api.state("c").is_empty());
}

#[test]
fn an_import_reports_bad_rows_and_oversize_imports_are_refused() {
    let api = Api::start();
    let data = "subject,purpose,status,basis,notice\n\
                cust-5,marketing,granted,consent,We email offers.\n\
                cust-6,marketing,granted,whim,We email offers.\n\
                cust-7,analytics,withdrawn,,\n";
    let r = api.post(
        "/v1/consent/import",
        &api.admin,
        &json!({"format": "csv", "data": data, "strict": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["refused"], true);
    assert_eq!(r.json()["recorded"], 0);
    let r = api.post(
        "/v1/consent/import",
        &api.admin,
        &json!({"format": "csv", "data": data}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["rows"].as_u64(), v["recorded"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(v["errors"][0]["line"], 3);
    assert_eq!(v["errors"][0]["field"], "basis");
    assert_eq!(api.state("cust-5"), [("marketing".into(), true)]);
    assert!(api.state("cust-6").is_empty());

    // Only admins import.
    let r = api.post(
        "/v1/consent/import",
        &api.writer,
        &json!({"format": "csv", "data": data}),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    // An unknown format, an unknown column, too many rows: 400, nothing recorded.
    let r = api.post(
        "/v1/consent/import",
        &api.admin,
        &json!({"format": "xml", "data": data}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = api.post(
        "/v1/consent/import",
        &api.admin,
        &json!({"format": "csv", "data": "subject,colour\nc,red\n"}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let mut many = String::from("subject,purpose,status\n");
    for i in 0..100_001 {
        many.push_str(&format!("c{i},sale,withdrawn\n"));
    }
    let size = api.running.engine.log().size();
    let r = api.post(
        "/v1/consent/import",
        &api.admin,
        &json!({"format": "csv", "data": many}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("at most 100000"), "{}", r.text());
    assert_eq!(api.running.engine.log().size(), size);
}

#[test]
fn no_credential_is_a_401_and_a_reader_cannot_record() {
    let api = Api::start();
    let body = br#"{"subject": "c", "purpose": "marketing", "status": "withdrawn"}"#;
    assert_eq!(
        api.call("POST", "/v1/consent", None, Some(body)).status,
        401
    );
    assert_eq!(api.call("GET", "/v1/consent/c", None, None).status, 401);
    assert_eq!(
        api.call("GET", "/v1/consent/c/history?purpose=marketing", None, None)
            .status,
        401
    );
    assert_eq!(
        api.call(
            "POST",
            "/v1/consent/import",
            None,
            Some(br#"{"format":"csv","data":""}"#)
        )
        .status,
        401
    );
    assert_eq!(
        api.call("POST", "/v1/consent", Some(&api.reader), Some(body))
            .status,
        403
    );
}
