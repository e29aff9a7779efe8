//! How much of a framework the catalog covers: each requirement is *automated* (a control
//! with a check alone), *partly automated* (a check plus an attested step), *manual* (an
//! attestation with an artifact, from a control or a disposition), *not applicable* (with a
//! reason) — or a *gap*, named, when nothing covers it.

use serde::Serialize;

use evident_core::Result;

use crate::catalog::{Catalog, Control, Disposition, Implementation};
use crate::checks;

/// A requirement's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// an Evident check alone
    Automated,
    /// a check plus an attested manual step
    PartlyAutomated,
    /// an attestation with an uploaded artifact
    Manual,
    /// does not apply, with a reason
    NotApplicable,
    /// nothing covers it
    Gap,
}

impl Class {
    /// The word in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automated => "automated",
            Self::PartlyAutomated => "partly automated",
            Self::Manual => "manual",
            Self::NotApplicable => "not applicable",
            Self::Gap => "gap",
        }
    }

    /// Every class, in table order.
    pub const ALL: [Class; 5] = [
        Class::Automated,
        Class::PartlyAutomated,
        Class::Manual,
        Class::NotApplicable,
        Class::Gap,
    ];
}

/// One requirement's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// the requirement id
    pub requirement: String,
    /// its title, where the framework's text is ours to ship
    pub title: Option<String>,
    /// its class
    pub class: Class,
    /// the controls that meet it
    pub controls: Vec<String>,
    /// the artifact (manual) or reason (not applicable) of a disposition
    pub note: Option<String>,
}

/// A framework's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// the framework id
    pub framework: String,
    /// its name
    pub name: String,
    /// every requirement, in the framework's order
    pub rows: Vec<Row>,
    /// (class, count) in table order
    pub counts: Vec<(Class, usize)>,
    /// the catalog version the coverage was computed from
    pub catalog: String,
}

impl Coverage {
    /// The share of a class, in percent with one decimal.
    pub fn share(&self, class: Class) -> f64 {
        let n = self
            .counts
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(0, |(_, n)| *n);
        if self.rows.is_empty() {
            return 0.0;
        }
        (n as f64 * 1000.0 / self.rows.len() as f64).round() / 10.0
    }

    /// The requirements nothing covers.
    pub fn gaps(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.class == Class::Gap)
    }
}

/// How a control counts: as its implementation says, except that a control whose check
/// cannot decide yet (it depends on a part that does not exist) counts as manual.
fn effective(control: &Control) -> Implementation {
    let available = control
        .check
        .as_deref()
        .and_then(checks::find)
        .is_none_or(|def| def.available);
    if available {
        control.implementation
    } else {
        Implementation::Manual
    }
}

/// The coverage of `framework` by `catalog`.
pub fn coverage(catalog: &Catalog, framework: &str) -> Result<Coverage> {
    let f = catalog.framework(framework)?;
    let id = f.id.as_str();
    // An imported framework that shares another's ids inherits its mappings and dispositions.
    let sources: Vec<&str> = std::iter::once(id).chain(f.ids_of.as_deref()).collect();
    let mut rows = Vec::with_capacity(f.requirements.len());
    for requirement in &f.requirements {
        let meeting: Vec<_> = catalog
            .controls
            .iter()
            .filter(|c| {
                sources.iter().any(|s| {
                    c.frameworks
                        .get(*s)
                        .is_some_and(|ids| ids.contains(&requirement.id))
                })
            })
            .collect();
        let best = meeting.iter().map(|c| effective(c)).max();
        let disposition = sources.iter().find_map(|s| {
            catalog
                .dispositions
                .get(&(s.to_string(), requirement.id.clone()))
        });
        let (class, note) = match (best, disposition) {
            (Some(Implementation::Automated), _) => (Class::Automated, None),
            (Some(Implementation::PartlyAutomated), _) => (Class::PartlyAutomated, None),
            (Some(Implementation::Manual), _) => (Class::Manual, None),
            (None, Some((Disposition::Manual { artifact }, _))) => {
                (Class::Manual, Some(artifact.clone()))
            }
            (None, Some((Disposition::NotApplicable { reason }, _))) => {
                (Class::NotApplicable, Some(reason.clone()))
            }
            (None, None) => (Class::Gap, None),
        };
        rows.push(Row {
            requirement: requirement.id.clone(),
            title: requirement.title.clone(),
            class,
            controls: meeting.iter().map(|c| c.id.clone()).collect(),
            note,
        });
    }
    let counts = Class::ALL
        .iter()
        .map(|c| (*c, rows.iter().filter(|r| r.class == *c).count()))
        .collect();
    Ok(Coverage {
        framework: id.to_string(),
        name: f.name.clone(),
        rows,
        counts,
        catalog: catalog.hash.clone(),
    })
}
