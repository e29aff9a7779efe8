//! OpenID Connect bearer tokens for Evident's own API: signature against the issuer's JWKS
//! (fetched, cached and refreshed), issuer, audience, expiry and not-before, and the Evident
//! role from a roles claim. Keycloak is the reference identity provider.
//!
//! [`OidcVerifier`] fetches and caches the issuer's keys; [`verify_with_keys`] runs the same
//! checks against a JWK set already in hand (read with [`signing_keys`]).
//!
//! Only asymmetric algorithms are accepted (RS*, PS*, ES*, EdDSA): `alg=none` does not parse,
//! and an HMAC algorithm is refused before any key is looked at, so a public key can never be
//! used as an HMAC secret. Symmetric (`oct`) and encryption keys in the JWKS are ignored.

use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use evident::Role;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// How the server trusts an OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// `iss`, exactly as the provider writes it (Keycloak: `https://HOST/realms/REALM`)
    pub issuer: String,
    /// the `aud` this server accepts
    pub audience: String,
    /// the JWKS URL; discovered from `ISSUER/.well-known/openid-configuration` when absent
    pub jwks_url: Option<String>,
    /// dotted path of the roles claim; Keycloak's `realm_access.roles` and
    /// `resource_access.AUDIENCE.roles` are also read
    pub roles_claim: String,
    /// clock skew allowed on `exp` / `nbf`, in seconds
    pub leeway_seconds: u64,
    /// how long fetched keys are trusted before a refresh
    pub jwks_ttl: Duration,
    /// the longest a token may live (`exp` − `iat`): the automatic logoff of HIPAA
    /// 164.312(a)(2)(iii) and PCI DSS 8.2.8 for sessions Evident does not hold itself. A
    /// token living longer, or without `iat`, is refused. `None`: the issuer decides.
    pub max_token_lifetime: Option<Duration>,
}

impl OidcConfig {
    /// A configuration with the defaults: roles in `roles`, 30 s leeway, keys refreshed hourly.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: None,
            roles_claim: "roles".into(),
            leeway_seconds: 30,
            jwks_ttl: Duration::from_secs(3600),
            max_token_lifetime: None,
        }
    }
}

/// Why a token was refused; the message never holds the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenRefused(pub String);

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `sub`
    pub subject: String,
    /// `iss`
    pub issuer: String,
    /// the highest Evident role the token carries
    pub role: Role,
}

/// A token verifier with its key cache.
pub struct OidcVerifier {
    config: OidcConfig,
    keys: RwLock<Option<(Vec<Jwk>, Instant)>>,
    last_fetch: Mutex<Option<Instant>>,
    agent: ureq::Agent,
}

