//! The risk and incident registers over HTTP: the auditor reads both and changes neither;
//! admins keep the risk register; writers open incidents and add notes, admins classify,
//! record notifications and close; bad input is a 400 with nothing recorded.

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

trait Registers {
    /// How many events are filed under `resource_type` (the refusals of the gate are
    /// recorded too, a moment later, so the log's size is no measure here).
    fn register_events(&self, resource_type: &str) -> usize;
}

impl Registers for Running {
    fn register_events(&self, resource_type: &str) -> usize {
        self.engine
            .query(&evident::store::EventQuery {
                resource_type: Some(resource_type.into()),
                limit: 100,
                ..Default::default()
            })
            .unwrap()
            .events
            .len()
    }
}

struct Api {
    running: Running,
    client: Client,
}

impl Api {
    fn start() -> Api {
        let running = Running::start();
        let client = Client::new(&running.base);
        Api { running, client }
    }

    fn call(&self, method: &str, path: &str, key: &str, body: Option<&Value>) -> Reply {
        let bearer = format!("Bearer {key}");
        let text = body.map(Value::to_string);
        self.client.send(
            method,
            path,
            &[("authorization", bearer.as_bytes())],
            text.as_deref().map(str::as_bytes),
        )
    }
}

#[test]
fn the_risk_register_over_http() {
    let api = Api::start();
    let admin = api.running.key(Role::Admin);
    let writer = api.running.key(Role::Writer);
    let auditor = api.running.key(Role::Auditor);
    let risk = json!({"title": "Card data in logs", "asset": "payments-api",
        "threat": "a request body is logged", "likelihood": 4, "impact": 5,
        "owner": "payments-lead", "treatment": "mitigate", "controls": ["EV-LOG-03"]});

    // Only an admin adds; the auditor and a writer are refused.
    for key in [&auditor, &writer] {
        let r = api.call("POST", "/v1/risks", key, Some(&risk));
        assert_eq!(r.status, 403, "{}", r.text());
    }
    for bad in [
        json!({"likelihood": -1}),
        json!({"impact": 6}),
        json!({"treatment": "ignore"}),
        json!({"controls": ["EV-NOPE-1"]}),
    ] {
        let mut body = risk.clone();
        for (k, v) in bad.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = api.call("POST", "/v1/risks", &admin, Some(&body));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "bad_request");
    }
    assert_eq!(
        api.running.register_events("risk"),
        0,
        "a refused risk was recorded"
    );

    let r = api.call("POST", "/v1/risks", &admin, Some(&risk));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], "R-001");
    assert_eq!(r.json()["inherent"]["score"], 20);
    let r = api.call(
        "POST",
        "/v1/risks/R-001",
        &admin,
        Some(&json!({"impact": 2, "reason": "tokenized"})),
    );
    assert_eq!(
        (r.status, &r.json()["impact"]),
        (200, &json!(2)),
        "{}",
        r.text()
    );

    // The auditor reads the register, one risk, the export and the report.
    let r = api.call("GET", "/v1/risks", &auditor, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["risks"][0]["id"], "R-001");
    let r = api.call("GET", "/v1/risks/R-001", &auditor, None);
    assert_eq!(r.json()["linked"][0]["control"], "EV-LOG-03");
    let r = api.call("GET", "/v1/risks/export?format=csv", &auditor, None);
    assert!(r.content_type.starts_with("text/csv"), "{}", r.content_type);
    assert!(r.text().lines().nth(1).unwrap().starts_with("R-001,"));
    let r = api.call("GET", "/v1/risks/export?format=xml", &auditor, None);
    assert_eq!(r.status, 400);
    let r = api.call("GET", "/v1/risks/report", &auditor, None);
    assert!(r.text().starts_with("# Risk analysis"), "{}", r.text());
    let r = api.call("GET", "/v1/risks/R-404", &auditor, None);
    assert_eq!(r.status, 404);
    let r = api.call("GET", "/v1/risks/bad%20id", &auditor, None);
    assert_eq!(r.status, 400, "{}", r.text());

    let r = api.call(
        "POST",
        "/v1/risks/R-001/close",
        &admin,
        Some(&json!({"reason": "done"})),
    );
    assert_eq!((r.status, &r.json()["status"]), (200, &json!("closed")));
    let r = api.call(
        "POST",
        "/v1/risks/R-001/close",
        &admin,
        Some(&json!({"reason": "again"})),
    );
    assert_eq!(r.status, 409);

    // A catalog file that does not load is the server's fault, and its path is not told.
    let controls = api.running.dir.path().join("controls");
    std::fs::create_dir_all(&controls).unwrap();
    std::fs::write(controls.join("broken.toml"), "[[control]\n").unwrap();
    let r = api.call("GET", "/v1/risks", &auditor, None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(!r.text().contains("broken.toml"), "{}", r.text());
}

