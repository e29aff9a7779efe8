//! Canaries everywhere, generated from the served OpenAPI document so that a new endpoint is
//! covered the day it is documented: a card number, a CVV after its label, an SSN and an AWS
//! secret access key are planted, together and one by one, in every string field of every
//! operation's request body, in every query and path parameter, and in headers, with an admin
//! key so each request gets as far as it can. Afterwards no spelling of them (as planted,
//! without separators, percent-encoded, base64) is in the data directory (WAL and shared
//! memory included, while the server runs and after), the server's debug log, any export
//! (HTTP reads, entry bundles, `evident log …`), a backup or a directory restored from one.
//!
//! Responses are not the subject: decrypting and detokenizing answer the value by design.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident_ledger::tiles::TilePath;
use serde_json::{json, Value};

#[path = "../../server/tests/common/client.rs"]
mod client;
mod common;
#[path = "../../server/tests/common/openapi.rs"]
mod openapi;

use client::{Client, Reply};
use openapi::{Operation, Step};

const PASS: &str = "correct horse battery staple";
const CARD: &str = "4539 1488 0343 6467";
const CVV: &str = "cvv: 9183";
const SSN: &str = "536-22-7319";
const AWS: &str = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ3vT8kLpA";
const AWS_VALUE: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ3vT8kLpA";

/// All four in one line of free text.
fn together() -> String {
    format!("card {CARD} {CVV} ssn {SSN} {AWS}")
}

/// What is planted in a field: the four together, then each alone.
fn plantings() -> Vec<String> {
    let mut all = vec![together()];
    all.extend([CARD, CVV, SSN, AWS].map(str::to_string));
    all
}

/// Every spelling that must appear nowhere, with the canary it spells.
fn spellings() -> Vec<(String, &'static str)> {
    let b64 = |s: &str| B64.encode(s);
    let mut all: Vec<(String, &str)> = Vec::new();
    for s in [
        CARD.to_string(),
        CARD.replace(' ', ""),
        CARD.replace(' ', "-"),
        CARD.replace(' ', "%20"),
        CARD.replace(' ', "+"),
        b64(CARD),
        b64(&CARD.replace(' ', "")),
    ] {
        all.push((s, "card"));
    }
    for s in [
        CVV.to_string(),
        "cvv:9183".into(),
        "cvv 9183".into(),
        "cvv%3A%209183".into(),
        "cvv%3A+9183".into(),
        "\"cvv\":\"9183\"".into(),
        b64(CVV),
    ] {
        all.push((s, "cvv"));
    }
    for s in [
        SSN.to_string(),
        SSN.replace('-', ""),
        SSN.replace('-', " "),
        SSN.replace('-', "%2D"),
        b64(SSN),
    ] {
        all.push((s, "ssn"));
    }
    for s in [
        AWS_VALUE.to_string(),
        AWS_VALUE.replace('/', "%2F"),
        b64(AWS_VALUE),
    ] {
        all.push((s, "aws secret"));
    }
    all
}

/// The spellings found in `haystack`, each with a little of what surrounds it.
fn leaks(haystack: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for (spelling, canary) in spellings() {
        if let Some(at) = haystack
            .windows(spelling.len())
            .position(|w| w == spelling.as_bytes())
        {
            let from = at.saturating_sub(80);
            let to = (at + spelling.len() + 40).min(haystack.len());
            found.push(format!(
                "{canary} as {spelling:?} in …{}…",
                String::from_utf8_lossy(&haystack[from..to]).escape_debug()
            ));
        }
    }
    found
}

/// Percent-encodes everything but letters and digits.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn evident(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .env_remove("EVIDENT_DATA_DIR")
        .env("EVIDENT_ROOT_PASSPHRASE", PASS)
        .env("EVIDENT_OPERATOR", "canary-test")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> Vec<u8> {
    let out = evident(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = out.stdout;
    bytes.extend(out.stderr);
    bytes
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every file under `dir` is free of canaries; answers how many files were read.
fn assert_clean_dir(dir: &Path, when: &str) -> Vec<String> {
    let mut names = Vec::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(
            leaks(&bytes),
            Vec::<String>::new(),
            "canaries in {} ({when})",
            file.display()
        );
        names.push(file.file_name().unwrap().to_string_lossy().into_owned());
    }
    names
}

/// The server, called as admin (or with another credential) with canaries in its headers.
struct Caller {
    client: Client,
    admin: String,
}

impl Caller {
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        authorization: Option<&str>,
    ) -> Reply {
        let auth = authorization.map_or_else(|| format!("Bearer {}", self.admin), str::to_string);
        let canary = together();
        let headers: [(&str, &[u8]); 4] = [
            ("Authorization", auth.as_bytes()),
            ("X-Request-ID", canary.as_bytes()),
            ("User-Agent", canary.as_bytes()),
            ("X-Canary", canary.as_bytes()),
        ];
        let body = body.map(Value::to_string);
        self.client
            .send(method, path, &headers, body.as_ref().map(String::as_bytes))
    }

    fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = self.send(method, path, body.as_ref(), None);
        assert!(
            (200..300).contains(&reply.status),
            "{method} {path}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }
}

fn pack_files(name: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(name);
    let mut files = serde_json::Map::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "README.md" {
            files.insert(name, json!(std::fs::read_to_string(&path).unwrap()));
        }
    }
    Value::Object(files)
}

