//! Putting a catalog together and validating it: the shipped files, the NIST baselines, the
//! organisation's own files in the data directory (`DIR/controls/*.toml`) and the frameworks
//! it imported (`DIR/controls/frameworks/*.json`). Everything is checked before anything is
//! used: an unknown framework or requirement id, a duplicate control or disposition, a check
//! that does not exist or a setting it does not take is an error naming the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::cadence::Cadence;
use crate::catalog::builtin;
use crate::catalog::model::{
    Catalog, Control, Disposition, Framework, Implementation, Location, Requirement,
};
use crate::catalog::oscal;
use crate::catalog::parse::{catalog_error, parse, ParsedFile, RawControl, Source};
use crate::catalog::settings;
use crate::checks;
use evident_core::{Error, Result};

/// The directory inside a data directory holding the organisation's catalog files.
pub const DATA_DIR_CATALOG: &str = "controls";
/// … and, inside it, the frameworks imported with `evident controls import`.
pub const IMPORTED_FRAMEWORKS: &str = "frameworks";

/// The catalog files and imported frameworks of a data directory, by name.
pub fn data_dir_sources(dir: &Path) -> Result<(Vec<Source>, Vec<Framework>)> {
    let root = dir.join(DATA_DIR_CATALOG);
    let mut sources = Vec::new();
    for path in listed(&root, "toml")? {
        let text = std::fs::read_to_string(&path)
            .map_err(Error::io(format!("reading {}", path.display())))?;
        sources.push(Source {
            name: path.display().to_string(),
            text,
            shipped: false,
        });
    }
    let mut imported = Vec::new();
    for path in listed(&root.join(IMPORTED_FRAMEWORKS), "json")? {
        let text = std::fs::read_to_string(&path)
            .map_err(Error::io(format!("reading {}", path.display())))?;
        let framework: Framework = serde_json::from_str(&text).map_err(|e| {
            Error::BadRequest(format!(
                "catalog {}:{}: not an imported framework: {e}",
                path.display(),
                e.line()
            ))
        })?;
        imported.push(framework);
    }
    Ok((sources, imported))
}

