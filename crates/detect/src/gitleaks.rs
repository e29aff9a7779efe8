//! Importing a gitleaks rule file as it is: `[[rules]]` with `id`, `regex`, `secretGroup`,
//! `entropy`, `keywords` and allowlists become Evident rules for the `secret` entity.
//!
//! What cannot be carried over is reported, never silently changed: path-only rules (no
//! `regex`), regexes our engine does not accept, and `condition = "AND"` allowlists (which
//! would allow more than gitleaks does if read as OR) are skipped with the reason.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rules::{AllowTarget, AllowlistSpec, Confidence, Rule, RuleSet, Samples};
use crate::validate::Validator;
use crate::Entity;

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    rules: Vec<GlRule>,
    #[serde(default)]
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlRule {
    id: String,
    #[serde(default)]
    description: String,
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GlAllow {
    #[serde(default)]
    regexes: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    condition: Option<String>,
}

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    /// rules carried over
    pub imported: usize,
    /// `(rule id, reason)` for each rule or allowlist left out
    pub skipped: Vec<(String, String)>,
}

fn merge_allowlists(owner: &str, lists: Vec<GlAllow>, report: &mut ImportReport) -> AllowlistSpec {
    let mut spec = AllowlistSpec::default();
    let mut targets = Vec::new();
    for list in lists {
        if list
            .condition
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("and"))
        {
            report.skipped.push((
                owner.to_owned(),
                "an allowlist with condition = \"AND\" is not supported; it was left out, so more is reported".into(),
            ));
            continue;
        }
        let target = match list.regex_target.as_deref() {
            None | Some("secret") => AllowTarget::Value,
            Some("match") => AllowTarget::Match,
            Some("line") => AllowTarget::Line,
            Some(other) => {
                report.skipped.push((
                    owner.to_owned(),
                    format!(
                        "allowlist regexTarget {other:?} is unknown; its regexes were left out"
                    ),
                ));
                continue;
            }
        };
        if !list.regexes.is_empty() {
            targets.push(target);
            spec.regexes.extend(list.regexes);
        }
        spec.paths.extend(list.paths);
        spec.stopwords.extend(list.stopwords);
    }
    targets.dedup();
    if targets.len() > 1 {
        report.skipped.push((
            owner.to_owned(),
            "allowlists with different regexTargets were combined; all are matched against the secret".into(),
        ));
    }
    spec.target = targets.first().copied().unwrap_or_default();
    spec
}

/// Converts gitleaks TOML into a rule set of `secret` rules, with what was left out.
pub fn import(text: &str, origin: &str) -> Result<(RuleSet, ImportReport)> {
    let config: Config = toml::from_str(text).map_err(|e| Error::RuleFile {
        origin: origin.to_owned(),
        message: e.to_string(),
    })?;
    let mut report = ImportReport::default();
    let mut set = RuleSet::default();
    let globals: Vec<GlAllow> = config
        .allowlist
        .into_iter()
        .chain(config.allowlists)
        .collect();
    set.allowlist = merge_allowlists("(global allowlist)", globals, &mut report);
    for gl in config.rules {
        let Some(regex) = gl.regex else {
            report.skipped.push((
                gl.id,
                "path-only rules (no `regex`) are not supported".into(),
            ));
            continue;
        };
        let groups = match crate::detector::capture_groups(&regex) {
            Ok(n) => n,
            Err(message) => {
                report
                    .skipped
                    .push((gl.id, format!("regex does not compile here: {message}")));
                continue;
            }
        };
        // gitleaks reports the first group when `secretGroup` is unset and the regex has one.
        let group = match gl.secret_group {
            Some(g) if g > groups => {
                report
                    .skipped
                    .push((gl.id, format!("secretGroup {g} does not exist")));
                continue;
            }
            Some(g) if g > 0 => g,
            _ => usize::from(groups > 0),
        };
        let lists: Vec<GlAllow> = gl.allowlist.into_iter().chain(gl.allowlists).collect();
        let allowlist = merge_allowlists(&gl.id, lists, &mut report);
        set.rules.push(Rule {
            entity: Entity::Secret,
            description: gl.description,
            regex,
            group,
            validator: Validator::None,
            keywords: gl.keywords,
            context: Vec::new(),
            entropy: gl.entropy,
            window: 0,
            reach_before: None,
            reach_after: None,
            confidence: Confidence::High,
            allowlist,
            samples: Samples::default(),
            disabled: false,
            jurisdictions: Vec::new(),
            id: gl.id,
        });
        report.imported += 1;
    }
    Ok((set, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Detector, Fingerprinter, Scanner};

    const SAMPLE: &str = r#"
title = "sample gitleaks config"

[[rules]]
id = "acme-api-token"
description = "Acme API token"
regex = '''(?i)\b(acme_[a-z0-9]{32})(?:['|\"|\n|\r|\s|\x60|;]|$)'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]
tags = ["acme"]
[rules.allowlist]
stopwords = ["acme_00000000000000000000000000000000"]

[[rules]]
id = "pkcs12-file"
path = '''(?i)\.p(?:12|fx)$'''

[[rules]]
id = "generic-shaped"
regex = '''token=([a-f0-9]{40})'''
keywords = ["token="]
[[rules.allowlists]]
condition = "AND"
regexes = ['''aaaa''']

[allowlist]
paths = ['''(?:^|/)vendor/''']
"#;

    #[test]
    fn imports_and_reports_what_it_cannot() {
        let (set, report) = import(SAMPLE, "gitleaks.toml").unwrap();
        assert_eq!(report.imported, 2);
        assert!(report
            .skipped
            .iter()
            .any(|(id, why)| id == "pkcs12-file" && why.contains("path-only")));
        assert!(report
            .skipped
            .iter()
            .any(|(id, why)| id == "generic-shaped" && why.contains("AND")));
        let acme = set.get("acme-api-token").unwrap();
        assert_eq!(acme.group, 1);
        assert_eq!(
            set.get("generic-shaped").unwrap().group,
            1,
            "first group when secretGroup is unset"
        );

        let detector = Detector::new(&set).unwrap();
        let fp = Fingerprinter::new(&[3; 32]).unwrap();
        let scanner = Scanner::new(&detector, &fp);
        let mut found = Vec::new();
        scanner.scan_bytes(
            b"x = \"acme_q8k2m9x7v4t1b5n0c6h3j8s2d4g7a9e1\"\n",
            "src/main.rs",
            &mut |f| found.push(f),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "acme-api-token");
        let mut vendored = Vec::new();
        scanner.scan_bytes(
            b"acme_q8k2m9x7v4t1b5n0c6h3j8s2d4g7a9e1\n",
            "vendor/lib.rs",
            &mut |f| vendored.push(f),
        );
        assert!(vendored.is_empty());
    }

    #[test]
    fn broken_files_are_refused() {
        assert!(
            import("[[rules]]\nregex = 'x'\n", "g").is_err(),
            "id is required"
        );
        assert!(import("not toml at all [", "g").is_err());
        let (_, report) = import("[[rules]]\nid = 'x'\nregex = '(unclosed'\n", "g").unwrap();
        assert_eq!(report.imported, 0);
        assert!(report.skipped[0].1.contains("does not compile"));
    }
}
