//! API keys for services: `evk_<id>_<secret>`, stored as the SHA-256 of the secret only;
//! creating, revoking, listing and checking them ([`ApiKeys`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;

use crate::recorder::Recorder;
use crate::store::ApiKeyRecord;
use crate::{Error, Result};

/// What a key may do. `reader` ⊂ `writer` ⊂ `admin` nest; `auditor` stands apart: it reads
/// the evidence (control status, history, coverage and catalog, checkpoints and proofs) and
/// nothing else, and `admin` may do all it may. [`Role::allows`] says which role may do what
/// another may; there is no order to compare roles by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// read events, checkpoints and proofs
    Reader,
    /// also append events
    Writer,
    /// also manage keys, reveal and erase personal data
    Admin,
    /// read the evidence an audit needs (controls, checkpoints, proofs), nothing else: no
    /// event with personal data, no append, no administration
    Auditor,
}

impl Role {
    /// Every role, the nesting ones first.
    pub const ALL: [Role; 4] = [Self::Reader, Self::Writer, Self::Admin, Self::Auditor];

    /// Parses `admin`, `writer`, `reader` or `auditor`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "admin" => Ok(Self::Admin),
            "writer" => Ok(Self::Writer),
            "reader" => Ok(Self::Reader),
            "auditor" => Ok(Self::Auditor),
            other => Err(Error::BadRequest(format!(
                "unknown role `{other}` (expected admin, writer, reader or auditor)"
            ))),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Writer => "writer",
            Self::Reader => "reader",
            Self::Auditor => "auditor",
        }
    }

    /// Whether this role may do everything `needed` may: `admin` all of every role,
    /// `writer` what `reader` may, and each role its own.
    pub fn allows(self, needed: Role) -> bool {
        match (self, needed) {
            (Self::Admin, _) => true,
            (Self::Writer, Self::Writer | Self::Reader) => true,
            (held, needed) => held == needed,
        }
    }
}

/// An authenticated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// the public id
    pub id: String,
    /// its role
    pub role: Role,
}

/// A freshly created key; the token is shown once and never stored.
pub struct NewApiKey {
    /// the public id
    pub id: String,
    /// its role
    pub role: Role,
    /// `evk_<id>_<secret>`: what clients send as `Authorization: Bearer …`
    pub token: Zeroizing<String>,
    /// SHA-256 of the secret, for storage
    pub secret_hash: Vec<u8>,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The stored form of a key's secret part (SHA-256; the secret itself is never stored).
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Makes a new random key.
pub fn generate(role: Role) -> Result<NewApiKey> {
    let mut raw = Zeroizing::new([0u8; 38]);
    getrandom::fill(raw.as_mut())
        .map_err(|e| Error::AppendFailed(format!("random source: {e}")))?;
    let id = hex::encode(&raw[..6]);
    let secret = Zeroizing::new(B64URL.encode(&raw[6..]));
    Ok(NewApiKey {
        token: Zeroizing::new(format!("evk_{id}_{}", secret.as_str())),
        secret_hash: hash_secret(&secret),
        id,
        role,
    })
}

/// Splits a token into its id and secret, if it has the right shape.
pub fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("evk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty())
        .then_some((id, secret))
}

/// Keys verified in the last second, by id: every decision request authenticates, and a
/// database read per request would cost more than the decision. Revocation by this process
/// clears it; by another process, it takes effect within a second.
#[derive(Default)]
#[allow(clippy::type_complexity)]
pub struct AuthCache(
    Mutex<HashMap<String, ((Vec<u8>, ApiKey), Instant)>>,
    /// when this process last recorded each key's use in the store
    Mutex<HashMap<String, Instant>>,
);

/// How often a process records that a key was used: `evident controls` asks whether a key
/// went unused for days, so minutes are precise enough, and authentication stays a read.
const USE_RECORD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// The API keys of one engine: every creation and revocation is a ledger event.
pub struct ApiKeys<'e> {
    recorder: &'e dyn Recorder,
    cache: &'e AuthCache,
}

impl<'e> ApiKeys<'e> {
    /// The keys of the engine behind `recorder`, with its authentication cache.
    pub fn new(recorder: &'e dyn Recorder, cache: &'e AuthCache) -> Self {
        ApiKeys { recorder, cache }
    }

    /// Creates an API key and logs its creation. The token is returned once.
    pub fn create(&self, role: Role, label: Option<&str>, actor: &str) -> Result<NewApiKey> {
        let key = generate(role)?;
        // A label is free text kept in the key table as well as in the ledger: masked alike.
        let label = label.map(|l| self.recorder.redaction().text(l));
        self.recorder
            .connect_store()?
            .insert_api_key(&ApiKeyRecord {
                id: key.id.clone(),
                secret_hash: key.secret_hash.clone(),
                role: role.as_str().to_string(),
                label: label.clone(),
                created_us: crate::event::now_us(),
                revoked_us: None,
            })?;
        let mut event = crate::event::system_event(
            "evident.apikey.created",
            "api_key",
            Some(&key.id),
            serde_json::json!({"role": role.as_str(), "label": label, "created_by": actor}),
        );
        event.severity = Some(crate::event::Severity::Medium);
        self.recorder.append_blocking(vec![event])?;
        Ok(key)
    }

