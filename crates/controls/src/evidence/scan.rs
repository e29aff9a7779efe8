//! Reading scanners' results: SARIF 2.1.0 (Checkov and most static analysers) and Prowler's
//! OCSF JSON (an array of Detection Findings), each finding a rule id, whether it passed, and
//! for OCSF the framework requirements Prowler says it bears on. Mapping them to controls:
//! SARIF rule ids through the mapping files ([`super::mappings`]), OCSF requirements through
//! the catalog's own framework mappings.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::evidence::mappings::RuleMap;

/// A scanner output format `evident evidence ingest` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// SARIF 2.1.0
    Sarif,
    /// Prowler's JSON-OCSF output
    Ocsf,
}

impl ScanFormat {
    /// Parses `sarif` or `ocsf`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sarif" => Some(Self::Sarif),
            "ocsf" => Some(Self::Ocsf),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sarif => "sarif",
            Self::Ocsf => "ocsf",
        }
    }

    /// The media type of its files.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Sarif => "application/sarif+json",
            Self::Ocsf => "application/json",
        }
    }
}

/// One finding of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// the scanner's rule (check) id
    pub rule: String,
    /// whether it passed
    pub passed: bool,
    /// (framework key as the scanner writes it, requirement id as it writes it)
    pub requirements: Vec<(String, String)>,
}

/// What a scan says about one control.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// findings that passed
    pub passed: u64,
    /// findings that failed
    pub failed: u64,
    /// the ids of the rules that failed
    pub failed_rules: BTreeSet<String>,
}

/// A scan read: the tool that wrote it and its findings.
#[derive(Debug, Clone)]
pub struct Scan {
    /// the tool's name as the file gives it
    pub tool: String,
    /// every finding
    pub findings: Vec<Finding>,
}

/// Reads a SARIF 2.1.0 log: every result of every run; `kind` `pass` passed, `fail` (the
/// default) failed, other kinds (not applicable, informational, review, open) are skipped.
pub fn read_sarif(bytes: &[u8]) -> Result<Scan, String> {
    let log: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    match log.get("version").and_then(Value::as_str) {
        Some("2.1.0") => {}
        Some(other) => return Err(format!("SARIF version {other}; 2.1.0 is read")),
        None => return Err("no `version`: not a SARIF log".into()),
    }
    let runs = log
        .get("runs")
        .and_then(Value::as_array)
        .ok_or("no `runs`: not a SARIF log")?;
    let mut tools = BTreeSet::new();
    let mut findings = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        let driver = run.pointer("/tool/driver");
        if let Some(name) = driver.and_then(|d| d.get("name")).and_then(Value::as_str) {
            tools.insert(name.to_string());
        }
        let rules: Vec<&str> = driver
            .and_then(|d| d.get("rules"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|r| r.get("id")?.as_str()).collect())
            .unwrap_or_default();
        for (i, result) in run
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let rule = result
                .get("ruleId")
                .and_then(Value::as_str)
                .or_else(|| {
                    let index = result
                        .get("ruleIndex")
                        .or_else(|| result.pointer("/rule/index"))?
                        .as_u64()?;
                    rules.get(usize::try_from(index).ok()?).copied()
                })
                .ok_or_else(|| format!("runs[{r}].results[{i}] names no rule"))?;
            let passed = match result.get("kind").and_then(Value::as_str).unwrap_or("fail") {
                "pass" => true,
                "fail" => false,
                _ => continue,
            };
            findings.push(Finding {
                rule: rule.to_string(),
                passed,
                requirements: Vec::new(),
            });
        }
    }
    Ok(Scan {
        tool: tools.into_iter().collect::<Vec<_>>().join(", "),
        findings,
    })
}

/// Reads Prowler's JSON-OCSF output: an array of Detection Findings, each with
/// `status_code` (`PASS`, `FAIL`; others are skipped), its check id in `metadata.event_code`
/// (else `finding_info.uid`), and `unmapped.compliance`: framework → requirement ids.
pub fn read_ocsf(bytes: &[u8]) -> Result<Scan, String> {
    let all: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let all = all
        .as_array()
        .ok_or("not a JSON array of OCSF findings (Prowler's json-ocsf output)")?;
    let mut tools = BTreeSet::new();
    let mut findings = Vec::new();
    for (i, f) in all.iter().enumerate() {
        if let Some(name) = f.pointer("/metadata/product/name").and_then(Value::as_str) {
            tools.insert(name.to_string());
        }
        let passed = match f.get("status_code").and_then(Value::as_str) {
            Some("PASS") => true,
            Some("FAIL") => false,
            Some(_) => continue,
            None => return Err(format!("finding [{i}] has no `status_code`")),
        };
        let rule = f
            .pointer("/metadata/event_code")
            .or_else(|| f.pointer("/finding_info/uid"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("finding [{i}] names no check (metadata.event_code)"))?;
        let mut requirements = Vec::new();
        if let Some(compliance) = f.pointer("/unmapped/compliance").and_then(Value::as_object) {
            for (framework, ids) in compliance {
                for id in ids
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    requirements.push((framework.clone(), id.to_string()));
                }
            }
        }
        findings.push(Finding {
            rule: rule.to_string(),
            passed,
            requirements,
        });
    }
    Ok(Scan {
        tool: tools.into_iter().collect::<Vec<_>>().join(", "),
        findings,
    })
}

