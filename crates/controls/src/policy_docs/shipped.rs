//! The templates: six shipped in the binary, each of which the organisation may replace with
//! its own `DIR/policy-docs/NAME.md` (same name, same placeholders available). A file there
//! with another name is a document of its own.

use std::path::{Path, PathBuf};

use evident_core::{Error, Result};

use crate::policy_docs::template::{Template, MAX_TEMPLATE_BYTES};

/// The directory of a data directory that holds the organisation's templates.
pub const DIR_NAME: &str = "policy-docs";

/// The shipped templates: name and text.
pub const SHIPPED: [(&str, &str); 6] = [
    (
        "access-control",
        include_str!("templates/access-control.md"),
    ),
    ("audit-logging", include_str!("templates/audit-logging.md")),
    ("encryption", include_str!("templates/encryption.md")),
    (
        "incident-response",
        include_str!("templates/incident-response.md"),
    ),
    (
        "backup-recovery",
        include_str!("templates/backup-recovery.md"),
    ),
    (
        "data-retention",
        include_str!("templates/data-retention.md"),
    ),
];

/// Where a template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// shipped in the binary
    Shipped,
    /// the data directory's `policy-docs/NAME.md`
    Local,
}

impl Source {
    /// As events and listings write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Shipped => "shipped",
            Source::Local => "local",
        }
    }
}

/// A template and where it comes from.
#[derive(Debug, Clone)]
pub struct TemplateFile {
    /// the template
    pub template: Template,
    /// where it comes from
    pub source: Source,
}

/// Whether `name` may name a document: 1–64 lower-case letters, digits and `-`, starting
/// with a letter.
pub fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn local_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(DIR_NAME)
}

fn read_local(path: &Path, name: &str) -> Result<Option<String>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                context: format!("reading the policy document template `{name}` (local)"),
                source,
            })
        }
    };
    if bytes.len() > MAX_TEMPLATE_BYTES {
        return Err(Error::Conflict(format!(
            "policy document template `{name}` (local) is over {MAX_TEMPLATE_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| {
        Error::Conflict(format!(
            "policy document template `{name}` (local) is not UTF-8"
        ))
    })
}

/// Every template in force, by name: the shipped ones (each replaced by a local file of its
/// name) and the data directory's others.
pub fn all(data_dir: Option<&Path>) -> Result<Vec<TemplateFile>> {
    let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(dir) = data_dir {
        match std::fs::read_dir(local_dir(dir)) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let file = entry.file_name();
                    let Some(stem) = file.to_str().and_then(|f| f.strip_suffix(".md")) else {
                        continue;
                    };
                    if valid_name(stem) && !names.iter().any(|n| n == stem) {
                        names.push(stem.to_string());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Io {
                    context: format!("listing the data directory's {DIR_NAME}/"),
                    source,
                })
            }
        }
    }
    names[SHIPPED.len()..].sort();
    names.iter().map(|n| find(data_dir, n)).collect()
}

/// The template in force named `name`.
pub fn find(data_dir: Option<&Path>, name: &str) -> Result<TemplateFile> {
    if !valid_name(name) {
        return Err(Error::BadRequest(format!(
            "`{}` is not a policy document name (lower-case letters, digits and `-`, at most 64)",
            name.chars().take(80).collect::<String>()
        )));
    }
    if let Some(dir) = data_dir {
        let path = local_dir(dir).join(format!("{name}.md"));
        if let Some(text) = read_local(&path, name)? {
            return Ok(TemplateFile {
                template: Template {
                    name: name.to_string(),
                    origin: Source::Local.as_str().into(),
                    text,
                },
                source: Source::Local,
            });
        }
    }
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| TemplateFile {
            template: Template {
                name: n.to_string(),
                origin: Source::Shipped.as_str().into(),
                text: text.to_string(),
            },
            source: Source::Shipped,
        })
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no policy document `{name}` (`evident policy-doc list` lists them)"
            ))
        })
}
