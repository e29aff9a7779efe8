//! Policy documents over HTTP: the list with each document's state, a rendering as Markdown
//! or HTML, history — readable by the auditor — and publishing (admin only), with bad input
//! a 4xx naming the fault and nothing appended, and a template naming a missing setting a
//! 409 naming the template, line and setting.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use evident::Role;
use serde_json::Value;

mod common;
mod support;
use common::client::{Client, Reply};
use support::Running;

fn get(client: &Client, token: &str, path: &str) -> Reply {
    let auth = format!("Bearer {token}");
    client.send("GET", path, &[("Authorization", auth.as_bytes())], None)
}

fn post(client: &Client, token: &str, path: &str, body: &[u8]) -> Reply {
    let auth = format!("Bearer {token}");
    client.send(
        "POST",
        path,
        &[("Authorization", auth.as_bytes())],
        Some(body),
    )
}

fn expect(reply: &Reply, status: u16, what: &str) -> Value {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    reply.json()
}

#[test]
fn policy_docs_are_read_by_the_auditor_and_published_by_an_admin() {
    let server = Running::start();
    let client = Client::new(&server.base);
    let admin = server.key(Role::Admin);
    let auditor = server.key(Role::Auditor);

    let list = expect(&get(&client, &auditor, "/v1/policy-docs"), 200, "list");
    let docs = list["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 6);
    let state = |list: &Value, name: &str| {
        list["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["document"] == name)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state(&list, "encryption"), "unpublished");
    // No policy pack is active on a fresh engine: the access control policy cannot render.
    assert_eq!(state(&list, "access-control"), "error");

    let md = expect(
        &get(&client, &auditor, "/v1/policy-docs/encryption"),
        200,
        "md",
    );
    assert_eq!(md["format"], "md");
    assert!(md["content"]
        .as_str()
        .unwrap()
        .contains("TLS 1.2 and above"));
    let html = expect(
        &get(&client, &auditor, "/v1/policy-docs/encryption?format=html"),
        200,
        "html",
    );
    assert!(html["content"]
        .as_str()
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    assert_eq!(html["sha256"], md["sha256"]);

    let missing = expect(
        &get(&client, &auditor, "/v1/policy-docs/access-control"),
        409,
        "no pack",
    );
    let message = missing["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`access-control`") && message.contains("line "),
        "{message}"
    );
    assert!(message.contains("`access."), "{message}");
    expect(
        &get(&client, &auditor, "/v1/policy-docs/no-such-doc"),
        404,
        "unknown",
    );
    expect(
        &get(&client, &auditor, "/v1/policy-docs/Bad_Name"),
        400,
        "bad name",
    );
    expect(
        &get(&client, &auditor, "/v1/policy-docs/encryption?format=pdf"),
        400,
        "format",
    );

    let size = server.engine.size();
    expect(
        &post(&client, &admin, "/v1/policy-docs/encryption/publish", b"{}"),
        400,
        "no approver",
    );
    expect(
        &post(
            &client,
            &admin,
            "/v1/policy-docs/encryption/publish",
            br#"{"approver":"CISO","x":1}"#,
        ),
        400,
        "an unknown field",
    );
    expect(
        &post(
            &client,
            &admin,
            "/v1/policy-docs/access-control/publish",
            br#"{"approver":"CISO"}"#,
        ),
        409,
        "a template that does not render",
    );
    assert_eq!(server.engine.size(), size, "nothing was appended");

    let published = expect(
        &post(
            &client,
            &admin,
            "/v1/policy-docs/encryption/publish",
            br#"{"approver":"CISO"}"#,
        ),
        200,
        "publish",
    );
    assert_eq!(published["version"], 1);
    assert_eq!(published["sha256"], md["sha256"]);
    assert_eq!(published["approver"], "CISO");
    assert!(published.get("markdown").is_none());
    assert!(server.engine.size() > size);

    let history = expect(
        &get(&client, &auditor, "/v1/policy-docs/encryption/history"),
        200,
        "history",
    );
    assert_eq!(history["versions"].as_array().unwrap().len(), 1);
    let list = expect(
        &get(&client, &auditor, "/v1/policy-docs"),
        200,
        "list again",
    );
    assert_eq!(state(&list, "encryption"), "current");
    // (A refusal is itself recorded, as `auth.role.denied`.)
    expect(
        &post(
            &client,
            &auditor,
            "/v1/policy-docs/encryption/publish",
            br#"{"approver":"CISO"}"#,
        ),
        403,
        "the auditor publishes",
    );
}
