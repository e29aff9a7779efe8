//! OSCAL 1.1 catalogs and profiles, read for what the controls part needs: each control's
//! and enhancement's id, title and family. A catalog nests controls in groups (the families)
//! and enhancements in their controls; a profile selects ids from a catalog it imports.
//!
//! NIST writes ids in lower case with a dot for an enhancement (`ac-2.1`); people and the
//! catalog files write `AC-2(1)`. [`display_id`] and [`oscal_id`] convert between the two.

use std::path::Path;

use serde::Deserialize;

use crate::catalog::model::Requirement;
use evident_core::{Error, Result};

#[derive(Deserialize)]
struct CatalogDocument {
    catalog: OscalCatalog,
}

#[derive(Deserialize)]
struct OscalCatalog {
    metadata: Metadata,
    #[serde(default)]
    groups: Vec<Group>,
    #[serde(default)]
    controls: Vec<OscalControl>,
}

#[derive(Deserialize)]
struct Metadata {
    title: String,
    #[serde(rename = "oscal-version")]
    oscal_version: String,
}

#[derive(Deserialize)]
struct Group {
    id: Option<String>,
    title: String,
    #[serde(default)]
    groups: Vec<Group>,
    #[serde(default)]
    controls: Vec<OscalControl>,
}

#[derive(Deserialize)]
struct OscalControl {
    id: String,
    title: String,
    #[serde(default)]
    props: Vec<Prop>,
    #[serde(default)]
    controls: Vec<OscalControl>,
}

