//! The keys an erasure needs, behind [`ErasureKeys`]: a keyed hash under a named keyring key
//! (`keyed_hash`), sealing under the data subject's own key (`encrypt_then_shred`; erasing
//! the subject in the ledger destroys that key), and the key the `random` strategy's filler
//! values are drawn from. [`KeyringKeys`] is the crypto part's keyring; [`LocalKeys`] holds
//! one secret in memory (tests, and tools that run without an engine).

use std::cell::RefCell;
use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use ring::hmac;
use zeroize::Zeroizing;

use evident_crypto::keyring::Keyring;

use crate::{Error, Result};

/// The scheme tag of an erasure's keyed hash: `eh1.v<N>.<base64url of 16 bytes>`.
pub const HASH_SCHEME: &str = "eh1";
/// The keyring key the `random` strategy's filler values are derived from.
pub const FILLER_KEY: &str = "privacy.dsr.filler";
/// Label of the keyed-hash key derivation.
const HASH_LABEL: &str = "privacy.dsr.keyed_hash";
/// Label of the filler key derivation.
const FILLER_LABEL: &str = "privacy.dsr.filler";

/// What erasure asks of the key material.
pub trait ErasureKeys {
    /// The HMAC-SHA-256 of `value` under keyring key `key`, as `eh1.v<N>.<base64url>`: the
    /// same value gives the same hash in every table, so joins on it survive.
    fn keyed_hash(&self, key: &str, value: &str) -> Result<String>;
    /// `value` sealed under the subject's own key, bound to `context`.
    fn seal_for_subject(&self, subject: &str, value: &str, context: &str) -> Result<String>;
    /// 32 bytes for `label` from the filler key: the same row and column always get the same
    /// filler, which owes nothing to the value it replaces (so erasing twice changes nothing).
    fn filler(&self, label: &str) -> Result<[u8; 32]>;
}

/// Whether `value` is a keyed hash this module made.
pub fn is_keyed_hash(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix(HASH_SCHEME)
        .and_then(|r| r.strip_prefix(".v"))
    else {
        return false;
    };
    let Some((version, tag)) = rest.split_once('.') else {
        return false;
    };
    version.parse::<u32>().is_ok() && B64URL.decode(tag).is_ok_and(|t| t.len() == 16)
}

/// Whether `value` is a ciphertext under a data subject's own key.
pub fn is_sealed(value: &str) -> bool {
    evident_crypto::keyring::parse_ciphertext(value)
        .is_ok_and(|(_, name, _)| name.starts_with("subject."))
}

fn hash_with(key: &[u8], version: u32, value: &str) -> String {
    let mac = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&mac, value.as_bytes());
    format!(
        "{HASH_SCHEME}.v{version}.{}",
        B64URL.encode(&tag.as_ref()[..16])
    )
}

fn filler_with(key: &[u8], label: &str) -> [u8; 32] {
    let mac = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut out = [0u8; 32];
    out.copy_from_slice(hmac::sign(&mac, label.as_bytes()).as_ref());
    out
}

/// A derived key and the key version it came from.
type Derived = (u32, Zeroizing<[u8; 32]>);

/// The crypto part's keyring: derived keys are cached for the run.
pub struct KeyringKeys<'k, 'e> {
    keyring: &'k Keyring<'e>,
    actor: String,
    derived: RefCell<BTreeMap<String, Derived>>,
}

impl<'k, 'e> KeyringKeys<'k, 'e> {
    /// Keys from `keyring`; `actor` is named when the filler key is made on first use.
    pub fn new(keyring: &'k Keyring<'e>, actor: &str) -> Self {
        Self {
            keyring,
            actor: actor.into(),
            derived: RefCell::new(BTreeMap::new()),
        }
    }

    fn derive(&self, name: &str, label: &str, create: bool) -> Result<Derived> {
        if let Some((v, k)) = self.derived.borrow().get(name) {
            return Ok((*v, k.clone()));
        }
        let found = match self.keyring.derive_key(name, None, label) {
            Err(evident_core::Error::NotFound(_)) if create => {
                match self.keyring.create(name, &self.actor) {
                    Ok(_) | Err(evident_core::Error::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                self.keyring.derive_key(name, None, label)?
            }
            Err(evident_core::Error::NotFound(_)) => {
                return Err(Error::BadRequest(format!(
                    "the data map's keyed_hash key `{name}` does not exist; create it with `evident keys create {name}`"
                )))
            }
            other => other?,
        };
        self.derived
            .borrow_mut()
            .insert(name.into(), (found.0, found.1.clone()));
        Ok(found)
    }
}

impl ErasureKeys for KeyringKeys<'_, '_> {
    fn keyed_hash(&self, key: &str, value: &str) -> Result<String> {
        let (version, k) = self.derive(key, HASH_LABEL, false)?;
        Ok(hash_with(k.as_slice(), version, value))
    }

    fn seal_for_subject(&self, subject: &str, value: &str, context: &str) -> Result<String> {
        Ok(self.keyring.encrypt_for_subject(
            subject,
            value.as_bytes(),
            context.as_bytes(),
            &self.actor,
        )?)
    }

    fn filler(&self, label: &str) -> Result<[u8; 32]> {
        let (_, k) = self.derive(FILLER_KEY, FILLER_LABEL, true)?;
        Ok(filler_with(k.as_slice(), label))
    }
}

/// One in-memory secret for every key (tests; tools without an engine). Sealed values are
/// AES-GCM under a key derived from the secret and the subject, named like a subject key.
pub struct LocalKeys {
    secret: Zeroizing<[u8; 32]>,
}

impl LocalKeys {
    /// Keys from `secret`.
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            secret: Zeroizing::new(secret),
        }
    }
}

impl ErasureKeys for LocalKeys {
    fn keyed_hash(&self, key: &str, value: &str) -> Result<String> {
        let k = filler_with(self.secret.as_slice(), &format!("{HASH_LABEL}|{key}"));
        Ok(hash_with(&k, 1, value))
    }

    fn seal_for_subject(&self, subject: &str, value: &str, context: &str) -> Result<String> {
        let k = filler_with(self.secret.as_slice(), &format!("subject|{subject}"));
        let name = format!("subject.{}", hex::encode(&k[..12]));
        let sealed = evident_core::aead::seal(&k, context.as_bytes(), value.as_bytes())?;
        Ok(format!("evident:v1:{name}:{}", B64URL.encode(sealed)))
    }

    fn filler(&self, label: &str) -> Result<[u8; 32]> {
        Ok(filler_with(
            self.secret.as_slice(),
            &format!("{FILLER_LABEL}|{label}"),
        ))
    }
}
