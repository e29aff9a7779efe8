//! Walking the served OpenAPI document, so a test that iterates it covers a new operation the
//! day it is documented: every operation with the roles it admits (`x-evident-roles`), a minimal
//! valid instance of any schema, every string field of a request body, and URLs with their
//! path and required query parameters filled. Shared by the authorization matrix
//! (`crates/server/tests`) and the canary test (`crates/cli/tests`).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers; not every test uses each"
)]

use serde_json::{json, Map, Value};

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `GET`, `POST`, …
    pub method: String,
    /// the path template, `/v1/keys/{name}/rotate`
    pub path: String,
    /// the operation object
    pub op: Value,
    /// whether it needs no credential (`security: []`)
    pub public: bool,
    /// the roles that may call it, from `x-evident-roles` (`reader`, `writer`, `admin`,
    /// `auditor`)
    pub roles: Option<Vec<String>>,
}

impl Operation {
    /// `METHOD /path`, as test messages name it.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The JSON schema of its request body, if it takes one.
    pub fn body_schema(&self) -> Option<&Value> {
        self.op
            .pointer("/requestBody/content/application~1json/schema")
    }

    /// Its parameters that are `in` (`path`, `query`, `header`).
    pub fn parameters(&self, place: &str) -> Vec<&Value> {
        self.op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == place).collect())
            .unwrap_or_default()
    }

    /// Its URL: path parameters from `fill` (the parameter and its schema; `None` takes a
    /// plausible value), and each required query parameter with a plausible value.
    pub fn url(&self, fill: &dyn Fn(&str, &Value) -> Option<String>) -> String {
        let mut url = self.path.clone();
        for p in self.parameters("path") {
            let name = p["name"].as_str().unwrap();
            let value = fill(name, &p["schema"]).unwrap_or_else(|| plausible(&p["schema"]));
            url = url.replace(&format!("{{{name}}}"), &value);
        }
        let required: Vec<String> = self
            .parameters("query")
            .into_iter()
            .filter(|p| p["required"] == true)
            .map(|p| {
                format!(
                    "{}={}",
                    p["name"].as_str().unwrap(),
                    plausible(&p["schema"])
                )
            })
            .collect();
        if !required.is_empty() {
            url = format!("{url}?{}", required.join("&"));
        }
        url
    }
}

/// Every operation, in document order.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let default = doc["security"].clone();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            if !["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                continue;
            }
            let security = op.get("security").unwrap_or(&default);
            out.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                op: op.clone(),
                public: security.as_array().is_some_and(Vec::is_empty),
                roles: op["x-evident-roles"].as_array().map(|roles| {
                    roles
                        .iter()
                        .map(|r| r.as_str().expect("a role name").to_string())
                        .collect()
                }),
            });
        }
    }
    out
}

/// `schema` with its `$ref`s followed.
pub fn deref<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(reference) = schema["$ref"].as_str() {
        schema = doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {reference}"));
    }
    schema
}

/// A plausible value of a path or query parameter, as URL text.
pub fn plausible(schema: &Value) -> String {
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first
            .as_str()
            .map_or_else(|| first.to_string(), str::to_string);
    }
    match schema["type"].as_str() {
        Some("integer") => schema["minimum"].as_i64().unwrap_or(1).max(1).to_string(),
        Some("boolean") => "false".into(),
        _ => "matrix".into(),
    }
}

/// A minimal valid instance of `schema`: required properties only, the first of an enum or a
/// `oneOf`, the minimum of a number.
pub fn example(doc: &Value, schema: &Value) -> Value {
    let schema = deref(doc, schema);
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(first) = schema["oneOf"].as_array().and_then(|e| e.first()) {
        return example(doc, first);
    }
    match schema["type"].as_str() {
        Some("array") => {
            let n = schema["minItems"].as_u64().unwrap_or(0) as usize;
            Value::Array(vec![example(doc, &schema["items"]); n])
        }
        Some("integer") | Some("number") => json!(schema["minimum"].as_i64().unwrap_or(1)),
        Some("boolean") => json!(false),
        Some("string") => match schema["format"].as_str() {
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            _ => json!("x".repeat(schema["minLength"].as_u64().unwrap_or(1) as usize)),
        },
        _ => {
            let mut object = Map::new();
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                if required.iter().any(|r| r == name) {
                    object.insert(name.clone(), example(doc, property));
                }
            }
            Value::Object(object)
        }
    }
}

/// One step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// a named member
    Key(String),
    /// an array element
    Index(usize),
    /// a new member of a free-form object, named by what is planted
    NewKey,
}

/// Where a string goes in an instance of `schema`: every string property (required or not),
/// the first element of every array, and a new member (its value and its name) of every
/// free-form object.
pub fn string_fields(doc: &Value, schema: &Value) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    walk(doc, schema, &mut Vec::new(), &mut out, 0);
    out
}

fn walk(doc: &Value, schema: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>, depth: usize) {
    let schema = deref(doc, schema);
    if depth > 8 {
        return;
    }
    if let Some(first) = schema["oneOf"].as_array().and_then(|e| e.first()) {
        return walk(doc, first, at, out, depth + 1);
    }
    let kind = schema["type"].as_str();
    if kind == Some("string") || schema["enum"].as_array().is_some_and(|e| e[0].is_string()) {
        out.push(at.clone());
        return;
    }
    if kind == Some("array") {
        at.push(Step::Index(0));
        walk(doc, &schema["items"], at, out, depth + 1);
        at.pop();
        return;
    }
    let declared = schema["properties"].as_object();
    for (name, property) in declared.into_iter().flatten() {
        at.push(Step::Key(name.clone()));
        walk(doc, property, at, out, depth + 1);
        at.pop();
    }
    // free-form: `metadata`, `context`, a map of files
    let open = schema["additionalProperties"].is_object()
        || (declared.is_none()
            && schema["additionalProperties"] != false
            && matches!(kind, None | Some("object")));
    if open {
        for step in [Step::Key("canary".into()), Step::NewKey] {
            at.push(step);
            out.push(at.clone());
            at.pop();
        }
    }
}

/// `body` with `planted` at `path`, creating what is missing on the way as minimal valid
/// instances of their schemas, so the rest of the request stays valid.
pub fn plant(doc: &Value, schema: &Value, body: &mut Value, path: &[Step], planted: &str) {
    let schema = deref(doc, schema);
    let schema = schema["oneOf"]
        .as_array()
        .and_then(|e| e.first())
        .map_or(schema, |first| deref(doc, first));
    let Some((step, rest)) = path.split_first() else {
        *body = json!(planted);
        return;
    };
    match step {
        Step::NewKey => {
            if !body.is_object() {
                *body = json!({});
            }
            body.as_object_mut()
                .unwrap()
                .insert(planted.to_string(), json!("x"));
        }
        Step::Key(name) => {
            if !body.is_object() {
                *body = json!({});
            }
            let child_schema = schema["properties"]
                .get(name)
                .or_else(|| {
                    schema["additionalProperties"]
                        .as_object()
                        .map(|_| &schema["additionalProperties"])
                })
                .cloned()
                .unwrap_or(json!({}));
            let map = body.as_object_mut().unwrap();
            let child = map
                .entry(name.clone())
                .or_insert_with(|| example(doc, &child_schema));
            plant(doc, &child_schema, child, rest, planted);
        }
        Step::Index(i) => {
            let items = schema["items"].clone();
            if !body.is_array() {
                *body = json!([]);
            }
            let list = body.as_array_mut().unwrap();
            while list.len() <= *i {
                list.push(example(doc, &items));
            }
            plant(doc, &items, &mut list[*i], rest, planted);
        }
    }
}
