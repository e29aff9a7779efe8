//! The data directory the verbs work on: the `--data-dir` flag they share, and opening the
//! engine on it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use evident::Engine;

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DataDir {
    /// The data directory (SQLite database and signing key).
    #[arg(
        long,
        env = "EVIDENT_DATA_DIR",
        default_value = "./evident-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
}

/// Opens an existing data directory.
pub fn open(dir: &Path) -> Result<Engine> {
    Engine::open(dir, false)
        .with_context(|| format!("opening the data directory `{}`", dir.display()))
}

/// Opens a data directory, creating it (a new log and signing key) if it does not exist.
pub fn open_or_create(dir: &Path) -> Result<Engine> {
    Engine::open(dir, true).with_context(|| format!("opening `{}`", dir.display()))
}
