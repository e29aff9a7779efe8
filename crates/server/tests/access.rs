//! The access API over HTTP: policy versions, the AuthZEN endpoints with the interop decision
//! tables, bad input, and OIDC bearer tokens checked against keys this test generates and
//! serves itself (discovery + JWKS on a loopback port).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use evident::store::EventQuery;
use evident::{Engine, Role};
use evident_server::oidc::OidcConfig;
use evident_server::{LoopbackServer, ServerOptions};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

mod common;
use common::idp::{claims, idp, sign};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pack_files(name: &str) -> BTreeMap<String, String> {
    let dir = repo().join("policies").join(name);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "README.md")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

struct Api {
    base: String,
    agent: ureq::Agent,
}

impl Api {
    fn new(base: &str) -> Self {
        Self {
            base: base.into(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        let url = format!("{}{path}", self.base);
        let mut response = match method {
            "GET" => {
                let mut r = self.agent.get(&url).header("X-Request-ID", "rid-7");
                if let Some(t) = token {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.call()
            }
            _ => {
                let mut r = if method == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                }
                .header("X-Request-ID", "rid-7")
                .content_type("application/json");
                if let Some(t) = token {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.send(body.unwrap_or_default())
            }
        }
        .unwrap();
        let status = response.status().as_u16();
        let rid = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.body_mut().read_to_string().unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, rid)
    }
}

fn server(
    options: ServerOptions,
) -> (
    tempfile::TempDir,
    Arc<Engine>,
    LoopbackServer,
    String,
    String,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
    let key = |role| {
        engine
            .create_api_key(role, None, "test")
            .unwrap()
            .token
            .to_string()
    };
    let (admin, writer, reader) = (key(Role::Admin), key(Role::Writer), key(Role::Reader));
    let server = LoopbackServer::start_with(engine.clone(), options).unwrap();
    (dir, engine, server, admin, writer, reader)
}

fn conformance(name: &str) -> Value {
    let path = repo().join("../shared/conformance/authzen").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn authzen_over_http_with_the_interop_pack() {
    let (_dir, engine, server, admin, writer, reader) = server(ServerOptions::default());
    let api = Api::new(&server.base);
    // no pack yet: a clear 404
    let (status, body, _) = api.send(
        "POST",
        "/access/v1/evaluation",
        Some(&writer),
        Some(r#"{"subject":{"type":"user","id":"a"},"action":{"name":"x"},"resource":{"type":"t","id":"r"}}"#),
    );
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("policy apply"));

    // apply over HTTP: admin only
    let apply = json!({"files": pack_files("interop")}).to_string();
    assert_eq!(
        api.send("PUT", "/v1/policy", Some(&writer), Some(&apply)).0,
        403
    );
    let (status, body, _) = api.send("PUT", "/v1/policy", Some(&admin), Some(&apply));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], json!(1));
    let (status, body, _) = api.send("PUT", "/v1/policy", Some(&admin), Some(&apply));
    assert_eq!((status, body["changed"].clone()), (200, json!(false)));
    // a broken pack: 400 with the diagnostics, the active version stays
    let mut broken = pack_files("interop");
    broken.insert(
        "bad.cedar".into(),
        "permit (principal, action, resource) when { principal.nope };".into(),
    );
    let (status, body, _) = api.send(
        "PUT",
        "/v1/policy",
        Some(&admin),
        Some(&json!({"files": broken}).to_string()),
    );
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], json!("policy_rejected"));
    // hostile file names, wrong types, unknown fields: 400, nothing changes
    for body in [
        json!({"files": {"../escape.cedar": "permit (principal, action, resource);"}}),
        json!({"files": {"schema.cedarschema": 7}}),
        json!({"files": {}, "extra": true}),
        json!({"files": {"notes.txt": "hello"}}),
    ] {
        let (status, reply, _) =
            api.send("PUT", "/v1/policy", Some(&admin), Some(&body.to_string()));
        assert_eq!(status, 400, "{body} -> {reply}");
    }
    let (_, versions, _) = api.send("GET", "/v1/policy/versions", Some(&reader), None);
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);

    // every decision table case over HTTP, X-Request-ID echoed
    let mut cases = 0;
    for file in ["todo-decisions.json", "gateway-decisions.json"] {
        let table = conformance(file);
        for case in table["evaluation"].as_array().unwrap() {
            let (status, body, rid) = api.send(
                "POST",
                "/access/v1/evaluation",
                Some(&writer),
                Some(&case["request"].to_string()),
            );
            assert_eq!(status, 200);
            assert_eq!(rid.as_deref(), Some("rid-7"));
            assert_eq!(body["decision"], case["expected"], "{}", case["request"]);
            cases += 1;
        }
        for case in table["evaluations"].as_array().into_iter().flatten() {
            let (status, body, _) = api.send(
                "POST",
                "/access/v1/evaluations",
                Some(&writer),
                Some(&case["request"].to_string()),
            );
            assert_eq!(status, 200);
            assert_eq!(body["evaluations"], case["expected"], "{}", case["request"]);
            cases += 1;
        }
    }
    assert_eq!(cases, 68);
    let logged = engine
        .query(&EventQuery {
            action: Some("access.evaluate".into()),
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(logged.events.len(), 71);
    assert!(logged
        .events
        .iter()
        .all(|e| e.entry["request_id"] == json!("rid-7")));

    // search, paged
    let (status, page1, _) = api.send(
        "POST",
        "/access/v1/search/resource",
        Some(&writer),
        Some(r#"{"subject":{"type":"user","id":"bob"},"action":{"name":"view"},"resource":{"type":"record"},"page":{"limit":2}}"#),
    );
    assert_eq!(status, 200, "{page1}");
    assert_eq!(page1["results"].as_array().unwrap().len(), 2);
    let token = page1["page"]["next_token"].as_str().unwrap();
    assert!(!token.is_empty());
    let (_, page2, _) = api.send(
        "POST",
        "/access/v1/search/resource",
        Some(&writer),
        Some(&json!({"subject":{"type":"user","id":"bob"},"action":{"name":"view"},"resource":{"type":"record"},"page":{"limit":2,"token":token}}).to_string()),
    );
    assert_ne!(page1["results"], page2["results"]);
    assert_eq!(page1["page"]["total"], page2["page"]["total"]);
    assert_eq!(
        api.send(
            "POST",
            "/access/v1/search/everything",
            Some(&writer),
            Some("{}")
        )
        .0,
        404
    );

    // discovery
    let (status, config, _) = api.send("GET", "/.well-known/authzen-configuration", None, None);
    assert_eq!(status, 200);
    assert_eq!(
        config["access_evaluation_endpoint"],
        json!(format!("{}/access/v1/evaluation", server.base))
    );

    // bad input: 400, nothing stored; wrong credentials: 401/403
    let size = engine.size();
    for body in [
        "{",
        "[]",
        r#"{"subject":{"type":"user"},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"x"}}"#,
        r#"{"subject":{"type":"user","id":7},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"x"}}"#,
        r#"{"subject":{"type":"user","id":"a"},"resource":{"type":"user","id":"x"}}"#,
        r#"{"subject":{"type":"no such type!","id":"a"},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"x"}}"#,
        r#"{"subject":{"type":"user","id":"a"},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"x"},"context":[1]}"#,
        r#"{"subject":{"type":"user","id":"a","properties":{"email":5}},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"x"}}"#,
    ] {
        let (status, reply, _) =
            api.send("POST", "/access/v1/evaluation", Some(&writer), Some(body));
        assert_eq!(status, 400, "{body} -> {reply}");
    }
    let (status, _, _) = api.send(
        "POST",
        "/access/v1/evaluations",
        Some(&writer),
        Some(&json!({"evaluations": vec![json!({}); 1001]}).to_string()),
    );
    assert_eq!(status, 400);
    assert_eq!(engine.size(), size);
    let ok = conformance("todo-decisions.json")["evaluation"][0]["request"].to_string();
    assert_eq!(
        api.send("POST", "/access/v1/evaluation", None, Some(&ok)).0,
        401
    );
    assert_eq!(
        api.send("POST", "/access/v1/evaluation", Some(&reader), Some(&ok))
            .0,
        403
    );
    assert_eq!(
        api.send(
            "POST",
            "/access/v1/evaluation",
            Some("evk_nope_nope"),
            Some(&ok)
        )
        .0,
        401
    );
}

#[test]
fn break_glass_and_access_review_over_http() {
    let (_dir, engine, server, admin, writer, _) = server(ServerOptions::default());
    let api = Api::new(&server.base);
    let apply = json!({"files": pack_files("default")}).to_string();
    assert_eq!(
        api.send("PUT", "/v1/policy", Some(&admin), Some(&apply)).0,
        201
    );
    let now = evident::event::now_us() / 1_000_000;
    let request = json!({
        "subject": {"type": "User", "id": "dave"},
        "action": {"name": "read"},
        "resource": {"type": "PatientRecord", "id": "pr-1001"},
        "context": {"authn": {"mfa": true, "auth_time": now}, "break_glass": true,
                    "justification": "cardiac arrest in the ED, chart needed now"}
    });
    let (status, body, _) = api.send(
        "POST",
        "/access/v1/evaluation",
        Some(&writer),
        Some(&request.to_string()),
    );
    assert_eq!((status, body["decision"].clone()), (200, json!(true)));
    let (_, open, _) = api.send("GET", "/v1/access/break-glass", Some(&admin), None);
    let reviews = open["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 1);
    let id = reviews[0]["id"].as_str().unwrap();
    let path = format!("/v1/access/break-glass/{id}/review");
    assert_eq!(
        api.send(
            "POST",
            &path,
            Some(&admin),
            Some(r#"{"outcome":"fine","note":"x"}"#)
        )
        .0,
        400
    );
    let (status, closed, _) = api.send(
        "POST",
        &path,
        Some(&admin),
        Some(r#"{"outcome":"approved","note":"checked the ED log"}"#),
    );
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["state"], json!("closed"));
    let (status, report, _) = api.send("POST", "/v1/access/review", Some(&admin), None);
    assert_eq!(status, 200);
    assert!(!report["by_type"].as_array().unwrap().is_empty());
    assert_eq!(
        api.send("POST", "/v1/access/review?format=xml", Some(&admin), None)
            .0,
        400
    );
    let size = engine.size();
    assert!(size > 0);
}

// ---- OIDC ----

#[test]
fn oidc_tokens_are_verified_and_failures_logged() {
    let idp = idp();
    let options = ServerOptions {
        oidc: Some(OidcConfig::new(idp.base.clone(), "evident-api")),
        ..Default::default()
    };
    let (_dir, engine, server, admin, _, _) = server(options);
    let api = Api::new(&server.base);
    let es = EncodingKey::from_ec_der(&idp.es_pkcs8);
    let ed = EncodingKey::from_ed_der(&idp.ed_pkcs8);
    let ok = |status: u16, token: &str| {
        let (got, body, _) = api.send("GET", "/v1/policy/versions", Some(token), None);
        assert_eq!(got, status, "{body}");
        body
    };
    // good tokens, both algorithms; roles from Keycloak's realm_access
    ok(
        200,
        &sign(Algorithm::ES256, "es-1", &es, &claims(&idp, json!({}))),
    );
    ok(
        200,
        &sign(Algorithm::EdDSA, "ed-1", &ed, &claims(&idp, json!({}))),
    );
    // the role decides: a reader token cannot apply policy
    let reader = sign(
        Algorithm::ES256,
        "es-1",
        &es,
        &claims(&idp, json!({"realm_access": null, "roles": ["reader"]})),
    );
    ok(200, &reader);
    let (status, _, _) = api.send(
        "PUT",
        "/v1/policy",
        Some(&reader),
        Some(&json!({"files": pack_files("interop")}).to_string()),
    );
    assert_eq!(status, 403);

    let now = evident::event::now_us() / 1_000_000;
    let refused = [
        (
            "expired",
            sign(
                Algorithm::ES256,
                "es-1",
                &es,
                &claims(&idp, json!({"exp": now - 3600})),
            ),
        ),
        (
            "not yet valid",
            sign(
                Algorithm::ES256,
                "es-1",
                &es,
                &claims(&idp, json!({"nbf": now + 3600})),
            ),
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::ES256,
                "es-1",
                &es,
                &claims(&idp, json!({"iss": "https://evil.example"})),
            ),
        ),
        (
            "wrong audience",
            sign(
                Algorithm::ES256,
                "es-1",
                &es,
                &claims(&idp, json!({"aud": "another-api"})),
            ),
        ),
        (
            "no role",
            sign(
                Algorithm::ES256,
                "es-1",
                &es,
                &claims(&idp, json!({"realm_access": {"roles": ["offline_access"]}})),
            ),
        ),
        (
            "no exp",
            sign(
                Algorithm::ES256,
                "es-1",
                &es,
                &claims(&idp, json!({"exp": null})),
            ),
        ),
        // signed by a key the issuer never published, under a published kid
        (
            "bad signature",
            sign(
                Algorithm::ES256,
                "es-1",
                &EncodingKey::from_ec_der(&idp.other_es_pkcs8),
                &claims(&idp, json!({})),
            ),
        ),
        (
            "unknown kid",
            sign(Algorithm::ES256, "es-9", &es, &claims(&idp, json!({}))),
        ),
        // HMAC with the public key as the secret (algorithm confusion), and with the oct key
        (
            "hs256 confusion",
            sign(
                Algorithm::HS256,
                "es-1",
                &EncodingKey::from_secret(&idp.es_public),
                &claims(&idp, json!({})),
            ),
        ),
        (
            "hs256 oct",
            sign(
                Algorithm::HS256,
                "hmac-1",
                &EncodingKey::from_secret(b"shared secret that must be ignored"),
                &claims(&idp, json!({})),
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                B64URL.encode(br#"{"alg":"none","typ":"JWT"}"#),
                B64URL.encode(claims(&idp, json!({})).to_string())
            ),
        ),
        ("garbage", "eyJhbGciOi.eyJzdWIi.sig".to_string()),
    ];
    for (what, token) in &refused {
        let (status, body, _) = api.send("GET", "/v1/policy/versions", Some(token), None);
        assert_eq!(status, 401, "{what}: {body}");
        assert!(
            !body.to_string().contains(token.as_str()),
            "the token is echoed"
        );
    }
    // API keys keep working beside OIDC
    ok(200, &admin);
    // every refusal is a ledger event (appended in the background)
    let mut failures = 0;
    for _ in 0..100 {
        failures = engine
            .query(&EventQuery {
                action: Some("auth.login.failed".into()),
                limit: 100,
                ..Default::default()
            })
            .unwrap()
            .events
            .len();
        if failures == refused.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(failures, refused.len());
    let bytes: Vec<u8> = (0..engine.size())
        .flat_map(|i| engine.entry_bytes(i).unwrap())
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    for (_, token) in &refused {
        if token.len() > 40 {
            assert!(
                !text.contains(&token[token.len() - 30..]),
                "a token reached the ledger"
            );
        }
    }
}

/// The outcomes of the logged decisions about resources of `kind`, oldest first, and the
/// first decision event.
fn decisions_about(engine: &Engine, kind: &str) -> (Vec<String>, Value) {
    let page = engine
        .query(&EventQuery {
            action: Some("access.evaluate".into()),
            resource_type: Some(kind.into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let outcomes = page
        .events
        .iter()
        .map(|e| e.entry["outcome"].as_str().unwrap().to_string())
        .collect();
    let first = page.events.first().map_or(Value::Null, |e| e.entry.clone());
    (outcomes, first)
}

/// Applies the default pack over HTTP with the API key `service_id` as an editor service.
fn apply_default_pack_with_editor(api: &Api, admin: &str, service_id: &str) {
    let mut files = pack_files("default");
    let mut entities: Vec<Value> = serde_json::from_str(&files["entities.json"]).unwrap();
    entities.push(
        json!({"uid": {"type": "Service", "id": service_id}, "attrs": {},
                         "parents": [{"type": "Role", "id": "editor"}]}),
    );
    files.insert("entities.json".into(), Value::Array(entities).to_string());
    let (status, body, _) = api.send(
        "PUT",
        "/v1/policy",
        Some(admin),
        Some(&json!({"files": files}).to_string()),
    );
    assert_eq!(status, 201, "{body}");
}

/// An engine over a fresh directory with a passphrase-sealed root key.
fn engine_with_root_key() -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), true).unwrap());
    let provider = evident::crypto::local::LocalProvider::with_passphrase(
        dir.path(),
        b"correct horse battery staple",
        true,
    )
    .unwrap();
    assert!(engine.set_key_provider(Arc::new(provider)));
    (dir, engine)
}

#[test]
fn decrypting_with_a_regulated_key_needs_an_allow_and_is_logged() {
    let (_dir, engine) = engine_with_root_key();
    let admin = engine.create_api_key(Role::Admin, None, "test").unwrap();
    let writer = engine.create_api_key(Role::Writer, None, "test").unwrap();
    let (admin, writer_id, writer) = (
        admin.token.to_string(),
        writer.id.clone(),
        writer.token.to_string(),
    );
    let server = LoopbackServer::start_with(engine.clone(), ServerOptions::default()).unwrap();
    let api = Api::new(&server.base);
    assert_eq!(
        api.send(
            "POST",
            "/v1/keys",
            Some(&admin),
            Some(r#"{"name":"phi","regulated":true}"#)
        )
        .0,
        201
    );
    assert_eq!(
        api.send(
            "POST",
            "/v1/keys",
            Some(&admin),
            Some(r#"{"name":"plain"}"#)
        )
        .0,
        201
    );
    let seal = |key: &str| {
        let (status, body, _) = api.send(
            "POST",
            &format!("/v1/keys/{key}/encrypt"),
            Some(&writer),
            Some(r#"{"plaintext": "eA==", "context": "pr-1"}"#),
        );
        assert_eq!(status, 200, "{body}");
        body["ciphertext"].as_str().unwrap().to_string()
    };
    let (phi, plain) = (seal("phi"), seal("plain"));
    let open = |ciphertext: &str, access: Value| {
        api.send(
            "POST",
            "/v1/decrypt",
            Some(&writer),
            Some(
                &json!({"ciphertext": ciphertext, "context": "pr-1", "access_context": access})
                    .to_string(),
            ),
        )
    };
    // an ordinary key decrypts as before
    assert_eq!(open(&plain, Value::Null).0, 200);
    // no policy pack yet: denied, fail closed
    let (status, body, _) = open(&phi, json!({"purpose_of_use": "treatment"}));
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], json!("access_denied"));
    // the default pack, with this writer's key as an editor service
    apply_default_pack_with_editor(&api, &admin, &writer_id);
    let size = engine.size();
    // no purpose of use: denied, and the denial is in the ledger
    let (status, body, _) = open(&phi, json!({}));
    assert_eq!(status, 403, "{body}");
    assert_eq!(engine.size(), size + 1);
    let (status, body, _) = open(&phi, json!({"purpose_of_use": "treatment"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["plaintext"], json!("eA=="));
    let (outcomes, _) = decisions_about(&engine, "EncryptionKey");
    assert_eq!(outcomes, ["denied", "success"]);
    // reclassified as ordinary: no decision needed any more, and the change is logged
    let (status, _, _) = api.send(
        "POST",
        "/v1/keys/phi/classify",
        Some(&admin),
        Some(r#"{"regulated":false}"#),
    );
    assert_eq!(status, 200);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(open(&phi, Value::Null).0, 200);
    assert_eq!(
        api.send(
            "POST",
            "/v1/keys/nope/classify",
            Some(&admin),
            Some(r#"{"regulated":true}"#)
        )
        .0,
        404
    );
}

#[test]
fn subject_keys_over_http_are_shredded_by_erasure() {
    let (_dir, engine) = engine_with_root_key();
    let admin = engine
        .create_api_key(Role::Admin, None, "test")
        .unwrap()
        .token
        .to_string();
    let server = LoopbackServer::start_with(engine.clone(), ServerOptions::default()).unwrap();
    let api = Api::new(&server.base);
    let (status, sealed, _) = api.send(
        "POST",
        "/v1/personal/encrypt",
        Some(&admin),
        Some(r#"{"subject": "pat-55", "plaintext": "c2VjcmV0", "context": "r1"}"#),
    );
    assert_eq!(status, 200, "{sealed}");
    let ciphertext = sealed["ciphertext"].as_str().unwrap();
    let open = || {
        api.send(
            "POST",
            "/v1/decrypt",
            Some(&admin),
            Some(&json!({"ciphertext": ciphertext, "context": "r1"}).to_string()),
        )
    };
    assert_eq!(open().1["plaintext"], json!("c2VjcmV0"));
    for bad in [
        r#"{"subject": "", "plaintext": "c2VjcmV0"}"#,
        r#"{"subject": "p", "plaintext": "not base64!"}"#,
        r#"{"subject": 5, "plaintext": "c2VjcmV0"}"#,
    ] {
        assert_eq!(
            api.send("POST", "/v1/personal/encrypt", Some(&admin), Some(bad))
                .0,
            400,
            "{bad}"
        );
    }
    let (status, erased, _) = api.send(
        "POST",
        "/v1/personal/erase",
        Some(&admin),
        Some(r#"{"subject": "pat-55"}"#),
    );
    assert_eq!(status, 200);
    assert_eq!(erased["key_versions_destroyed"], json!(1));
    let (status, body, _) = open();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], json!("crypto"));
}

#[test]
fn card_tokens_over_http_refuse_sensitive_data_and_reveal_only_after_an_allow() {
    let (_dir, engine) = engine_with_root_key();
    let admin = engine.create_api_key(Role::Admin, None, "test").unwrap();
    let clerk = engine.create_api_key(Role::Writer, None, "test").unwrap();
    let reader = engine.create_api_key(Role::Reader, None, "test").unwrap();
    let (admin, clerk_id, clerk, reader) = (
        admin.token.to_string(),
        clerk.id.clone(),
        clerk.token.to_string(),
        reader.token.to_string(),
    );
    let server = LoopbackServer::start_with(engine.clone(), ServerOptions::default()).unwrap();
    let api = Api::new(&server.base);
    let post = |path: &str, token: &str, body: Value| {
        api.send("POST", path, Some(token), Some(&body.to_string()))
    };

    // one card, the default random format keeping the last 4
    let (status, body, _) = post("/v1/tokens", &clerk, json!({"pan": "4111-1111-1111-1111"}));
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 16);
    assert!(token.ends_with("1111") && token != "4111111111111111");
    assert_eq!(body["masked"], json!("411111******1111"));
    assert_eq!(
        (&body["format"], &body["keep"]),
        (&json!("random"), &json!("last4"))
    );
    // a batch: the same card gets the same token; FF1 on a 19-digit card keeps 6 + 4
    let (status, body, _) = post(
        "/v1/tokens",
        &clerk,
        json!({"pans": ["4111111111111111", "6221260000000000019"], "format": "ff1", "keep": "last4"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokens"].as_array().unwrap().len(), 2);
    let (status, body, _) = post(
        "/v1/tokens",
        &clerk,
        json!({"pan": "378282246310005", "format": "ff1"}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("last4"),
        "{body}"
    );

    // sensitive authentication data: refused whole with the rule, never echoed
    for (request, rule) in [
        (
            json!({"pan": "4111111111111111", "cvv": "123"}),
            "pci.sad.cvv",
        ),
        (
            json!({"pan": "4111111111111111", "card": {"PIN_block": "0412AC89ABCDEF67"}}),
            "pci.sad.pin",
        ),
        (
            json!({"pan": ";4111111111111111=28121010000000000?"}),
            "pci.sad.track",
        ),
        (
            json!({"pans": ["%B4111111111111111^DOE/JOHN^2812101000000000000?"]}),
            "pci.sad.track",
        ),
    ] {
        let size = engine.size();
        let (status, body, _) = post("/v1/tokens", &clerk, request);
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            body["error"]["code"],
            json!("sensitive_authentication_data")
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(rule), "{message}");
        assert!(
            !message.contains("123") && !message.contains("0412AC") && !message.contains("DOE")
        );
        assert_eq!(engine.size(), size, "nothing stored");
    }
    // bad input: 400s, nothing stored
    for bad in [
        json!({"pan": "4111111111111112"}),
        json!({"pan": 4111111111111111_u64}),
        json!({"pan": "4111111111111111", "pans": ["4111111111111111"]}),
        json!({"pans": []}),
        json!({"pan": "4111111111111111", "format": "rot13"}),
        json!({"pan": "4111111111111111", "colour": "blue"}),
    ] {
        assert_eq!(post("/v1/tokens", &clerk, bad.clone()).0, 400, "{bad}");
    }
    assert_eq!(
        api.send("POST", "/v1/tokens", Some(&clerk), Some("{\"pan\": "))
            .0,
        400
    );
    assert_eq!(
        post("/v1/tokens", &reader, json!({"pan": "4111111111111111"})).0,
        403
    );
    assert_eq!(api.send("POST", "/v1/tokens", None, Some("{}")).0, 401);

    // no policy pack yet: every reveal is refused (fail closed; no decision was made)
    let (status, body, _) = post("/v1/tokens/detokenize", &clerk, json!({"token": token}));
    assert_eq!(status, 403, "{body}");
    // the default pack, with the clerk's key as an editor service
    assert_eq!(
        post(
            "/v1/policy",
            &admin,
            json!({"files": pack_files("default")})
        )
        .0,
        405
    );
    apply_default_pack_with_editor(&api, &admin, &clerk_id);
    let (status, body, _) = post("/v1/tokens/detokenize", &clerk, json!({"token": token}));
    assert_eq!(status, 403, "no purpose of use: {body}");
    let (status, body, _) = post(
        "/v1/tokens/detokenize",
        &clerk,
        json!({"token": token, "access_context": {"purpose_of_use": "chargeback"}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pan"], json!("4111111111111111"));
    let (status, body, _) = post(
        "/v1/tokens/detokenize",
        &clerk,
        json!({"token": token, "reveal": "masked"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["masked"], json!("411111******1111"));
    // a number that was never issued: 404 (after the decision is logged)
    let (status, _, _) = post(
        "/v1/tokens/detokenize",
        &clerk,
        json!({"token": "4000000000000002", "reveal": "masked"}),
    );
    assert_eq!(status, 404);
    // a CVV slipped into the access context is refused too
    let (status, _, _) = post(
        "/v1/tokens/detokenize",
        &clerk,
        json!({"token": token, "access_context": {"cvc": "999"}}),
    );
    assert_eq!(status, 422);

    let (outcomes, first) = decisions_about(&engine, "CardToken");
    assert_eq!(outcomes, ["denied", "success", "success", "success"]);
    assert_eq!(first["request_id"], json!("rid-7"));
}

#[test]
fn a_forged_token_cannot_lock_out_its_subject_but_refused_real_ones_lock_theirs() {
    let idp = idp();
    let options = ServerOptions {
        oidc: Some(OidcConfig::new(idp.base.clone(), "evident-api")),
        lockout: evident_server::lockout::LockoutPolicy::default()
            .with_backoff(std::time::Duration::from_millis(2)),
        ..Default::default()
    };
    let (_dir, _engine, server, admin, _, _) = server(options);
    let api = Api::new(&server.base);
    let issuer = EncodingKey::from_ec_der(&idp.es_pkcs8);
    let forger = EncodingKey::from_ec_der(&idp.other_es_pkcs8);
    let token = |key: &EncodingKey, overrides: Value| {
        sign(Algorithm::ES256, "es-1", key, &claims(&idp, overrides))
    };
    let status = |token: &str| api.send("GET", "/v1/policy/versions", Some(token), None).0;
    // twelve tokens claiming to be `victim`, signed by someone else: they prove nothing
    // about `victim`, so they count against the sender's address only
    let forged = token(&forger, json!({"sub": "victim"}));
    for _ in 0..12 {
        assert_eq!(status(&forged), 401);
    }
    assert_eq!(status(&token(&issuer, json!({"sub": "victim"}))), 200);
    // tokens the issuer really issued to `stale`, refused (expired): ten lock `stale` out
    let now = evident::event::now_us() / 1_000_000;
    let expired = token(&issuer, json!({"sub": "stale", "exp": now - 3600}));
    let mut counted = 0;
    while counted < 10 {
        match status(&expired) {
            401 => counted += 1,
            429 => std::thread::sleep(std::time::Duration::from_millis(5)),
            other => panic!("an expired token got {other}"),
        }
    }
    assert_eq!(status(&token(&issuer, json!({"sub": "stale"}))), 429);
    assert_eq!(status(&token(&issuer, json!({"sub": "victim"}))), 200);
    let (code, lockouts, _) = api.send("GET", "/v1/auth/lockouts", Some(&admin), None);
    assert_eq!(code, 200);
    let credentials: Vec<&str> = lockouts["lockouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["credential"].as_str().unwrap())
        .collect();
    assert_eq!(credentials, ["oidc:stale", "oidc:stale"]);
}