#[test]
fn the_incident_register_over_http() {
    let api = Api::start();
    let admin = api.running.key(Role::Admin);
    let writer = api.running.key(Role::Writer);
    let auditor = api.running.key(Role::Auditor);
    let r = api.call(
        "POST",
        "/v1/incidents",
        &writer,
        Some(&json!({"title": "lost laptop", "discovered_at": "2999-01-01T00:00:00Z"})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("future"));
    assert_eq!(api.running.register_events("incident"), 0);
    let r = api.call(
        "POST",
        "/v1/incidents",
        &auditor,
        Some(&json!({"title": "lost laptop"})),
    );
    assert_eq!(r.status, 403);

    let discovered = evident::event::format_time(evident::event::now_us() - 100 * 3_600_000_000);
    let r = api.call(
        "POST",
        "/v1/incidents",
        &writer,
        Some(&json!({"title": "lost laptop", "discovered_at": discovered})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();

    // A writer notes; only an admin classifies.
    let r = api.call(
        "POST",
        &format!("/v1/incidents/{id}/notes"),
        &writer,
        Some(&json!({"note": "reported by IT"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let classify = json!({"personal_data": true, "phi": true, "subjects": 501});
    let r = api.call(
        "POST",
        &format!("/v1/incidents/{id}/classify"),
        &writer,
        Some(&classify),
    );
    assert_eq!(r.status, 403);
    let r = api.call(
        "POST",
        &format!("/v1/incidents/{id}/classify"),
        &admin,
        Some(&json!({"subjects": -1})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = api.call(
        "POST",
        &format!("/v1/incidents/{id}/classify"),
        &admin,
        Some(&classify),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let recipients: Vec<&str> = body["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["recipient"].as_str().unwrap())
        .collect();
    assert!(recipients.contains(&"media"), "{recipients:?}");
    assert!(recipients.contains(&"hhs"));

    // The auditor sees the GDPR notification overdue (100 h after discovery).
    let r = api.call("GET", "/v1/incidents/status", &auditor, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let status = r.json();
    assert_eq!(status["overdue"], 1, "{status}");
    let authority = status["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["recipient"] == "supervisory-authority")
        .unwrap();
    assert_eq!(
        (&authority["state"], &authority["incident"]),
        (&json!("overdue"), &json!(id))
    );

    let r = api.call(
        "POST",
        &format!("/v1/incidents/{id}/notify"),
        &admin,
        Some(&json!({"recipient": "supervisory-authority", "at": "2000-01-01T00:00:00Z"})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = api.call(
        "POST",
        &format!("/v1/incidents/{id}/notify"),
        &admin,
        Some(&json!({"recipient": "supervisory-authority", "reference": "case 7"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = api.call(
        "POST",
        &format!("/v1/incidents/{id}/close"),
        &admin,
        Some(&json!({"reason": "contained"})),
    );
    assert_eq!((r.status, &r.json()["status"]), (200, &json!("closed")));
    let r = api.call("GET", &format!("/v1/incidents/{id}"), &auditor, None);
    assert_eq!(r.json()["notifications"][0]["reference"], "case 7");
    let r = api.call("GET", "/v1/incidents", &auditor, None);
    assert_eq!(r.json()["incidents"].as_array().unwrap().len(), 1);
}
