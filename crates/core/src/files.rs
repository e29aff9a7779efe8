//! Files the data directory keeps secrets in: created new (never overwriting), readable by
//! the owner alone, and synced before anyone is told they exist.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// Writes `contents` to a new file at `path` with mode 0600 and syncs it; an existing file
/// is an error, never overwritten.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(Error::io(format!("creating {}", path.display())))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(Error::io(format!("writing {}", path.display())))
}
