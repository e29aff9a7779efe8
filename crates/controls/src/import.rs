//! `evident controls import FILE`: another OSCAL baseline (a resolved-profile catalog) or an
//! organisation's own profile becomes a framework of the catalog, kept in the data directory
//! (`DIR/controls/frameworks/NAME.json`), so that coverage can be computed for it and the
//! organisation's controls can map to its ids. The import is a ledger event.

use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};

use evident_core::event::{system_event, Severity};
use evident_core::{Error, Result};

use crate::catalog::{self, oscal, Framework, DATA_DIR_CATALOG, IMPORTED_FRAMEWORKS};
use crate::state::Controls;

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Imported {
    /// the framework id it is known by
    pub framework: String,
    /// the document's title
    pub title: String,
    /// `catalog` or `profile`
    pub kind: &'static str,
    /// how many controls and enhancements it lists
    pub requirements: usize,
    /// of those, how many have no title (ids a profile selects that the shipped NIST
    /// baselines do not hold)
    pub without_title: usize,
    /// where it was kept
    pub path: String,
    /// SHA-256 of the file as given
    pub sha256: String,
}

/// A framework id: 1–40 characters of a-z, 0-9 and `-`.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "framework name `{name}`: 1–40 characters of a-z, 0-9 and `-`"
        )))
    }
}

/// `AC-2`, `AC-2(1)`: an id of NIST SP 800-53's shape.
fn nist_shaped(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_uppercase())
        && oscal::display_id(&oscal::oscal_id(id)) == id
}

impl Controls<'_> {
    /// Imports an OSCAL catalog or profile as the framework `name`. Refused (and nothing
    /// written) when the file is not OSCAL 1.x, the name is taken (unless `replace`, and
    /// never a shipped framework's), or the catalog would not load with it.
    pub fn import(&self, file: &Path, name: &str, replace: bool, actor: &str) -> Result<Imported> {
        check_name(name)?;
        let bytes =
            std::fs::read(file).map_err(Error::io(format!("reading {}", file.display())))?;
        let shipped = catalog::NIST_BASELINES
            .iter()
            .map(|(id, name, json)| oscal::read_catalog(name, json).map(|l| (*id, l)))
            .collect::<Result<Vec<_>>>()?;
        let known: Vec<&oscal::OscalList> = shipped.iter().map(|(_, l)| l).collect();
        let list = oscal::read_file(file, &known)?;
        let current = self.catalog()?;
        let dir = self.dir().join(DATA_DIR_CATALOG).join(IMPORTED_FRAMEWORKS);
        let path = dir.join(format!("{name}.json"));
        if let Some(existing) = current.frameworks.get(name) {
            if !(replace && path.is_file()) {
                return Err(Error::BadRequest(format!(
                    "the framework `{name}` exists ({}); {}",
                    existing.source,
                    if path.is_file() {
                        "give --replace to replace it"
                    } else {
                        "a shipped framework cannot be replaced: import under another name"
                    }
                )));
            }
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let framework = Framework {
            id: name.to_string(),
            name: list.title.clone(),
            source: format!(
                "{} (OSCAL {}, sha256 {sha256})",
                file.display(),
                list.oscal_version
            ),
            requirements: list.requirements.clone(),
            // NIST-shaped ids (`AC-2`, `AC-2(1)`) are 800-53's: Evident's mappings to them count.
            ids_of: list
                .requirements
                .iter()
                .all(|r| nist_shaped(&r.id))
                .then(|| "nist-800-53".to_string()),
        };
        // The catalog must still load with the new framework (a replaced framework that
        // dropped an id an organisation's control maps to would not).
        let (sources, mut imported) = catalog::data_dir_sources(self.dir())?;
        imported.retain(|f| f.id != name);
        imported.push(framework.clone());
        let mut all = catalog::builtin_sources();
        all.extend(sources);
        catalog::build(all, imported)?;
        let text = serde_json::to_string_pretty(&framework)
            .map_err(|e| Error::BadRequest(format!("encoding the framework: {e}")))?;
        let without_title = list
            .requirements
            .iter()
            .filter(|r| r.title.is_none())
            .count();
        let mut event = system_event(
            "controls.framework.imported",
            "framework",
            Some(name),
            json!({
                "title": list.title,
                "kind": list.kind,
                "oscal_version": list.oscal_version,
                "requirements": list.requirements.len(),
                "sha256": sha256,
                "replaced": current.frameworks.contains_key(name),
                "requested_by": actor,
            }),
        );
        event.severity = Some(Severity::Medium);
        // Logged first: a framework in force that the ledger does not show would be evidence
        // with no history.
        self.recorder.append_blocking(vec![event])?;
        std::fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        let tmp = dir.join(format!(".{name}.json.importing"));
        std::fs::write(&tmp, text).map_err(Error::io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, &path).map_err(Error::io(format!("writing {}", path.display())))?;
        Ok(Imported {
            framework: name.to_string(),
            title: list.title,
            kind: list.kind,
            requirements: list.requirements.len(),
            without_title,
            path: path.display().to_string(),
            sha256,
        })
    }
}
