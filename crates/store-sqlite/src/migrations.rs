//! The schema and its version: the log's tables in the database file, the query indexes in
//! the index file beside it. [`migrate`] creates what is missing and refuses a database
//! written by a build with another schema version. This backend's migrations live here and
//! nowhere else; a later schema version adds its step to [`migrate`].

use rusqlite::{Connection, OptionalExtension};

use evident_core::{Error, Result};

/// The schema version this build reads and writes (`schema_version` in `meta`).
const SCHEMA_VERSION: i64 = 1;

/// The log's tables, in the database file.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    idx         INTEGER PRIMARY KEY,
    leaf        BLOB NOT NULL,
    data        BLOB NOT NULL,
    time_us     INTEGER NOT NULL,
    received_us INTEGER NOT NULL,
    actor       TEXT,
    action      TEXT NOT NULL,
    rtype       TEXT NOT NULL,
    rid         TEXT,
    outcome     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size      INTEGER PRIMARY KEY,
    note      TEXT NOT NULL,
    signed_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS personal (
    idx     INTEGER NOT NULL,
    path    TEXT NOT NULL,
    subject TEXT NOT NULL,
    salt    BLOB NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (idx, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS personal_subject ON personal (subject);
CREATE TABLE IF NOT EXISTS crypto_keys (
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    wrapped    BLOB,
    state      TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS token_vault (
    token      TEXT PRIMARY KEY,
    format     TEXT NOT NULL,
    keep       TEXT NOT NULL,
    pan_index  BLOB NOT NULL,
    pan_sealed TEXT,
    created_us INTEGER NOT NULL,
    UNIQUE (format, keep, pan_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crypto_key_class (
    name      TEXT PRIMARY KEY,
    regulated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_versions (
    version    INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    files      TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    origin     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS break_glass (
    id            TEXT PRIMARY KEY,
    decision_id   TEXT NOT NULL,
    subject       TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource      TEXT NOT NULL,
    justification TEXT NOT NULL,
    policies      TEXT NOT NULL,
    opened_us     INTEGER NOT NULL,
    reviewer      TEXT,
    outcome       TEXT,
    note          TEXT,
    closed_us     INTEGER
);
CREATE INDEX IF NOT EXISTS break_glass_open ON break_glass (closed_us, opened_us);
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    role        TEXT NOT NULL,
    label       TEXT,
    created_us  INTEGER NOT NULL,
    revoked_us  INTEGER
);
";

/// The query indexes: derived from `entries`, kept in their own file so that maintaining
/// them never holds the log's write lock, and rebuilt from scratch if the file is lost.
const INDEX_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ix.ix_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ix.by_actor (actor TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (actor, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix.by_action (action TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (action, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix.by_resource (rtype TEXT NOT NULL, rid TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (rtype, rid, idx)) WITHOUT ROWID;
";

/// Creates the schema if needed (both files; `ix` must be attached) and checks the schema
/// version, recording it in a new database.
pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(INDEX_SCHEMA)?;
    let version: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok());
    match version {
        None => {
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?1)",
                [SCHEMA_VERSION.to_string()],
            )?;
        }
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(Error::DataDir(format!(
                "database schema version {other} is not supported (this build reads version {SCHEMA_VERSION})"
            )))
        }
    }
    Ok(())
}
