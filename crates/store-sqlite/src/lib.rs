//! # evident-store-sqlite
//!
//! The embedded default backend of Evident's storage trait ([`evident_core::store::LogStore`]):
//! one SQLite database in WAL mode with `synchronous=FULL`, so a committed transaction
//! survives a crash or power loss. [`SqliteBackend`] opens (and migrates) a database file and
//! hands out connections ([`SqliteStore`]), each a full `LogStore`; the engine keeps one
//! writer for its sequencer and a pool of readers.
//!
//! ## The life of a leaf here
//!
//! The sequencer hands a batch to `append` on the writer's connection, which holds the commit
//! gate, opens an IMMEDIATE transaction, checks that the log still ends where the batch
//! starts (else [`AppendOutcome::Conflict`](evident_core::store::AppendOutcome), nothing
//! written), inserts the rows of `entries` and `personal` and the checkpoint, and commits:
//! the commit's fsync of the WAL is the moment the entry is durable. Later, off the append
//! path, the [`Indexer`] thread copies the WAL into the database file and adds the entry to
//! the query indexes in the index file beside it (`evident.index.db`), which a lost file only
//! delays: queries scan what is not indexed yet.
//!
//! ## Where things are
//!
//! | module | owns |
//! |---|---|
//! | `backend` | [`SqliteBackend`] and [`SqliteStore`]: the files, the pragmas, the connections |
//! | `migrations` | the schema of both files and its version: this backend's migrations |
//! | `store` | `impl LogStore for SqliteStore`, each method handed to the module below |
//! | `entries` | append; entries, leaf hashes and checkpoints read back |
//! | `scan` | what verification reads: the snapshot scan, stray entries, orphan values |
//! | `query` | filtered, paged queries over the log and its query indexes |
//! | `indexer` | the [`Indexer`] thread: query indexes and WAL checkpoints |
//! | `personal` | personal values: per entry, erasure, resealing |
//! | `keys` | key versions, their states and uses; regulated keys |
//! | `policy` | policy versions and break-glass reviews |
//! | `tokens` | the card token vault |
//! | `apikeys` | API keys and when each last authenticated |
//! | `controls` | each control's latest check result |
//! | `consent` | consent records: every change, the current state per subject and purpose |
//! | `meta` | small named values |
//! | `convert` | `u64` ↔ SQLite's `i64` |
//!
//! Every backend runs the one conformance suite, `evident-store-conformance`
//! (`tests/conformance.rs` here); the tests in this crate are about SQLite alone.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod apikeys;
mod backend;
mod consent;
mod controls;
mod convert;
mod entries;
mod indexer;
mod keys;
mod meta;
mod migrations;
mod personal;
mod policy;
mod query;
mod scan;
mod snapshot;
mod store;
mod tokens;

pub use backend::{SqliteBackend, SqliteStore};
pub use indexer::{Indexer, INDEX_LAG_BOUND};
