//! The data directory as the engine opens it: the core's layout and key files
//! ([`evident_core::datadir`]), the root key from the environment's provider (the crypto
//! part's [`evident_crypto::EnvRoot`]), and the embedded SQLite store.

use std::path::Path;
use std::sync::Arc;

use evident_core::store::LogStore;
use evident_core::Result;
use evident_ledger::note::Signer;
use evident_store_sqlite::SqliteBackend;

pub use evident_core::datadir::*;

/// A root opener that opens the provider `EVIDENT_KEY_PROVIDER` names, on first need.
pub fn env_root() -> RootOpener {
    RootOpener::new(Arc::new(evident_crypto::EnvRoot))
}

/// Creates the directory, keys and database if missing; idempotent.
pub fn init(dir: &Path, origin: Option<&str>) -> Result<InitReport> {
    init_with(dir, origin, &env_root())
}

/// [`init`], opening sealed keys with `root`.
pub fn init_with(dir: &Path, origin: Option<&str>, root: &RootOpener) -> Result<InitReport> {
    let (signer, created) = init_keys(dir, origin, root)?;
    let mut store = SqliteBackend::open(&dir.join(DB_FILE))?.connect()?;
    claim_store(&mut store, signer.name())?;
    Ok(InitReport {
        dir: dir.to_path_buf(),
        origin: signer.name().to_string(),
        created,
    })
}

/// Reads the signing key (opening the root key's provider from the environment if the file
/// is sealed).
pub fn load_signer(dir: &Path) -> Result<Signer> {
    load_signer_with(dir, &env_root())
}

/// A connection to the embedded store of an existing data directory.
pub fn connect_existing(dir: &Path) -> Result<Box<dyn LogStore>> {
    Ok(Box::new(
        SqliteBackend::open(&existing_db(dir)?)?.connect()?,
    ))
}
