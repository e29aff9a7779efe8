//! What a loaded catalog holds: controls, the frameworks whose requirements they meet, and
//! the dispositions (manual or not applicable) of requirements no check covers. Every item
//! remembers the file and line it came from, for errors and for `evident controls list`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cadence::Cadence;

/// Where an item was written: a catalog file and a line in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// the file, as the catalog names it (`catalog/controls/crypto.toml`, or a path in the
    /// data directory)
    pub file: String,
    /// 1-based line
    pub line: usize,
    /// whether the file is one of the catalog shipped in the binary (else the data
    /// directory's own)
    pub shipped: bool,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// How a control is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Implementation {
    /// an attestation with an uploaded artifact
    Manual,
    /// an automated check plus an attested manual step
    PartlyAutomated,
    /// an automated check alone
    Automated,
}

impl Implementation {
    /// The catalog's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::PartlyAutomated => "partly-automated",
            Self::Automated => "automated",
        }
    }

    /// Parses the catalog's word.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "manual" => Some(Self::Manual),
            "partly-automated" => Some(Self::PartlyAutomated),
            "automated" => Some(Self::Automated),
            _ => None,
        }
    }
}

/// One control of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    /// e.g. `EV-CRY-01`
    pub id: String,
    /// a one-line title
    pub title: String,
    /// one paragraph: what the control is and why, in our own words
    pub description: String,
    /// how it is tested
    pub implementation: Implementation,
    /// the automated check's name (absent for manual controls)
    pub check: Option<String>,
    /// the check's settings with every default filled in (what its version hashes)
    pub params: Value,
    /// what a person attests, and with which artifact (manual and partly automated controls)
    pub attestation: Option<String>,
    /// the ledger actions that are its evidence
    pub evidence: Vec<String>,
    /// how often it is checked or attested
    pub cadence: Cadence,
    /// framework id → requirement ids it meets (ids as the framework writes them)
    pub frameworks: BTreeMap<String, Vec<String>>,
    /// where it was written
    pub location: Location,
}

/// How a requirement with no control is handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "class")]
pub enum Disposition {
    /// met by an attestation with an uploaded artifact
    Manual {
        /// the artifact an assessor is given
        artifact: String,
    },
    /// does not apply
    NotApplicable {
        /// why
        reason: String,
    },
}

/// One requirement of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// its id as the framework writes it (`CC6.1`, `164.312(a)(1)`, `AC-2(1)`)
    pub id: String,
    /// its title, where the framework's text is ours to ship (NIST SP 800-53, public domain)
    pub title: Option<String>,
    /// its family or section (`AC`, `Access Control`), where known
    pub family: Option<String>,
}

/// A framework: its requirement ids, from a list we wrote or an OSCAL catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// `soc2`, `hipaa`, `pci`, `gdpr`, `nist-800-53`, or an imported one's name
    pub id: String,
    /// its full name
    pub name: String,
    /// where its requirements come from
    pub source: String,
    /// every requirement, in the framework's order
    pub requirements: Vec<Requirement>,
    /// the framework whose requirement ids this one shares (an imported NIST baseline or
    /// profile shares `nist-800-53`'s): mappings and dispositions of those ids count here too
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids_of: Option<String>,
}

/// The catalog in force: controls, frameworks and dispositions, validated together.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    /// every control, in file order
    pub controls: Vec<Control>,
    /// every framework, by id
    pub frameworks: BTreeMap<String, Framework>,
    /// (framework id, requirement id) → disposition and where it was written
    pub dispositions: BTreeMap<(String, String), (Disposition, Location)>,
    /// `sha256:<hex>` over every source file's name and bytes: the catalog version
    pub hash: String,
    /// the files it was loaded from
    pub files: Vec<String>,
}

impl Catalog {
    /// A framework by id or a short name people use (`pci-dss`, `nist`, `soc-2`); the error
    /// lists the known ids.
    pub fn framework(&self, name: &str) -> evident_core::Result<&Framework> {
        let id = match name {
            "pci-dss" | "pci-dss-4" | "pcidss" => "pci",
            "nist" | "800-53" | "nist-800-53-moderate" => "nist-800-53",
            "soc-2" => "soc2",
            other => other,
        };
        self.frameworks.get(id).ok_or_else(|| {
            evident_core::Error::NotFound(format!(
                "no framework `{name}` (known: {})",
                self.frameworks
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// One control by id.
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }

    /// One control by id, or the error that names it as unknown.
    pub fn known(&self, id: &str) -> evident_core::Result<&Control> {
        self.control(id).ok_or_else(|| {
            evident_core::Error::NotFound(format!(
                "no control `{id}` in the catalog (`evident controls list` shows them)"
            ))
        })
    }
}
