//! The data directory: `evident.db` (the embedded store's file), `signing.key` (the log's
//! Ed25519 key in `PRIVATE+KEY+…` form) and `redaction.key` (the pseudonym key), readable by
//! the owner only; making one, opening its keys, and checking a store belongs to it.
//!
//! `evident keys seal` (or `init --seal-keys`) seals both key files with the key hierarchy's
//! root key (`evident-sealed:v1:<provider>:<base64>`): from then on, opening the directory
//! needs the root key's provider. Which provider the environment names, and how it opens, is
//! the crypto part's business: it implements [`RootSource`], and the core only asks it.

use std::fs;
use std::path::{Path, PathBuf};

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident_ledger::note::Signer;
use zeroize::Zeroizing;

pub use crate::files::write_private_file;
use crate::key_provider::KeyProvider;
use crate::store::LogStore;
use crate::{Error, Result};

/// The database file name inside a data directory.
pub const DB_FILE: &str = "evident.db";
/// The signing key file name inside a data directory.
pub const KEY_FILE: &str = "signing.key";
/// The key of redaction pseudonyms inside a data directory.
pub const REDACTION_KEY_FILE: &str = "redaction.key";

/// The prefix of a key file sealed by the root key.
pub const SEALED_PREFIX: &str = "evident-sealed:v1:";

/// Where a root key comes from when a sealed key file needs one: the provider the
/// environment names, and how to open it. The crypto part implements it; tests may give
/// their own.
pub trait RootSource: Send + Sync {
    /// The provider kind the environment asks for.
    fn requested(&self) -> Result<String>;
    /// Opens that provider for the data directory `dir` (never makes a root key).
    fn open(&self, dir: &Path) -> Result<Arc<dyn KeyProvider>>;
}

/// Opens the root-key provider on first need, once (opening the `local` one stretches a
/// passphrase, which takes a moment).
pub struct RootOpener {
    source: Option<Arc<dyn RootSource>>,
    opened: OnceLock<Arc<dyn KeyProvider>>,
}

impl RootOpener {
    /// One that asks `source` when a sealed file needs a root key.
    pub fn new(source: Arc<dyn RootSource>) -> RootOpener {
        RootOpener {
            source: Some(source),
            opened: OnceLock::new(),
        }
    }

    /// One that uses `provider` when a sealed file needs a root key.
    pub fn with(provider: Arc<dyn KeyProvider>) -> RootOpener {
        let opener = RootOpener {
            source: None,
            opened: OnceLock::new(),
        };
        let _ = opener.opened.set(provider);
        opener
    }

    /// The provider kind a sealed file must name to be opened here.
    fn requested(&self) -> Result<String> {
        match (self.opened.get(), &self.source) {
            (Some(p), _) => Ok(p.kind().to_string()),
            (None, Some(source)) => source.requested(),
            (None, None) => Err(Error::DataDir("no root-key provider is configured".into())),
        }
    }

    /// The provider, opened from its source on first need.
    pub fn get(&self, dir: &Path) -> Result<Arc<dyn KeyProvider>> {
        if let Some(p) = self.opened.get() {
            return Ok(p.clone());
        }
        let source = self
            .source
            .as_ref()
            .ok_or_else(|| Error::DataDir("no root-key provider is configured".into()))?;
        let provider = source.open(dir).map_err(|e| {
            Error::DataDir(format!(
                "{}'s keys are sealed by the root key, which did not open: {e}",
                dir.display()
            ))
        })?;
        Ok(self.opened.get_or_init(|| provider).clone())
    }

    /// The provider, if a sealed file made this open it.
    pub fn opened(&self) -> Option<Arc<dyn KeyProvider>> {
        self.opened.get().cloned()
    }
}

