//! Engine calls that block (SQLite, opening the root key, Cedar policy work) run on tokio's
//! blocking threads, so they never stall the threads that serve requests. A panic there is
//! a 500 `internal`; the engine's own errors map as everywhere else, except that a root key
//! the server cannot open is the server's state, not the request's fault (see
//! [`open_keyring`]).

use axum::http::StatusCode;
use evident::crypto::keyring::Keyring;
use evident::crypto::tokens::TokenVault;
use evident::{Engine, Error};

use crate::error::{ApiError, ApiResult, ErrorCode, LOG_TARGET};
use crate::state::AppState;

/// Runs `work` on a blocking thread and maps its error.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    on_blocking_thread(move || work().map_err(ApiError::from)).await
}

/// Runs a keyring operation on a blocking thread (the first one opens the root key).
pub(crate) async fn with_keyring<T: Send + 'static>(
    state: &AppState,
    operation: impl FnOnce(&Keyring<'_>) -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    let engine = state.engine.clone();
    on_blocking_thread(move || {
        let keys = open_keyring(&engine, false)?;
        operation(&keys).map_err(ApiError::from)
    })
    .await
}

/// Runs a card-token vault operation on a blocking thread; `create` makes the vault's keys
/// (and the root key, when a passphrase is configured) on first use.
pub(crate) async fn with_token_vault<T: Send + 'static>(
    state: &AppState,
    create: bool,
    operation: impl FnOnce(&TokenVault<'_>) -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    let engine = state.engine.clone();
    on_blocking_thread(move || {
        open_keyring(&engine, create)?;
        let vault = engine.token_vault(create)?;
        operation(&vault).map_err(ApiError::from)
    })
    .await
}

/// The engine's keyring. Opening it fails only for reasons of the server (no root key
/// configured, a wrong passphrase, an unreachable key provider): a 503 `unavailable` whose
/// message names none of the server's files or settings; the cause goes to the server's log
/// for its operator.
fn open_keyring(engine: &Engine, create: bool) -> ApiResult<Keyring<'_>> {
    engine.keyring(create).map_err(|e| {
        tracing::error!(target: LOG_TARGET, error = %e, "the root key could not be opened");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "encryption is unavailable: this server has no usable root key (its log says why)",
        )
    })
}

async fn on_blocking_thread<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
}
