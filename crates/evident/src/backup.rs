//! Backups as an engine makes them: the crypto part's format and encryption
//! ([`evident_crypto::backup`]) over this engine's keyring, store snapshot and verification.

use std::path::Path;

pub use evident_crypto::backup::{inspect_header, BackupReport, RestoreReport};

use crate::{Engine, Result, VerifyReport};

/// Writes an encrypted, consistent backup of the engine's data directory to `out`, and logs it.
pub fn create(engine: &Engine, out: &Path, actor: &str) -> Result<BackupReport> {
    evident_crypto::backup::create(engine, &engine.keyring(true)?, out, actor)
}

/// Restores `backup` into `target` (which must not exist or be empty) and verifies it.
pub fn restore(backup: &Path, target: &Path) -> Result<RestoreReport> {
    evident_crypto::backup::restore(backup, target, &verify_restored)
}

/// Restores `backup` into a scratch directory, verifies the whole log there, removes it, and
/// records the outcome in `engine`'s ledger.
pub fn test(engine: &Engine, backup: &Path, actor: &str) -> Result<RestoreReport> {
    evident_crypto::backup::test(engine, backup, actor, &verify_restored)
}

/// Opens a restored directory and verifies its whole log.
fn verify_restored(dir: &Path) -> Result<VerifyReport> {
    let engine = Engine::open(dir, false)?;
    let report = engine.verify(|_| {});
    engine.shutdown();
    report
}
