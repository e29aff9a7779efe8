//! OIDC bearer tokens, the issuer's JWK set and token claims, as `evident serve` meets them:
//! nothing panics, and a token is accepted only when it is signed by the issuer's key, names the
//! configured issuer and audience, has not expired and carries an Evident role.
//!
//! The first byte picks what the rest is:
//! - 0: a bearer token, checked against a fixed JWK set;
//! - 1: a JWK set document, against which a fixed, valid token is checked;
//! - 2: a claims object, signed with the fixed Ed25519 key and then checked.
#![no_main]
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use evident_server::oidc::{signing_keys, verify_with_keys, OidcConfig};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const ISSUER: &str = "https://idp.example/realms/evident";
const AUDIENCE: &str = "evident-api";
const KID: &str = "fuzz-ed25519";
/// RFC 8032 test 1: a published Ed25519 key pair, so the corpus' tokens verify here.
const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

struct Fixture {
    config: OidcConfig,
    keys: Vec<Jwk>,
    signing: EncodingKey,
    token: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let public = hex::decode(PUBLIC).expect("hex");
        let jwks = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": KID, "alg": "EdDSA", "use": "sig", "x": B64URL.encode(&public)},
            {"kty": "oct", "kid": "hmac", "k": B64URL.encode(b"a shared secret that must be ignored")}
        ]});
        // PKCS#8 v1 around the raw seed, as ring reads Ed25519 private keys.
        let mut pkcs8 = hex::decode("302e020100300506032b657004220420").expect("hex");
        pkcs8.extend(hex::decode(SEED).expect("hex"));
        let signing = EncodingKey::from_ed_der(&pkcs8);
        let mut f = Fixture {
            config: OidcConfig::new(ISSUER, AUDIENCE),
            keys: signing_keys(&jwks).expect("a JWK set"),
            signing,
            token: String::new(),
        };
        f.token = sign(&f, &json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-123", "exp": 4102444800u64, "roles": ["admin"]}));
        assert!(verify_with_keys(&f.config, &f.keys, &f.token).is_ok(), "the fixed token verifies");
        f
    })
}

fn sign(f: &Fixture, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(KID.into());
    jsonwebtoken::encode(&header, claims, &f.signing).expect("signing never fails")
}

/// Whether claims name our audience (a string or a list holding it).
fn names_audience(aud: Option<&Value>) -> bool {
    match aud {
        Some(Value::String(a)) => a == AUDIENCE,
        Some(Value::Array(list)) => list.iter().any(|a| a == AUDIENCE),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    match mode % 3 {
        0 => {
            let Ok(token) = std::str::from_utf8(rest) else {
                return;
            };
            if let Ok(verified) = verify_with_keys(&f.config, &f.keys, token) {
                assert_eq!(verified.issuer, ISSUER);
            }
        }
        1 => {
            let Ok(jwks) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            if let Some(keys) = signing_keys(&jwks) {
                let _ = verify_with_keys(&f.config, &keys, &f.token);
            }
        }
        _ => {
            let Ok(claims) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            if !claims.is_object() {
                return;
            }
            let token = sign(f, &claims);
            if let Ok(verified) = verify_with_keys(&f.config, &f.keys, &token) {
                assert_eq!(
                    claims.get("iss").and_then(Value::as_str),
                    Some(ISSUER),
                    "{claims}"
                );
                assert_eq!(
                    claims.get("sub").and_then(Value::as_str),
                    Some(verified.subject.as_str())
                );
                assert!(
                    names_audience(claims.get("aud")),
                    "another audience was accepted: {claims}"
                );
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
                    .as_secs();
                let exp = claims
                    .get("exp")
                    .and_then(Value::as_f64)
                    .expect("an accepted token has exp");
                assert!(
                    exp + f.config.leeway_seconds as f64 >= now as f64,
                    "an expired token was accepted: {claims}"
                );
            }
        }
    }
});
