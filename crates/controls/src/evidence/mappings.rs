//! Which controls a scanner's rule speaks to: the repository's `catalog/mappings/*.toml`
//! (compiled in) plus the data directory's `DIR/controls/mappings/*.toml`. Each file holds
//! `[[map]]` entries, `rules` (ids, or prefixes ending in `*`) and `controls` (ids of the
//! catalog in force); an unknown control or a malformed file is an error naming the file.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use evident_core::{Error, Result};

use crate::catalog::Catalog;

/// The folder of the data directory's own mappings, under `controls/`.
pub const MAPPINGS_DIR: &str = "mappings";

const SHIPPED: &[(&str, &str)] = &[(
    "catalog/mappings/checkov.toml",
    include_str!("../../../../catalog/mappings/checkov.toml"),
)];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    map: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    rules: Vec<String>,
    controls: Vec<String>,
}

/// Rule ids (or prefixes) → controls, from every mapping file.
#[derive(Debug, Default)]
pub struct RuleMap {
    entries: Vec<(String, String)>,
}

impl RuleMap {
    /// The shipped mappings plus those of the data directory `dir`, checked against
    /// `catalog`.
    pub fn load(catalog: &Catalog, dir: Option<&Path>) -> Result<RuleMap> {
        let mut own = Vec::new();
        if let Some(dir) = dir {
            let folder = dir.join("controls").join(MAPPINGS_DIR);
            if let Ok(entries) = std::fs::read_dir(&folder) {
                let mut paths: Vec<_> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect();
                paths.sort();
                for path in paths {
                    let text = std::fs::read_to_string(&path)
                        .map_err(Error::io(format!("reading {}", path.display())))?;
                    own.push((path.display().to_string(), text));
                }
            }
        }
        Self::from_files(catalog, own)
    }

    /// The shipped mappings plus `own` (each file's name, for errors, and its TOML), checked
    /// against `catalog`: what [`RuleMap::load`] does with the files it read.
    pub fn from_files(catalog: &Catalog, own: Vec<(String, String)>) -> Result<RuleMap> {
        let mut sources: Vec<(String, String)> = SHIPPED
            .iter()
            .map(|(name, text)| ((*name).to_string(), (*text).to_string()))
            .collect();
        sources.extend(own);
        let mut map = RuleMap::default();
        for (name, text) in sources {
            let file: File = toml::from_str(&text)
                .map_err(|e| Error::BadRequest(format!("mapping {name}: {e}")))?;
            for entry in file.map {
                for control in &entry.controls {
                    if catalog.control(control).is_none() {
                        return Err(Error::BadRequest(format!(
                            "mapping {name}: no control `{control}` in the catalog"
                        )));
                    }
                    for rule in &entry.rules {
                        if rule.trim().is_empty() || rule.trim() == "*" {
                            return Err(Error::BadRequest(format!(
                                "mapping {name}: a rule must name an id or a prefix, not `{rule}`"
                            )));
                        }
                        map.entries.push((rule.trim().to_string(), control.clone()));
                    }
                }
            }
        }
        Ok(map)
    }

    /// The controls `rule` maps to.
    pub fn controls_of(&self, rule: &str) -> BTreeSet<String> {
        self.entries
            .iter()
            .filter(|(pattern, _)| match pattern.strip_suffix('*') {
                Some(prefix) => rule.starts_with(prefix),
                None => rule == pattern,
            })
            .map(|(_, control)| control.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_prefixes_map_and_unknown_controls_are_refused() {
        let catalog = crate::catalog::load(None).unwrap();
        let map = RuleMap::load(&catalog, None).unwrap();
        assert_eq!(
            map.controls_of("CKV_AWS_7").into_iter().collect::<Vec<_>>(),
            ["EV-CRY-01"]
        );
        assert!(map.controls_of("CKV_AWS_70").is_empty());
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("controls").join(MAPPINGS_DIR);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("ours.toml"),
            "[[map]]\nrules = [\"CKV_AZURE_*\"]\ncontrols = [\"EV-CRY-03\"]\n",
        )
        .unwrap();
        let map = RuleMap::load(&catalog, Some(dir.path())).unwrap();
        assert!(map.controls_of("CKV_AZURE_18").contains("EV-CRY-03"));
        std::fs::write(
            folder.join("bad.toml"),
            "[[map]]\nrules = [\"X\"]\ncontrols = [\"EV-NOPE\"]\n",
        )
        .unwrap();
        let err = RuleMap::load(&catalog, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml") && err.contains("EV-NOPE"), "{err}");
    }
}
