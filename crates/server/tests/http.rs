//! The HTTP API against a real server on a loopback port: every endpoint, its
//! authentication, and the 4xx answers to bad input — after which nothing stored has changed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident::{Engine, Role};
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::proof::verify_consistency;
use evident_ledger::tiles::decode_bundle;
use evident_ledger::tlog_proof::TlogProof;
use serde_json::{json, Value};

struct Server {
    base: String,
    engine: Arc<Engine>,
    admin: String,
    writer: String,
    reader: String,
    agent: ureq::Agent,
    _server: evident_server::LoopbackServer,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn error(&self) -> String {
        let v = self.json();
        assert!(
            v["error"]["code"].is_string(),
            "error body without code: {v}"
        );
        v["error"]["message"].as_str().unwrap().to_string()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
    let admin = engine
        .create_api_key(Role::Admin, None, "test")
        .unwrap()
        .token
        .to_string();
    let writer = engine
        .create_api_key(Role::Writer, None, "test")
        .unwrap()
        .token
        .to_string();
    let reader = engine
        .create_api_key(Role::Reader, None, "test")
        .unwrap()
        .token
        .to_string();
    let server = evident_server::LoopbackServer::start(engine.clone()).unwrap();
    let base = server.base.clone();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    Server {
        base,
        engine,
        admin,
        writer,
        reader,
        agent,
        _server: server,
        _dir: dir,
    }
}

impl Server {
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&[u8]>) -> Reply {
        let url = format!("{}{}", self.base, path);
        let mut response = match (method, body) {
            ("GET", _) => {
                let mut r = self.agent.get(&url);
                if let Some(t) = token {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.header("X-Request-ID", "req-42").call()
            }
            ("DELETE", _) => {
                let mut r = self.agent.delete(&url);
                if let Some(t) = token {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.call()
            }
            (_, body) => {
                let mut r = self.agent.post(&url).content_type("application/json");
                if let Some(t) = token {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.send(body.unwrap_or_default())
            }
        }
        .unwrap();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        Reply {
            status,
            body,
            headers,
        }
    }

    fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call("GET", path, token, None)
    }

    fn post(&self, path: &str, token: Option<&str>, body: &[u8]) -> Reply {
        self.call("POST", path, token, Some(body))
    }
}

fn event(i: u64) -> Value {
    json!({
        "actor": {"id": format!("user-{}", i % 3), "ip": "198.51.100.4", "auth": {"mfa": true}},
        "action": if i.is_multiple_of(2) { "record.read" } else { "record.update" },
        "resource": {"type": "patient_record", "id": format!("pr-{i}")},
        "outcome": "success",
        "time": "2026-11-22T10:00:00Z",
        "metadata": {"i": i}
    })
}

#[test]
fn public_endpoints_need_no_key() {
    let s = start();
    let health = s.get("/healthz", None);
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let openapi = s.get("/openapi.json", None).json();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/events",
        "/v1/events/{index}",
        "/v1/checkpoint",
        "/v1/proof/inclusion",
        "/v1/proof/consistency",
        "/log/checkpoint",
        "/healthz",
        "/metrics",
        "/.well-known/authzen-configuration",
        "/access/v1/evaluation",
        "/access/v1/evaluations",
        "/access/v1/search/{kind}",
        "/v1/policy",
        "/v1/policy/versions",
        "/v1/policy/versions/{version}",
        "/v1/policy/rollback",
        "/v1/access/break-glass",
        "/v1/access/break-glass/{id}/review",
        "/v1/access/review",
        "/v1/keys/{name}/classify",
        "/v1/tokens",
        "/v1/tokens/detokenize",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "OpenAPI lacks {path}");
    }
    assert_eq!(s.get("/metrics", None).status, 401);
    let metrics = s.get("/metrics", Some(&s.reader));
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.text().contains("evident_http_requests_total"),
        "{}",
        metrics.text()
    );
    assert_eq!(
        s.get("/log/checkpoint", None).status,
        200,
        "key events already signed a checkpoint"
    );
    let unknown = s.get("/nope", None);
    assert_eq!(unknown.status, 404);
    unknown.error();
}

