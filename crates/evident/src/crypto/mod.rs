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
//! - [`sad`]: refuses card verification codes, PIN blocks and track data (PCI DSS 3.3.1).
//!
//! AES-256-GCM comes from `ring`, with random 96-bit nonces; a version is retired from
//! encryption after [`keyring::MAX_ENCRYPTIONS_PER_VERSION`] messages, far below the 2³²
//! NIST SP 800-38D allows for random nonces, so rotation happens before nonce collisions
//! become a risk.

pub mod aws_kms;
pub mod keyring;
pub mod local;
pub mod pkcs11;
pub mod sad;
pub mod sigv4;
pub mod tokens;

use std::path::Path;
use std::sync::Arc;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Where the root key lives. Implementations never expose it: they only wrap and unwrap.
pub trait KeyProvider: Send + Sync {
    /// A short description for `evident keys list` (never key material).
    fn describe(&self) -> String;
    /// `local`, `pkcs11` or `aws-kms`: recorded in the data directory with the first key, so
    /// that opening it with another provider is refused with a clear message.
    fn kind(&self) -> &'static str;
    /// Encrypts a key under the root key.
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>>;
    /// Decrypts a key wrapped by [`KeyProvider::wrap`].
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
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

/// 32 random bytes from the operating system.
pub fn random_key() -> Result<Zeroizing<[u8; 32]>> {
    let mut key = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| Error::Crypto("the random source failed".into()))?;
    Ok(key)
}

/// AES-256-GCM with a random nonce: `nonce ‖ ciphertext ‖ tag`.
pub fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Crypto("bad key length".into()))?,
    );
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| Error::Crypto("the random source failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| Error::Crypto("encryption failed".into()))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens what [`seal`] made; any change to key, associated data or bytes is refused.
pub fn open(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(Error::Crypto("the ciphertext is truncated".into()));
    }
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Crypto("bad key length".into()))?,
    );
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::Crypto("bad nonce".into()))?;
    let mut buf = Zeroizing::new(body.to_vec());
    let plain_len = key
        .open_in_place(nonce, Aad::from(aad), buf.as_mut_slice())
        .map_err(|_| {
            Error::Crypto(
                "cannot decrypt: wrong key or context, or the ciphertext was altered".into(),
            )
        })?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any plaintext and context round-trip; any one flipped bit is refused.
        #[test]
        fn round_trip_and_any_bit_flip_is_refused(
            plaintext in proptest::collection::vec(any::<u8>(), 0..512),
            aad in proptest::collection::vec(any::<u8>(), 0..64),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let key = random_key().unwrap();
            let sealed = seal(key.as_ref(), &aad, &plaintext).unwrap();
            let opened = open(key.as_ref(), &aad, &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
            let mut bad = sealed.clone();
            let at = flip.index(bad.len());
            bad[at] ^= 1 << bit;
            prop_assert!(open(key.as_ref(), &aad, &bad).is_err());
        }
    }

    #[test]
    fn seal_open_round_trip_and_refusals() {
        let key = random_key().unwrap();
        let sealed = seal(key.as_ref(), b"ctx", b"hello").unwrap();
        assert_eq!(
            open(key.as_ref(), b"ctx", &sealed).unwrap().as_slice(),
            b"hello"
        );
        assert!(open(key.as_ref(), b"other", &sealed).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open(key.as_ref(), b"ctx", &flipped).is_err());
        assert!(open(key.as_ref(), b"ctx", &sealed[..10]).is_err());
        let other = random_key().unwrap();
        assert!(open(other.as_ref(), b"ctx", &sealed).is_err());
        assert_ne!(
            sealed,
            seal(key.as_ref(), b"ctx", b"hello").unwrap(),
            "fresh nonce each time"
        );
    }
}
