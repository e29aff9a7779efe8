//! API keys for services: `evk_<id>_<secret>`, stored as the SHA-256 of the secret only.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;

use crate::{Error, Result};

/// What a key may do. Each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// read events, checkpoints and proofs
    Reader,
    /// also append events
    Writer,
    /// also manage keys, reveal and erase personal data
    Admin,
}

impl Role {
    /// Parses `admin`, `writer` or `reader`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "admin" => Ok(Self::Admin),
            "writer" => Ok(Self::Writer),
            "reader" => Ok(Self::Reader),
            other => Err(Error::BadRequest(format!(
                "unknown role `{other}` (expected admin, writer or reader)"
            ))),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Writer => "writer",
            Self::Reader => "reader",
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
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
}
