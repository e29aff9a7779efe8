//! Named, versioned keys and the encryption service over them (a transit engine): create,
//! rotate, disable, enable, destroy — each a ledger event — and encrypt, decrypt, rewrap and
//! data keys. A ciphertext names its key and version: `evident:v3:payments:<base64url>`, and
//! its associated data binds it to the caller's context (tenant, record id).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use serde::Serialize;
use zeroize::Zeroizing;

pub use crate::cache::{KeyCache, MAX_ENCRYPTIONS_PER_VERSION};
use crate::host::KeyHost;
use evident_core::aead::{open, random_key, seal};
use evident_core::event::{now_us, system_event, Severity};
use evident_core::key_provider::KeyProvider;
use evident_core::store::{LogStore, StoredKeyVersion};
use evident_core::{Error, Result};

/// Encryptions reserved in the store at a time, so a count is never lost to a crash.
const RESERVE_BLOCK: u64 = 256;

/// A version's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyState {
    /// encrypts and decrypts (the newest version)
    Active,
    /// decrypts only (rotated out)
    DecryptOnly,
    /// neither, until enabled again
    Disabled,
    /// its material is gone; its ciphertexts are unreadable for good
    Destroyed,
}

impl KeyState {
    fn parse(s: &str) -> KeyState {
        match s {
            "active" => KeyState::Active,
            "decrypt-only" => KeyState::DecryptOnly,
            "disabled" => KeyState::Disabled,
            _ => KeyState::Destroyed,
        }
    }
}

/// What `evident keys list` shows of one version (never key material).
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// 1, 2, …
    pub version: u32,
    /// its state
    pub state: KeyState,
    /// creation time, RFC 3339
    pub created: String,
    /// age in seconds
    pub age_seconds: i64,
    /// encryptions reserved (an upper bound of those made)
    pub encryptions: u64,
}

/// One named key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// its name
    pub name: String,
    /// its versions, oldest first
    pub versions: Vec<VersionInfo>,
    /// whether decrypting with it needs an access decision
    pub regulated: bool,
}

/// The encryption service over one engine and one root-key provider.
pub struct Keyring<'e> {
    engine: KeyHost<'e>,
    provider: Arc<dyn KeyProvider>,
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "key name {:?}: 1–64 characters of a-z, 0-9, `-`, `_`, `.`",
            name.chars().take(70).collect::<String>()
        )))
    }
}

fn aad(name: &str, version: u32, context: &[u8]) -> Vec<u8> {
    let mut aad = format!("evident:v{version}:{name}").into_bytes();
    aad.push(0);
    aad.extend_from_slice(context);
    aad
}

/// Splits `evident:v<N>:<name>:<base64url>` into version, key name and sealed bytes.
pub fn parse_ciphertext(text: &str) -> Result<(u32, &str, Vec<u8>)> {
    let bad = || {
        Error::BadRequest(
            "not an Evident ciphertext (expected `evident:v<N>:<key>:<base64url>`)".into(),
        )
    };
    let rest = text.trim().strip_prefix("evident:v").ok_or_else(bad)?;
    let (version, rest) = rest.split_once(':').ok_or_else(bad)?;
    let (name, body) = rest.split_once(':').ok_or_else(bad)?;
    let version: u32 = version.parse().map_err(|_| bad())?;
    check_name(name)?;
    let body = B64URL.decode(body).map_err(|_| bad())?;
    Ok((version, name, body))
}

impl<'e> Keyring<'e> {
    /// The keyring of `engine` with `provider` holding the root key.
    pub fn new(engine: KeyHost<'e>, provider: Arc<dyn KeyProvider>) -> Keyring<'e> {
        Keyring { engine, provider }
    }

    /// Where the root key lives, in words.
    pub fn provider(&self) -> String {
        self.provider.describe()
    }

    /// The provider's kind: `local`, `pkcs11`, …
    pub fn provider_kind(&self) -> &'static str {
        self.provider.kind()
    }