/// A request the default pack grants by breaking the glass, which opens a review.
fn break_glass_request(justification: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "subject": {"type": "User", "id": "dave"},
        "action": {"name": "read"},
        "resource": {"type": "PatientRecord", "id": "pr-1001"},
        "context": {"authn": {"mfa": true, "auth_time": now}, "break_glass": true,
                    "justification": justification}
    })
}

/// What the server holds that the requests need (a policy, keys, a ciphertext, a card token),
/// made with clean values.
struct Fixtures {
    ciphertext: String,
    card_token: String,
}

fn fixtures(c: &Caller) -> Fixtures {
    c.admin(
        "PUT",
        "/v1/policy",
        Some(json!({"files": pack_files("default")})),
    );
    c.admin(
        "POST",
        "/v1/keys",
        Some(json!({"name": "canary-k", "regulated": true})),
    );
    let sealed = c.admin(
        "POST",
        "/v1/keys/canary-k/encrypt",
        Some(json!({"plaintext": B64.encode("hello"), "context": "t"})),
    );
    let token = c.admin(
        "POST",
        "/v1/tokens",
        Some(json!({"pan": "5555 5555 5555 4444", "format": "ff1"})),
    );
    Fixtures {
        ciphertext: sealed["ciphertext"].as_str().unwrap().to_string(),
        card_token: token["token"].as_str().unwrap().to_string(),
    }
}

/// A valid body for the operations the schema alone cannot make one for (they need state).
fn known_good(op: &Operation, f: &Fixtures) -> Option<Value> {
    let evaluation = break_glass_request("cardiac arrest in the ED, chart needed now");
    Some(match op.name().as_str() {
        "POST /v1/decrypt" => json!({"ciphertext": f.ciphertext, "context": "t",
                                     "access_context": {"purpose_of_use": "treatment"}}),
        "POST /v1/rewrap" => json!({"ciphertext": f.ciphertext, "context": "t"}),
        "POST /v1/keys/{name}/encrypt" => json!({"plaintext": B64.encode("hello")}),
        "POST /v1/personal/encrypt" => json!({"subject": "s-1", "plaintext": B64.encode("hi")}),
        "POST /v1/tokens/detokenize" => json!({"token": f.card_token, "reveal": "masked",
                                               "access_context": {"purpose_of_use": "payment"}}),
        "POST /v1/tokens" => json!({"pan": "4111 1111 1111 1111"}),
        "POST /access/v1/evaluation" => evaluation,
        "POST /access/v1/evaluations" => json!({"evaluations": [evaluation]}),
        "POST /access/v1/search/{kind}" => json!({
            "subject": {"type": "User", "id": "dave"}, "action": {"name": "read"},
            "resource": {"type": "PatientRecord"}}),
        "PUT /v1/policy" => json!({"files": pack_files("default")}),
        "POST /v1/access/break-glass/{id}/review" => json!({"outcome": "approved", "note": "ok"}),
        "POST /v1/apikeys" => json!({"role": "reader", "label": "dash"}),
        _ => return None,
    })
}

/// An open break-glass review, made afresh so that each planted note reaches the store.
fn open_break_glass(c: &Caller) -> String {
    let granted = c.admin(
        "POST",
        "/access/v1/evaluation",
        Some(break_glass_request(
            "cardiac arrest in the ED, chart needed now",
        )),
    );
    assert_eq!(granted["decision"], true, "{granted}");
    let open = c.admin("GET", "/v1/access/break-glass", None);
    open["reviews"][0]["id"].as_str().unwrap().to_string()
}

/// A plausible value for a path parameter of `op`, where any will not do.
fn path_value(c: &Caller, op: &Operation, name: &str) -> Option<String> {
    Some(match (op.path.as_str(), name) {
        (p, "id") if p.starts_with("/v1/access/break-glass") => open_break_glass(c),
        (p, "id") if p.starts_with("/v1/apikeys") => c.admin(
            "POST",
            "/v1/apikeys",
            Some(json!({"role": "reader", "label": "doomed"})),
        )["id"]
            .as_str()
            .unwrap()
            .to_string(),
        (_, "name") => "canary-k".into(),
        (_, "kind") => "resource".into(),
        (_, "index") => "1".into(),
        (_, "path") => "entries/000.p/1".into(),
        _ => return None,
    })
}

