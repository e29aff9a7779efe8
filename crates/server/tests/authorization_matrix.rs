//! The authorization matrix, generated from the served OpenAPI document so that no operation
//! escapes it: every operation that needs a credential, against every way of not having the
//! right one (none, a malformed header, an unknown, revoked or huge key, every role the
//! operation's `x-evident-roles` do not admit, an expired, wrong-audience, role-less or `alg=none` OIDC
//! token), answers 401 or 403 with the documented error object and nothing more, and leaves
//! exactly one ledger event naming the reason. The document's `x-evident-roles` are checked
//! against what the router really admits — every role, the auditor's included, on every
//! operation — and the document's operations against the router's routes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use evident::{Engine, Role};
use evident_server::lockout::LockoutPolicy;
use evident_server::oidc::OidcConfig;
use evident_server::{LoopbackServer, ServerOptions};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

mod common;
use common::client::{Client, Reply};
use common::idp::{claims, idp, sign, Idp};
use common::openapi::{self, Operation};

/// Planted in an event before the matrix runs: no refusal may show it.
const MARKER: &str = "matrix-marker-7f3c1e";

struct World {
    engine: Arc<Engine>,
    _server: LoopbackServer,
    idp: Idp,
    client: Client,
    admin: String,
    writer: String,
    reader: String,
    auditor: String,
    revoked: String,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let idp = idp();
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
    let auditor = key(Role::Auditor);
    let doomed = engine.create_api_key(Role::Admin, None, "test").unwrap();
    engine.revoke_api_key(&doomed.id, "test").unwrap();
    // Without the login lockout: the matrix sends hundreds of wrong credentials from one
    // address on purpose; the lockout's own tests are in `lockout.rs`.
    let options = ServerOptions {
        oidc: Some(OidcConfig::new(idp.base.clone(), "evident-api")),
        lockout: LockoutPolicy::danger_disabled(),
        ..Default::default()
    };
    let server = LoopbackServer::start_with(engine.clone(), options).unwrap();
    let client = Client::new(&server.base);
    World {
        engine,
        _server: server,
        idp,
        client,
        admin,
        writer,
        reader,
        auditor,
        revoked: doomed.token.to_string(),
        _dir: dir,
    }
}

impl World {
    fn send(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&[u8]>,
        body: Option<&[u8]>,
    ) -> Reply {
        let headers: Vec<(&str, &[u8])> = authorization
            .map(|a| ("Authorization", a))
            .into_iter()
            .collect();
        self.client.send(method, path, &headers, body)
    }

    fn token(&self, overrides: Value) -> String {
        sign(
            Algorithm::ES256,
            "es-1",
            &EncodingKey::from_ec_der(&self.idp.es_pkcs8),
            &claims(&self.idp, overrides),
        )
    }

    /// The API key, and an OIDC token, holding `role`.
    fn credentials_of(&self, role: &str) -> [String; 2] {
        let key = match role {
            "admin" => &self.admin,
            "writer" => &self.writer,
            "reader" => &self.reader,
            "auditor" => &self.auditor,
            other => panic!("no role `{other}`"),
        };
        [
            key.clone(),
            self.token(json!({"realm_access": null, "roles": [role]})),
        ]
    }

