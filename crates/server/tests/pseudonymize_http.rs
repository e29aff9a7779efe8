//! `POST /v1/pseudonymize`: pseudonyms in order under the domain's key version, the same
//! across calls, a new prefix after rotation, a clear 404 for a domain without a key, 4xx for
//! malformed, mistyped or oversize bodies, 401 without a credential, one ledger event a call.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

mod common;
mod support;

use std::sync::Arc;

use common::client::{Client, Reply};
use evident::Role;
use serde_json::{json, Value};
use support::Running;

struct Api {
    running: Running,
    client: Client,
    writer: String,
    admin: String,
}

impl Api {
    fn start() -> Api {
        let running = Running::start();
        let root = running.dir.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        let provider = evident::crypto::local::LocalProvider::with_passphrase(
            &root,
            b"correct horse battery staple",
            true,
        )
        .unwrap();
        assert!(running.engine.set_key_provider(Arc::new(provider)));
        let client = Client::new(&running.base);
        let writer = running.key(Role::Writer);
        let admin = running.key(Role::Admin);
        Api {
            running,
            client,
            writer,
            admin,
        }
    }

    fn post_as(&self, token: Option<&str>, path: &str, body: &[u8]) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &[u8])> =
            vec![("Content-Type", b"application/json".as_slice())];
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_bytes()));
        }
        self.client.send("POST", path, &headers, Some(body))
    }

    fn pseudonymize(&self, body: &Value) -> Reply {
        self.post_as(
            Some(&self.writer),
            "/v1/pseudonymize",
            body.to_string().as_bytes(),
        )
    }

    fn create_key(&self, domain: &str) {
        let body = json!({"name": format!("pseudonym.{domain}")}).to_string();
        let r = self.post_as(Some(&self.admin), "/v1/keys", body.as_bytes());
        assert_eq!(r.status, 201, "{}", r.text());
    }

    fn rotate_key(&self, domain: &str) {
        let r = self.post_as(
            Some(&self.admin),
            &format!("/v1/keys/pseudonym.{domain}/rotate"),
            b"{}",
        );
        assert!(r.status < 300, "{} {}", r.status, r.text());
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn pseudonyms_in_order_deterministic_and_versioned() {
    let api = Api::start();
    api.create_key("patients");
    let values = json!([
        "alice@example.org",
        "bob@example.org",
        "",
        "alice@example.org"
    ]);
    let before = api.running.engine.size();
    let first = api.pseudonymize(&json!({"domain": "patients", "values": values}));
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(
        api.running.engine.size(),
        before + 1,
        "one ledger event per request"
    );
    let body = first.json();
    assert_eq!(body["key_version"], 1);
    assert_eq!(body["key"], "pseudonym.patients");
    assert_eq!(body["mode"], "hmac");
    let p = strings(&body["pseudonyms"]);
    assert_eq!(p.len(), 4);
    assert!(p[0].starts_with("ps1.v1.") && p[0].len() == 29, "{}", p[0]);
    assert_ne!(p[0], p[1]);
    assert_eq!(p[2], "", "an empty value stays empty");
    assert_eq!(p[0], p[3], "the same value, the same pseudonym");
    assert!(!first.text().contains("alice"), "no value echoed");

    // The same answer on another call.
    let again = api.pseudonymize(&json!({"domain": "patients", "values": values}));
    assert_eq!(strings(&again.json()["pseudonyms"]), p);

    // Another domain: unrelated pseudonyms.
    api.create_key("customers");
    let other = api.pseudonymize(&json!({"domain": "customers", "values": ["alice@example.org"]}));
    let other = strings(&other.json()["pseudonyms"]);
    assert_ne!(other[0][7..], p[0][7..]);

    // Normalisation is explicit.
    let loud = api.pseudonymize(
        &json!({"domain": "patients", "values": [" Alice@Example.org "],
        "normalize": ["trim", "lowercase"]}),
    );
    assert_eq!(strings(&loud.json()["pseudonyms"])[0], p[0]);

    // Rotation: a new version and new pseudonyms; the old version still reproduces the old.
    api.rotate_key("patients");
    let rotated = api.pseudonymize(&json!({"domain": "patients", "values": ["alice@example.org"]}));
    assert_eq!(rotated.json()["key_version"], 2);
    let r = strings(&rotated.json()["pseudonyms"]);
    assert!(r[0].starts_with("ps1.v2."), "{}", r[0]);
    assert_ne!(r[0][7..], p[0][7..]);
    let old = api.pseudonymize(
        &json!({"domain": "patients", "values": ["alice@example.org"], "key_version": 1}),
    );
    assert_eq!(old.status, 200, "{}", old.text());
    assert_eq!(strings(&old.json()["pseudonyms"])[0], p[0]);

    // Format-preserving: same length, digits stay digits, deterministic.
    let fpe = json!({"domain": "patients", "values": ["123456789", "000000001"], "mode": "fpe"});
    let a = api.pseudonymize(&fpe);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["mode"], "fpe:digits");
    let t = strings(&a.json()["pseudonyms"]);
    assert!(t
        .iter()
        .all(|x| x.len() == 9 && x.bytes().all(|b| b.is_ascii_digit())));
    assert_eq!(strings(&api.pseudonymize(&fpe).json()["pseudonyms"]), t);
    let misfit = api
        .pseudonymize(&json!({"domain": "patients", "values": ["123456", "12-34"], "mode": "fpe"}));
    assert_eq!(misfit.status, 400);
    assert!(misfit.text().contains("values[1]"), "{}", misfit.text());
    assert!(!misfit.text().contains("12-34"), "{}", misfit.text());
}