/// Drives every operation with canaries; answers how many requests each status got.
fn drive(c: &Caller, doc: &Value, f: &Fixtures) -> std::collections::BTreeMap<u16, usize> {
    let mut statuses = std::collections::BTreeMap::new();
    let mut count = |r: Reply| *statuses.entry(r.status).or_insert(0) += 1;
    let canary = together();
    for op in openapi::operations(doc) {
        let url = || op.url(&|name, _| path_value(c, &op, name));
        let schema = op.body_schema();
        let base = schema.map(|s| known_good(&op, f).unwrap_or_else(|| openapi::example(doc, s)));
        // the body: each string field, each planting
        if let (Some(schema), Some(base)) = (schema, &base) {
            for field in openapi::string_fields(doc, schema) {
                let base64 = field
                    .last()
                    .is_some_and(|s| *s == Step::Key("plaintext".into()));
                for planted in plantings() {
                    let planted = if base64 {
                        B64.encode(&planted)
                    } else {
                        planted
                    };
                    let mut body = base.clone();
                    openapi::plant(doc, schema, &mut body, &field, &planted);
                    count(c.send(&op.method, &url(), Some(&body), None));
                }
            }
        }
        // each query parameter, and one the operation does not know
        let mut names: Vec<String> = op
            .parameters("query")
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        names.push("canary".into());
        for name in names {
            let at = url();
            let join = if at.contains('?') { '&' } else { '?' };
            let path = format!("{at}{join}{name}={}", pct(&canary));
            count(c.send(&op.method, &path, base.as_ref(), None));
        }
        // each path parameter
        for p in op.parameters("path") {
            let name = p["name"].as_str().unwrap();
            let path = op.url(&|n, _| {
                if n == name {
                    Some(pct(&canary))
                } else {
                    path_value(c, &op, n)
                }
            });
            count(c.send(&op.method, &path, base.as_ref(), None));
        }
        // a credential that is a canary
        let path = url();
        count(c.send(
            &op.method,
            &path,
            base.as_ref(),
            Some(&format!("Bearer {canary}")),
        ));
    }
    statuses
}

/// Where a canary could go deeper than the schema says: a break-glass justification, a policy
/// pack (refused whole: it is stored as given), an API key label, a key name.
fn drive_deeper(c: &Caller) {
    let canary = together();
    let granted = c.admin(
        "POST",
        "/access/v1/evaluation",
        Some(break_glass_request(&format!(
            "cardiac arrest in the ED {canary}"
        ))),
    );
    assert_eq!(granted["decision"], true, "{granted}");
    for file in ["canary.cedar", "rbac.cedar"] {
        let mut files = pack_files("default");
        let text = files[file].as_str().unwrap_or_default().to_string();
        files[file] = json!(format!("// {canary}\n{text}"));
        let refused = c.send("PUT", "/v1/policy", Some(&json!({"files": files})), None);
        assert_eq!(
            refused.status,
            400,
            "{}",
            String::from_utf8_lossy(&refused.body)
        );
        assert_eq!(refused.json()["error"]["code"], "policy_rejected");
    }
    for name in [CARD.replace(' ', ""), SSN.to_string()] {
        let refused = c.send("POST", "/v1/keys", Some(&json!({"name": name})), None);
        assert_eq!(refused.status, 400, "a key named {name}");
    }
}

