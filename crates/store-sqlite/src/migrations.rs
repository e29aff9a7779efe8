//! The schema and its version: the log's tables in the database file, the query indexes in
//! the index file beside it. [`migrate`] creates what is missing and refuses a database
//! written by a build with another schema version. This backend's migrations live here and
//! nowhere else; a later schema version adds its step to [`migrate`].

use rusqlite::{Connection, OptionalExtension};

use evident_core::{Error, Result};

/// The schema version this build reads and writes (`schema_version` in `meta`).
const SCHEMA_VERSION: i64 = 3;

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

/// Version 2: each control's latest check result (derived from the ledger's
/// `controls.check` events) and when each API key last authenticated.
const MIGRATION_2: &str = "
CREATE TABLE IF NOT EXISTS control_status (
    control       TEXT PRIMARY KEY,
    result        TEXT NOT NULL,
    since_us      INTEGER NOT NULL,
    checked_us    INTEGER NOT NULL,
    idx           INTEGER NOT NULL,
    check_version TEXT NOT NULL,
    trend         TEXT NOT NULL,
    runs          INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_key_use (
    id           TEXT PRIMARY KEY,
    last_used_us INTEGER NOT NULL
);
";

/// Version 3: consent records (derived from the ledger's `evident.consent.*` events), every
/// change of a subject and purpose under its ledger index.
const MIGRATION_3: &str = "
CREATE TABLE IF NOT EXISTS consent (
    subject     TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    granted     INTEGER NOT NULL,
    basis       TEXT NOT NULL,
    source      TEXT NOT NULL,
    notice_hash TEXT NOT NULL,
    at_us       INTEGER NOT NULL,
    expires_us  INTEGER,
    PRIMARY KEY (subject, purpose, idx)
) WITHOUT ROWID;
";

/// The query indexes: derived from `entries`, kept in their own file so that maintaining
/// them never holds the log's write lock, and rebuilt from scratch if the file is lost.
const INDEX_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ix.ix_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ix.by_actor (actor TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (actor, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix.by_action (action TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (action, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix.by_resource (rtype TEXT NOT NULL, rid TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (rtype, rid, idx)) WITHOUT ROWID;
";

/// Creates the schema if needed (both files; `ix` must be attached), brings a database of an
/// older schema version up to this one, and refuses one of a newer version.
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
        // New, or version 1 or 2: the steps after it (each `IF NOT EXISTS`, so two processes
        // migrating at once both succeed), then the version, in one transaction.
        None | Some(1) | Some(2) => {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {MIGRATION_2} {MIGRATION_3}
                 INSERT INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value;
                 COMMIT;"
            ))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("ATTACH DATABASE ':memory:' AS ix")
            .unwrap();
        conn
    }

    fn version(conn: &Connection) -> String {
        conn.query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// A database written at version 1 (without the version 2 and 3 tables) is brought to
    /// version 3 and keeps what it held.
    #[test]
    fn a_version_1_database_is_migrated_and_keeps_its_rows() {
        let conn = open();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(
            "INSERT INTO meta (key, value) VALUES ('schema_version', '1'), ('origin', 'o');",
        )
        .unwrap();
        migrate(&conn).unwrap();
        assert_eq!(version(&conn), "3");
        let origin: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'origin'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(origin, "o");
        conn.execute_batch(
            "SELECT * FROM control_status; SELECT * FROM api_key_use; SELECT * FROM consent;",
        )
        .unwrap();
        migrate(&conn).unwrap();
        assert_eq!(version(&conn), "3");
    }

    /// A version 2 database gains the consent table.
    #[test]
    fn a_version_2_database_gains_the_consent_table() {
        let conn = open();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(MIGRATION_2).unwrap();
        conn.execute_batch("INSERT INTO meta (key, value) VALUES ('schema_version', '2');")
            .unwrap();
        assert!(conn.execute_batch("SELECT * FROM consent").is_err());
        migrate(&conn).unwrap();
        assert_eq!(version(&conn), "3");
        conn.execute_batch("SELECT * FROM consent").unwrap();
    }

    /// A database of a later version is refused, naming both versions.
    #[test]
    fn a_newer_database_is_refused() {
        let conn = open();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch("INSERT INTO meta (key, value) VALUES ('schema_version', '9');")
            .unwrap();
        let err = migrate(&conn).unwrap_err().to_string();
        assert!(
            err.contains("version 9") && err.contains("version 3"),
            "{err}"
        );
    }
}
