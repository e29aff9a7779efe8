//! OSCAL assessment-results for a period: what Evident's check runs showed about each
//! control in scope.
//!
//! - one **observation** per control that ran in the period: how many runs, how many passed,
//!   failed, erred or could not decide, collected at the last run, with links to the
//!   evidence (the last run and every run that did not pass, up to [`MAX_LINKED_RUNS`]);
//! - one **finding** per control in scope, targeting the control (`objective-id`, the
//!   Evident control id) with the NIST SP 800-53 ids and other frameworks' requirement ids it
//!   meets as properties: *satisfied* when the control ran in the period and its last run
//!   passed, *not satisfied* otherwise (never ran, or last run failed, erred or could not
//!   decide), with the reason;
//! - `reviewed-controls` lists the NIST SP 800-53 ids the controls in scope meet.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{metadata, prop, uuid_for, PROPERTY_NS};
use crate::catalog::oscal::oscal_id;
use crate::catalog::{Catalog, Control};

/// At most this many runs of one control are linked from its observation besides the last
/// one; the count of the rest is said in its remarks.
pub const MAX_LINKED_RUNS: usize = 50;

/// One check run (or other piece of evidence) of a control, as the ledger holds it.
#[derive(Debug, Clone)]
pub struct AssessedRun {
    /// the control's id
    pub control: String,
    /// the run's ledger index
    pub index: u64,
    /// when it was received (RFC 3339)
    pub time: String,
    /// pass, fail, error or inconclusive
    pub result: String,
    /// why
    pub reason: String,
}

/// What an assessment-results document is built from.
pub struct Assessment<'a> {
    /// the catalog in force
    pub catalog: &'a Catalog,
    /// the controls assessed (e.g. those mapped to one framework), in catalog order
    pub controls: Vec<&'a Control>,
    /// the period's start and end (RFC 3339)
    pub from: &'a str,
    /// the period's end (RFC 3339)
    pub to: &'a str,
    /// every run of those controls in the period, oldest first
    pub runs: &'a [AssessedRun],
    /// the log's origin line (names the log the evidence is in)
    pub origin: &'a str,
    /// when the document is made (RFC 3339)
    pub generated_at: &'a str,
    /// Evident's version
    pub version: &'a str,
    /// the link to one ledger entry: a bundle's member path, or by default
    /// `urn:evident:entry:<origin>:<index>`
    pub evidence_href: Option<&'a dyn Fn(u64) -> String>,
}

impl Assessment<'_> {
    fn href(&self, index: u64) -> String {
        match self.evidence_href {
            Some(link) => link(index),
            None => format!(
                "urn:evident:entry:{}:{index}",
                self.origin
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "-")
            ),
        }
    }
}

/// The assessment-results document.
pub fn assessment_results(a: &Assessment<'_>) -> Value {
    let period = [a.origin, a.from, a.to];
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for control in &a.controls {
        let runs: Vec<&AssessedRun> = a.runs.iter().filter(|r| r.control == control.id).collect();
        let observation = (!runs.is_empty()).then(|| observe(a, control, &runs));
        findings.push(find(a, control, runs.last().copied(), observation.as_ref()));
        observations.extend(observation);
    }
    let nist: BTreeSet<String> = a
        .controls
        .iter()
        .flat_map(|c| c.frameworks.get("nist-800-53").into_iter().flatten())
        .map(|id| oscal_id(id))
        .collect();
    let selection = if nist.is_empty() {
        json!({"include-all": {}})
    } else {
        json!({"include-controls": nist.iter().map(|id| json!({"control-id": id})).collect::<Vec<_>>()})
    };
    let plan = uuid_for(&["resource", "plan", &a.catalog.hash]);
    let mut result = json!({
        "uuid": uuid_for(&[&["result"][..], &period[..]].concat()),
        "title": format!("Evident control checks from {} to {}", a.from, a.to),
        "description": format!(
            "Every run of the {} controls in scope recorded in the log `{}` between {} and {}, \
             as the ledger holds them.",
            a.controls.len(), a.origin, a.from, a.to
        ),
        "start": a.from,
        "end": a.to,
        "props": prop("log-origin", a.origin).into_iter().collect::<Vec<_>>(),
        "reviewed-controls": {"control-selections": [selection]},
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings);
    }
    json!({
        "assessment-results": {
            "uuid": uuid_for(&[&["assessment-results"][..], &period[..], &[a.catalog.hash.as_str()]].concat()),
            "metadata": metadata(
                &format!("Evident assessment results, {} to {}", a.from, a.to),
                a.generated_at,
                a.version,
            ),
            "import-ap": {"href": format!("#{plan}")},
            "results": [result],
            "back-matter": {"resources": [{
                "uuid": plan,
                "title": "Evident's continuous assessment: each control checked at its cadence, every run a ledger event",
                "props": [{"name": "catalog-hash", "ns": PROPERTY_NS, "value": a.catalog.hash}],
            }]},
        }
    })
}

