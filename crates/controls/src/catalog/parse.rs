//! One catalog file, read from TOML with the position of everything that can be wrong in
//! it, so that every error names the file and line. What a file may hold:
//!
//! ```toml
//! [framework]                      # only in a framework's requirement list
//! id = "soc2"
//! name = "SOC 2 Trust Services Criteria"
//! requirements = ["CC6.1", "CC6.2"]
//!
//! [[control]]
//! id = "EV-CRY-01"
//! title = "…"
//! description = "…"
//! implementation = "automated"     # automated | partly-automated | manual
//! check = "crypto.key_rotation"    # automated and partly automated controls
//! attestation = "…"                # partly automated and manual controls: what a person attests
//! evidence = ["evident.key.rotated"]
//! cadence = "1d"
//! params = { max_age_days = 365 }  # the check's settings
//! frameworks = { soc2 = ["CC6.1"], nist-800-53 = ["SC-12"] }
//!
//! [[disposition]]                  # requirements met without a check
//! framework = "nist-800-53"
//! requirements = ["PE-1", "PE-2"]
//! class = "manual"                 # manual (with artifact) | not-applicable (with reason)
//! artifact = "…"
//!
//! [[settings]]                     # another file's control, with settings of your own
//! control = "EV-OPS-03"
//! params = { repositories = ["/srv/git/payments"] }
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::catalog::model::Location;
use evident_core::{Error, Result};

/// A catalog file's name and text.
#[derive(Debug, Clone)]
pub struct Source {
    /// how errors name it
    pub name: String,
    /// its TOML
    pub text: String,
    /// whether it is one of the files shipped in the binary (an organisation's own file may
    /// replace a shipped disposition, never the other way round)
    pub shipped: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    framework: Option<Spanned<RawFramework>>,
    #[serde(default)]
    control: Vec<Spanned<RawControl>>,
    #[serde(default)]
    disposition: Vec<Spanned<RawDisposition>>,
    #[serde(default)]
    settings: Vec<Spanned<RawSettings>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFramework {
    pub id: Spanned<String>,
    pub name: String,
    pub requirements: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawControl {
    pub id: Spanned<String>,
    pub title: String,
    pub description: String,
    pub implementation: Spanned<String>,
    pub check: Option<Spanned<String>>,
    pub attestation: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Spanned<String>>,
    pub cadence: Spanned<String>,
    pub params: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub frameworks: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDisposition {
    pub framework: Spanned<String>,
    pub requirements: Vec<Spanned<String>>,
    pub class: Spanned<String>,
    pub artifact: Option<String>,
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    pub control: Spanned<String>,
    pub params: Spanned<toml::Table>,
}

/// A file's items, each with where it starts.
pub(crate) struct ParsedFile {
    pub source: Source,
    pub framework: Option<(RawFramework, Location)>,
    pub controls: Vec<(RawControl, Location)>,
    pub dispositions: Vec<(RawDisposition, Location)>,
    pub settings: Vec<RawSettings>,
}

impl ParsedFile {
    /// Where a span of this file starts.
    pub fn at(&self, span: Range<usize>) -> Location {
        locate(&self.source, span)
    }

    /// An error at a span of this file.
    pub fn error(&self, span: Range<usize>, message: impl std::fmt::Display) -> Error {
        catalog_error(&self.at(span), message)
    }
}

/// The catalog's error: `catalog FILE:LINE: message`.
pub fn catalog_error(at: &Location, message: impl std::fmt::Display) -> Error {
    Error::BadRequest(format!("catalog {at}: {message}"))
}

fn locate(source: &Source, span: Range<usize>) -> Location {
    let end = span.start.min(source.text.len());
    let line = source.text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    Location {
        file: source.name.clone(),
        line,
        shipped: source.shipped,
    }
}

/// Parses one file; a syntax error or an unknown field names its line.
pub(crate) fn parse(source: Source) -> Result<ParsedFile> {
    let raw: RawFile = toml::from_str(&source.text).map_err(|e| {
        let at = locate(&source, e.span().unwrap_or(0..0));
        catalog_error(&at, e.message().trim())
    })?;
    let mut file = ParsedFile {
        source,
        framework: None,
        controls: Vec::new(),
        dispositions: Vec::new(),
        settings: raw.settings.into_iter().map(Spanned::into_inner).collect(),
    };
    if let Some(f) = raw.framework {
        let at = file.at(f.span());
        file.framework = Some((f.into_inner(), at));
    }
    for c in raw.control {
        let at = file.at(c.span());
        file.controls.push((c.into_inner(), at));
    }
    for d in raw.disposition {
        let at = file.at(d.span());
        file.dispositions.push((d.into_inner(), at));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            name: "org.toml".into(),
            text: text.into(),
            shipped: false,
        }
    }

    #[test]
    fn syntax_errors_and_unknown_fields_name_the_line() {
        let err = parse(source("\n\n[[control]]\nid = \"A\"\ntitel = \"x\"\n"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("org.toml:5"), "{err}");
        assert!(err.contains("titel"), "{err}");
        let err = parse(source("[[control]\n")).err().unwrap().to_string();
        assert!(err.contains("org.toml:1"), "{err}");
    }

    #[test]
    fn items_know_their_line() {
        let text = "# c\n[[disposition]]\nframework = \"soc2\"\nrequirements = [\"CC1.1\"]\nclass = \"manual\"\nartifact = \"a\"\n";
        let file = parse(source(text)).unwrap();
        assert_eq!(file.dispositions[0].1.line, 2);
        let req = &file.dispositions[0].0.requirements[0];
        assert_eq!(file.at(req.span()).line, 4);
    }
}
