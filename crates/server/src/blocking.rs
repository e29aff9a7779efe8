//! Engine calls that block (SQLite, opening the root key, Cedar policy work) run on tokio's
//! blocking threads, so they never stall the threads that serve requests. A panic there is
//! a 500 `internal`; the engine's own errors map as everywhere else.

use evident::crypto::keyring::Keyring;
use evident::Error;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Runs `work` on a blocking thread and maps its error.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::from)
}

/// Runs a keyring operation on a blocking thread (the first one opens the root key).
pub(crate) async fn with_keyring<T: Send + 'static>(
    state: &AppState,
    operation: impl FnOnce(&Keyring<'_>) -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    let engine = state.engine.clone();
    blocking(move || {
        let keys = engine.keyring(false)?;
        operation(&keys)
    })
    .await
}