/// The observation of one control's runs.
fn observe(a: &Assessment<'_>, control: &Control, runs: &[&AssessedRun]) -> Value {
    let count = |result: &str| runs.iter().filter(|r| r.result == result).count();
    let (passed, failed, errors) = (count("pass"), count("fail"), count("error"));
    let undecided = runs.len() - passed - failed - errors;
    let last = runs[runs.len() - 1];
    let not_passed: Vec<&&AssessedRun> = runs.iter().filter(|r| r.result != "pass").collect();
    let mut evidence = vec![json!({
        "href": a.href(last.index),
        "description": format!("The last run ({}, {}): {}", last.time, last.result, one_line(&last.reason)),
    })];
    for run in not_passed
        .iter()
        .filter(|r| r.index != last.index)
        .take(MAX_LINKED_RUNS)
    {
        evidence.push(json!({
            "href": a.href(run.index),
            "description": format!("A run that did not pass ({}, {}): {}", run.time, run.result, one_line(&run.reason)),
        }));
    }
    let props: Vec<Value> = [
        prop("evident-control", &control.id),
        prop("runs", &runs.len().to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut observation = json!({
        "uuid": uuid_for(&["observation", a.origin, a.from, a.to, &control.id]),
        "title": format!("{}: {} runs", control.id, runs.len()),
        "description": format!(
            "{} runs of {} between {} and {}: {passed} passed, {failed} failed, {errors} erred, \
             {undecided} could not decide.",
            runs.len(),
            control.check.as_deref().map(|c| format!("the `{c}` check")).unwrap_or_else(|| "its evidence".into()),
            runs[0].time,
            last.time,
        ),
        "props": props,
        "methods": [if control.check.is_some() { "TEST" } else { "EXAMINE" }],
        "types": ["control-objective"],
        "collected": last.time,
        "relevant-evidence": evidence,
    });
    let unlinked = not_passed
        .iter()
        .filter(|r| r.index != last.index)
        .count()
        .saturating_sub(MAX_LINKED_RUNS);
    if unlinked > 0 {
        observation["remarks"] = json!(format!(
            "{unlinked} more runs that did not pass are in the period, not linked here."
        ));
    }
    observation
}

/// The finding on one control.
fn find(
    a: &Assessment<'_>,
    control: &Control,
    last: Option<&AssessedRun>,
    observation: Option<&Value>,
) -> Value {
    let (state, reason, description) = match last {
        None => (
            "not-satisfied",
            "other",
            format!(
                "{} was not checked between {} and {}.",
                control.id, a.from, a.to
            ),
        ),
        Some(run) if run.result == "pass" => (
            "satisfied",
            "pass",
            format!(
                "The last run in the period ({}) passed: {}",
                run.time,
                one_line(&run.reason)
            ),
        ),
        Some(run) => (
            "not-satisfied",
            if run.result == "fail" {
                "fail"
            } else {
                "other"
            },
            format!(
                "The last run in the period ({}) did not pass ({}): {}",
                run.time,
                run.result,
                one_line(&run.reason)
            ),
        ),
    };
    let mut props: Vec<Value> = Vec::new();
    props.extend(prop("evident-control", &control.id));
    props.extend(prop("implementation", control.implementation.as_str()));
    for (framework, ids) in &control.frameworks {
        for id in ids {
            props.extend(prop("requirement", &format!("{framework}:{id}")));
        }
    }
    let mut finding = json!({
        "uuid": uuid_for(&["finding", a.origin, a.from, a.to, &control.id]),
        "title": format!("{}: {}", control.id, control.title),
        "description": description,
        "props": props,
        "target": {
            "type": "objective-id",
            "target-id": token(&control.id),
            "status": {"state": state, "reason": reason},
        },
    });
    if let Some(observation) = observation {
        finding["related-observations"] = json!([{"observation-uuid": observation["uuid"]}]);
    }
    finding
}

/// A reason on one line, at most 500 characters (OSCAL strings are not documents).
fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = line.chars().take(500).collect();
    if out.is_empty() {
        out.push_str("(no reason given)");
    }
    out
}

/// An OSCAL token (`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`) from a control id.
fn token(id: &str) -> String {
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_ids_become_tokens() {
        assert_eq!(token("EV-CRY-01"), "EV-CRY-01");
        assert_eq!(token("9 lives"), "_9_lives");
        assert_eq!(token("A(1)"), "A_1_");
    }

    #[test]
    fn reasons_fit_on_one_line() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(one_line(" "), "(no reason given)");
        assert_eq!(one_line(&"x".repeat(900)).len(), 500);
    }
}
