//! OpenID Connect bearer tokens for Evident's own API: signature against the issuer's JWKS
//! (fetched, cached and refreshed), issuer, audience, expiry and not-before, and the Evident
//! role from a roles claim. Keycloak is the reference identity provider.
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
        let keys: Vec<Jwk> = body
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| TokenRefused(format!("{url} is not a JWK set")))?
            .iter()
            .filter(|k| k.get("use").and_then(Value::as_str) != Some("enc"))
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .filter(|k| !matches!(k.algorithm, AlgorithmParameters::OctetKey(_)))
            .collect();
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
        let find = |keys: &[Jwk]| -> Option<Jwk> {
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
                .cloned()
        };
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
        let jwk = found.ok_or_else(|| {
            TokenRefused(format!(
                "no signing key `{}` in the issuer's JWKS",
                kid.unwrap_or("(no kid)")
            ))
        })?;
        DecodingKey::from_jwk(&jwk).map_err(|e| TokenRefused(format!("the issuer's key: {e}")))
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
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| (TokenRefused(format!("malformed token header: {e}")), None))?;
        if !ALLOWED.contains(&header.alg) {
            return Err((
                TokenRefused(format!(
                    "token algorithm {:?} is not accepted (asymmetric algorithms only)",
                    header.alg
                )),
                None,
            ));
        }
        let key = self
            .key_for(header.kid.as_deref(), header.alg)
            .map_err(|refused| (refused, None))?;
        self.verify_with(token, header.alg, &key)
            .map_err(|refused| {
                let signed = signed_subject(token, header.alg, &key);
                (refused, signed)
            })
    }

    fn verify_with(
        &self,
        token: &str,
        alg: Algorithm,
        key: &DecodingKey,
    ) -> Result<VerifiedToken, TokenRefused> {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.config.leeway_seconds;
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
        let role = self.role_of(&claims.rest).ok_or_else(|| {
            TokenRefused(format!(
                "the token carries no Evident role (admin, writer or reader) in `{}`",
                self.config.roles_claim
            ))
        })?;
        Ok(VerifiedToken {
            subject: claims.sub,
            issuer: claims.iss,
            role,
        })
    }

    fn role_of(&self, claims: &serde_json::Map<String, Value>) -> Option<Role> {
        let root = Value::Object(claims.clone());
        let pointer =
            |path: &str| -> Option<&Value> { path.split('.').try_fold(&root, |v, key| v.get(key)) };
        let client = format!("resource_access.{}.roles", self.config.audience);
        [
            self.config.roles_claim.as_str(),
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
        })
        .max()
    }
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
