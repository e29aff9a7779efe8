//! Reaching a PostgreSQL system of the data map: one blocking client on a current-thread
//! runtime of its own, shared by the schema scan and the data-subject request connector, so
//! that how a connection is made (and what its errors may say) is written once.

use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls};

use crate::{Error, Result};

/// Connects to `url` for `system`: the runtime that drives the connection, and its client.
/// Errors name the system and the failure, never the URL (which may hold a password).
pub(crate) fn connect(system: &str, url: &str) -> Result<(Runtime, Client)> {
    let err = |message: String| Error::Database {
        system: system.into(),
        message,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(format!("starting the client runtime: {e}")))?;
    let client = runtime
        .block_on(async {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        })
        .map_err(|e| err(format!("connecting: {e}")))?;
    Ok((runtime, client))
}
