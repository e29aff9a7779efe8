//! `evident evidence ingest`: a scanner's results file kept as evidence (encrypted, like any
//! other) and one `evidence.ingested` event per control it speaks to, with the counts of
//! passed and failed findings and the failed rule ids. Nothing is kept when the file does
//! not read or no finding maps to a control.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use evident_core::event::{format_time, Outcome, Severity};
use evident_core::{Error, Result};
use evident_crypto::keyring::Keyring;

use crate::events::{new_id, person_event};
use crate::evidence::mappings::RuleMap;
use crate::evidence::record::{period, read_limited, EvidenceOptions};
use crate::evidence::scan::{read_ocsf, read_sarif, tally, ScanFormat, Tally};
use crate::names::EVIDENCE_INGESTED;
use crate::state::Controls;

/// The most failed rule ids one event lists (the count is always whole).
pub const MAX_FAILED_RULES: usize = 200;

/// What an ingest recorded for one control.
#[derive(Debug, Clone, Serialize)]
pub struct IngestedControl {
    /// the control
    pub control: String,
    /// the scan's findings for it
    #[serde(flatten)]
    pub tally: Tally,
    /// the ledger index of its `evidence.ingested` event
    pub index: u64,
}

/// What an ingest recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Ingested {
    /// the file's evidence id
    pub evidence_id: String,
    /// the tool that wrote it
    pub tool: String,
    /// findings read
    pub findings: usize,
    /// findings that mapped to no control
    pub unmapped: usize,
    /// each control it spoke to
    pub controls: Vec<IngestedControl>,
}

impl Controls<'_> {
    /// Reads a scanner's results at `path` in `format`, maps its findings to controls, keeps
    /// the file encrypted and records one `evidence.ingested` event per control (`options`
    /// gives the period, validity, reason and size limit; its `control` is not used).
    pub fn ingest_evidence(
        &self,
        keys: &Keyring<'_>,
        path: &Path,
        format: ScanFormat,
        options: &EvidenceOptions,
        actor: &str,
    ) -> Result<Ingested> {
        let catalog = self.catalog()?;
        let rules = RuleMap::load(&catalog, Some(self.dir()))?;
        let file = read_limited(path, options.max_bytes)?;
        let scan = match format {
            ScanFormat::Sarif => read_sarif(&file.content),
            ScanFormat::Ocsf => read_ocsf(&file.content),
        }
        .map_err(|e| Error::BadRequest(format!("{} ({}): {e}", path.display(), format.as_str())))?;
        let (tallies, unmapped) = tally(&scan, &catalog, &rules);
        if tallies.is_empty() {
            return Err(Error::BadRequest(format!(
                "none of the {} finding(s) of {} maps to a control: add a mapping in DIR/controls/mappings/*.toml; nothing was stored",
                scan.findings.len(),
                path.display()
            )));
        }
        let mut periods = Vec::with_capacity(tallies.len());
        for control in tallies.keys() {
            let c = catalog
                .control(control)
                .ok_or_else(|| Error::Integrity(format!("the control `{control}` vanished")))?;
            periods.push(period(options, c.cadence)?);
        }
        let id = new_id("evd")?;
        let size = file.content.len() as u64;
        let indices = self.keep_and_record(keys, &id, &file, actor, |id| {
            tallies
                .iter()
                .zip(&periods)
                .map(|((control, t), (from, to, until))| {
                    let failed_rules: Vec<&String> =
                        t.failed_rules.iter().take(MAX_FAILED_RULES).collect();
                    let mut event = person_event(
                        EVIDENCE_INGESTED,
                        control,
                        actor,
                        json!({
                            "control": control,
                            "evidence_id": id,
                            "sha256": file.sha256,
                            "size": size,
                            "media_type": format.media_type(),
                            "file_name": file.file_name,
                            "reason": options.reason,
                            "effective_from": format_time(*from),
                            "effective_to": format_time(*to),
                            "valid_until": format_time(*until),
                            "format": format.as_str(),
                            "tool": scan.tool,
                            "passed": t.passed,
                            "failed": t.failed,
                            "failed_rules": failed_rules,
                        }),
                    );
                    event.outcome = if t.failed > 0 {
                        Outcome::Failure
                    } else {
                        Outcome::Success
                    };
                    event.severity = Some(if t.failed > 0 {
                        Severity::Medium
                    } else {
                        Severity::Info
                    });
                    event
                })
                .collect()
        })?;
        Ok(Ingested {
            evidence_id: id,
            tool: scan.tool.clone(),
            findings: scan.findings.len(),
            unmapped,
            controls: tallies
                .into_iter()
                .zip(indices)
                .map(|((control, tally), index)| IngestedControl {
                    control,
                    tally,
                    index,
                })
                .collect(),
        })
    }
}