    /// Waits for the ledger to grow past `before` and answers the first new entry.
    fn next_event(&self, before: u64, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.engine.size() <= before {
            assert!(
                Instant::now() < deadline,
                "{what}: the refusal left no ledger event"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        self.engine.event(before, false).unwrap().entry
    }
}

/// One way of presenting the wrong credential, and what the server must answer.
struct Case {
    name: String,
    authorization: Option<Vec<u8>>,
    status: u16,
    action: &'static str,
    reason: &'static str,
}

fn refused(name: &str, authorization: Option<Vec<u8>>, reason: &'static str) -> Case {
    Case {
        name: name.into(),
        authorization,
        status: 401,
        action: "auth.login.failed",
        reason,
    }
}

fn bearer(token: &str) -> Option<Vec<u8>> {
    Some(format!("Bearer {token}").into_bytes())
}

/// The roles an operation admitting `admitted` refuses.
fn refused_roles(admitted: &[String]) -> Vec<&'static str> {
    Role::ALL
        .iter()
        .map(|r| r.as_str())
        .filter(|r| !admitted.iter().any(|a| a == r))
        .collect()
}

/// Every wrong credential for an operation that admits the roles `admitted`.
fn cases(w: &World, admitted: &[String]) -> Vec<Case> {
    let now = evident::event::now_us() / 1_000_000;
    let none_alg = format!(
        "{}.{}.",
        B64URL.encode(br#"{"alg":"none","typ":"JWT"}"#),
        B64URL.encode(claims(&w.idp, json!({})).to_string())
    );
    let mut garbage = b"Bearer ".to_vec();
    garbage.extend_from_slice(&[0xff, 0xfe, 0x80, b'g', 0xc3, 0x28, 0x9d]);
    let malformed = "the Authorization header must be `Bearer <token>`";
    let mut all = vec![
        refused("no credential", None, "needs `Authorization: Bearer"),
        refused("`Bearer` and nothing", Some(b"Bearer".to_vec()), malformed),
        refused(
            "`Bearer` and blanks",
            Some(b"Bearer \t  ".to_vec()),
            malformed,
        ),
        refused("basic authentication", Some(b"Basic x".to_vec()), malformed),
        refused("garbage bytes", Some(garbage), malformed),
        refused(
            "a huge header",
            bearer(&"A".repeat(32 * 1024)),
            "unknown or revoked API key",
        ),
        refused(
            "an unknown API key",
            bearer("evk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "unknown or revoked API key",
        ),
        refused(
            "a revoked API key",
            bearer(&w.revoked),
            "unknown or revoked API key",
        ),
        refused(
            "an expired token",
            bearer(&w.token(json!({"exp": now - 3600}))),
            "the token has expired",
        ),
        refused(
            "a token for another audience",
            bearer(&w.token(json!({"aud": "another-api"}))),
            "the token is for another audience",
        ),
        refused(
            "a token with `alg=none`",
            bearer(&none_alg),
            "malformed token header",
        ),
        refused(
            "a token with no Evident role",
            bearer(&w.token(json!({"realm_access": {"roles": ["offline_access"]}}))),
            "carries no Evident role",
        ),
    ];
    for below in refused_roles(admitted) {
        let [key, token] = w.credentials_of(below);
        for (how, credential) in [("API key", key), ("OIDC token", token)] {
            all.push(Case {
                name: format!("a `{below}` {how}"),
                authorization: bearer(&credential),
                status: 403,
                action: "auth.role.denied",
                reason: "role; the caller has",
            });
        }
    }
    all
}

/// The refusal is the documented error object and nothing else: no event data, no key
/// material, no trace of the server's insides.
fn assert_bare_refusal(w: &World, doc: &Value, reply: &Reply, case: &Case, what: &str) {
    assert_eq!(
        reply.status,
        case.status,
        "{what}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(
        reply.content_type.starts_with("application/json"),
        "{what}: {}",
        reply.content_type
    );
    let body = reply.json();
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not JSON"));
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["error"],
        "{what}: {body}"
    );
    let error = body["error"].as_object().unwrap();
    let mut keys: Vec<_> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message"], "{what}: {body}");
    let code = error["code"].as_str().unwrap();
    let expected = if case.status == 401 {
        "unauthorized"
    } else {
        "forbidden"
    };
    assert_eq!(code, expected, "{what}: {body}");
    if let Some(codes) =
        doc.pointer("/components/schemas/Error/properties/error/properties/code/enum")
    {
        assert!(
            codes.as_array().unwrap().contains(&json!(code)),
            "{what}: `{code}` is not documented"
        );
    }
    let message = error["message"].as_str().unwrap();
    assert!(message.len() < 300, "{what}: a long message: {message}");
    let text = String::from_utf8_lossy(&reply.body);
    let mut secrets = vec![
        MARKER.to_string(),
        w.admin.clone(),
        w.writer.clone(),
        w.reader.clone(),
        w.auditor.clone(),
        w.revoked.clone(),
    ];
    if let Some(presented) = &case.authorization {
        let presented = String::from_utf8_lossy(presented);
        if let Some(token) = presented
            .strip_prefix("Bearer ")
            .filter(|t| t.trim().len() >= 8)
        {
            secrets.push(
                token
                    .chars()
                    .rev()
                    .take(24)
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect(),
            );
        }
    }
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what}: the body shows a secret: {text}"
        );
    }
    for inside in ["panicked", "backtrace", ".rs:", "src/", "evk_"] {
        assert!(
            !text.contains(inside),
            "{what}: the body shows `{inside}`: {text}"
        );
    }
}

