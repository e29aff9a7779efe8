//! Building a period bundle from the live log: the framework's controls in force, every
//! check run, evidence and exception event that counts for the period with its bytes and an
//! inclusion proof against the end checkpoint, the policy versions in force, the anchors,
//! the figures and the report — and the manifest listing every member's SHA-256.

use std::collections::{BTreeMap, BTreeSet};

use evident_core::event::{format_time, now_us};
use evident_core::Result;
use evident_ledger::tlog_proof::TlogProof;
use serde_json::json;

use super::anchor::{manifest_digest, BUNDLE_BUILT};
use super::events::{
    policies_in_force, policy_docs_in_force, Kind, Period, EVIDENCE_ADDED, EVIDENCE_INGESTED,
    EXCEPTION_GRANTED, EXCEPTION_REVOKED, POLICY_APPLIED, POLICY_DOC_PUBLISHED,
};
use super::figures::{figures, CatalogSnapshot, ControlInfo};
use super::format::{
    entry_member, hashes_text, proof_member, sha256_hex, write_tar, Listed, Manifest, Member,
    PolicyDocInForce, PolicyInForce, BUNDLE_FORMAT, CATALOG, CONSISTENCY, END_CHECKPOINT, MANIFEST,
    REPORT, START_CHECKPOINT,
};
use super::report::render;
use super::source::Read;
use super::MemberWriter;
use crate::catalog::Catalog;
use crate::names::CHECK_ACTION;
use crate::state::Controls;
use crate::status::check_period;

/// A bundle as built: its bytes and its manifest.
pub struct Built {
    /// the ustar file
    pub bytes: Vec<u8>,
    /// its manifest
    pub manifest: Manifest,
}

/// What a member writer is given: everything the bundle holds but the manifest.
pub struct Contents<'a> {
    /// the framework's controls in force
    pub catalog: &'a CatalogSnapshot,
    /// the period
    pub period: Period,
    /// the events carried, by index, with their bytes
    pub events: &'a [Read],
    /// the figures
    pub figures: &'a super::figures::Figures,
    /// the log's origin
    pub origin: &'a str,
}

/// The framework's controls as the catalog in force states them.
pub fn snapshot(catalog: &Catalog, framework: &str) -> Result<CatalogSnapshot> {
    let fw = catalog.framework(framework)?;
    Ok(CatalogSnapshot {
        catalog_hash: catalog.hash.clone(),
        framework: fw.id.clone(),
        framework_name: fw.name.clone(),
        controls: catalog
            .controls
            .iter()
            .filter_map(|c| {
                c.frameworks.get(&fw.id).map(|ids| ControlInfo {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    implementation: c.implementation.as_str().to_string(),
                    check: c.check.clone(),
                    cadence_seconds: c.cadence.seconds(),
                    requirements: ids.clone(),
                })
            })
            .collect(),
    })
}