/// Every read a user or auditor can take away: events, break-glass reviews, keys, policy,
/// the access review, checkpoints and every entry bundle.
fn http_exports(c: &Caller) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cursor: Option<u64> = None;
    loop {
        let path = match cursor {
            Some(at) => format!("/v1/events?limit=1000&cursor={at}"),
            None => "/v1/events?limit=1000".into(),
        };
        let page = c.admin("GET", &path, None);
        for event in page["events"].as_array().unwrap() {
            if event["event"].get("personal").is_some() {
                let index = event["index"].as_u64().unwrap();
                out.extend(
                    c.send(
                        "GET",
                        &format!("/v1/events/{index}?reveal=true"),
                        None,
                        None,
                    )
                    .body,
                );
            }
        }
        out.extend(page.to_string().into_bytes());
        match page["next_cursor"].as_u64() {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    for path in [
        "/v1/access/break-glass?all=true",
        "/v1/apikeys",
        "/v1/keys",
        "/v1/policy",
        "/v1/policy/versions",
        "/v1/checkpoint",
    ] {
        out.extend(c.admin("GET", path, None).to_string().into_bytes());
    }
    out.extend(
        c.send("POST", "/v1/access/review?format=csv", None, None)
            .body,
    );
    let size = c.admin("GET", "/v1/checkpoint", None)["size"]
        .as_u64()
        .unwrap();
    for index in 0..size.div_ceil(256) {
        let width =
            (index == size / 256 && !size.is_multiple_of(256)).then_some((size % 256) as u8);
        let tile = TilePath::Entries { index, width }.to_path();
        let bundle = c.send("GET", &format!("/log/{tile}"), None, None);
        assert_eq!(bundle.status, 200, "/log/{tile}");
        out.extend(bundle.body);
    }
    out
}

#[test]
fn canaries_planted_in_every_field_of_every_endpoint_appear_nowhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let dir_s = dir.to_str().unwrap();
    ok(&["init", "--data-dir", dir_s]);
    let created = evident(&["apikey", "create", "--data-dir", dir_s, "--role", "admin"]);
    assert!(created.status.success());
    let admin = String::from_utf8(created.stdout)
        .unwrap()
        .trim()
        .to_string();
    let log_path = tmp.path().join("server.log");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_evident"));
    serve
        .env("EVIDENT_LOG", "debug")
        .env("EVIDENT_ROOT_PASSPHRASE", PASS)
        .env("EVIDENT_OPERATOR", "canary-test")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()));
    let (mut child, base) = common::spawn_serve(serve, dir_s);
    let c = Caller {
        client: Client::new(&base),
        admin,
    };
    let doc = c.admin("GET", "/openapi.json", None);
    let f = fixtures(&c);
    let statuses = drive(&c, &doc, &f);
    drive_deeper(&c);
    let total: usize = statuses.values().sum();
    let succeeded: usize = statuses
        .iter()
        .filter(|(s, _)| **s < 300)
        .map(|(_, n)| n)
        .sum();
    assert!(
        total > 500 && succeeded > 150,
        "requests by status: {statuses:?}"
    );
    assert!(
        !statuses.keys().any(|s| *s >= 500),
        "a server error: {statuses:?}"
    );
    eprintln!("canary requests by status: {statuses:?}");

    let mut exports = http_exports(&c);
    let text = String::from_utf8_lossy(&exports).into_owned();
    for masked in ["453914******6467", "***-**-7319"] {
        assert!(
            text.contains(masked),
            "the canaries reached storage: {masked} is kept"
        );
    }
    let running = assert_clean_dir(&dir, "while the server runs");
    assert!(running.iter().any(|f| f.ends_with("-wal")), "{running:?}");
    child.kill().unwrap();
    child.wait().unwrap();

    let backup = tmp.path().join("canary.evb");
    let backup_s = backup.to_str().unwrap();
    exports.extend(ok(&["backup", "--data-dir", dir_s, "--out", backup_s]));
    exports.extend(ok(&["backup", "test", "--data-dir", dir_s, backup_s]));
    let restored = tmp.path().join("restored");
    exports.extend(ok(&[
        "restore",
        backup_s,
        "--data-dir",
        restored.to_str().unwrap(),
    ]));
    for args in [
        vec!["log", "query", "--data-dir", dir_s, "--limit", "0"],
        vec!["log", "tail", "--data-dir", dir_s, "-n", "1000"],
        vec!["log", "prove", "--data-dir", dir_s, "1"],
        vec!["log", "checkpoint", "--data-dir", dir_s],
        vec!["log", "verify", "--data-dir", dir_s],
        vec!["log", "verify", "--data-dir", restored.to_str().unwrap()],
    ] {
        exports.extend(ok(&args));
    }
    // `log show --reveal` opens the root key each time: one event of each action with
    // personal values (the HTTP reads above revealed all of them).
    let listed = ok(&["log", "query", "--data-dir", dir_s, "--limit", "0"]);
    let mut shown = std::collections::BTreeSet::new();
    for line in String::from_utf8_lossy(&listed).lines() {
        let entry: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let action = entry["event"]["action"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let (Some(index), Some(_)) = (entry["index"].as_u64(), entry["event"].get("personal")) {
            if shown.insert(action) {
                let index = index.to_string();
                exports.extend(ok(&[
                    "log",
                    "show",
                    "--data-dir",
                    dir_s,
                    &index,
                    "--reveal",
                ]));
            }
        }
    }
    assert!(shown.len() >= 3, "events with personal values: {shown:?}");

    let log = std::fs::read(&log_path).unwrap();
    let log_text = String::from_utf8_lossy(&log);
    assert!(
        log_text.contains("request refused") && log_text.contains("uri="),
        "debug logging was on"
    );
    assert_eq!(
        leaks(&log),
        Vec::<String>::new(),
        "canaries in the server log"
    );
    assert_eq!(
        leaks(&exports),
        Vec::<String>::new(),
        "canaries in an export"
    );
    assert_eq!(
        leaks(&std::fs::read(&backup).unwrap()),
        Vec::<String>::new(),
        "canaries in the backup file"
    );
    assert_clean_dir(&dir, "after the server stopped");
    assert_clean_dir(&restored, "restored from the backup");
}