/// Reads a key file, unsealing it if it is sealed.
fn read_key_file(dir: &Path, name: &str, root: &RootOpener) -> Result<Zeroizing<Vec<u8>>> {
    let path = dir.join(name);
    let what = if name == KEY_FILE {
        "the signing key"
    } else {
        "the key"
    };
    let bytes = Zeroizing::new(
        fs::read(&path).map_err(Error::io(format!("reading {what} {}", path.display())))?,
    );
    let Some(rest) = bytes.strip_prefix(SEALED_PREFIX.as_bytes()) else {
        return Ok(bytes);
    };
    let text = std::str::from_utf8(rest)
        .map_err(|_| Error::DataDir(format!("{}: damaged sealed key", path.display())))?;
    let (kind, body) = text
        .trim_end()
        .split_once(':')
        .ok_or_else(|| Error::DataDir(format!("{}: damaged sealed key", path.display())))?;
    let refuse = || {
        Error::DataDir(format!(
            "{} is sealed by the `{kind}` key provider: set EVIDENT_KEY_PROVIDER to `{kind}` with its settings",
            path.display()
        ))
    };
    if root.requested()? != kind {
        return Err(refuse());
    }
    let provider = root.get(dir)?;
    if provider.kind() != kind {
        return Err(Error::DataDir(format!(
            "{} is sealed by the `{kind}` key provider: set EVIDENT_KEY_PROVIDER to `{kind}` with its settings",
            path.display()
        )));
    }
    let wrapped = B64
        .decode(body)
        .map_err(|_| Error::DataDir(format!("{}: damaged sealed key", path.display())))?;
    provider.unwrap_key(&wrapped).map_err(|_| {
        Error::DataDir(format!(
            "{}: the root key does not open it (another root key, or the file was altered)",
            path.display()
        ))
    })
}

/// Whether this directory's own keys are sealed by the root key.
pub fn keys_sealed(dir: &Path) -> bool {
    fs::read(dir.join(KEY_FILE)).is_ok_and(|b| b.starts_with(SEALED_PREFIX.as_bytes()))
}

/// Seals `signing.key` and `redaction.key` with `provider`'s root key, each replaced
/// atomically; answers the files sealed now (already sealed ones are left alone).
pub fn seal_own_keys(dir: &Path, provider: &Arc<dyn KeyProvider>) -> Result<Vec<&'static str>> {
    existing_db(dir)?;
    let root = RootOpener::with(provider.clone());
    let mut sealed = Vec::new();
    for name in [KEY_FILE, REDACTION_KEY_FILE] {
        let path = dir.join(name);
        let current = fs::read(&path).map_err(Error::io(format!("reading {}", path.display())))?;
        if current.starts_with(SEALED_PREFIX.as_bytes()) {
            continue;
        }
        let plain = read_key_file(dir, name, &root)?;
        let wrapped = provider.wrap(&plain)?;
        let text = format!(
            "{SEALED_PREFIX}{}:{}\n",
            provider.kind(),
            B64.encode(wrapped)
        );
        let tmp = dir.join(format!(".{name}.sealing"));
        let _ = fs::remove_file(&tmp);
        write_private_file(&tmp, text.as_bytes())?;
        // The sealed copy must open before it replaces the plain one.
        let check = RootOpener::with(provider.clone());
        let reopened = read_key_file(dir, &format!(".{name}.sealing"), &check)?;
        if reopened.as_slice() != plain.as_slice() {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Crypto(format!("sealing {name} did not round-trip")));
        }
        fs::rename(&tmp, &path).map_err(Error::io(format!("replacing {}", path.display())))?;
        sealed.push(name);
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(sealed)
}

/// What `init` found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// the directory
    pub dir: PathBuf,
    /// the log origin (also the key name)
    pub origin: String,
    /// whether a new key and database were created
    pub created: bool,
}

/// Creates the directory and its keys if missing (idempotent): answers the log's signer and
/// whether it was made now. A store is then claimed for it with [`claim_store`].
pub fn init_keys(dir: &Path, origin: Option<&str>, root: &RootOpener) -> Result<(Signer, bool)> {
    create_private_dir(dir)?;
    let key_path = dir.join(KEY_FILE);
    let (signer, created) = if key_path.exists() {
        (load_signer_with(dir, root)?, false)
    } else {
        let origin = match origin {
            Some(o) => o.to_string(),
            None => {
                let mut id = [0u8; 4];
                getrandom::fill(&mut id)
                    .map_err(|e| Error::DataDir(format!("random source: {e}")))?;
                format!("evident.local/{}", hex::encode(id))
            }
        };
        let signer = Signer::generate(&origin).map_err(|e| Error::DataDir(e.to_string()))?;
        write_private_file(&key_path, signer.to_key_string().as_bytes())?;
        (signer, true)
    };
    if let Some(wanted) = origin {
        if wanted != signer.name() {
            return Err(Error::DataDir(format!(
                "`{}` already holds the log `{}`; it cannot be renamed to `{wanted}`",
                dir.display(),
                signer.name()
            )));
        }
    }
    load_redaction_key_with(dir, root)?;
    Ok((signer, created))
}

