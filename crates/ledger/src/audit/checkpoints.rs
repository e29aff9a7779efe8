//! The signed checkpoints an audit checks the entries against: [`StoredCheckpoint`], as a
//! store keeps one, and the checks made before any entry is read: each is validly signed
//! ([`verify_signatures`]) and filed under the size it states.

use super::fault::Fault;
use crate::checkpoint::Checkpoint;
use crate::note::NoteVerifier;

/// A stored signed checkpoint, as the store keeps it.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    /// the tree size the store filed the checkpoint under
    pub size: u64,
    /// the signed note text
    pub note: String,
}

/// Reads a stored checkpoint with `read` and checks it is filed under the size it states.
pub(super) fn filed(
    stored: &StoredCheckpoint,
    read: impl FnOnce(&str) -> Result<Checkpoint, crate::NoteError>,
) -> Result<Checkpoint, Fault> {
    let checkpoint = read(&stored.note).map_err(|e| Fault::BadCheckpointSignature {
        size: stored.size,
        reason: e.to_string(),
    })?;
    if checkpoint.size != stored.size {
        return Err(Fault::CheckpointSizeMismatch {
            filed: stored.size,
            stated: checkpoint.size,
        });
    }
    Ok(checkpoint)
}

/// Checks that every stored checkpoint is signed by `verifier` and filed under its own size.
pub fn verify_signatures(
    verifier: &NoteVerifier,
    checkpoints: &[StoredCheckpoint],
) -> Result<(), Fault> {
    for stored in checkpoints {
        filed(stored, |note| verifier.verify_checkpoint(note))?;
    }
    Ok(())
}
