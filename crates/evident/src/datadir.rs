//! The data directory: `evident.db` (SQLite, WAL) and `signing.key` (the log's Ed25519 key in
//! `PRIVATE+KEY+…` form, readable by the owner only).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use evident_ledger::note::Signer;
use zeroize::Zeroizing;

use crate::store::sqlite::SqliteBackend;
use crate::store::LogStore;
use crate::{Error, Result};

/// The database file name inside a data directory.
pub const DB_FILE: &str = "evident.db";
/// The signing key file name inside a data directory.
pub const KEY_FILE: &str = "signing.key";
/// The key of redaction pseudonyms inside a data directory.
pub const REDACTION_KEY_FILE: &str = "redaction.key";

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

/// Creates the directory, key and database if missing; idempotent.
pub fn init(dir: &Path, origin: Option<&str>) -> Result<InitReport> {
    create_private_dir(dir)?;
    let key_path = dir.join(KEY_FILE);
    let (signer, created) = if key_path.exists() {
        (load_signer(dir)?, false)
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
    load_redaction_key(dir)?;
    let backend = SqliteBackend::open(&dir.join(DB_FILE))?;
    let mut store = backend.connect()?;
    match store.meta("origin")? {
        None => store.set_meta("origin", signer.name())?,
        Some(o) if o == signer.name() => {}
        Some(o) => {
            return Err(Error::DataDir(format!(
                "the database belongs to the log `{o}` but the signing key to `{}`",
                signer.name()
            )))
        }
    }
    Ok(InitReport {
        dir: dir.to_path_buf(),
        origin: signer.name().to_string(),
        created,
    })
}

/// The redaction pseudonym key, made (32 random bytes, owner-only) if the directory has none.
pub fn load_redaction_key(dir: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let path = dir.join(REDACTION_KEY_FILE);
    match fs::read(&path) {
        Ok(key) => Ok(Zeroizing::new(key)),
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

/// Reads the signing key.
pub fn load_signer(dir: &Path) -> Result<Signer> {
    let path = dir.join(KEY_FILE);
    let text = Zeroizing::new(fs::read_to_string(&path).map_err(Error::io(format!(
        "reading the signing key {}",
        path.display()
    )))?);
    Signer::from_key_string(&text).map_err(|e| Error::DataDir(format!("{}: {e}", path.display())))
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

pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(Error::io(format!("creating {}", path.display())))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(Error::io(format!("writing {}", path.display())))
}
