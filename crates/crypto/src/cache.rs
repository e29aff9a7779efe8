//! The keys a process has unwrapped, their encryption counters, and recently read version
//! lists and regulated-key names: kept once per engine so that encrypt and decrypt do not
//! touch the store, and re-read after a short time so another process's changes are seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use evident_core::store::StoredKeyVersion;
use evident_core::{Error, Result};
use zeroize::Zeroizing;

/// Encryptions one key version may make before it must be rotated: 2³¹, half of what NIST
/// SP 800-38D allows with random 96-bit nonces.
pub const MAX_ENCRYPTIONS_PER_VERSION: u64 = 1 << 31;

/// How long a key's version list is trusted before it is read again: changes made by
/// another process (a CLI rotation while the server runs) are seen within this time.
const METADATA_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// A key's version list and when it was read.
type CachedVersions = (std::time::Instant, Arc<Vec<StoredKeyVersion>>);

/// Unwrapped version keys, their in-memory encryption counters, and recently read version
/// lists, kept by the engine so that encrypt and decrypt do not touch the store.
#[derive(Default)]
pub struct KeyCache {
    versions: Mutex<HashMap<(String, u32), CachedVersion>>,
    metadata: Mutex<HashMap<String, CachedVersions>>,
    regulated: Mutex<Option<(std::time::Instant, Arc<Vec<String>>)>>,
}

struct CachedVersion {
    key: Arc<Zeroizing<Vec<u8>>>,
    used: u64,
    reserved: u64,
}

impl KeyCache {
    pub(crate) fn metadata(&self, name: &str) -> Option<Arc<Vec<StoredKeyVersion>>> {
        let cache = self.metadata.lock().ok()?;
        let (read_at, versions) = cache.get(name)?;
        (read_at.elapsed() < METADATA_TTL).then(|| versions.clone())
    }

    pub(crate) fn set_metadata(&self, name: &str, versions: Arc<Vec<StoredKeyVersion>>) {
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(name.to_owned(), (std::time::Instant::now(), versions));
        }
    }

    /// The regulated key names, re-read after [`METADATA_TTL`].
    pub(crate) fn regulated(
        &self,
        load: impl FnOnce() -> Result<Vec<String>>,
    ) -> Result<Arc<Vec<String>>> {
        if let Ok(cache) = self.regulated.lock() {
            if let Some((at, names)) = cache.as_ref() {
                if at.elapsed() < METADATA_TTL {
                    return Ok(names.clone());
                }
            }
        }
        let names = Arc::new(load()?);
        if let Ok(mut cache) = self.regulated.lock() {
            *cache = Some((std::time::Instant::now(), names.clone()));
        }
        Ok(names)
    }

    pub(crate) fn forget_regulated(&self) {
        if let Ok(mut cache) = self.regulated.lock() {
            *cache = None;
        }
    }

    pub(crate) fn forget_metadata(&self, name: &str) {
        if let Ok(mut cache) = self.metadata.lock() {
            cache.remove(name);
        }
    }

    pub(crate) fn get(&self, name: &str, version: u32) -> Option<Arc<Zeroizing<Vec<u8>>>> {
        let cache = self.versions.lock().ok()?;
        cache
            .get(&(name.to_owned(), version))
            .map(|c| c.key.clone())
    }

    pub(crate) fn insert(
        &self,
        name: &str,
        version: u32,
        key: Arc<Zeroizing<Vec<u8>>>,
        reserved: u64,
    ) {
        if let Ok(mut cache) = self.versions.lock() {
            cache.insert(
                (name.to_owned(), version),
                // Whatever was reserved before this process may have been used.
                CachedVersion {
                    key,
                    used: reserved,
                    reserved,
                },
            );
        }
    }

    pub(crate) fn forget(&self, name: &str, version: u32) {
        if let Ok(mut cache) = self.versions.lock() {
            cache.remove(&(name.to_owned(), version));
        }
    }

    /// Counts one encryption; answers `Some(())` when the reservation is used up and the
    /// store must reserve more first.
    pub(crate) fn take_use(&self, name: &str, version: u32) -> Result<Option<()>> {
        let mut cache = self
            .versions
            .lock()
            .map_err(|_| Error::Crypto("key cache poisoned".into()))?;
        let entry = cache
            .get_mut(&(name.to_owned(), version))
            .ok_or_else(|| Error::Crypto("key version left the cache".into()))?;
        if entry.used >= MAX_ENCRYPTIONS_PER_VERSION {
            return Err(Error::Crypto(format!(
                "version {version} of `{name}` has made {MAX_ENCRYPTIONS_PER_VERSION} encryptions; rotate it"
            )));
        }
        if entry.used >= entry.reserved {
            return Ok(Some(()));
        }
        entry.used += 1;
        Ok(None)
    }

    pub(crate) fn set_reserved(&self, name: &str, version: u32, reserved: u64) {
        if let Ok(mut cache) = self.versions.lock() {
            if let Some(entry) = cache.get_mut(&(name.to_owned(), version)) {
                entry.reserved = reserved;
            }
        }
    }
}
