//! The OSCAL assessment-results member of a period bundle
//! (`oscal/assessment-results.json`): the same document `evident controls oscal results`
//! writes, built from the events the bundle carries, whose evidence links are the bundle's
//! own entry members, so an assessor's tool can follow each finding to the entry and its proof.
//!
//! Check runs count as runs with their result; evidence a person or a scanner added counts as
//! a passing run of its control (the attestation is there), so manual controls are assessed
//! on their evidence.

use evident_core::event::format_time;
use evident_core::Result;
use serde_json::Value;

use super::results::{assessment_results, AssessedRun, Assessment};
use crate::bundle::format::{entry_member, OSCAL_ASSESSMENT_RESULTS};
use crate::bundle::Kind;
use crate::bundle::{Contents, MemberWriter};
use crate::catalog::Catalog;

/// Writes `oscal/assessment-results.json` into a bundle.
pub struct AssessmentResultsMember {
    /// the catalog in force (the bundle's snapshot names the controls; this gives their
    /// mappings)
    pub catalog: Catalog,
    /// when the document is made (RFC 3339)
    pub generated_at: String,
}

impl MemberWriter for AssessmentResultsMember {
    fn members(&self, contents: &Contents<'_>) -> Result<Vec<(String, Vec<u8>)>> {
        let controls: Vec<_> = self
            .catalog
            .controls
            .iter()
            .filter(|c| contents.catalog.controls.iter().any(|s| s.id == c.id))
            .collect();
        let mut runs: Vec<AssessedRun> = contents
            .events
            .iter()
            .filter_map(|read| {
                let e = &read.event;
                let control = e.control.clone()?;
                let entry: Value = serde_json::from_slice(&read.bytes).ok()?;
                let text = |f: &str| {
                    entry
                        .pointer(&format!("/metadata/{f}"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let (result, reason) = match e.kind {
                    Kind::Check => (e.result.clone()?, text("reason")),
                    Kind::Evidence => (
                        "pass".to_string(),
                        format!(
                            "evidence {} ({}): {}",
                            text("evidence_id"),
                            e.action,
                            text("reason")
                        ),
                    ),
                    _ => return None,
                };
                Some(AssessedRun {
                    control,
                    index: e.index,
                    time: format_time(e.time_us),
                    result,
                    reason,
                })
            })
            .collect();
        runs.sort_by_key(|r| (r.time.clone(), r.index));
        let (from, to) = (
            format_time(contents.period.from_us),
            format_time(contents.period.to_us),
        );
        let link = |index: u64| entry_member(index);
        let doc = assessment_results(&Assessment {
            catalog: &self.catalog,
            controls,
            from: &from,
            to: &to,
            runs: &runs,
            origin: contents.origin,
            generated_at: &self.generated_at,
            version: env!("CARGO_PKG_VERSION"),
            evidence_href: Some(&link),
        });
        let mut bytes = serde_json::to_vec_pretty(&doc)
            .map_err(|e| evident_core::Error::Integrity(format!("OSCAL document: {e}")))?;
        bytes.push(b'\n');
        Ok(vec![(OSCAL_ASSESSMENT_RESULTS.to_string(), bytes)])
    }
}