    /// Revokes an API key and logs the revocation.
    pub fn revoke(&self, id: &str, actor: &str) -> Result<()> {
        if let Ok(mut cache) = self.cache.0.lock() {
            cache.clear();
        }
        if !self
            .recorder
            .connect_store()?
            .revoke_api_key(id, crate::event::now_us())?
        {
            return Err(Error::NotFound(format!("no active API key `{id}`")));
        }
        // again, for a lookup that read the key between the first clear and the update
        if let Ok(mut cache) = self.cache.0.lock() {
            cache.clear();
        }
        let mut event = crate::event::system_event(
            "evident.apikey.revoked",
            "api_key",
            Some(id),
            serde_json::json!({"revoked_by": actor}),
        );
        event.severity = Some(crate::event::Severity::Medium);
        self.recorder.append_blocking(vec![event])?;
        Ok(())
    }

    /// All API keys (without secrets).
    pub fn list(&self) -> Result<Vec<ApiKeyRecord>> {
        self.recorder.pooled_store()?.api_keys()
    }

    /// Checks a bearer token; `None` for unknown, malformed or revoked keys.
    pub fn authenticate(&self, token: &str) -> Result<Option<ApiKey>> {
        let Some((id, secret)) = split_token(token) else {
            return Ok(None);
        };
        let hash = hash_secret(secret);
        // A key verified in the last second is trusted without a database read: every
        // decision request authenticates, and revocation by this process clears the cache
        // (by another process, it takes effect within a second).
        if let Ok(cache) = self.cache.0.lock() {
            if let Some((key, at)) = cache.get(id) {
                if key.0 == hash && at.elapsed() < std::time::Duration::from_secs(1) {
                    return Ok(Some(key.1.clone()));
                }
            }
        }
        let Some(record) = self.recorder.pooled_store()?.api_key(id)? else {
            return Ok(None);
        };
        if record.revoked_us.is_some() || hash != record.secret_hash {
            return Ok(None);
        }
        let key = ApiKey {
            id: record.id,
            role: Role::parse(&record.role)?,
        };
        self.record_use(&key.id);
        if let Ok(mut cache) = self.cache.0.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(
                key.id.clone(),
                ((hash, key.clone()), std::time::Instant::now()),
            );
        }
        Ok(Some(key))
    }
}

impl ApiKeys<'_> {
    /// Records in the store that `id` authenticated now, at most once per
    /// [`USE_RECORD_INTERVAL`] per process; a failure is logged, never the caller's.
    fn record_use(&self, id: &str) {
        let due = self.cache.1.lock().is_ok_and(|mut used| {
            let due = used
                .get(id)
                .is_none_or(|at| at.elapsed() >= USE_RECORD_INTERVAL);
            if due {
                if used.len() > 10_000 {
                    used.clear();
                }
                used.insert(id.to_string(), Instant::now());
            }
            due
        });
        if due {
            let recorded = self
                .recorder
                .pooled_store()
                .and_then(|mut s| s.record_api_key_use(id, crate::event::now_us()));
            if let Err(e) = recorded {
                tracing::warn!(error = %e, key = id, "could not record an API key's use");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_roles_nest() {
        let key = generate(Role::Writer).unwrap();
        let (id, secret) = split_token(&key.token).unwrap();
        assert_eq!(id, key.id);
        assert_eq!(hash_secret(secret), key.secret_hash);
        assert!(!format!("{key:?}").contains(secret));
        assert!(Role::Admin.allows(Role::Writer) && Role::Writer.allows(Role::Reader));
        assert!(!Role::Reader.allows(Role::Writer));
        assert!(split_token("evk_zz_secret").is_none());
        assert!(split_token("Bearer x").is_none());
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn the_auditor_stands_apart_and_admin_allows_everything() {
        for role in Role::ALL {
            assert!(Role::Admin.allows(role), "admin does not allow {role:?}");
            assert!(role.allows(role));
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        for other in [Role::Reader, Role::Writer, Role::Admin] {
            assert!(!Role::Auditor.allows(other), "auditor allows {other:?}");
            assert!(
                !other.allows(Role::Auditor) || other == Role::Admin,
                "{other:?} allows auditor"
            );
        }
        assert!(Role::Writer.allows(Role::Reader) && !Role::Writer.allows(Role::Admin));
    }
}
