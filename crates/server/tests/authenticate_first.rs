//! Authentication comes before anything else of a request, on every protected operation the
//! served OpenAPI document lists: a caller without a good credential gets 401 and a caller
//! whose role is too low gets 403, however malformed the path parameters, query string and
//! body it sends — never a 400 or 404 that would tell it about the request it may not make.
//! The operations are read from the document, so a new one cannot be missed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

mod support;

use evident::Role;
use serde_json::Value;
use support::Running;
use ureq::http::{Method, Request};

struct Answer {
    status: u16,
    body: Value,
    allow: Option<String>,
}

fn send(agent: &ureq::Agent, method: &str, url: &str, auth: Option<&str>, body: &[u8]) -> Answer {
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(url)
        .header("Content-Type", "application/json");
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let mut response = agent
        .run(request.body(body.to_vec()).unwrap())
        .unwrap_or_else(|e| panic!("{method} {url} ({auth:?}): {e}"));
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status: response.status().as_u16(),
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        allow,
    }
}

/// Path parameters that parse as nothing (not UTF-8, not a number), a query string of unknown
/// and mistyped parameters, and a body that is not JSON.
const BAD_SEGMENT: &str = "%FF%FE-not-a-number";
const BAD_QUERY: &str = "?index=%FF&from=minus-one&limit=0&format=nope&reveal=maybe&zzz=1";
const BAD_BODY: &[u8] = b"{\"truncated\": [1, 2";

fn protected_operations(doc: &Value) -> Vec<(String, String, Vec<Role>, bool)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security") == Some(&Value::Array(vec![])) {
                continue;
            }
            let roles: Vec<Role> = op["x-evident-roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| Role::parse(r.as_str().unwrap()).unwrap())
                .collect();
            let url_path = path
                .split('/')
                .map(|s| if s.starts_with('{') { BAD_SEGMENT } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let has_body = op.get("requestBody").is_some();
            out.push((method.to_uppercase(), url_path, roles, has_body));
        }
    }
    out
}

#[test]
fn every_protected_operation_authenticates_and_authorizes_before_reading_the_request() {
    let server = Running::start();
    let reader = server.key(Role::Reader);
    let auditor = server.key(Role::Auditor);
    let agent = &server.agent;
    let doc: Value = agent
        .get(format!("{}/openapi.json", server.base))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let operations = protected_operations(&doc);
    assert!(
        operations.len() > 30,
        "only {} operations",
        operations.len()
    );
    let lower_roles = [
        (Role::Reader, format!("Bearer {reader}")),
        (Role::Auditor, format!("Bearer {auditor}")),
    ];
    let refusals: [(&str, Option<&str>); 4] = [
        ("no credential", None),
        ("not a bearer token", Some("Basic ZXZpZGVudDpldmlkZW50")),
        (
            "an unknown API key",
            Some("Bearer evk_000000000000_unknown"),
        ),
        ("an empty bearer token", Some("Bearer ")),
    ];
    for (method, path, roles, has_body) in operations {
        let url = format!("{}{path}{BAD_QUERY}", server.base);
        let body = if has_body { BAD_BODY } else { b"" };
        for (what, auth) in refusals {
            let answer = send(agent, &method, &url, auth, body);
            assert_eq!(
                (answer.status, answer.body["error"]["code"].as_str()),
                (401, Some("unauthorized")),
                "{method} {path} with {what}: {}",
                answer.body
            );
        }
        if method == "GET" {
            let head = send(agent, "HEAD", &url, None, b"");
            assert_eq!(head.status, 401, "HEAD {path} without a credential");
        }
        for (role, auth) in &lower_roles {
            if roles.contains(role) {
                continue;
            }
            let answer = send(agent, &method, &url, Some(auth), body);
            assert_eq!(
                (answer.status, answer.body["error"]["code"].as_str()),
                (403, Some("forbidden")),
                "{method} {path} with a{} {} key: {}",
                if *role == Role::Auditor { "n" } else { "" },
                role.as_str(),
                answer.body
            );
        }
    }
}

#[test]
fn a_method_a_path_does_not_take_is_a_json_405_naming_the_methods_it_does() {
    let server = Running::start();
    let answer = send(
        &server.agent,
        "PATCH",
        &format!("{}/v1/events", server.base),
        None,
        b"{}",
    );
    assert_eq!(answer.status, 405);
    assert_eq!(answer.body["error"]["code"], "method_not_allowed");
    let allow = answer.allow.expect("an Allow header");
    for method in ["GET", "POST"] {
        assert!(allow.contains(method), "Allow: {allow}");
    }
}