    /// Wraps a key directly under the root key (for material that must be recoverable
    /// without the keyring's own table, such as a backup's data key).
    pub fn wrap_with_root(&self, key: &[u8]) -> Result<Vec<u8>> {
        self.provider.wrap(key)
    }

    fn store(&self) -> Result<Box<dyn LogStore>> {
        self.engine.connect_store()
    }

    fn log(
        &self,
        action: &str,
        name: &str,
        version: u32,
        actor: &str,
        severity: Severity,
    ) -> Result<()> {
        let mut event = system_event(
            action,
            "crypto_key",
            Some(name),
            serde_json::json!({"version": version, "requested_by": actor, "provider": self.provider.describe()}),
        );
        event.severity = Some(severity);
        self.engine.append_blocking(vec![event])?;
        Ok(())
    }

    fn new_version(&self, name: &str) -> Result<u32> {
        let key = random_key()?;
        let wrapped = self.provider.wrap(key.as_ref())?;
        let version = self.store()?.insert_key_version(name, &wrapped, now_us());
        self.engine.key_cache().forget_metadata(name);
        version
    }

    /// Creates a key (version 1); logged.
    pub fn create(&self, name: &str, actor: &str) -> Result<u32> {
        check_name(name)?;
        // A name is stored, logged and written into every ciphertext as given: a card number
        // or an SSN for a name would escape the ledger's masking everywhere at once.
        if let Some(found) = self.engine.redaction().sensitive(name) {
            return Err(Error::BadRequest(format!(
                "a key name is stored and logged as given; this one holds {found}"
            )));
        }
        if !self.store()?.key_versions(name)?.is_empty() {
            return Err(Error::Conflict(format!(
                "the key `{name}` already exists; rotate it instead"
            )));
        }
        let version = self.new_version(name)?;
        self.log(
            "evident.key.created",
            name,
            version,
            actor,
            Severity::Medium,
        )?;
        Ok(version)
    }

    /// Marks a key as protecting regulated data (PHI, cardholder data) or not. Decrypting
    /// with a regulated key needs an allow from the access part (action `decrypt` on
    /// `EncryptionKey::"NAME"`), and that decision is logged. Logged itself.
    pub fn classify(&self, name: &str, regulated: bool, actor: &str) -> Result<()> {
        check_name(name)?;
        if self.store()?.key_versions(name)?.is_empty() {
            return Err(Error::NotFound(format!("no key named `{name}`")));
        }
        let mut event = system_event(
            "evident.key.classified",
            "crypto_key",
            Some(name),
            serde_json::json!({"regulated": regulated, "requested_by": actor}),
        );
        event.severity = Some(Severity::Medium);
        self.engine.append_blocking(vec![event])?;
        self.store()?.set_key_regulated(name, regulated)?;
        self.engine.key_cache().forget_regulated();
        Ok(())
    }

    /// Whether decrypting with `name` needs an access decision.
    pub fn is_regulated(&self, name: &str) -> Result<bool> {
        self.engine.key_is_regulated(name)
    }

    /// Makes a new version the active one; older versions only decrypt. Logged.
    pub fn rotate(&self, name: &str, actor: &str) -> Result<u32> {
        check_name(name)?;
        if self.store()?.key_versions(name)?.is_empty() {
            return Err(Error::NotFound(format!("no key named `{name}`")));
        }
        let version = self.new_version(name)?;
        self.log(
            "evident.key.rotated",
            name,
            version,
            actor,
            Severity::Medium,
        )?;
        Ok(version)
    }

    /// Rotates every key whose active version is older than `max_age_seconds`; answers the
    /// keys rotated.
    pub fn rotate_older_than(
        &self,
        max_age_seconds: i64,
        actor: &str,
    ) -> Result<Vec<(String, u32)>> {
        let mut rotated = Vec::new();
        for key in self.list()? {
            let stale = key
                .versions
                .iter()
                .find(|v| v.state == KeyState::Active)
                .is_some_and(|v| v.age_seconds > max_age_seconds);
            if stale {
                rotated.push((key.name.clone(), self.rotate(&key.name, actor)?));
            }
        }
        Ok(rotated)
    }

