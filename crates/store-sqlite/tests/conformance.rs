//! The storage trait's conformance suite, run against SQLite: one `#[test]` per case, each on
//! a new database in a directory of its own.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::PathBuf;

use evident_core::store::LogStore;
use evident_core::Result;
use evident_store_conformance::Fixture;
use evident_store_sqlite::SqliteBackend;

/// A new database, opened afresh (and migrated) by every connection the suite asks for.
struct Sqlite {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture for Sqlite {
    fn open(&self) -> Result<Box<dyn LogStore>> {
        Ok(Box::new(SqliteBackend::open(&self.path)?.connect()?))
    }
}

fn fresh() -> Sqlite {
    let dir = tempfile::tempdir().expect("a temporary directory");
    Sqlite {
        path: dir.path().join("evident.db"),
        _dir: dir,
    }
}

evident_store_conformance::store_conformance!(fresh);