#[test]
fn every_protected_operation_refuses_every_wrong_credential_and_records_why() {
    let w = world();
    let served = w.send("GET", "/openapi.json", None, None);
    assert_eq!(served.status, 200);
    let doc = served.json();
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(evident_server::OPENAPI).unwrap(),
        "the served document is the one in the source"
    );
    // Something the refusals must not show.
    let seeded = json!({"actor": {"id": "u"}, "action": MARKER, "resource": {"type": "t"}, "outcome": "success"});
    let appended = w.send(
        "POST",
        "/v1/events",
        bearer(&w.admin).as_deref(),
        Some(seeded.to_string().as_bytes()),
    );
    assert_eq!(appended.status, 200);

    let operations = openapi::operations(&doc);
    let protected: Vec<&Operation> = operations.iter().filter(|o| !o.public).collect();
    assert!(
        protected.len() >= 30,
        "only {} protected operations",
        protected.len()
    );
    let mut checked = 0;
    for op in &protected {
        let roles = op.roles.as_deref().unwrap_or_else(|| {
            panic!(
                "{}: a protected operation needs `x-evident-roles`",
                op.name()
            )
        });
        for role in roles {
            assert!(
                Role::parse(role).is_ok(),
                "{}: `x-evident-roles` names `{role}`, no role",
                op.name()
            );
        }
        let url = op.url(&|_, _| None);
        let body = op
            .body_schema()
            .map(|s| openapi::example(&doc, s).to_string());
        for case in cases(&w, roles) {
            let what = format!("{} with {}", op.name(), case.name);
            let before = w.engine.size();
            let reply = w.send(
                &op.method,
                &url,
                case.authorization.as_deref(),
                body.as_ref().map(String::as_bytes),
            );
            assert_bare_refusal(&w, &doc, &reply, &case, &what);
            let event = w.next_event(before, &what);
            assert_eq!(event["action"], case.action, "{what}: {event}");
            let reason = event["metadata"]["reason"].as_str().unwrap_or_default();
            assert!(
                reason.contains(case.reason),
                "{what}: the ledger says `{reason}`, not `{}`",
                case.reason
            );
            let outcome = if case.status == 401 {
                "failure"
            } else {
                "denied"
            };
            assert_eq!(event["outcome"], outcome, "{what}: {event}");
            checked += 1;
        }
    }
    assert!(
        checked >= protected.len() * 12,
        "{checked} refusals checked"
    );

    // A parameter that raises the role is refused and recorded the same way.
    let before = w.engine.size();
    let reveal = w.send(
        "GET",
        "/v1/events/0?reveal=true",
        bearer(&w.reader).as_deref(),
        None,
    );
    let case = Case {
        name: "reveal".into(),
        authorization: bearer(&w.reader),
        status: 403,
        action: "auth.role.denied",
        reason: "revealing personal data needs the `admin` role",
    };
    assert_bare_refusal(&w, &doc, &reveal, &case, "a reader revealing personal data");
    let event = w.next_event(before, "reveal");
    assert_eq!(event["action"], "auth.role.denied");
    assert!(event["metadata"]["reason"]
        .as_str()
        .unwrap()
        .contains(case.reason));
}

/// `x-evident-roles` say what the router admits: each role they name is let through (whatever
/// the request then makes of the rest), every other role is refused.
#[test]
fn each_operations_documented_roles_are_the_ones_the_router_admits() {
    let w = world();
    let doc: Value = serde_json::from_str(evident_server::OPENAPI).unwrap();
    let mut auditor_admitted = Vec::new();
    for op in openapi::operations(&doc) {
        let url = op.url(&|_, _| None);
        let body = op
            .body_schema()
            .map(|s| openapi::example(&doc, s).to_string());
        let send = |credential: Option<&str>| {
            w.send(
                &op.method,
                &url,
                credential.and_then(bearer).as_deref(),
                body.as_ref().map(String::as_bytes),
            )
        };
        if op.public {
            assert!(
                op.roles.is_none(),
                "{}: public, yet it names roles",
                op.name()
            );
            let reply = send(None);
            assert!(
                reply.status != 401 && reply.status != 403,
                "{}: documented public, answers {}",
                op.name(),
                reply.status
            );
            continue;
        }
        let roles = op.roles.clone().unwrap();
        for role in &roles {
            for credential in w.credentials_of(role) {
                let reply = send(Some(&credential));
                let code = reply.json()["error"]["code"].clone();
                assert!(
                    reply.status != 401 && !(reply.status == 403 && code == "forbidden"),
                    "{}: the `{role}` role is refused ({} {code})",
                    op.name(),
                    reply.status
                );
            }
        }
        if roles.iter().any(|r| r == "auditor") {
            auditor_admitted.push(op.name());
        }
        for below in refused_roles(&roles) {
            for credential in w.credentials_of(below) {
                let reply = send(Some(&credential));
                assert_eq!(
                    (reply.status, reply.json()["error"]["code"].clone()),
                    (403, json!("forbidden")),
                    "{}: the `{below}` role is let through",
                    op.name()
                );
            }
        }
    }
    // The auditor reads the evidence and nothing else.
    for name in &auditor_admitted {
        assert!(
            name.starts_with("GET /v1/controls")
                || name.starts_with("GET /v1/policy-docs")
                || name.starts_with("GET /v1/risks")
                || name.starts_with("GET /v1/incidents")
                // data-subject requests' state and steps (no personal value)
                || name.starts_with("GET /v1/dsr")
                || name == "GET /v1/checkpoint"
                || name.starts_with("GET /v1/proof/"),
            "the auditor may call {name}"
        );
    }
    for evidence in ["GET /v1/checkpoint", "GET /v1/controls/status"] {
        assert!(
            auditor_admitted.iter().any(|n| n == evidence),
            "the auditor may not call {evidence}"
        );
    }
}

// That the document lists exactly the operations the router serves, with the roles it
// enforces, is checked in the server's own unit tests (`src/openapi_tests.rs`), against the
// one table of operations the router and the gate are built from.