/// Records `origin` as the log a new store holds, or checks an existing store holds it.
pub fn claim_store(store: &mut dyn LogStore, origin: &str) -> Result<()> {
    match store.meta("origin")? {
        None => store.set_meta("origin", origin),
        Some(_) => check_store_origin(&*store, origin),
    }
}

/// Refuses a store that holds another log than the signing key's.
pub fn check_store_origin(store: &dyn LogStore, origin: &str) -> Result<()> {
    match store.meta("origin")? {
        Some(o) if o != origin => Err(Error::DataDir(format!(
            "the database belongs to the log `{o}` but the signing key to `{origin}`"
        ))),
        _ => Ok(()),
    }
}

/// The redaction pseudonym key, made (32 random bytes, owner-only) if the directory has none;
/// unsealed with `root` when the file is sealed.
pub fn load_redaction_key_with(dir: &Path, root: &RootOpener) -> Result<Zeroizing<Vec<u8>>> {
    let path = dir.join(REDACTION_KEY_FILE);
    match fs::metadata(&path) {
        Ok(_) => read_key_file(dir, REDACTION_KEY_FILE, root),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = Zeroizing::new(vec![0u8; 32]);
            getrandom::fill(&mut key).map_err(|e| Error::DataDir(format!("random source: {e}")))?;
            match write_private_file(&path, &key) {
                Ok(()) => Ok(key),
                // Another process made it first: use theirs.
                Err(_) if path.exists() => Ok(Zeroizing::new(
                    fs::read(&path).map_err(Error::io(format!("reading {}", path.display())))?,
                )),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(Error::io(format!("reading {}", path.display()))(e)),
    }
}

/// The database path of an existing data directory, or a clear error saying to run `init`.
pub fn existing_db(dir: &Path) -> Result<PathBuf> {
    let db = dir.join(DB_FILE);
    if !db.exists() {
        return Err(Error::DataDir(format!(
            "no Evident data in `{}`; run `evident init --data-dir {}` first",
            dir.display(),
            dir.display()
        )));
    }
    Ok(db)
}

/// Reads the signing key, unsealing it with `root` when the file is sealed.
pub fn load_signer_with(dir: &Path, root: &RootOpener) -> Result<Signer> {
    let path = dir.join(KEY_FILE);
    let bytes = read_key_file(dir, KEY_FILE, root)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::DataDir(format!("{}: not a signing key", path.display())))?;
    Signer::from_key_string(text).map_err(|e| Error::DataDir(format!("{}: {e}", path.display())))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(Error::io(format!("restricting {}", dir.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    fn no_root() -> RootOpener {
        RootOpener {
            source: None,
            opened: OnceLock::new(),
        }
    }

    #[test]
    fn keys_are_made_once_and_the_log_keeps_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("data");
        let (signer, created) = init_keys(&dir, Some("example.org/log"), &no_root()).unwrap();
        assert!(created);
        assert_eq!(signer.name(), "example.org/log");
        let key = load_redaction_key_with(&dir, &no_root()).unwrap();
        let (again, created) = init_keys(&dir, None, &no_root()).unwrap();
        assert!(!created);
        assert_eq!(again.name(), "example.org/log");
        assert_eq!(load_redaction_key_with(&dir, &no_root()).unwrap(), key);
        let renamed = init_keys(&dir, Some("other.org/log"), &no_root()).unwrap_err();
        assert!(
            renamed.to_string().contains("cannot be renamed"),
            "{renamed}"
        );
    }

    #[test]
    fn a_sealed_key_without_a_root_source_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        init_keys(dir.path(), None, &no_root()).unwrap();
        std::fs::write(
            dir.path().join(KEY_FILE),
            format!("{SEALED_PREFIX}local:AAAA\n"),
        )
        .unwrap();
        assert!(keys_sealed(dir.path()));
        let err = load_signer_with(dir.path(), &no_root()).unwrap_err();
        assert!(err.to_string().contains("no root-key provider"), "{err}");
    }
}