#[test]
fn every_private_endpoint_needs_a_key_with_the_right_role() {
    let s = start();
    for path in [
        "/v1/events",
        "/v1/events/0",
        "/v1/checkpoint",
        "/v1/proof/inclusion?index=0",
        "/v1/proof/consistency?from=1",
        "/v1/apikeys",
    ] {
        let r = s.get(path, None);
        assert_eq!(r.status, 401, "{path}");
        assert!(r.error().contains("Bearer"));
        assert_eq!(
            s.get(path, Some("evk_000000000000_nope")).status,
            401,
            "{path}"
        );
    }
    assert_eq!(
        s.post(
            "/v1/events",
            Some(&s.reader),
            event(0).to_string().as_bytes()
        )
        .status,
        403
    );
    assert_eq!(s.get("/v1/apikeys", Some(&s.writer)).status, 403);
    assert_eq!(
        s.get("/v1/events/0?reveal=true", Some(&s.reader)).status,
        403
    );
    let created = s.post(
        "/v1/apikeys",
        Some(&s.admin),
        br#"{"role": "reader", "label": "dash"}"#,
    );
    assert_eq!(created.status, 201);
    let token = created.json()["token"].as_str().unwrap().to_string();
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.get("/v1/checkpoint", Some(&token)).status, 200);
    assert_eq!(
        s.call("DELETE", &format!("/v1/apikeys/{id}"), Some(&s.admin), None)
            .status,
        204
    );
    assert_eq!(s.get("/v1/checkpoint", Some(&token)).status, 401);
    let keys = s.get("/v1/apikeys", Some(&s.admin)).json();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 4);
    assert!(!keys.to_string().contains(&token));
}