#[derive(Deserialize)]
struct Prop {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct ProfileDocument {
    profile: Profile,
}

#[derive(Deserialize)]
struct Profile {
    metadata: Metadata,
    imports: Vec<Import>,
}

#[derive(Deserialize)]
struct Import {
    href: String,
    #[serde(rename = "include-all")]
    include_all: Option<serde_json::Value>,
    #[serde(rename = "include-controls", default)]
    include_controls: Vec<Selection>,
    #[serde(rename = "exclude-controls", default)]
    exclude_controls: Vec<Selection>,
}

#[derive(Deserialize)]
struct Selection {
    #[serde(rename = "with-ids", default)]
    with_ids: Vec<String>,
}

/// What an OSCAL document lists: its title, OSCAL version and every control and enhancement.
#[derive(Debug, Clone)]
pub struct OscalList {
    /// `metadata.title`
    pub title: String,
    /// `metadata.oscal-version`
    pub oscal_version: String,
    /// `catalog` or `profile`
    pub kind: &'static str,
    /// the controls and enhancements, in document order
    pub requirements: Vec<Requirement>,
}

/// `ac-2.1` → `AC-2(1)`; ids of another shape are returned as they are.
pub fn display_id(id: &str) -> String {
    let Some((family, rest)) = id.split_once('-') else {
        return id.to_string();
    };
    if family.is_empty() || !family.bytes().all(|b| b.is_ascii_lowercase()) {
        return id.to_string();
    }
    let (base, enhancement) = match rest.split_once('.') {
        Some((b, e)) => (b, Some(e)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(base) || !enhancement.is_none_or(digits) {
        return id.to_string();
    }
    let mut out = format!("{}-{base}", family.to_ascii_uppercase());
    if let Some(e) = enhancement {
        out.push_str(&format!("({e})"));
    }
    out
}

/// `AC-2(1)` → `ac-2.1` (the inverse of [`display_id`]).
pub fn oscal_id(id: &str) -> String {
    let lower = id.trim().to_ascii_lowercase();
    match lower.strip_suffix(')').and_then(|s| s.split_once('(')) {
        Some((base, enhancement)) => format!("{base}.{enhancement}"),
        None => lower,
    }
}

fn withdrawn(control: &OscalControl) -> bool {
    control
        .props
        .iter()
        .any(|p| p.name == "status" && p.value == "withdrawn")
}

fn collect(controls: &[OscalControl], family: &Option<String>, out: &mut Vec<Requirement>) {
    for control in controls {
        if !withdrawn(control) {
            out.push(Requirement {
                id: display_id(&control.id),
                title: Some(control.title.clone()),
                family: family.clone(),
            });
        }
        collect(&control.controls, family, out);
    }
}

fn collect_groups(groups: &[Group], out: &mut Vec<Requirement>) {
    for group in groups {
        let family = Some(match &group.id {
            Some(id) => format!("{} {}", id.to_ascii_uppercase(), group.title),
            None => group.title.clone(),
        });
        collect(&group.controls, &family, out);
        collect_groups(&group.groups, out);
    }
}

fn json_error(what: &str, e: serde_json::Error) -> Error {
    Error::BadRequest(format!(
        "{what}: not an OSCAL catalog or profile (line {}, column {}: {e})",
        e.line(),
        e.column()
    ))
}

/// Reads an OSCAL catalog (a resolved baseline is one) from JSON.
pub fn read_catalog(what: &str, json: &str) -> Result<OscalList> {
    let doc: CatalogDocument = serde_json::from_str(json).map_err(|e| json_error(what, e))?;
    let mut requirements = Vec::new();
    collect(&doc.catalog.controls, &None, &mut requirements);
    collect_groups(&doc.catalog.groups, &mut requirements);
    finish(what, doc.catalog.metadata, "catalog", requirements)
}

fn finish(
    what: &str,
    metadata: Metadata,
    kind: &'static str,
    requirements: Vec<Requirement>,
) -> Result<OscalList> {
    if !metadata.oscal_version.starts_with("1.") {
        return Err(Error::BadRequest(format!(
            "{what}: OSCAL version {} is not 1.x",
            metadata.oscal_version
        )));
    }
    if requirements.is_empty() {
        return Err(Error::BadRequest(format!("{what}: it lists no controls")));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = requirements.iter().find(|r| !seen.insert(r.id.clone())) {
        return Err(Error::BadRequest(format!(
            "{what}: the control `{}` is listed twice",
            dup.id
        )));
    }
    Ok(OscalList {
        title: metadata.title,
        oscal_version: metadata.oscal_version,
        kind,
        requirements,
    })
}

/// Reads an OSCAL catalog or profile from a file. A profile's `include-controls` ids are
/// looked up (for titles and families) in `known`; `include-all` needs the imported catalog,
/// which is read when its `href` names a file beside the profile.
pub fn read_file(path: &Path, known: &[&OscalList]) -> Result<OscalList> {
    let what = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(Error::io(format!("reading {what}")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| json_error(&what, e))?;
    if value.get("catalog").is_some() {
        return read_catalog(&what, &text);
    }
    if value.get("profile").is_none() {
        return Err(Error::BadRequest(format!(
            "{what}: an OSCAL document with neither `catalog` nor `profile` at the top"
        )));
    }
    let doc: ProfileDocument = serde_json::from_value(value).map_err(|e| json_error(&what, e))?;
    let mut requirements: Vec<Requirement> = Vec::new();
    for import in &doc.profile.imports {
        let source: Vec<Requirement> = if import.include_all.is_some() {
            let href = import.href.trim_start_matches("./");
            let beside = path.parent().map(|p| p.join(href));
            match beside.filter(|p| !href.starts_with('#') && p.is_file()) {
                Some(file) => read_file(&file, known)?.requirements,
                None => {
                    return Err(Error::BadRequest(format!(
                        "{what}: `include-all` from `{}` needs that catalog beside the profile; \
                         import the resolved-profile catalog instead",
                        import.href
                    )))
                }
            }
        } else {
            import
                .include_controls
                .iter()
                .flat_map(|s| s.with_ids.iter())
                .map(|id| {
                    let display = display_id(id);
                    known
                        .iter()
                        .flat_map(|l| l.requirements.iter())
                        .find(|r| r.id == display)
                        .cloned()
                        .unwrap_or(Requirement {
                            id: display,
                            title: None,
                            family: None,
                        })
                })
                .collect()
        };
        let excluded: Vec<String> = import
            .exclude_controls
            .iter()
            .flat_map(|s| s.with_ids.iter().map(|id| display_id(id)))
            .collect();
        requirements.extend(source.into_iter().filter(|r| !excluded.contains(&r.id)));
    }
    finish(&what, doc.profile.metadata, "profile", requirements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_convert_both_ways() {
        assert_eq!(display_id("ac-2.1"), "AC-2(1)");
        assert_eq!(display_id("si-4"), "SI-4");
        assert_eq!(display_id("odd"), "odd");
        assert_eq!(display_id("ac-x"), "ac-x");
        assert_eq!(oscal_id("AC-2(1)"), "ac-2.1");
        assert_eq!(oscal_id("SI-4"), "si-4");
    }

    #[test]
    fn bad_documents_are_refused_with_the_reason() {
        let err = read_catalog("x.json", "{\"catalog\": {}}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.json") && err.contains("metadata"), "{err}");
        let empty = r#"{"catalog": {"metadata": {"title": "t", "oscal-version": "1.1.2"}}}"#;
        assert!(read_catalog("e", empty)
            .unwrap_err()
            .to_string()
            .contains("no controls"));
        let old = r#"{"catalog": {"metadata": {"title": "t", "oscal-version": "0.9"},
            "controls": [{"id": "ac-1", "title": "t"}]}}"#;
        assert!(read_catalog("o", old)
            .unwrap_err()
            .to_string()
            .contains("0.9"));
    }
}
