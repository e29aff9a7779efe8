//! Data-subject requests over HTTP: open (writer), identity, approval, a dry run and a run of
//! an access request over the data directory's active map (admin), the request read by a
//! reader and an auditor, a denial with its reason; a bad id a 400, an unknown one a 404,
//! a step out of order a 400, and an auditor refused every write.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use evident::privacy::datamap::store::MapStore;
use evident::Role;
use serde_json::{json, Value};

mod common;
mod support;
use common::client::{Client, Reply};
use support::Running;

fn call(client: &Client, method: &str, path: &str, key: &str, body: Option<&Value>) -> Reply {
    let bearer = format!("Bearer {key}");
    let text = body.map(Value::to_string);
    client.send(
        method,
        path,
        &[("authorization", bearer.as_bytes())],
        text.as_deref().map(str::as_bytes),
    )
}

/// A shop database with two users, and its map applied in the data directory.
fn shop(running: &Running) {
    let db = running.dir.path().join("shop.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), address TEXT);
         INSERT INTO users VALUES (1, 'a@example.org'), (2, 'b@example.org');
         INSERT INTO orders VALUES (1, 1, '1 Main St'), (2, 2, '2 Side St');",
    )
    .unwrap();
    let map = format!(
        r#"format = 1
[[systems]]
name = "shop"
connection = "sqlite:{}"
purpose = "orders"
lawful_basis = "contract"
retention = "6y"
[[systems.tables]]
name = "users"
primary_key = "id"
identity = "id"
fields = [{{ name = "email", categories = ["user.contact.email"], erasure = "null" }}]
[[systems.tables]]
name = "orders"
primary_key = "id"
join = "user_id -> users.id"
fields = [{{ name = "address", categories = ["user.contact.address"], erasure = "fixed", value = "erased" }}]
"#,
        db.display()
    );
    let store = MapStore::new(running.dir.path());
    let staged = store.stage(&map).unwrap();
    store.activate(&staged).unwrap();
}

#[test]
fn a_request_moves_through_its_lifecycle_over_http() {
    let running = Running::start();
    shop(&running);
    let client = Client::new(&running.base);
    let (writer, admin) = (running.key(Role::Writer), running.key(Role::Admin));
    let (reader, auditor) = (running.key(Role::Reader), running.key(Role::Auditor));

    let opened = call(
        &client,
        "POST",
        "/v1/dsr",
        &writer,
        Some(&json!({"kind": "access", "subject": "1", "regime": "ccpa"})),
    );
    assert_eq!(opened.status, 200, "{}", opened.text());
    let r = opened.json();
    assert_eq!(r["state"], "received");
    assert!(
        !opened.text().contains("\"1\""),
        "no subject id in the answer: {}",
        opened.text()
    );
    let id = r["id"].as_str().unwrap().to_owned();
    let at = |step: &str| format!("/v1/dsr/{id}/{step}");

    let early = call(&client, "POST", &at("run"), &admin, Some(&json!({})));
    assert_eq!(early.status, 400, "{}", early.text());
    assert!(early.text().contains("runs once approved"));
    let refused = call(&client, "POST", &at("approve"), &auditor, Some(&json!({})));
    assert_eq!(refused.status, 403);

    let v = call(
        &client,
        "POST",
        &at("verify-identity"),
        &admin,
        Some(&json!({"method": "email code"})),
    );
    assert_eq!(v.json()["state"], "identity_verified", "{}", v.text());
    let a = call(&client, "POST", &at("approve"), &admin, Some(&json!({})));
    assert_eq!(a.json()["state"], "approved", "{}", a.text());
    let dry = call(
        &client,
        "POST",
        &at("run"),
        &admin,
        Some(&json!({"dry_run": true})),
    );
    assert_eq!(
        dry.json()["systems"][0]["status"],
        "dry_run",
        "{}",
        dry.text()
    );
    let run = call(&client, "POST", &at("run"), &admin, Some(&json!({})));
    assert_eq!(run.status, 200, "{}", run.text());
    let body = run.json();
    assert_eq!(body["request"]["state"], "completed");
    assert_eq!(
        body["data"]["systems"][0]["tables"][0]["rows"][0]["email"],
        "a@example.org"
    );

    for key in [&reader, &auditor] {
        let got = call(&client, "GET", &format!("/v1/dsr/{id}"), key, None);
        assert_eq!(got.status, 200, "{}", got.text());
        assert_eq!(got.json()["systems"]["shop"]["status"], "done");
        assert!(!got.text().contains("example.org"));
        let list = call(&client, "GET", "/v1/dsr", key, None);
        assert_eq!(list.json()["requests"].as_array().unwrap().len(), 1);
    }

    let other = call(
        &client,
        "POST",
        "/v1/dsr",
        &writer,
        Some(&json!({"kind": "erasure", "subject": "2"})),
    );
    let other = other.json()["id"].as_str().unwrap().to_owned();
    let denied = call(
        &client,
        "POST",
        &format!("/v1/dsr/{other}/deny"),
        &admin,
        Some(&json!({"reason": "not the account holder"})),
    );
    assert_eq!(denied.json()["state"], "denied", "{}", denied.text());
    assert_eq!(denied.json()["denial"], "not the account holder");

    let bad = call(&client, "GET", "/v1/dsr/not-an-id", &reader, None);
    assert_eq!(bad.status, 400, "{}", bad.text());
    let unknown = call(
        &client,
        "GET",
        "/v1/dsr/dsr-0000000000000000",
        &reader,
        None,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    let kind = call(
        &client,
        "POST",
        "/v1/dsr",
        &writer,
        Some(&json!({"kind": "forget", "subject": "2"})),
    );
    assert_eq!(kind.status, 400);
}