/// Our framework id for a framework key as Prowler writes it (`SOC2`, `HIPAA`, `GDPR`,
/// `PCI-4.0`, `NIST-800-53-Revision-5`); `None` for frameworks the catalog does not map.
pub fn framework_of(key: &str) -> Option<&'static str> {
    match key.to_ascii_uppercase().as_str() {
        "SOC2" | "SOC-2" => Some("soc2"),
        "HIPAA" => Some("hipaa"),
        "GDPR" => Some("gdpr"),
        "PCI-4.0" | "PCI-DSS-4.0" | "PCI-4.0.1" => Some("pci"),
        "NIST-800-53-REVISION-5" | "NIST-800-53-REV5" => Some("nist-800-53"),
        _ => None,
    }
}

/// A requirement id as comparable tokens: lower case, split at punctuation and between
/// letters and digits, `art`/`article` dropped — so Prowler's `cc_6_1`, `164_308_a_1_ii_b`,
/// `ac_2_1` and `article_32` meet our `CC6.1`, `164.308(a)(1)(ii)(B)`, `AC-2(1)` and `Art.32`,
/// while `AC-21` stays apart from `AC-2(1)`.
pub fn tokens(id: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut last_digit: Option<bool> = None;
    for c in id.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            last_digit = None;
            continue;
        }
        let digit = c.is_ascii_digit();
        if last_digit.is_some_and(|d| d != digit) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
        last_digit = Some(digit);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.retain(|t| t != "art" && t != "article");
    out
}

/// Each control the scan speaks to, with its tally (SARIF rules through `rules`, OCSF
/// requirements through the catalog's mappings, and rules too, when mapped), and how many
/// findings mapped to no control.
pub fn tally(scan: &Scan, catalog: &Catalog, rules: &RuleMap) -> (BTreeMap<String, Tally>, usize) {
    // (framework, requirement tokens) → controls meeting it
    let mut by_requirement: BTreeMap<(&str, Vec<String>), BTreeSet<&str>> = BTreeMap::new();
    for control in &catalog.controls {
        for (framework, ids) in &control.frameworks {
            for id in ids {
                by_requirement
                    .entry((framework.as_str(), tokens(id)))
                    .or_default()
                    .insert(control.id.as_str());
            }
        }
    }
    let mut out: BTreeMap<String, Tally> = BTreeMap::new();
    let mut unmapped = 0;
    for finding in &scan.findings {
        let mut controls: BTreeSet<String> = rules.controls_of(&finding.rule);
        for (framework, id) in &finding.requirements {
            if let Some(ours) = framework_of(framework) {
                if let Some(found) = by_requirement.get(&(ours, tokens(id))) {
                    controls.extend(found.iter().map(|c| c.to_string()));
                }
            }
        }
        if controls.is_empty() {
            unmapped += 1;
        }
        for control in controls {
            let t = out.entry(control).or_default();
            if finding.passed {
                t.passed += 1;
            } else {
                t.failed += 1;
                t.failed_rules.insert(finding.rule.clone());
            }
        }
    }
    (out, unmapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_ids_meet_across_spellings() {
        assert_eq!(tokens("cc_6_1"), tokens("CC6.1"));
        assert_eq!(tokens("164_308_a_1_ii_b"), tokens("164.308(a)(1)(ii)(B)"));
        assert_eq!(tokens("ac_2_1"), tokens("AC-2(1)"));
        assert_ne!(tokens("ac_21"), tokens("AC-2(1)"));
        assert_eq!(tokens("article_32"), tokens("Art.32"));
    }

    #[test]
    fn sarif_kinds_and_bad_logs() {
        let log = br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"checkov","rules":[{"id":"CKV_AWS_7"}]}},
            "results":[{"ruleId":"CKV_AWS_7","level":"error"},{"rule":{"index":0},"kind":"pass"},{"ruleId":"X","kind":"notApplicable"}]}]}"#;
        let scan = read_sarif(log).unwrap();
        assert_eq!(scan.tool, "checkov");
        assert_eq!(scan.findings.len(), 2);
        assert!(!scan.findings[0].passed && scan.findings[1].passed);
        assert!(read_sarif(b"{\"version\":\"2.0.0\",\"runs\":[]}")
            .unwrap_err()
            .contains("2.0.0"));
        assert!(read_sarif(b"[]").unwrap_err().contains("version"));
        assert!(
            read_sarif(b"{\"version\":\"2.1.0\",\"runs\":[{\"results\":[{}]}]}")
                .unwrap_err()
                .contains("results[0]")
        );
    }
}
