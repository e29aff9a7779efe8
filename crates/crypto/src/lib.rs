//! # evident-crypto
//!
//! The crypto part of Evident. It stands on `evident-core` (and asks `evident-access` before
//! a regulated key or a card token is revealed); the engine it runs in is a
//! [`host::KeyHost`]. The `evident` facade hands it out as `engine.keyring()` and
//! `engine.token_vault()`.
//!
//! Keys and envelope encryption: a root key from a [`KeyProvider`] wraps versioned named
//! keys (per tenant and purpose), which encrypt data with AES-256-GCM or wrap data keys for
//! local envelope encryption.
//!
//! - [`KeyProvider`]: one trait for where the root key lives; [`local::LocalProvider`] keeps
//!   it sealed in the data directory under a passphrase (Argon2id) or takes it from the
//!   environment or a file.
//! - [`keyring::Keyring`]: create, rotate (old versions decrypt only), disable, enable and
//!   destroy named keys — each a ledger event — and encrypt, decrypt, rewrap and make data
//!   keys. Ciphertexts name their key and version: `evident:v3:payments:…`.
//! - [`tokens::TokenVault`]: card numbers in, tokens out (random or FF1, never Luhn-valid);
//!   detokenizing needs an access decision, which the ledger records.
//! - [`root::RootKey`]: which provider holds an engine's root key, opened once and checked
//!   against the one that wrapped the directory's keys; [`root::seal_directory`] seals the
//!   directory's own key files and personal values under it.
//! - [`backup`]: encrypted, consistent backups of a data directory under the root key, their
//!   restore, and the restore test whose record is a ledger event.
//! - [`sad`]: refuses card verification codes, PIN blocks and track data (PCI DSS 3.3.1).
//!
//! AES-256-GCM comes from `ring`, with random 96-bit nonces; a version is retired from
//! encryption after [`keyring::MAX_ENCRYPTIONS_PER_VERSION`] messages, far below the 2³²
//! NIST SP 800-38D allows for random nonces, so rotation happens before nonce collisions
//! become a risk.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aws_kms;
pub mod backup;
mod cache;
pub mod host;
pub mod keyring;
pub mod local;
pub mod pkcs11;
pub mod root;
pub mod sad;
pub mod sigv4;
pub mod tokens;

use std::path::Path;
use std::sync::Arc;

use evident_core::{Error, Result};

pub use evident_core::aead::{open, random_key, seal};
pub use evident_core::key_provider::KeyProvider;

/// The root key of the provider `EVIDENT_KEY_PROVIDER` names, as the data directory opens
/// it to unseal its own key files ([`evident_core::datadir::RootSource`]).
pub struct EnvRoot;

impl evident_core::datadir::RootSource for EnvRoot {
    fn requested(&self) -> Result<String> {
        requested_provider()
    }

    fn open(&self, dir: &Path) -> Result<Arc<dyn KeyProvider>> {
        provider_from_env(dir, false)
    }
}

/// The providers `EVIDENT_KEY_PROVIDER` may name.
pub const PROVIDERS: &[&str] = &["local", "pkcs11", "aws-kms"];

/// The provider kind `EVIDENT_KEY_PROVIDER` asks for (`local` when unset); an unknown one is
/// refused with the list.
pub fn requested_provider() -> Result<String> {
    let kind = match std::env::var("EVIDENT_KEY_PROVIDER") {
        Ok(kind) if !kind.trim().is_empty() => kind.trim().to_string(),
        _ => "local".into(),
    };
    if !PROVIDERS.contains(&kind.as_str()) {
        return Err(Error::Crypto(format!(
            "EVIDENT_KEY_PROVIDER {kind:?} is not a key provider: use one of {}",
            PROVIDERS.join(", ")
        )));
    }
    Ok(kind)
}

/// The root-key provider `EVIDENT_KEY_PROVIDER` names (default `local`), opened with its own
/// settings from the environment; with `create`, a missing root key is made.
pub fn provider_from_env(dir: &Path, create: bool) -> Result<Arc<dyn KeyProvider>> {
    match requested_provider()?.as_str() {
        "local" => Ok(Arc::new(local::LocalProvider::open(dir, create)?)),
        "pkcs11" => Ok(Arc::new(pkcs11::Pkcs11Provider::open(
            &pkcs11::Pkcs11Settings::from_env()?,
            create,
        )?)),
        "aws-kms" => Ok(Arc::new(aws_kms::KmsProvider::open(
            aws_kms::KmsSettings::from_env()?,
            create,
        )?)),
        other => Err(Error::Crypto(format!("no key provider {other:?}"))),
    }
}