impl Controls<'_> {
    /// Builds the bundle of `framework` over `period`; `writers` add members of their own
    /// (the OSCAL assessment results) before the manifest is sealed. The one thing stored is
    /// the log's record of the built bundle (its manifest's hash), appended last, which binds
    /// the manifest to the log; a bundle that cannot be built stores nothing.
    pub fn bundle(
        &self,
        framework: &str,
        period: Period,
        writers: &[&dyn MemberWriter],
        actor: &str,
    ) -> Result<Built> {
        check_period(period.from_us, period.to_us)?;
        let catalog = snapshot(&self.catalog()?, framework)?;
        let ids: BTreeSet<&str> = catalog.controls.iter().map(|c| c.id.as_str()).collect();
        let ours = |e: &super::events::PeriodEvent| {
            e.control.as_deref().is_some_and(|c| ids.contains(c)) && e.counts_for(period)
        };
        let mut events = self.read_events(&[CHECK_ACTION], None, Some(period), &ours)?;
        events.extend(self.read_events(
            &[
                EVIDENCE_ADDED,
                EVIDENCE_INGESTED,
                EXCEPTION_GRANTED,
                EXCEPTION_REVOKED,
            ],
            None,
            None,
            &ours,
        )?);
        let policies = self.read_events(&[POLICY_APPLIED], None, None, &|_| true)?;
        let chosen: Vec<u64> = {
            let parsed: Vec<_> = policies.iter().map(|r| r.event.clone()).collect();
            policies_in_force(&parsed, period)
                .iter()
                .map(|e| e.index)
                .collect()
        };
        events.extend(
            policies
                .into_iter()
                .filter(|r| chosen.contains(&r.event.index)),
        );
        let docs = self.read_events(&[POLICY_DOC_PUBLISHED], None, None, &|_| true)?;
        let chosen: Vec<u64> = {
            let parsed: Vec<_> = docs.iter().map(|r| r.event.clone()).collect();
            policy_docs_in_force(&parsed, period)
                .iter()
                .map(|e| e.index)
                .collect()
        };
        events.extend(docs.into_iter().filter(|r| chosen.contains(&r.event.index)));
        events.sort_by_key(|r| r.event.index);

        let anchors = self.anchors(period, events.last().map(|r| r.event.index))?;
        let mut members: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        if let Some(note) = &anchors.start_note {
            members.insert(START_CHECKPOINT.into(), note.clone().into_bytes());
        }
        members.insert(END_CHECKPOINT.into(), anchors.end_note.clone().into_bytes());
        members.insert(
            CONSISTENCY.into(),
            hashes_text(&anchors.consistency).into_bytes(),
        );
        let mut listed = Vec::with_capacity(events.len());
        for read in &events {
            let index = read.event.index;
            let proof = self.log.inclusion_proof(index, Some(anchors.end_size))?;
            let tlog = TlogProof {
                extra: None,
                index,
                proof: proof.proof,
                checkpoint: anchors.end_note.clone(),
            };
            members.insert(entry_member(index), read.bytes.clone());
            members.insert(proof_member(index), tlog.to_text().into_bytes());
            listed.push(Listed {
                index,
                action: read.event.action.clone(),
                control: read.event.control.clone(),
                entry: entry_member(index),
                proof: proof_member(index),
            });
        }
        let parsed: Vec<_> = events.iter().map(|r| r.event.clone()).collect();
        let figures = figures(&catalog, &parsed, period);
        let policies: Vec<PolicyInForce> = parsed
            .iter()
            .filter(|e| e.kind == Kind::Policy)
            .map(|e| {
                let (version, hash) = e.policy.clone().unwrap_or_default();
                PolicyInForce {
                    version,
                    hash,
                    index: e.index,
                    applied_at: format_time(e.time_us),
                }
            })
            .collect();
        let policy_documents: Vec<PolicyDocInForce> = parsed
            .iter()
            .filter(|e| e.kind == Kind::PolicyDoc)
            .map(|e| {
                let (version, sha256) = e.policy.clone().unwrap_or_default();
                PolicyDocInForce {
                    document: e.document.clone().unwrap_or_default(),
                    version,
                    sha256,
                    index: e.index,
                    published_at: format_time(e.time_us),
                }
            })
            .collect();
        let catalog_json = serde_json::to_vec_pretty(&catalog)
            .map_err(|e| evident_core::Error::Integrity(format!("encoding the catalog: {e}")))?;
        members.insert(CATALOG.into(), catalog_json);
        members.extend(self.register_members(period, anchors.end_size, &anchors.end_note)?);

        let origin = self.recorder.origin().to_string();
        let mut manifest = Manifest {
            format: BUNDLE_FORMAT.into(),
            framework: catalog.framework.clone(),
            from: format_time(period.from_us),
            to: format_time(period.to_us),
            origin: origin.clone(),
            built_at: format_time(now_us()),
            start: super::format::End {
                size: anchors.start_size,
                checkpoint: anchors
                    .start_note
                    .as_ref()
                    .map(|_| START_CHECKPOINT.to_string()),
            },
            end: super::format::End {
                size: anchors.end_size,
                checkpoint: Some(END_CHECKPOINT.to_string()),
            },
            consistency: CONSISTENCY.into(),
            catalog_hash: catalog.catalog_hash.clone(),
            policies,
            policy_documents,
            events: listed,
            figures,
            members: Vec::new(),
        };
        members.insert(
            REPORT.into(),
            render(&manifest, &catalog, &parsed).into_bytes(),
        );
        let contents = Contents {
            catalog: &catalog,
            period,
            events: &events,
            figures: &manifest.figures,
            origin: &origin,
        };
        for writer in writers {
            for (path, bytes) in writer.members(&contents)? {
                if path == MANIFEST || members.contains_key(&path) {
                    return Err(evident_core::Error::Integrity(format!(
                        "a member writer wrote {path}, which the bundle already holds"
                    )));
                }
                members.insert(path, bytes);
            }
        }
        manifest.members = members
            .iter()
            .map(|(path, bytes)| Member {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            })
            .collect();
        let manifest_json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| evident_core::Error::Integrity(format!("encoding the manifest: {e}")))?;
        let anchor = self.record_anchor(
            BUNDLE_BUILT,
            ("evidence_bundle", &manifest.framework),
            json!({
                "framework": manifest.framework,
                "from": manifest.from,
                "to": manifest.to,
                "end_size": manifest.end.size,
                "events": manifest.events.len(),
                "manifest_sha256": manifest_digest(&manifest_json),
                "requested_by": actor,
            }),
            manifest.end.size,
        )?;
        members.extend(anchor.into_members());
        Ok(Built {
            bytes: write_tar(&members, &manifest_json)?,
            manifest,
        })
    }
}