/// The shortest interval between two fetches of the JWKS, so a flood of tokens with unknown
/// key ids cannot turn the server into a load generator against the identity provider.
const MIN_REFETCH: Duration = Duration::from_secs(10);
const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[derive(Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

impl OidcVerifier {
    /// A verifier; keys are fetched on first use.
    pub fn new(config: OidcConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(true)
            .build()
            .new_agent();
        Self {
            config,
            keys: RwLock::new(None),
            last_fetch: Mutex::new(None),
            agent,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Whether `token` looks like a JWT rather than an API key.
    pub fn looks_like_jwt(token: &str) -> bool {
        token.starts_with("eyJ") && token.matches('.').count() == 2
    }

    /// Fetches the keys now (at startup, so a misconfiguration shows at once).
    pub fn refresh(&self) -> Result<usize, TokenRefused> {
        let url = match &self.config.jwks_url {
            Some(url) => url.clone(),
            None => self.discover()?,
        };
        if let Ok(mut last) = self.last_fetch.lock() {
            *last = Some(Instant::now());
        }
        let body: Value = self
            .agent
            .get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_json())
            .map_err(|e| TokenRefused(format!("fetching the JWKS from {url}: {e}")))?;
        let keys =
            signing_keys(&body).ok_or_else(|| TokenRefused(format!("{url} is not a JWK set")))?;
        let n = keys.len();
        if let Ok(mut cache) = self.keys.write() {
            *cache = Some((keys, Instant::now()));
        }
        Ok(n)
    }

    fn discover(&self) -> Result<String, TokenRefused> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let doc: Value = self
            .agent
            .get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_json())
            .map_err(|e| TokenRefused(format!("OIDC discovery at {url}: {e}")))?;
        if doc.get("issuer").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(TokenRefused(format!(
                "{url} names another issuer than `{}`",
                self.config.issuer
            )));
        }
        doc.get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| TokenRefused(format!("{url} has no jwks_uri")))
    }

    fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, TokenRefused> {
        let find = |keys: &[Jwk]| select_key(keys, kid, alg).cloned();
        let cached = self.keys.read().ok().and_then(|c| c.clone());
        let fresh = cached
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() < self.config.jwks_ttl);
        let mut found = cached.as_ref().and_then(|(keys, _)| find(keys));
        if found.is_none() || !fresh {
            let may_fetch = self
                .last_fetch
                .lock()
                .map(|l| l.is_none_or(|t| t.elapsed() >= MIN_REFETCH))
                .unwrap_or(false);
            if may_fetch || cached.is_none() {
                let refreshed = blocking(|| self.refresh());
                match refreshed {
                    Ok(_) => {
                        found = self
                            .keys
                            .read()
                            .ok()
                            .and_then(|c| c.as_ref().and_then(|(keys, _)| find(keys)));
                    }
                    // keep using what we had if the provider is down
                    Err(e) if found.is_none() => return Err(e),
                    Err(e) => tracing::warn!(error = %e, "JWKS refresh failed; using cached keys"),
                }
            }
        }
        decoding_key(&found.ok_or_else(|| no_key(kid))?)
    }

    /// Verifies a token; blocking (it may fetch the JWKS).
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenRefused> {
        self.verify_attributed(token)
            .map_err(|(refused, _)| refused)
    }

    /// Verifies a token like [`verify`](Self::verify); a refusal also carries the token's
    /// `sub` when its signature verified under the issuer's keys (the issuer did issue it
    /// to that subject, and it failed for another reason: expiry, audience, role …). A
    /// token whose signature does not verify gives `None`: its `sub` is whatever its sender
    /// wrote, and must not be held against that subject.
    pub fn verify_attributed(
        &self,
        token: &str,
    ) -> Result<VerifiedToken, (TokenRefused, Option<String>)> {
        let header = accepted_header(token).map_err(|refused| (refused, None))?;
        let key = self
            .key_for(header.kid.as_deref(), header.alg)
            .map_err(|refused| (refused, None))?;
        check_token(&self.config, token, header.alg, &key)
            .map_err(|refused| (refused, signed_subject(token, header.alg, &key)))
    }
}

/// The signing keys a JWK set document offers: encryption (`use: enc`), symmetric (`oct`)
/// and unreadable keys are left out. `None` when the document is not a JWK set.
pub fn signing_keys(jwks: &Value) -> Option<Vec<Jwk>> {
    Some(
        jwks.get("keys")?
            .as_array()?
            .iter()
            .filter(|k| k.get("use").and_then(Value::as_str) != Some("enc"))
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .filter(|k| !matches!(k.algorithm, AlgorithmParameters::OctetKey(_)))
            .collect(),
    )
}

/// Verifies a token against keys already in hand (a JWK set read with [`signing_keys`]),
/// without fetching anything: the same checks as [`OidcVerifier::verify`].
pub fn verify_with_keys(
    config: &OidcConfig,
    keys: &[Jwk],
    token: &str,
) -> Result<VerifiedToken, TokenRefused> {
    let header = accepted_header(token)?;
    let jwk = select_key(keys, header.kid.as_deref(), header.alg)
        .ok_or_else(|| no_key(header.kid.as_deref()))?;
    check_token(config, token, header.alg, &decoding_key(jwk)?)
}

/// The token's header, if it names an accepted (asymmetric) algorithm.
fn accepted_header(token: &str) -> Result<jsonwebtoken::Header, TokenRefused> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| TokenRefused(format!("malformed token header: {e}")))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(TokenRefused(format!(
            "token algorithm {:?} is not accepted (asymmetric algorithms only)",
            header.alg
        )));
    }
    Ok(header)
}

/// The key a token's header asks for: its `kid` (any key when it names none), of a matching
/// algorithm when the key names one.
fn select_key<'k>(keys: &'k [Jwk], kid: Option<&str>, alg: Algorithm) -> Option<&'k Jwk> {
    keys.iter()
        .filter(|k| match kid {
            Some(kid) => k.common.key_id.as_deref() == Some(kid),
            None => true,
        })
        .find(|k| {
            k.common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok())
                .is_none_or(|a| a == alg)
        })
}