    fn change_state(
        &self,
        name: &str,
        version: u32,
        to: &str,
        action: &str,
        actor: &str,
    ) -> Result<()> {
        let versions = self.store()?.key_versions(name)?;
        let current = versions
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| Error::NotFound(format!("no version {version} of `{name}`")))?;
        if current.state == "destroyed" {
            return Err(Error::BadRequest(format!(
                "version {version} of `{name}` is destroyed"
            )));
        }
        let newest = versions.iter().map(|v| v.version).max().unwrap_or(version);
        let to = if to == "enabled" {
            if version == newest {
                "active"
            } else {
                "decrypt-only"
            }
        } else {
            to
        };
        self.store()?.set_key_state(name, version, to)?;
        self.engine.key_cache().forget(name, version);
        self.engine.key_cache().forget_metadata(name);
        self.log(action, name, version, actor, Severity::High)
    }

    /// Stops a version from encrypting or decrypting until it is enabled. Logged.
    pub fn disable(&self, name: &str, version: u32, actor: &str) -> Result<()> {
        self.change_state(name, version, "disabled", "evident.key.disabled", actor)
    }

    /// Undoes [`Keyring::disable`]. Logged.
    pub fn enable(&self, name: &str, version: u32, actor: &str) -> Result<()> {
        self.change_state(name, version, "enabled", "evident.key.enabled", actor)
    }

    /// Forgets a version's material for good: its ciphertexts can never be read again.
    /// Logged at high severity; the ledger still verifies.
    pub fn destroy(&self, name: &str, version: u32, actor: &str) -> Result<()> {
        destroy_version(&self.engine, name, version, actor, None)
    }

    /// Encrypts under the data subject's own key, made on first use (logged): erasing the
    /// subject (`Engine::erase_subject`) destroys that key, and with it every such
    /// ciphertext (crypto-shredding). The key name carries a keyed hash, never the subject.
    pub fn encrypt_for_subject(
        &self,
        subject: &str,
        plaintext: &[u8],
        context: &[u8],
        actor: &str,
    ) -> Result<String> {
        if subject.is_empty() {
            return Err(Error::BadRequest("the subject must not be empty".into()));
        }
        let name = self.engine.redaction().subject_key_name(subject);
        if self.store()?.key_versions(&name)?.is_empty() {
            match self.create(&name, actor) {
                Ok(_) => {}
                // another caller made it meanwhile
                Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.encrypt(&name, plaintext, context)
    }

    /// Every key with its versions, states, ages and usage counts.
    pub fn list(&self) -> Result<Vec<KeyInfo>> {
        let store = self.store()?;
        let now = now_us();
        let mut keys = Vec::new();
        for name in store.key_names()? {
            let versions = store
                .key_versions(&name)?
                .into_iter()
                .map(|v| VersionInfo {
                    version: v.version,
                    state: KeyState::parse(&v.state),
                    created: evident_core::event::format_time(v.created_us),
                    age_seconds: (now - v.created_us) / 1_000_000,
                    encryptions: v.uses,
                })
                .collect();
            let regulated = self.engine.key_is_regulated(&name)?;
            keys.push(KeyInfo {
                name,
                versions,
                regulated,
            });
        }
        Ok(keys)
    }

    /// The unwrapped key of a version, if its state allows `purpose`.
    /// The version list of `name`, from the cache when fresh.
    fn versions(&self, name: &str) -> Result<Arc<Vec<StoredKeyVersion>>> {
        let cache = self.engine.key_cache();
        if let Some(fresh) = cache.metadata(name) {
            return Ok(fresh);
        }
        let versions = Arc::new(self.store()?.key_versions(name)?);
        cache.set_metadata(name, versions.clone());
        Ok(versions)
    }

    fn version_key(
        &self,
        name: &str,
        version: Option<u32>,
        encrypting: bool,
    ) -> Result<(u32, Arc<Zeroizing<Vec<u8>>>)> {
        let versions = self.versions(name)?;
        if versions.is_empty() {
            return Err(Error::NotFound(format!("no key named `{name}`")));
        }
        let chosen = match version {
            Some(v) => versions
                .iter()
                .find(|k| k.version == v)
                .ok_or_else(|| Error::NotFound(format!("no version {v} of `{name}`")))?,
            None => versions
                .iter()
                .find(|k| k.state == "active")
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "`{name}` has no active version (rotate or enable one)"
                    ))
                })?,
        };
        match (KeyState::parse(&chosen.state), encrypting) {
            (KeyState::Destroyed, _) => {
                return Err(Error::Crypto(format!(
                    "version {} of `{name}` was destroyed; what it encrypted can no longer be read",
                    chosen.version
                )))
            }
            (KeyState::Disabled, _) => {
                return Err(Error::Crypto(format!(
                    "version {} of `{name}` is disabled",
                    chosen.version
                )))
            }
            (KeyState::DecryptOnly, true) => {
                return Err(Error::Crypto(format!(
                    "version {} of `{name}` only decrypts",
                    chosen.version
                )))
            }
            _ => {}
        }
        let cache = self.engine.key_cache();
        if let Some(key) = cache.get(name, chosen.version) {
            return Ok((chosen.version, key));
        }
        let wrapped = chosen.wrapped.as_deref().ok_or_else(|| {
            Error::Crypto(format!(
                "version {} of `{name}` has no material",
                chosen.version
            ))
        })?;
        let key = Arc::new(self.provider.unwrap_key(wrapped).map_err(|_| {
            Error::Crypto(format!(
                "the root key does not unwrap `{name}` v{}: wrong root key",
                chosen.version
            ))
        })?);
        cache.insert(name, chosen.version, key.clone(), chosen.uses);
        Ok((chosen.version, key))
    }

    fn count_use(&self, name: &str, version: u32) -> Result<()> {
        let cache = self.engine.key_cache();
        if cache.take_use(name, version)?.is_some() {
            // Reserve in the store before using: after a crash the count can only be high.
            let reserved = self
                .store()?
                .reserve_key_uses(name, version, RESERVE_BLOCK)?;
            cache.set_reserved(name, version, reserved);
            if cache.take_use(name, version)?.is_some() {
                return Err(Error::Crypto(format!(
                    "could not reserve encryptions for `{name}` v{version}"
                )));
            }
        }
        Ok(())
    }

    /// Encrypts `plaintext` under the active version of `name`, bound to `context`.
    pub fn encrypt(&self, name: &str, plaintext: &[u8], context: &[u8]) -> Result<String> {
        check_name(name)?;
        let (version, key) = self.version_key(name, None, true)?;
        self.count_use(name, version)?;
        let sealed = seal(key.as_slice(), &aad(name, version, context), plaintext)?;
        Ok(format!(
            "evident:v{version}:{name}:{}",
            B64URL.encode(sealed)
        ))
    }

    /// [`Keyring::encrypt`] when everything it needs is already in memory (a fresh version
    /// list, the unwrapped active version, encryptions left in the reservation); `None` when
    /// the call would touch the store or the key provider, so that an async caller can do it
    /// inline and move only the rare slow call to a blocking thread.
    pub fn encrypt_if_cached(
        &self,
        name: &str,
        plaintext: &[u8],
        context: &[u8],
    ) -> Option<Result<String>> {
        let cache = self.engine.key_cache();
        let versions = cache.metadata(name)?;
        let active = versions.iter().find(|k| k.state == "active")?;
        let key = cache.get(name, active.version)?;
        if !matches!(cache.take_use(name, active.version), Ok(None)) {
            return None;
        }
        let version = active.version;
        Some(
            seal(key.as_slice(), &aad(name, version, context), plaintext)
                .map(|sealed| format!("evident:v{version}:{name}:{}", B64URL.encode(sealed))),
        )
    }

    /// [`Keyring::decrypt`] when the version is in memory (see
    /// [`Keyring::encrypt_if_cached`]); `None` when it would touch the store or provider.
    pub fn decrypt_if_cached(
        &self,
        ciphertext: &str,
        context: &[u8],
    ) -> Option<Result<Zeroizing<Vec<u8>>>> {
        let (version, name, body) = match parse_ciphertext(ciphertext) {
            Ok(parsed) => parsed,
            Err(e) => return Some(Err(e)),
        };
        let cache = self.engine.key_cache();
        let versions = cache.metadata(name)?;
        let chosen = versions.iter().find(|k| k.version == version)?;
        if !matches!(chosen.state.as_str(), "active" | "decrypt-only") {
            return None;
        }
        let key = cache.get(name, version)?;
        Some(open(key.as_slice(), &aad(name, version, context), &body))
    }

    /// Decrypts what [`Keyring::encrypt`] made, with the same context.
    pub fn decrypt(&self, ciphertext: &str, context: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let (version, name, body) = parse_ciphertext(ciphertext)?;
        let (_, key) = self.version_key(name, Some(version), false)?;
        open(key.as_slice(), &aad(name, version, context), &body)
    }

    /// Re-encrypts under the newest version without showing the plaintext to the caller.
    pub fn rewrap(&self, ciphertext: &str, context: &[u8]) -> Result<String> {
        let (_, name, _) = parse_ciphertext(ciphertext)?;
        let name = name.to_owned();
        let plaintext = self.decrypt(ciphertext, context)?;
        self.encrypt(&name, &plaintext, context)
    }

    /// A 256-bit key derived from a version of `name` (the active one when `version` is
    /// `None`) for a use other than encryption (keyed hashing, FF1): HMAC-SHA-256 keyed by the
    /// version's material over `evident-derive|LABEL`, so it is neither the material nor
    /// another label's key. Answers the version used; an older (decrypt-only) version may be
    /// named to reproduce what it made, a disabled or destroyed one is refused. Not counted as
    /// an encryption, not logged (the caller logs what it does with the key).
    pub fn derive_key(
        &self,
        name: &str,
        version: Option<u32>,
        label: &str,
    ) -> Result<(u32, Zeroizing<[u8; 32]>)> {
        check_name(name)?;
        let (version, material) = self.version_key(name, version, false)?;
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, material.as_slice());
        let tag = ring::hmac::sign(&mac, format!("evident-derive|{label}").as_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(tag.as_ref());
        Ok((version, key))
    }

    /// A fresh 256-bit data key for local envelope encryption: the key itself (use it, then
    /// forget it) and the same key encrypted under `name` (store it beside the data).
    pub fn data_key(&self, name: &str, context: &[u8]) -> Result<(Zeroizing<[u8; 32]>, String)> {
        let key = random_key()?;
        let wrapped = self.encrypt(name, key.as_ref(), context)?;
        Ok((key, wrapped))
    }
}