#[test]
fn append_read_query_prove() {
    let s = start();
    let base = s.engine.size();
    let one = s.post(
        "/v1/events",
        Some(&s.writer),
        event(0).to_string().as_bytes(),
    );
    assert_eq!(one.status, 200, "{}", one.text());
    let one = one.json();
    assert_eq!(one["events"][0]["index"], base);
    let batch: Vec<Value> = (1..=250).map(event).collect();
    let reply = s
        .post(
            "/v1/events",
            Some(&s.writer),
            json!(batch).to_string().as_bytes(),
        )
        .json();
    assert_eq!(reply["events"].as_array().unwrap().len(), 250);
    assert_eq!(reply["checkpoint"]["size"], base + 251);

    let got = s.get(&format!("/v1/events/{}", base + 7), Some(&s.reader));
    assert_eq!(got.header("x-request-id"), Some("req-42"));
    let got = got.json();
    assert_eq!(got["event"]["resource"]["id"], "pr-7");
    assert!(got["event"]["received_at"].is_string());
    assert!(got.get("personal").is_none());
    let revealed = s
        .get(
            &format!("/v1/events/{}?reveal=true", base + 7),
            Some(&s.admin),
        )
        .json();
    assert_eq!(revealed["personal"][0]["value"], "198.51.100.4");

    let page = s
        .get(
            "/v1/events?actor=user-1&action=record.update&limit=10",
            Some(&s.reader),
        )
        .json();
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 10);
    assert!(events
        .iter()
        .all(|e| e["event"]["actor"]["id"] == "user-1" && e["event"]["action"] == "record.update"));
    let next = page["next_cursor"].as_u64().unwrap();
    let page2 = s
        .get(
            &format!("/v1/events?actor=user-1&action=record.update&limit=10&cursor={next}"),
            Some(&s.reader),
        )
        .json();
    assert!(page2["events"][0]["index"].as_u64().unwrap() > next);
    let none = s
        .get("/v1/events?since=2026-11-23T00:00:00Z", Some(&s.reader))
        .json();
    assert!(none["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["event"]["actor"]["type"] == "system"));

    let vkey = NoteVerifier::parse(&s.engine.verifier_key()).unwrap();
    let note = s.get("/log/checkpoint", None).text();
    let cp = vkey.verify_checkpoint(&note).unwrap();
    assert_eq!(cp.size, base + 251);

    let proof = s
        .get(
            &format!("/v1/proof/inclusion?index={}&format=tlog-proof", base + 100),
            Some(&s.reader),
        )
        .text();
    let bundle = s.get("/log/tile/entries/000.p/254", None);
    assert_eq!(bundle.status, 200);
    assert_eq!(
        bundle.header("content-type"),
        Some("application/octet-stream")
    );
    let entries = decode_bundle(&bundle.body).unwrap();
    let entry = entries[(base + 100) as usize];
    TlogProof::parse(&proof)
        .unwrap()
        .verify(&vkey, &leaf_hash(entry))
        .unwrap();
    let tile = s.get("/log/tile/0/000.p/254", None);
    assert_eq!(&tile.body[..32], &leaf_hash(entries[0]));
    assert_eq!(s.get("/log/tile/0/000", None).status, 404);
    assert_eq!(s.get("/log/tile/0/0", None).status, 404);
    assert_eq!(s.get("/log/tile/entries/x000/000", None).status, 404);

    let json_proof = s
        .get(
            &format!("/v1/proof/inclusion?index={}&size=100", base),
            Some(&s.reader),
        )
        .json();
    assert_eq!(json_proof["size"], 100);
    let root100 = B64.decode(json_proof["root"].as_str().unwrap()).unwrap();
    let consistency = s
        .get(
            &format!("/v1/proof/consistency?from=100&to={}", cp.size),
            Some(&s.reader),
        )
        .json();
    let hashes: Vec<[u8; 32]> = consistency["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    verify_consistency(100, cp.size, &root100, &cp.root, &hashes).unwrap();

    let erased = s
        .post(
            "/v1/personal/erase",
            Some(&s.admin),
            br#"{"subject": "user-1"}"#,
        )
        .json();
    assert_eq!(erased["values_destroyed"], 84);
    assert_eq!(s.engine.verify(|_| {}).unwrap().personal, 251 - 84);
}

#[test]
fn bad_input_gets_a_clear_4xx_and_stores_nothing() {
    let s = start();
    s.post(
        "/v1/events",
        Some(&s.writer),
        event(1).to_string().as_bytes(),
    );
    let before = s.engine.size();
    let w = Some(s.writer.as_str());
    let mut huge = event(2);
    huge["metadata"]["blob"] = Value::String("a".repeat(70_000));
    let mut unknown = event(3);
    unknown["colour"] = json!("red");
    let mut wrong_type = event(4);
    wrong_type["outcome"] = json!(7);
    let mut bad_batch: Vec<Value> = (0..5).map(event).collect();
    bad_batch[4]["resource"] = json!({"id": "no type"});
    // A writer may not forge what Evident writes itself: a passing control check, a decision.
    let mut forged_check = event(5);
    forged_check["action"] = json!("controls.check");
    let mut forged_batch: Vec<Value> = (0..3).map(event).collect();
    forged_batch[2]["action"] = json!("access.evaluate");
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"actor\": ".to_vec(), 400, "malformed JSON"),
        (vec![0xff, 0xfe, b'{', b'}'], 400, "UTF-8"),
        (b"42".to_vec(), 400, "expected an event object"),
        (b"[]".to_vec(), 400, "empty"),
        (b"".to_vec(), 400, "expected an event object"),
        (unknown.to_string().into_bytes(), 400, "colour"),
        (wrong_type.to_string().into_bytes(), 400, "outcome"),
        (json!(bad_batch).to_string().into_bytes(), 400, "event 4"),
        (forged_check.to_string().into_bytes(), 400, "written by Evident itself"),
        (json!(forged_batch).to_string().into_bytes(), 400, "event 2: actions starting with `access.`"),
        (huge.to_string().into_bytes(), 413, "limit is 65535"),
        (json!((0..10_001).map(event).collect::<Vec<_>>()).to_string().into_bytes(), 413, "at most 10000"),
        (br#"{"actor": {"id": "x\u0000y"}, "action": "a", "resource": {"type": "r"}, "outcome": "success"}"#.to_vec(), 400, "control"),
    ];
    for (body, status, needle) in cases {
        let r = s.post("/v1/events", w, &body);
        assert_eq!(r.status, status, "{needle}: {}", r.text());
        let message = r.error();
        assert!(
            message.contains(needle),
            "{message:?} should mention {needle:?}"
        );
    }
    // A body over the request limit is refused from its Content-Length, before it is read.
    let mut stream = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n[",
        s.writer,
        17 * 1024 * 1024
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");

    let r = Server::get;
    for (path, status) in [
        ("/v1/events/999999", 404),
        ("/v1/events/abc", 400),
        ("/v1/events/-1", 400),
        ("/v1/events/1?bogus=1", 400),
        ("/v1/proof/inclusion", 400),
        ("/v1/proof/inclusion?index=abc", 400),
        ("/v1/proof/inclusion?index=999999", 404),
        ("/v1/proof/inclusion?index=0&size=999999", 404),
        ("/v1/proof/inclusion?index=0&format=pdf", 400),
        ("/v1/proof/consistency?from=0", 400),
        ("/v1/proof/consistency?from=3&to=2", 400),
        ("/v1/proof/consistency?from=1&to=999999", 404),
        ("/v1/events?limit=0", 400),
        ("/v1/events?limit=5000", 400),
        ("/v1/events?order=sideways", 400),
        ("/v1/events?since=yesterday", 400),
        ("/v1/events?colour=red", 400),
        ("/log/tile/0/999.p/1", 404),
        ("/log/tile/99/000", 404),
    ] {
        let reply = r(&s, path, Some(&s.reader));
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        reply.error();
    }
    assert_eq!(
        s.post("/v1/apikeys", Some(&s.admin), br#"{"role": "root"}"#)
            .status,
        400
    );
    assert_eq!(
        s.post("/v1/personal/erase", Some(&s.admin), br#"{"subject": 5}"#)
            .status,
        400
    );
    assert_eq!(
        s.call("DELETE", "/v1/apikeys/nope", Some(&s.admin), None)
            .status,
        404
    );
    assert_eq!(s.engine.size(), before, "a refused request changed the log");
    s.engine.verify(|_| {}).unwrap();
}

#[test]
fn redact_endpoint_modes_entities_and_bad_input() {
    let s = start();
    let r = Some(s.reader.as_str());
    let body = json!({"text": "card 4111 1111 1111 1111, mail a@example.com"}).to_string();
    let masked = s.post("/v1/redact", r, body.as_bytes());
    assert_eq!(masked.status, 200, "{}", masked.text());
    let v = masked.json();
    assert_eq!(v["text"], "card 411111******1111, mail a***@example.com");
    assert_eq!(v["findings"][0]["entity"], "card");
    assert_eq!(v["findings"][0]["start"], 5);
    assert!(!masked.text().contains("4111 1111 1111 1111"));

    let only = json!({"text": "card 4111111111111111 a@example.com", "mode": "remove", "entities": ["email"]});
    assert_eq!(
        s.post("/v1/redact", r, only.to_string().as_bytes()).json()["text"],
        "card 4111111111111111 [REDACTED:email]"
    );
    let pseudo = json!({"text": "4111111111111111", "mode": "pseudonym"}).to_string();
    let first = s.post("/v1/redact", r, pseudo.as_bytes()).json()["text"].clone();
    assert_eq!(
        first,
        s.post("/v1/redact", r, pseudo.as_bytes()).json()["text"],
        "stable per data directory"
    );

    assert_eq!(s.post("/v1/redact", None, body.as_bytes()).status, 401);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"text\": ".to_vec(), 400, "EOF while parsing"),
        (json!({"text": 5}).to_string().into_bytes(), 400, "text"),
        (json!({"txt": "x"}).to_string().into_bytes(), 400, "txt"),
        (
            json!({"text": "x", "mode": "shred"})
                .to_string()
                .into_bytes(),
            400,
            "shred",
        ),
        (
            json!({"text": "x", "entities": ["pii"]})
                .to_string()
                .into_bytes(),
            400,
            "unknown entity `pii`",
        ),
        (
            json!({"text": "a".repeat((1 << 20) + 1)})
                .to_string()
                .into_bytes(),
            413,
            "limit",
        ),
    ];
    for (body, status, needle) in cases {
        let reply = s.post("/v1/redact", r, &body);
        assert_eq!(reply.status, status, "{needle}: {}", reply.text());
        assert!(
            reply.error().contains(needle),
            "{} should mention {needle}",
            reply.error()
        );
    }
}

#[test]
fn appended_events_are_redacted_before_storage() {
    let s = start();
    let mut e = event(1);
    e["reason"] = json!("refund card 4111 1111 1111 1111");
    let reply = s.post("/v1/events", Some(&s.writer), e.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["redacted"], 1);
    let index = v["events"][0]["index"].as_u64().unwrap();
    let stored = s
        .get(&format!("/v1/events/{index}"), Some(&s.reader))
        .json();
    assert_eq!(stored["event"]["reason"], "refund card 411111******1111");
}

#[test]
fn encryption_service_over_http() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let s = start();
    let root_dir = tempfile::tempdir().unwrap();
    let provider = evident::crypto::local::LocalProvider::with_passphrase(
        root_dir.path(),
        b"correct horse battery staple",
        true,
    )
    .unwrap();
    assert!(s.engine.set_key_provider(Arc::new(provider)));
    let (a, w, r) = (
        Some(s.admin.as_str()),
        Some(s.writer.as_str()),
        Some(s.reader.as_str()),
    );

    assert_eq!(
        s.post("/v1/keys", w, br#"{"name":"payments"}"#).status,
        403,
        "creating keys is for admins"
    );
    let created = s.post("/v1/keys", a, br#"{"name":"payments"}"#);
    assert_eq!(created.status, 201, "{}", created.text());
    let again = s.post("/v1/keys", a, br#"{"name":"payments"}"#);
    assert_eq!(again.status, 409, "a key that exists: {}", again.text());
    assert_eq!(again.json()["error"]["code"], "conflict");

    let body =
        json!({"plaintext": b64.encode("row 42 secret"), "context": "tenant=acme"}).to_string();
    assert_eq!(
        s.post("/v1/keys/payments/encrypt", r, body.as_bytes())
            .status,
        403
    );
    let sealed = s.post("/v1/keys/payments/encrypt", w, body.as_bytes());
    assert_eq!(sealed.status, 200, "{}", sealed.text());
    let ciphertext = sealed.json()["ciphertext"].as_str().unwrap().to_owned();
    assert!(ciphertext.starts_with("evident:v1:payments:"));

    let open = |context: &str| {
        s.post(
            "/v1/decrypt",
            w,
            json!({"ciphertext": ciphertext, "context": context})
                .to_string()
                .as_bytes(),
        )
    };
    assert_eq!(
        b64.decode(open("tenant=acme").json()["plaintext"].as_str().unwrap())
            .unwrap(),
        b"row 42 secret"
    );
    let wrong = open("tenant=other");
    assert_eq!(wrong.status, 400);
    assert!(wrong.error().contains("cannot decrypt"));

    assert_eq!(s.post("/v1/keys/payments/rotate", a, b"").status, 200);
    let rewrapped = s.post(
        "/v1/rewrap",
        w,
        json!({"ciphertext": ciphertext, "context": "tenant=acme"})
            .to_string()
            .as_bytes(),
    );
    assert!(rewrapped.json()["ciphertext"]
        .as_str()
        .unwrap()
        .starts_with("evident:v2:payments:"));
    let dk = s
        .post("/v1/keys/payments/datakey", w, br#"{"context":"blob"}"#)
        .json();
    assert_eq!(
        b64.decode(dk["plaintext"].as_str().unwrap()).unwrap().len(),
        32
    );
    let listed = s.get("/v1/keys", a).json();
    assert_eq!(listed["keys"][0]["versions"][1]["state"], "active");

    for (path, body, status, needle) in [
        (
            "/v1/keys/payments/encrypt",
            br#"{"plaintext":"%%%"}"#.to_vec(),
            400,
            "base64",
        ),
        (
            "/v1/keys/nokey/encrypt",
            json!({"plaintext": "aGk="}).to_string().into_bytes(),
            404,
            "no key named",
        ),
        (
            "/v1/keys/Bad%20Name/encrypt",
            json!({"plaintext": "aGk="}).to_string().into_bytes(),
            400,
            "key name",
        ),
        (
            "/v1/decrypt",
            br#"{"ciphertext":"plain text"}"#.to_vec(),
            400,
            "not an Evident ciphertext",
        ),
        (
            "/v1/decrypt",
            br#"{"ciphertext":5}"#.to_vec(),
            400,
            "ciphertext",
        ),
        (
            "/v1/keys/payments/encrypt",
            json!({"plaintext": b64.encode(vec![0u8; (4 << 20) + 1])})
                .to_string()
                .into_bytes(),
            413,
            "data key",
        ),
    ] {
        let reply = s.post(path, w, &body);
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        assert!(
            reply.error().contains(needle),
            "{path}: {} should mention {needle}",
            reply.error()
        );
    }
}
