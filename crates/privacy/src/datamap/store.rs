//! The data map's versions in the data directory, mirroring the policy pack's: every
//! applied map is kept as `privacy/map/versions/NNNNNN.toml`; the active one is copied to
//! `privacy/datamap.toml` with its version and SHA-256 in `privacy/map/active`. Applying
//! is two steps, so the ledger records it in between: [`MapStore::stage`] keeps the new
//! version, the caller appends [`applied_event`], then [`MapStore::activate`] makes it the
//! active map. A map whose event could not be recorded never becomes active.

use std::path::{Path, PathBuf};

use evident_core::event::{system_event, ActorType, AuditEvent};
use serde::Serialize;
use serde_json::json;

use super::load::{parse, read};
use super::model::DataMap;
use super::source::hash;
use crate::{Error, Result};

/// The ledger action of an activation.
pub const APPLIED_ACTION: &str = "evident.privacy.map.applied";
/// The ledger resource type of the map.
pub const RESOURCE_TYPE: &str = "privacy_map";

/// One stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// 1, 2, …
    pub version: u64,
    /// `sha256:<hex>` of its bytes
    pub hash: String,
}

/// A version kept and waiting for its event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Staged {
    /// the version it is (an existing one when unchanged)
    pub version: Version,
    /// the active version it replaces
    pub previous: Option<Version>,
    /// false when the active version already has this content
    pub changed: bool,
}

/// The map's directory in a data directory.
#[derive(Debug, Clone)]
pub struct MapStore {
    privacy: PathBuf,
}

impl MapStore {
    /// The store of the data directory `data_dir` (nothing is created yet).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            privacy: data_dir.join("privacy"),
        }
    }

    /// Where the active map is: `privacy/datamap.toml`.
    pub fn active_path(&self) -> PathBuf {
        self.privacy.join("datamap.toml")
    }

    fn versions_dir(&self) -> PathBuf {
        self.privacy.join("map").join("versions")
    }

    fn marker(&self) -> PathBuf {
        self.privacy.join("map").join("active")
    }

    fn version_path(&self, version: u64) -> PathBuf {
        self.versions_dir().join(format!("{version:06}.toml"))
    }

    /// The active version, if a map was ever applied.
    pub fn active(&self) -> Result<Option<Version>> {
        let marker = self.marker();
        let text = match std::fs::read_to_string(&marker) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    file: marker,
                    source,
                })
            }
        };
        let mut words = text.split_whitespace();
        match (words.next().and_then(|v| v.parse().ok()), words.next()) {
            (Some(version), Some(hash)) if hash.starts_with("sha256:") => Ok(Some(Version {
                version,
                hash: hash.to_owned(),
            })),
            _ => Err(Error::BadRequest(format!(
                "{}: not `VERSION sha256:HEX`",
                marker.display()
            ))),
        }
    }

    /// Reads and validates the active map, checking it still has the applied hash.
    pub fn load_active(&self) -> Result<Option<DataMap>> {
        let Some(active) = self.active()? else {
            return Ok(None);
        };
        let path = self.active_path();
        let text = read(&path)?;
        let found = hash(&text);
        if found != active.hash {
            return Err(Error::BadRequest(format!(
                "{} was changed outside `evident privacy map apply`: it hashes {found}, version {} was applied as {}",
                path.display(),
                active.version,
                active.hash
            )));
        }
        parse(&path, &text).map(Some)
    }

    /// Every stored version, oldest first.
    pub fn versions(&self) -> Result<Vec<Version>> {
        let dir = self.versions_dir();
        let read = match std::fs::read_dir(&dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(Error::Io { file: dir, source }),
        };
        let mut versions = Vec::new();
        for item in read {
            let item = item.map_err(|source| Error::Io {
                file: dir.clone(),
                source,
            })?;
            let name = item.file_name().to_string_lossy().into_owned();
            let Some(number) = name
                .strip_suffix(".toml")
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let path = item.path();
            let text = std::fs::read_to_string(&path)
                .map_err(|source| Error::Io { file: path, source })?;
            versions.push(Version {
                version: number,
                hash: hash(&text),
            });
        }
        versions.sort_by_key(|v| v.version);
        Ok(versions)
    }

    /// Keeps `text` (already validated) as a new version, unless the active one has it.
    pub fn stage(&self, text: &str) -> Result<Staged> {
        let previous = self.active()?;
        let new_hash = hash(text);
        if let Some(active) = &previous {
            if active.hash == new_hash {
                return Ok(Staged {
                    version: active.clone(),
                    previous: previous.clone(),
                    changed: false,
                });
            }
        }
        let next = self.versions()?.last().map_or(1, |v| v.version + 1);
        let path = self.version_path(next);
        write_atomically(&path, text)?;
        Ok(Staged {
            version: Version {
                version: next,
                hash: new_hash,
            },
            previous,
            changed: true,
        })
    }

    /// Makes a staged version the active map.
    pub fn activate(&self, staged: &Staged) -> Result<()> {
        let path = self.version_path(staged.version.version);
        let text =
            std::fs::read_to_string(&path).map_err(|source| Error::Io { file: path, source })?;
        if hash(&text) != staged.version.hash {
            return Err(Error::BadRequest(format!(
                "stored version {} no longer has hash {}",
                staged.version.version, staged.version.hash
            )));
        }
        write_atomically(&self.active_path(), &text)?;
        write_atomically(
            &self.marker(),
            &format!("{} {}\n", staged.version.version, staged.version.hash),
        )
    }
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let io = |source| Error::Io {
        file: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The ledger event of an activation by `actor`: the version, its SHA-256, the one it
/// replaces, and what the map covers (counts and category names, no data).
pub fn applied_event(actor: &str, staged: &Staged, map: &DataMap) -> AuditEvent {
    let mut categories: Vec<&str> = map
        .systems
        .iter()
        .flat_map(|s| &s.tables)
        .flat_map(|t| &t.fields)
        .flat_map(|f| f.categories.iter().map(String::as_str))
        .collect();
    categories.sort_unstable();
    categories.dedup();
    let resource = format!("v{}", staged.version.version);
    let mut event = system_event(
        APPLIED_ACTION,
        RESOURCE_TYPE,
        Some(&resource),
        json!({
            "version": staged.version.version,
            "hash": staged.version.hash,
            "previous_version": staged.previous.as_ref().map(|p| p.version),
            "previous_hash": staged.previous.as_ref().map(|p| p.hash.clone()),
            "systems": map.systems.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "tables": map.systems.iter().map(|s| s.tables.len()).sum::<usize>(),
            "fields": map.systems.iter().flat_map(|s| &s.tables).map(|t| t.fields.len()).sum::<usize>(),
            "categories": categories,
        }),
    );
    event.actor.id = actor.to_owned();
    event.actor.kind = ActorType::User;
    event
}