/// Destroys one version (no root key needed: only the wrapped key is wiped); logged at high
/// severity, with why when it is part of something else (an erasure).
pub(crate) fn destroy_version(
    engine: &KeyHost<'_>,
    name: &str,
    version: u32,
    actor: &str,
    why: Option<&str>,
) -> Result<()> {
    if !engine.connect_store()?.destroy_key_version(name, version)? {
        return Err(Error::NotFound(format!(
            "no live version {version} of `{name}`"
        )));
    }
    engine.key_cache().forget(name, version);
    engine.key_cache().forget_metadata(name);
    let mut event = system_event(
        "evident.key.destroyed",
        "crypto_key",
        Some(name),
        serde_json::json!({"version": version, "requested_by": actor, "why": why}),
    );
    event.severity = Some(Severity::High);
    engine.append_blocking(vec![event])?;
    Ok(())
}

/// Destroys every live version of `name` (crypto-shredding); answers how many (0 when there is no such key).
pub fn shred(engine: &KeyHost<'_>, name: &str, actor: &str, why: &str) -> Result<u32> {
    let mut destroyed = 0;
    for v in engine.connect_store()?.key_versions(name)? {
        if v.state != "destroyed" {
            destroy_version(engine, name, v.version, actor, Some(why))?;
            destroyed += 1;
        }
    }
    Ok(destroyed)
}