fn decoding_key(jwk: &Jwk) -> Result<DecodingKey, TokenRefused> {
    DecodingKey::from_jwk(jwk).map_err(|e| TokenRefused(format!("the issuer's key: {e}")))
}

fn no_key(kid: Option<&str>) -> TokenRefused {
    TokenRefused(format!(
        "no signing key `{}` in the issuer's JWKS",
        kid.unwrap_or("(no kid)")
    ))
}

/// Signature, issuer, audience, expiry and not-before, then the Evident role.
fn check_token(
    config: &OidcConfig,
    token: &str,
    alg: Algorithm,
    key: &DecodingKey,
) -> Result<VerifiedToken, TokenRefused> {
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = config.leeway_seconds;
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        TokenRefused(match e.kind() {
            ErrorKind::ExpiredSignature => "the token has expired".into(),
            ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
            ErrorKind::InvalidIssuer => "the token is from another issuer".into(),
            ErrorKind::InvalidAudience => "the token is for another audience".into(),
            ErrorKind::InvalidSignature => "the token signature does not verify".into(),
            ErrorKind::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
            other => format!("the token is not valid: {other:?}"),
        })
    })?;
    let claims = data.claims;
    if let Some(max) = config.max_token_lifetime {
        let time = |name: &str| claims.rest.get(name).and_then(Value::as_u64);
        let Some(issued) = time("iat") else {
            return Err(TokenRefused(
                "the token has no `iat` claim, which this server needs to enforce its maximum token lifetime".into(),
            ));
        };
        let lifetime = time("exp").unwrap_or(u64::MAX).saturating_sub(issued);
        if lifetime > max.as_secs() {
            return Err(TokenRefused(format!(
                "the token lives {lifetime} s, longer than this server's maximum of {} s; \
                 ask the identity provider for shorter-lived tokens",
                max.as_secs()
            )));
        }
    }
    let role = role_of(config, &claims.rest)?;
    Ok(VerifiedToken {
        subject: claims.sub,
        issuer: claims.iss,
        role,
    })
}

/// The Evident role of the configured roles claim or Keycloak's realm and client roles: the
/// one that allows all the others it carries (`admin` over `auditor`, `writer` over `reader`).
/// A token with none, or with roles no one of them includes (`reader` and `auditor`), is
/// refused: which of the two was meant is not ours to guess.
fn role_of(
    config: &OidcConfig,
    claims: &serde_json::Map<String, Value>,
) -> Result<Role, TokenRefused> {
    let root = Value::Object(claims.clone());
    let pointer =
        |path: &str| -> Option<&Value> { path.split('.').try_fold(&root, |v, key| v.get(key)) };
    let client = format!("resource_access.{}.roles", config.audience);
    let mut held: Vec<Role> = Vec::new();
    for role in [
        config.roles_claim.as_str(),
        "realm_access.roles",
        client.as_str(),
    ]
    .iter()
    .filter_map(|path| pointer(path))
    .flat_map(|v| match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
        Value::String(s) => s.split_whitespace().collect(),
        _ => Vec::new(),
    })
    .filter_map(|name| {
        let name = name
            .strip_prefix("evident:")
            .or_else(|| name.strip_prefix("evident-"))
            .unwrap_or(name);
        Role::parse(name).ok()
    }) {
        if !held.contains(&role) {
            held.push(role);
        }
    }
    if held.is_empty() {
        return Err(TokenRefused(format!(
            "the token carries no Evident role (admin, writer, reader or auditor) in `{}`",
            config.roles_claim
        )));
    }
    held.iter()
        .copied()
        .find(|role| held.iter().all(|other| role.allows(*other)))
        .ok_or_else(|| {
            TokenRefused(format!(
                "the token carries Evident roles no one of them includes ({}); give the subject one",
                held.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })
}

/// The `sub` of a token whose signature verifies under `key`, its other claims unchecked:
/// who the issuer issued a refused token to.
fn signed_subject(token: &str, alg: Algorithm, key: &DecodingKey) -> Option<String> {
    let mut signature_only = Validation::new(alg);
    signature_only.validate_exp = false;
    signature_only.validate_nbf = false;
    signature_only.validate_aud = false;
    signature_only.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(token, key, &signature_only).ok()?;
    data.claims
        .get("sub")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(256).collect())
}

