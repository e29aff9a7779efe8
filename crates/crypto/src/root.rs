//! The data directory's root key as an engine holds it: which provider, opened once and
//! checked against the one that wrapped the directory's stored keys; and sealing the
//! directory under it — its own key files and its personal values.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident_core::datadir::{self, RootOpener};
use evident_core::event::{system_event, Severity};
use evident_core::personal::{self, PersonalSeal};
use evident_core::recorder::Recorder;
use evident_core::store::LogStore;
use evident_core::{Error, Result};

use crate::{provider_from_env, random_key, requested_provider, KeyProvider};

/// Meta key of the personal-data key, wrapped by the root key (base64).
const PERSONAL_KEY_META: &str = "personal.key";

/// Meta key of the provider kind that wraps a directory's keys.
const PROVIDER_META: &str = "crypto.provider";

/// An engine's root-key provider: opened on first need, once.
#[derive(Default)]
pub struct RootKey {
    provider: OnceLock<Arc<dyn KeyProvider>>,
}

impl RootKey {
    /// One holding the provider `opener` opened to unseal the directory's key files, if it
    /// did: that provider serves the keyring too.
    pub fn from_opener(opener: &RootOpener) -> RootKey {
        let key = RootKey::default();
        if let Some(provider) = opener.opened() {
            let _ = key.provider.set(provider);
        }
        key
    }

    /// The provider, if it is open (never opens one: opening may stretch a passphrase or call
    /// a KMS, which an async caller must not wait for inline).
    pub fn get(&self) -> Option<Arc<dyn KeyProvider>> {
        self.provider.get().cloned()
    }

    /// Uses `provider` from now on; false if one was already in use.
    pub fn set(&self, provider: Arc<dyn KeyProvider>) -> bool {
        self.provider.set(provider).is_ok()
    }

    /// The provider `EVIDENT_KEY_PROVIDER` names (`local` by default), opened once; a
    /// missing root key is made if `create`. Refuses another provider than the one that
    /// wrapped this directory's keys, saying which to configure.
    pub fn open(&self, recorder: &dyn Recorder, create: bool) -> Result<Arc<dyn KeyProvider>> {
        if let Some(p) = self.provider.get() {
            return Ok(p.clone());
        }
        let requested = requested_provider()?;
        if let Some(recorded) = recorder.connect_store()?.meta(PROVIDER_META)? {
            if recorded != requested {
                return Err(provider_mismatch(&recorded, &requested));
            }
        }
        let opened = provider_from_env(recorder.dir(), create)?;
        check_provider(recorder, opened.as_ref())?;
        Ok(self.provider.get_or_init(|| opened).clone())
    }
}

/// Records which provider wraps this directory's keys (on first use) and refuses another:
/// its wrapped keys would not open, and the message says which provider to configure.
pub fn check_provider(recorder: &dyn Recorder, provider: &dyn KeyProvider) -> Result<()> {
    let recorded = recorder
        .connect_store()?
        .init_meta(PROVIDER_META, provider.kind())?;
    if recorded != provider.kind() {
        return Err(provider_mismatch(&recorded, provider.kind()));
    }
    Ok(())
}

fn provider_mismatch(recorded: &str, requested: &str) -> Error {
    Error::Crypto(format!(
        "this data directory's keys are wrapped by the `{recorded}` key provider, not `{requested}`: set EVIDENT_KEY_PROVIDER to `{recorded}` with its settings"
    ))
}

/// The directory's personal-data seal, if its personal values are sealed (opening the root
/// key with `root`).
pub fn personal_seal_of(
    store: &dyn LogStore,
    dir: &Path,
    root: &RootOpener,
) -> Result<Option<PersonalSeal>> {
    let Some(wrapped) = store.meta(PERSONAL_KEY_META)? else {
        return Ok(None);
    };
    let wrapped = B64
        .decode(wrapped)
        .map_err(|_| Error::DataDir("the personal-data key is damaged".into()))?;
    let key = root
        .get(dir)?
        .unwrap_key(&wrapped)
        .map_err(|_| Error::DataDir("the root key does not open the personal-data key".into()))?;
    Ok(Some(PersonalSeal::new(&key)?))
}

/// Seals the directory behind `recorder` under `provider`'s root key: its own key files
/// (`signing.key`, `redaction.key`), and every personal value, with a personal-data key made
/// once and kept in `seal` for the values appended from now on. Logged as
/// `evident.keys.sealed` when anything changed; answers the key files sealed now.
pub fn seal_directory(
    recorder: &dyn Recorder,
    provider: &Arc<dyn KeyProvider>,
    provider_label: &str,
    seal: &OnceLock<Arc<PersonalSeal>>,
    actor: &str,
) -> Result<Vec<&'static str>> {
    let sealed = datadir::seal_own_keys(recorder.dir(), provider)?;
    let resealed = seal_stored_personal(recorder, provider, seal)?;
    if sealed.is_empty() && resealed == 0 {
        // Nothing changed (already sealed): nothing to record.
        return Ok(sealed);
    }
    let mut event = system_event(
        "evident.keys.sealed",
        "data_dir",
        Some(recorder.origin()),
        serde_json::json!({"files": sealed, "personal_values_sealed": resealed, "provider": provider_label, "requested_by": actor}),
    );
    event.severity = Some(Severity::High);
    recorder.append_blocking(vec![event])?;
    Ok(sealed)
}

/// Makes the personal-data key (once, wrapped by `provider`), seals new personal values with
/// it from now on, and seals every stored one that is not sealed yet; answers how many.
fn seal_stored_personal(
    recorder: &dyn Recorder,
    provider: &Arc<dyn KeyProvider>,
    slot: &OnceLock<Arc<PersonalSeal>>,
) -> Result<u64> {
    let mut store = recorder.connect_store()?;
    if store.meta(PERSONAL_KEY_META)?.is_none() {
        let key = random_key()?;
        let wrapped = B64.encode(provider.wrap(key.as_ref())?);
        store.init_meta(PERSONAL_KEY_META, &wrapped)?;
    }
    let root = RootOpener::with(provider.clone());
    let seal = match slot.get() {
        Some(seal) => seal.clone(),
        None => {
            let seal = Arc::new(
                personal_seal_of(&*store, recorder.dir(), &root)?
                    .ok_or_else(|| Error::Crypto("no personal-data key".into()))?,
            );
            slot.get_or_init(|| seal).clone()
        }
    };
    store.reseal_personal(&mut |path, salt, value| {
        if personal::is_sealed(value) {
            Ok(None)
        } else {
            seal.seal(path, salt, value).map(Some)
        }
    })
}
