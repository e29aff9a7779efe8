//! A consistent copy of the database file taken while appends go on (SQLite's online
//! backup), for the encrypted backups of a data directory.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use evident_core::Result;

use crate::SqliteBackend;

impl SqliteBackend {
    /// Copies the database into a new file `into` and answers the entries the copy holds.
    pub fn snapshot_into(&self, into: &Path) -> Result<u64> {
        let source = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut target = Connection::open(into)?;
        {
            let backup = Backup::new(&source, &mut target)?;
            // One step of all pages copies them under one read transaction: a consistent
            // snapshot, whatever the writer does meanwhile.
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    StepResult::More => continue,
                    _ => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }
        let entries: i64 = target.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))?;
        Ok(u64::try_from(entries).unwrap_or(0))
    }
}