/// Runs blocking work from inside a multi-threaded runtime without stalling it.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use base64::Engine as _;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    /// RFC 8032 test 1, as PKCS#8 v1 (the seed) and its public key.
    const PKCS8: &str = "302e020100300506032b6570042204209d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn keys() -> Vec<Jwk> {
        signing_keys(&json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA", "x": B64URL.encode(hex::decode(PUBLIC).unwrap())},
            {"kty": "oct", "kid": "hmac", "k": B64URL.encode(b"secret")},
            {"kty": "OKP", "crv": "Ed25519", "kid": "enc", "use": "enc", "x": B64URL.encode(hex::decode(PUBLIC).unwrap())},
        ]}))
        .unwrap()
    }

    fn token(header: Header, claims: &Value) -> String {
        let key = EncodingKey::from_ed_der(&hex::decode(PKCS8).unwrap());
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn claims() -> Value {
        json!({"iss": "https://idp.example", "aud": "evident-api", "sub": "dr.ames", "exp": 4102444800u64,
               "realm_access": {"roles": ["offline_access", "evident-writer"]}})
    }

    #[test]
    fn a_jwk_set_offers_only_its_asymmetric_signing_keys() {
        let keys = keys();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].common.key_id.as_deref(), Some("ed"));
        assert!(signing_keys(&json!({"keys": "none"})).is_none());
    }

    #[test]
    fn a_token_verifies_against_keys_in_hand() {
        let config = OidcConfig::new("https://idp.example", "evident-api");
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("ed".into());
        let verified =
            verify_with_keys(&config, &keys(), &token(header.clone(), &claims())).unwrap();
        assert_eq!(
            (verified.subject.as_str(), verified.role),
            ("dr.ames", Role::Writer)
        );

        let mut expired = claims();
        expired["exp"] = json!(1_700_000_000);
        let refused = verify_with_keys(&config, &keys(), &token(header.clone(), &expired));
        assert_eq!(refused.unwrap_err().0, "the token has expired");

        header.kid = Some("hmac".into());
        let refused = verify_with_keys(&config, &keys(), &token(header, &claims()));
        assert!(refused.unwrap_err().0.contains("no signing key `hmac`"));

        let unsigned = format!(
            "{}.{}.",
            B64URL.encode(br#"{"alg":"none","typ":"JWT"}"#),
            B64URL.encode(claims().to_string())
        );
        let refused = verify_with_keys(&config, &keys(), &unsigned);
        assert!(refused.unwrap_err().0.starts_with("malformed token header"));
    }

    #[test]
    fn the_role_that_includes_the_others_is_the_tokens() {
        let config = OidcConfig::new("https://idp.example", "evident-api");
        let role = |roles: Value| {
            let claims = json!({ "roles": roles });
            role_of(&config, claims.as_object().unwrap())
        };
        assert_eq!(
            role(json!(["reader", "evident:writer"])).unwrap(),
            Role::Writer
        );
        assert_eq!(role(json!(["auditor", "admin"])).unwrap(), Role::Admin);
        assert_eq!(role(json!("evident-auditor")).unwrap(), Role::Auditor);
        let mixed = role(json!(["reader", "auditor"])).unwrap_err().0;
        assert!(mixed.contains("reader, auditor"), "{mixed}");
        let none = role(json!(["offline_access"])).unwrap_err().0;
        assert!(none.contains("carries no Evident role"), "{none}");
    }

    #[test]
    fn a_maximum_lifetime_refuses_longer_lived_tokens_and_those_without_iat() {
        let mut config = OidcConfig::new("https://idp.example", "evident-api");
        config.max_token_lifetime = Some(Duration::from_secs(900));
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("ed".into());
        let mut short = claims();
        short["iat"] = json!(4102444800u64 - 900);
        assert!(verify_with_keys(&config, &keys(), &token(header.clone(), &short)).is_ok());
        let mut long = claims();
        long["iat"] = json!(4102444800u64 - 901);
        let refused = verify_with_keys(&config, &keys(), &token(header.clone(), &long));
        assert!(refused.unwrap_err().0.contains("lives 901 s"));
        let refused = verify_with_keys(&config, &keys(), &token(header.clone(), &claims()));
        assert!(refused.unwrap_err().0.contains("no `iat`"));
        // Without a maximum the issuer decides.
        config.max_token_lifetime = None;
        assert!(verify_with_keys(&config, &keys(), &token(header, &long)).is_ok());
    }
}