#[test]
fn a_domain_without_a_key_is_a_clear_404() {
    let api = Api::start();
    let before = api.running.engine.size();
    let r = api.pseudonymize(&json!({"domain": "nobody", "values": ["x"]}));
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "not_found");
    let text = r.text();
    assert!(
        text.contains("pseudonym.nobody") && text.contains("POST /v1/keys"),
        "{text}"
    );
    assert_eq!(api.running.engine.size(), before, "nothing recorded");
    api.create_key("patients");
    let before = api.running.engine.size();
    let r = api.pseudonymize(&json!({"domain": "patients", "values": ["x"], "key_version": 7}));
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(api.running.engine.size(), before, "nothing recorded");
}

#[test]
fn bad_requests_are_refused() {
    let api = Api::start();
    api.create_key("patients");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{not json".to_vec(), "malformed"),
        (b"[]".to_vec(), "malformed"),
        (
            json!({"domain": "patients"}).to_string().into_bytes(),
            "values",
        ),
        (
            json!({"domain": "patients", "values": "x"})
                .to_string()
                .into_bytes(),
            "values",
        ),
        (
            json!({"domain": "patients", "values": [1, 2]})
                .to_string()
                .into_bytes(),
            "values",
        ),
        (
            json!({"domain": "patients", "values": []})
                .to_string()
                .into_bytes(),
            "1 to 10000",
        ),
        (
            json!({"domain": "patients", "values": ["x"], "mode": "rot13"})
                .to_string()
                .into_bytes(),
            "mode",
        ),
        (
            json!({"domain": "patients", "values": ["x"], "extra": 1})
                .to_string()
                .into_bytes(),
            "extra",
        ),
        (
            json!({"domain": "patients", "values": ["x"], "alphabet": "digits"})
                .to_string()
                .into_bytes(),
            "alphabet",
        ),
        (
            json!({"domain": "patients", "values": ["123456"], "mode": "fpe", "alphabet": "hex"})
                .to_string()
                .into_bytes(),
            "alphabet",
        ),
        (
            json!({"domain": "patients", "values": ["x"], "normalize": ["upper"]})
                .to_string()
                .into_bytes(),
            "normalize",
        ),
        (
            json!({"domain": "Patients!", "values": ["x"]})
                .to_string()
                .into_bytes(),
            "domain",
        ),
        (
            json!({"domain": "patients", "values": ["x"], "key_version": 0})
                .to_string()
                .into_bytes(),
            "key_version",
        ),
        (
            json!({"domain": "patients", "values": ["x".repeat(1025)]})
                .to_string()
                .into_bytes(),
            "values[0]",
        ),
        (
            json!({"domain": "patients", "values": vec!["v"; 10_001]})
                .to_string()
                .into_bytes(),
            "1 to 10000",
        ),
    ];
    let before = api.running.engine.size();
    for (body, needle) in cases {
        let r = api.post_as(Some(&api.writer), "/v1/pseudonymize", &body);
        assert_eq!(
            r.status,
            400,
            "{}: {}",
            String::from_utf8_lossy(&body[..body.len().min(80)]),
            r.text()
        );
        assert!(r.text().contains(needle), "{needle}: {}", r.text());
    }
    assert_eq!(api.running.engine.size(), before, "nothing recorded");
}

#[test]
fn callers_need_a_writer_credential() {
    let api = Api::start();
    api.create_key("patients");
    let body = json!({"domain": "patients", "values": ["x"]}).to_string();
    let none = api.post_as(None, "/v1/pseudonymize", body.as_bytes());
    assert_eq!(none.status, 401, "{}", none.text());
    let reader = api.running.key(Role::Reader);
    let low = api.post_as(Some(&reader), "/v1/pseudonymize", body.as_bytes());
    assert_eq!(low.status, 403, "{}", low.text());
    let admin = api.post_as(Some(&api.admin), "/v1/pseudonymize", body.as_bytes());
    assert_eq!(admin.status, 200, "{}", admin.text());
}
