//! An OpenID Connect identity provider on a loopback port, with keys the test generates:
//! discovery and a JWKS, and tokens signed with them (or tampered with) on demand.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers; not every test uses each"
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};
use serde_json::{json, Value};

pub struct Idp {
    pub es_pkcs8: Vec<u8>,
    pub ed_pkcs8: Vec<u8>,
    pub other_es_pkcs8: Vec<u8>,
    pub es_public: Vec<u8>,
    pub base: String,
    _runtime: tokio::runtime::Runtime,
}

pub fn es256() -> (Vec<u8>, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
    let pair = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    (pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
}

/// An identity provider on a loopback port: discovery and a JWKS with an ES256 and an
/// Ed25519 key (and an HMAC key that must be ignored).
pub fn idp() -> Idp {
    let (es_pkcs8, es_public) = es256();
    let (other_es_pkcs8, _) = es256();
    let rng = SystemRandom::new();
    let ed_pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng)
        .unwrap()
        .as_ref()
        .to_vec();
    let ed_public = signature::Ed25519KeyPair::from_pkcs8(&ed_pkcs8)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let jwks = json!({"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "es-1", "alg": "ES256", "use": "sig",
         "x": B64URL.encode(&es_public[1..33]), "y": B64URL.encode(&es_public[33..65])},
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "alg": "EdDSA", "use": "sig",
         "x": B64URL.encode(&ed_public)},
        {"kty": "oct", "kid": "hmac-1", "k": B64URL.encode(b"shared secret that must be ignored")},
        {"kty": "RSA", "kid": "enc-1", "use": "enc", "n": "AQAB", "e": "AQAB"}
    ]});
    let discovery = json!({"issuer": base, "jwks_uri": format!("{base}/jwks")});
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || async move { axum::Json(discovery) }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || async move { axum::Json(jwks) }),
        );
    runtime.spawn(async move { axum::serve(listener, app).await });
    Idp {
        es_pkcs8,
        ed_pkcs8,
        other_es_pkcs8,
        es_public,
        base,
        _runtime: runtime,
    }
}

pub fn claims(idp: &Idp, overrides: Value) -> Value {
    let now = evident::event::now_us() / 1_000_000;
    let mut c = json!({
        "iss": idp.base, "aud": "evident-api", "sub": "user-123",
        "iat": now, "exp": now + 300, "realm_access": {"roles": ["evident-admin", "offline_access"]}
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

pub fn sign(alg: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}
