//! The OpenAPI document checked against the code that serves it: the same operations with
//! the same access (`x-evident-roles`, every role that includes an admitted one admitted too),
//! the answers every operation can give because of how every request is handled (the gate's
//! 401 and 403, the body limit's 413, the parsers' 400, a storage fault's 500), and exactly
//! the error codes of [`ErrorCode`].

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use evident::Role;

use crate::error::ErrorCode;
use crate::roles::Access;
use crate::routes::all::operations;
use crate::OPENAPI;

fn document() -> Value {
    serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
}

/// Every operation of the document, by (`GET`, path).
fn documented(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.insert((method.to_uppercase(), path.clone()), op.clone());
        }
    }
    out
}

/// A router path as OpenAPI writes it: `{*path}` is `{path}`.
fn as_documented(path: &str) -> String {
    path.replace("{*", "{")
}

/// Follows a `$ref` inside the document.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(pointer) => {
            let target = doc
                .pointer(pointer.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling $ref {pointer}"));
            resolve(doc, target)
        }
        None => value,
    }
}

#[test]
fn the_document_lists_exactly_the_operations_served_with_their_access() {
    let doc = document();
    let mut documented = documented(&doc);
    for op in operations().table() {
        let key = (op.method.to_string(), as_documented(op.path));
        let described = documented
            .remove(&key)
            .unwrap_or_else(|| panic!("{} {} is served but not in openapi.json", key.0, key.1));
        let public = described.get("security") == Some(&Value::Array(vec![]));
        let roles: Option<BTreeSet<&str>> = described
            .get("x-evident-roles")
            .and_then(Value::as_array)
            .map(|roles| roles.iter().map(|r| r.as_str().unwrap()).collect());
        match op.access {
            Access::Public => {
                assert!(
                    public,
                    "{} {}: served public, documented protected",
                    key.0, key.1
                );
                assert_eq!(roles, None, "{} {}: public with roles", key.0, key.1);
            }
            Access::Roles(admitted) => {
                assert!(
                    !public,
                    "{} {}: served protected, documented public",
                    key.0, key.1
                );
                let served: BTreeSet<&str> = admitted.iter().map(|r| r.as_str()).collect();
                assert_eq!(
                    roles,
                    Some(served),
                    "{} {}: x-evident-roles are not the roles the gate admits",
                    key.0,
                    key.1
                );
                let summary = described["summary"].as_str().unwrap_or_default();
                let least = format!("role: {}", op.access.least().join(" or "));
                assert!(
                    summary.contains(&least),
                    "{} {}: the summary does not say `{least}`: {summary}",
                    key.0,
                    key.1
                );
            }
        }
    }
    assert!(
        documented.is_empty(),
        "documented but not served: {:?}",
        documented.keys().collect::<Vec<_>>()
    );
}

/// Whoever may call an operation, a role that includes theirs may too: `admin` every
/// operation, `writer` every one a `reader` may.
#[test]
fn every_operations_roles_include_the_roles_above_them() {
    for op in operations().table() {
        let Access::Roles(admitted) = op.access else {
            continue;
        };
        assert!(!admitted.is_empty(), "{} {}: no role", op.method, op.path);
        for role in admitted {
            for above in Role::ALL.iter().filter(|r| r.allows(*role)) {
                assert!(
                    admitted.contains(above),
                    "{} {}: `{}` is admitted but not `{}`",
                    op.method,
                    op.path,
                    role.as_str(),
                    above.as_str()
                );
            }
        }
    }
}

/// The auditor reads the evidence and nothing else: no event, no append, no administration.
/// (Data-subject requests are evidence: their state and steps hold no personal value.)
#[test]
fn the_auditor_is_admitted_to_evidence_reads_only() {
    for op in operations().table() {
        if !op.access.admits(Role::Auditor) || op.access == Access::Public {
            continue;
        }
        assert_eq!(
            op.method,
            axum::http::Method::GET,
            "{} {}",
            op.method,
            op.path
        );
        assert!(
            op.path.starts_with("/v1/controls")
                || op.path.starts_with("/v1/policy-docs")
                || op.path.starts_with("/v1/risks")
                || op.path.starts_with("/v1/incidents")
                // data-subject requests: their state and steps, no personal value
                || op.path.starts_with("/v1/dsr")
                || op.path == "/v1/checkpoint"
                || op.path.starts_with("/v1/proof/"),
            "the auditor may call {} {}",
            op.method,
            op.path
        );
    }
}

#[test]
fn every_operation_lists_the_answers_every_request_can_get() {
    let doc = document();
    let served: BTreeMap<(String, String), Access> = operations()
        .table()
        .iter()
        .map(|op| ((op.method.to_string(), as_documented(op.path)), op.access))
        .collect();
    for ((method, path), op) in documented(&doc) {
        let listed: BTreeSet<&str> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // The body limit is checked around every route, from the declared length.
        let mut needed = vec!["413"];
        if served.get(&(method.clone(), path.clone())) != Some(&Access::Public) {
            // The gate: no or a refused credential, a role too low; and the key lookup can
            // fail in storage.
            needed.extend(["401", "403", "429", "500"]);
        }
        // A body is read within the body timeout and the budget of body memory.
        if op.get("requestBody").is_some() {
            needed.extend(["408", "503"]);
        }
        // Where storage can be unable to record, it can also be out of space.
        if listed.contains("503") {
            needed.push("507");
        }
        // A body, or a path or query parameter, that does not parse (headers are free text).
        let takes_input = op.get("requestBody").is_some()
            || op["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .map(|p| resolve(&doc, p))
                    .any(|p| p["in"] == "path" || p["in"] == "query")
            });
        if takes_input {
            needed.push("400");
        }
        for status in needed {
            assert!(
                listed.contains(status),
                "{method} {path} can answer {status} but does not list it: {listed:?}"
            );
        }
    }
}

#[test]
fn every_error_answer_is_an_error_body() {
    let doc = document();
    for ((method, path), op) in documented(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = resolve(&doc, response);
            let schema = &response["content"]["application/json"]["schema"];
            assert_eq!(
                schema["$ref"], "#/components/schemas/Error",
                "{method} {path} {status} is not an Error body"
            );
        }
    }
}

#[test]
fn the_documented_error_codes_are_the_servers() {
    let doc = document();
    let documented: BTreeSet<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]
        ["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let served: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(documented, served);
}
