//! A rule's (or the rule set's) allowlist, compiled: the regexes, stopwords and paths that
//! mark a match as known-harmless, and the part of the text each regex is held against.

use regex_automata::meta;

use super::pattern_syntax::compile_one;
use crate::error::{Error, Result};
use crate::rules::{AllowTarget, AllowlistSpec};

/// An allowlist ready to run.
pub(super) struct Allowlist {
    regexes: Vec<meta::Regex>,
    target: AllowTarget,
    stopwords: Vec<Vec<u8>>,
    paths: Vec<meta::Regex>,
}

impl Allowlist {
    pub(super) fn compile(spec: &AllowlistSpec, owner: &str) -> Result<Allowlist> {
        let compile_all = |patterns: &[String]| -> Result<Vec<meta::Regex>> {
            patterns
                .iter()
                .map(|p| {
                    compile_one(p).map_err(|message| Error::Rule {
                        id: owner.to_owned(),
                        message: format!("allowlist regex {p:?}: {message}"),
                    })
                })
                .collect()
        };
        Ok(Allowlist {
            regexes: compile_all(&spec.regexes)?,
            target: spec.target,
            stopwords: spec
                .stopwords
                .iter()
                .map(|w| w.to_ascii_lowercase().into_bytes())
                .collect(),
            paths: compile_all(&spec.paths)?,
        })
    }

    pub(super) fn allows(&self, hay: &[u8], value: (usize, usize), whole: (usize, usize)) -> bool {
        let value_bytes = &hay[value.0..value.1];
        if !self.stopwords.is_empty() {
            let lower = value_bytes.to_ascii_lowercase();
            if self
                .stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w).is_some())
            {
                return true;
            }
        }
        if self.regexes.is_empty() {
            return false;
        }
        let target = match self.target {
            AllowTarget::Value => value_bytes,
            AllowTarget::Match => &hay[whole.0..whole.1],
            AllowTarget::Line => {
                let start = memchr::memrchr(b'\n', &hay[..whole.0]).map_or(0, |i| i + 1);
                let end = memchr::memchr(b'\n', &hay[whole.1..]).map_or(hay.len(), |i| whole.1 + i);
                &hay[start..end]
            }
        };
        self.regexes.iter().any(|re| re.is_match(target))
    }

    pub(super) fn allows_path(&self, path: &str) -> bool {
        self.paths.iter().any(|re| re.is_match(path.as_bytes()))
    }
}