fn listed(dir: &Path, extension: &str) -> Result<Vec<PathBuf>> {
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()))(e)),
    };
    let mut paths = Vec::new();
    for item in read {
        let path = item
            .map_err(Error::io(format!("reading {}", dir.display())))?
            .path();
        if path.is_file() && path.extension().is_some_and(|e| e == extension) {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The catalog in force for a data directory: the shipped one plus the organisation's.
pub fn load(data_dir: Option<&Path>) -> Result<Catalog> {
    let mut sources = builtin::sources();
    let mut imported = Vec::new();
    if let Some(dir) = data_dir {
        let (own, frameworks) = data_dir_sources(dir)?;
        sources.extend(own);
        imported = frameworks;
    }
    build(sources, imported)
}

/// The shipped NIST baselines, read once per process (a few megabytes of JSON), each with
/// the SHA-256 of its file.
fn nist_baselines() -> Result<&'static [(Framework, [u8; 32])]> {
    static READ: std::sync::OnceLock<Vec<(Framework, [u8; 32])>> = std::sync::OnceLock::new();
    if let Some(read) = READ.get() {
        return Ok(read);
    }
    let mut read = Vec::new();
    for (id, name, json) in builtin::NIST_BASELINES {
        let list = oscal::read_catalog(name, json)?;
        let framework = Framework {
            id: (*id).to_string(),
            name: list.title,
            source: (*name).to_string(),
            requirements: list.requirements,
            ids_of: None,
        };
        read.push((framework, Sha256::digest(json.as_bytes()).into()));
    }
    Ok(READ.get_or_init(|| read))
}

/// Builds and validates a catalog from its files and imported frameworks (plus the shipped
/// NIST baselines).
pub fn build(sources: Vec<Source>, imported: Vec<Framework>) -> Result<Catalog> {
    let mut hasher = Sha256::new();
    let mut files = Vec::new();
    let mut frameworks: BTreeMap<String, Framework> = BTreeMap::new();
    for (framework, digest) in nist_baselines()? {
        hasher.update(framework.source.as_bytes());
        hasher.update([0]);
        hasher.update(digest);
        files.push(framework.source.clone());
        frameworks.insert(framework.id.clone(), framework.clone());
    }
    let parsed = sources
        .into_iter()
        .map(|s| {
            hasher.update(s.name.as_bytes());
            hasher.update([0]);
            hasher.update(s.text.as_bytes());
            files.push(s.name.clone());
            parse(s)
        })
        .collect::<Result<Vec<ParsedFile>>>()?;
    for file in &parsed {
        if let Some((raw, at)) = &file.framework {
            let id = raw.id.get_ref().clone();
            if let Some(existing) = frameworks.get(&id) {
                return Err(file.error(
                    raw.id.span(),
                    format!(
                        "the framework `{id}` is already defined by {}",
                        existing.source
                    ),
                ));
            }
            check_id(file, &raw.id, "framework")?;
            let mut seen = BTreeSet::new();
            let mut requirements = Vec::new();
            for r in &raw.requirements {
                if r.get_ref().trim().is_empty() || !seen.insert(r.get_ref().clone()) {
                    return Err(file.error(
                        r.span(),
                        format!("requirement `{}` is empty or listed twice", r.get_ref()),
                    ));
                }
                requirements.push(Requirement {
                    id: r.get_ref().clone(),
                    title: None,
                    family: None,
                });
            }
            frameworks.insert(
                id.clone(),
                Framework {
                    id,
                    name: raw.name.clone(),
                    source: at.file.clone(),
                    requirements,
                    ids_of: None,
                },
            );
        }
    }
    for framework in imported {
        if frameworks.contains_key(&framework.id) {
            return Err(Error::BadRequest(format!(
                "the imported framework `{}` has the id of another framework; import it under another name",
                framework.id
            )));
        }
        let json = serde_json::to_vec(&framework).unwrap_or_default();
        hasher.update(framework.id.as_bytes());
        hasher.update([0]);
        hasher.update(&json);
        files.push(format!("imported framework {}", framework.id));
        frameworks.insert(framework.id.clone(), framework);
    }
    let known: BTreeMap<&str, BTreeSet<&str>> = frameworks
        .iter()
        .map(|(id, f)| {
            (
                id.as_str(),
                f.requirements.iter().map(|r| r.id.as_str()).collect(),
            )
        })
        .collect();

    let mut controls: Vec<Control> = Vec::new();
    let mut dispositions: BTreeMap<(String, String), (Disposition, Location)> = BTreeMap::new();
    let mut shipped_dispositions: BTreeSet<(String, String)> = BTreeSet::new();
    for file in &parsed {
        for (raw, at) in &file.controls {
            if let Some(first) = controls.iter().find(|c| c.id == *raw.id.get_ref()) {
                return Err(file.error(
                    raw.id.span(),
                    format!(
                        "duplicate control `{}` (first defined at {})",
                        raw.id.get_ref(),
                        first.location
                    ),
                ));
            }
            controls.push(control(file, raw, at, &known)?);
        }
        for (raw, at) in &file.dispositions {
            let framework = raw.framework.get_ref();
            let requirements = requirements_of(file, &raw.framework, &known)?;
            let class = raw.class.get_ref().as_str();
            let disposition = match (class, &raw.artifact, &raw.reason) {
                ("manual", Some(a), None) if !a.trim().is_empty() => Disposition::Manual {
                    artifact: a.trim().to_string(),
                },
                ("not-applicable", None, Some(r)) if !r.trim().is_empty() => {
                    Disposition::NotApplicable {
                        reason: r.trim().to_string(),
                    }
                }
                ("manual", ..) => {
                    return Err(file.error(
                        raw.class.span(),
                        "a manual disposition names its `artifact` (and no `reason`)",
                    ))
                }
                ("not-applicable", ..) => {
                    return Err(file.error(
                        raw.class.span(),
                        "a not-applicable disposition gives its `reason` (and no `artifact`)",
                    ))
                }
                (other, ..) => {
                    return Err(file.error(
                        raw.class.span(),
                        format!("class `{other}` is not `manual` or `not-applicable` (automated requirements come from controls with checks)"),
                    ))
                }
            };
            if raw.requirements.is_empty() {
                return Err(catalog_error(at, "a disposition lists no requirements"));
            }
            for r in &raw.requirements {
                if !requirements.contains(r.get_ref().as_str()) {
                    return Err(file.error(r.span(), unknown_requirement(framework, r.get_ref())));
                }
                let key = (framework.clone(), r.get_ref().clone());
                // An organisation's file replaces a shipped disposition (once).
                let replaces_shipped = !file.source.shipped && shipped_dispositions.remove(&key);
                if file.source.shipped {
                    shipped_dispositions.insert(key.clone());
                }
                if let Some((_, first)) = dispositions.get(&key).filter(|_| !replaces_shipped) {
                    return Err(file.error(
                        r.span(),
                        format!(
                            "duplicate disposition of {framework} `{}` (first at {first})",
                            r.get_ref()
                        ),
                    ));
                }
                dispositions.insert(key, (disposition.clone(), file.at(r.span())));
            }
        }
    }
    settings::apply(&parsed, &mut controls)?;
    Ok(Catalog {
        controls,
        frameworks,
        dispositions,
        hash: format!("sha256:{}", hex::encode(hasher.finalize())),
        files,
    })
}

fn unknown_requirement(framework: &str, id: &str) -> String {
    let hint = if framework.starts_with("nist") {
        format!(
            " (write enhancements as `AC-2(1)`; `{}`?)",
            oscal::display_id(&oscal::oscal_id(id))
        )
    } else {
        String::new()
    };
    format!("`{id}` is not a requirement of the framework `{framework}`{hint}")
}

fn requirements_of<'k>(
    file: &ParsedFile,
    framework: &Spanned<String>,
    known: &'k BTreeMap<&str, BTreeSet<&str>>,
) -> Result<&'k BTreeSet<&'k str>> {
    known.get(framework.get_ref().as_str()).ok_or_else(|| {
        file.error(
            framework.span(),
            format!(
                "unknown framework `{}` (known: {})",
                framework.get_ref(),
                known.keys().copied().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

fn check_id(file: &ParsedFile, id: &Spanned<String>, what: &str) -> Result<()> {
    let text = id.get_ref();
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(file.error(
            id.span(),
            format!("{what} id `{text}`: 1–64 characters of A-Z, a-z, 0-9, `-`, `_`, `.`"),
        ))
    }
}

fn control(
    file: &ParsedFile,
    raw: &RawControl,
    at: &Location,
    known: &BTreeMap<&str, BTreeSet<&str>>,
) -> Result<Control> {
    check_id(file, &raw.id, "control")?;
    if raw.title.trim().is_empty() || raw.description.trim().is_empty() {
        return Err(catalog_error(
            at,
            "a control needs a title and a description",
        ));
    }
    let implementation = Implementation::parse(raw.implementation.get_ref()).ok_or_else(|| {
        file.error(
            raw.implementation.span(),
            format!(
                "implementation `{}` is not automated, partly-automated or manual",
                raw.implementation.get_ref()
            ),
        )
    })?;
    let attestation = raw
        .attestation
        .as_ref()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    let (check, params) = match (&raw.check, implementation) {
        (None, Implementation::Manual) => {
            if let Some(p) = &raw.params {
                return Err(file.error(p.span(), "a manual control has no check to take `params`"));
            }
            (None, serde_json::Value::Object(Default::default()))
        }
        (Some(c), Implementation::Manual) => {
            return Err(file.error(
                c.span(),
                "a manual control has no check; make it automated or partly-automated",
            ))
        }
        (None, _) => {
            return Err(file.error(
                raw.implementation.span(),
                format!("an {} control names its `check`", implementation.as_str()),
            ))
        }
        (Some(c), _) => {
            let def = checks::find(c.get_ref()).ok_or_else(|| {
                file.error(
                    c.span(),
                    format!(
                        "unknown check `{}` (checks: {})",
                        c.get_ref(),
                        checks::names().join(", ")
                    ),
                )
            })?;
            let given = match &raw.params {
                Some(p) => serde_json::to_value(p.get_ref())
                    .map_err(|e| file.error(p.span(), e.to_string()))?,
                None => serde_json::Value::Object(Default::default()),
            };
            let params = (def.normalize)(&given).map_err(|e| {
                let span = raw.params.as_ref().map_or(c.span(), |p| p.span());
                file.error(span, format!("params of `{}`: {e}", def.name))
            })?;
            (Some(def.name.to_string()), params)
        }
    };
    match (implementation, &attestation) {
        (Implementation::Automated, Some(_)) => {
            return Err(catalog_error(
                at,
                "an automated control has no `attestation`; make it partly-automated",
            ))
        }
        (Implementation::PartlyAutomated | Implementation::Manual, None) => {
            return Err(catalog_error(
                at,
                "a partly-automated or manual control says in `attestation` what a person attests, with which artifact",
            ))
        }
        _ => {}
    }
    let cadence =
        Cadence::parse(raw.cadence.get_ref()).map_err(|e| file.error(raw.cadence.span(), e))?;
    let mut evidence = Vec::new();
    for e in &raw.evidence {
        let action = e.get_ref().trim();
        if action.is_empty() || action.chars().any(char::is_whitespace) {
            return Err(file.error(
                e.span(),
                format!("evidence `{action}` is not an event action"),
            ));
        }
        evidence.push(action.to_string());
    }
    let mut frameworks = BTreeMap::new();
    for (framework, ids) in &raw.frameworks {
        let requirements = requirements_of(file, framework, known)?;
        let mut list = Vec::new();
        for id in ids {
            if !requirements.contains(id.get_ref().as_str()) {
                return Err(file.error(
                    id.span(),
                    unknown_requirement(framework.get_ref(), id.get_ref()),
                ));
            }
            if !list.contains(id.get_ref()) {
                list.push(id.get_ref().clone());
            }
        }
        frameworks.insert(framework.get_ref().clone(), list);
    }
    Ok(Control {
        id: raw.id.get_ref().clone(),
        title: raw.title.trim().to_string(),
        description: raw
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        implementation,
        check,
        params,
        attestation,
        evidence,
        cadence,
        frameworks,
        location: at.clone(),
    })
}
