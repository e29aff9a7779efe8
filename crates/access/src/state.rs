//! What the access part holds: [`Access`], its handle over an engine, and [`AccessState`],
//! the engine's cache of the active pack. This is how every decision, search and review
//! finds the pack it works against, and how a stored policy version is read back and
//! checked against its hash.
//!
//! The active version is whatever the store's `policy_active` says. A process trusts its
//! cached pack for a second before asking the store again, since another process
//! (`evident policy apply`) may have changed it; under load one caller asks while the others
//! keep deciding with the cached pack.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::pack::{self, CompiledPack, PackFiles};
use evident_core::recorder::Recorder;
use evident_core::store::StoredPolicyVersion;
use evident_core::{Error, Result};

/// How long a process trusts its cached active version before asking the store again
/// (another process, `evident policy apply`, may have changed it).
const RECHECK: Duration = Duration::from_secs(1);

/// The engine's cache of the active pack.
#[derive(Default)]
pub struct AccessState {
    /// The active pack and when it was last checked against the store.
    pub(crate) cached: RwLock<Option<(Arc<CompiledPack>, Instant)>>,
    /// Set while one caller asks the store whether the cached pack is still the active one.
    refreshing: std::sync::atomic::AtomicBool,
    /// Held while a version is applied, so two applies never claim one version number.
    pub(crate) applying: std::sync::Mutex<()>,
}

/// Clears [`AccessState::refreshing`] however the refresh ends.
struct RefreshDone<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for RefreshDone<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// The access part over an engine: its ledger and store ([`Recorder`]) and this process's
/// cache of the active pack ([`AccessState`]).
pub struct Access<'e> {
    /// The engine: its ledger and store.
    pub(crate) recorder: &'e dyn Recorder,
    /// The engine's cache of the active pack.
    pub(crate) state: &'e AccessState,
}

impl<'e> Access<'e> {
    /// The access part over `recorder`, caching the active pack in `state` (one per engine).
    pub fn new(recorder: &'e dyn Recorder, state: &'e AccessState) -> Self {
        Access { recorder, state }
    }

    /// The active pack, if one was ever applied.
    pub fn active(&self) -> Result<Option<Arc<CompiledPack>>> {
        self.active_within(RECHECK)
    }

    /// The active pack, from the cache if it was checked less than `staleness` ago (with
    /// zero, always from the store).
    pub(crate) fn active_within(&self, staleness: Duration) -> Result<Option<Arc<CompiledPack>>> {
        let state = &self.state;
        let mut _refresh = None;
        if let Some((pack, checked)) = state.cached.read().ok().and_then(|c| c.clone()) {
            if checked.elapsed() < staleness {
                return Ok(Some(pack));
            }
            // One caller asks the store; under load the others keep deciding with the cached
            // pack, a moment staler, rather than all asking at once and stalling the server.
            // A caller that needs the current version (staleness zero) always asks.
            if !staleness.is_zero() {
                if state
                    .refreshing
                    .swap(true, std::sync::atomic::Ordering::AcqRel)
                {
                    return Ok(Some(pack));
                }
                _refresh = Some(RefreshDone(&state.refreshing));
            }
        }
        let store = self.recorder.pooled_store()?;
        let Some(active) = store.meta("policy_active")? else {
            return Ok(None);
        };
        let version: u64 = active
            .parse()
            .map_err(|_| Error::Integrity(format!("policy_active is `{active}`")))?;
        let cached = state.cached.read().ok().and_then(|c| c.clone());
        let pack = match cached {
            Some((pack, _)) if pack.version == version => pack,
            _ => {
                let stored = store.policy_version(version)?.ok_or_else(|| {
                    Error::Integrity(format!("the active policy version {version} is missing"))
                })?;
                Arc::new(load_stored(&stored)?)
            }
        };
        if let Ok(mut c) = state.cached.write() {
            *c = Some((pack.clone(), Instant::now()));
        }
        Ok(Some(pack))
    }

    /// The active pack, or a clear error saying how to get one.
    pub fn require_active(&self) -> Result<Arc<CompiledPack>> {
        self.active()?.ok_or_else(|| {
            Error::NotFound(
                "no policy pack is active; apply one with `evident policy apply DIR`".into(),
            )
        })
    }
}

/// A stored version, compiled again and checked against the hash it was stored with.
fn load_stored(stored: &StoredPolicyVersion) -> Result<CompiledPack> {
    let files = files_of(stored)?;
    let mut pack = pack::compile(files)?;
    if pack.hash != stored.hash {
        return Err(Error::Integrity(format!(
            "policy version {} hashes to {} but was stored as {}",
            stored.version, pack.hash, stored.hash
        )));
    }
    pack.version = stored.version;
    Ok(pack)
}

/// The pack files a stored version holds.
pub(crate) fn files_of(stored: &StoredPolicyVersion) -> Result<PackFiles> {
    serde_json::from_str(stored.files.as_deref().unwrap_or("{}")).map_err(|e| {
        Error::Integrity(format!(
            "policy version {} is not readable: {e}",
            stored.version
        ))
    })
}
