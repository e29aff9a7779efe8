//! Verifying a period bundle offline, with only the log's verifier key: every member
//! against the manifest, the checkpoints' signatures, the consistency proof between them,
//! every event's inclusion proof, that every event belongs to the period and framework, the
//! figures recomputed against the manifest's and the report's, and then whether the controls
//! operated: each automated control checked at its cadence through the whole period, each
//! failure followed by a pass or covered by an exception. No data directory is read.

use std::collections::{BTreeMap, BTreeSet};

use evident_core::event::parse_time;
use evident_core::{Error, Result};
use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::{empty_root, leaf_hash};
use evident_ledger::note::NoteVerifier;
use evident_ledger::proof::verify_inclusion;
use evident_ledger::tlog_proof::TlogProof;

use super::anchor::{
    check_anchor, manifest_digest, Anchor, ANCHOR_ENTRY, ANCHOR_MEMBERS, BUNDLE_BUILT,
};
use super::events::{policies_in_force, policy_docs_in_force, Kind, Period, PeriodEvent};
use super::figures::{figures, short_time, CatalogSnapshot};
use super::format::{
    consistent, parse_hashes, read_tar, sha256_hex, Manifest, BUNDLE_FORMAT, CATALOG, MANIFEST,
    REPORT,
};
use super::report::{embedded_figures, render};
use crate::Cadence;

/// What verifying a bundle found.
#[derive(Debug)]
pub struct BundleVerdict {
    /// the manifest, when it could be read
    pub manifest: Option<Manifest>,
    /// integrity faults, each naming the member
    pub faults: Vec<String>,
    /// controls that did not operate through the period: gaps and open failures
    pub findings: Vec<String>,
    /// the events whose inclusion was proven
    pub proven: usize,
}

impl BundleVerdict {
    /// Whether nothing was found wrong.
    pub fn ok(&self) -> bool {
        self.faults.is_empty() && self.findings.is_empty()
    }
}

/// Verifies a bundle's bytes. `Err` when they are not an Evident period bundle at all (not a
/// tar, cut short, no manifest, another format); everything else is in the verdict.
pub fn verify_bundle(bytes: &[u8], verifier: &NoteVerifier) -> Result<BundleVerdict> {
    let members = read_tar(bytes)?;
    let raw = members.get(MANIFEST).ok_or_else(|| {
        Error::BadRequest(format!(
            "not an Evident period bundle: it has no {MANIFEST}"
        ))
    })?;
    let mut verdict = BundleVerdict {
        manifest: None,
        faults: Vec::new(),
        findings: Vec::new(),
        proven: 0,
    };
    let value: serde_json::Value = match serde_json::from_slice(raw) {
        Ok(v) => v,
        Err(e) => {
            verdict.faults.push(format!("{MANIFEST}: not JSON: {e}"));
            return Ok(verdict);
        }
    };
    if value.get("format").and_then(|f| f.as_str()) != Some(BUNDLE_FORMAT) {
        return Err(Error::BadRequest(format!(
            "not an Evident period bundle: {MANIFEST} has no format `{BUNDLE_FORMAT}`"
        )));
    }
    let manifest: Manifest = match serde_json::from_value(value) {
        Ok(m) => m,
        Err(e) => {
            verdict
                .faults
                .push(format!("{MANIFEST}: not a valid manifest: {e}"));
            return Ok(verdict);
        }
    };
    check(&manifest, &members, verifier, &mut verdict);
    verdict.manifest = Some(manifest);
    Ok(verdict)
}

fn check(
    m: &Manifest,
    members: &BTreeMap<String, Vec<u8>>,
    verifier: &NoteVerifier,
    v: &mut BundleVerdict,
) {
    let faults = &mut v.faults;
    // 1. Every member against the manifest, and nothing unlisted.
    let listed: BTreeSet<&str> = m.members.iter().map(|x| x.path.as_str()).collect();
    for member in &m.members {
        match members.get(&member.path) {
            None => faults.push(format!(
                "{}: listed in the manifest but missing",
                member.path
            )),
            Some(b) if sha256_hex(b) != member.sha256 || b.len() as u64 != member.bytes => {
                faults.push(format!(
                    "{}: its SHA-256 is {} but the manifest lists {}",
                    member.path,
                    sha256_hex(b),
                    member.sha256
                ));
            }
            Some(_) => {}
        }
    }
    for path in members.keys() {
        if path != MANIFEST
            && !listed.contains(path.as_str())
            && !ANCHOR_MEMBERS.contains(&path.as_str())
        {
            faults.push(format!("{path}: not listed in the manifest"));
        }
    }
    let text = |path: &str| members.get(path).and_then(|b| std::str::from_utf8(b).ok());

    // 2. The anchors: signatures, sizes, consistency.
    let read_checkpoint = |path: Option<&String>, size: u64, faults: &mut Vec<String>| {
        let path = path?;
        let Some(note) = text(path) else {
            faults.push(format!("{path}: missing or not text"));
            return None;
        };
        match verifier.verify_checkpoint(note) {
            Err(e) => {
                faults.push(format!("{path}: {e}"));
                None
            }
            Ok(cp) if cp.origin != m.origin || cp.size != size => {
                faults.push(format!(
                    "{path}: a checkpoint of `{}` at size {}, where the manifest says `{}` at {size}",
                    cp.origin, cp.size, m.origin
                ));
                None
            }
            Ok(cp) => Some((cp, note.to_string())),
        }
    };
    let end = read_checkpoint(m.end.checkpoint.as_ref(), m.end.size, faults);
    let anchor = Anchor::from_members(members);
    match check_anchor(
        anchor.as_ref(),
        BUNDLE_BUILT,
        end.as_ref().map(|(c, _)| c),
        verifier,
        ANCHOR_ENTRY,
    ) {
        Err(fault) => faults.push(fault),
        Ok(recorded) => {
            let digest = members.get(MANIFEST).map(|raw| manifest_digest(raw));
            if recorded.get("manifest_sha256").and_then(|d| d.as_str()) != digest.as_deref() {
                faults.push(format!(
                    "{MANIFEST}: its SHA-256 is not the one the log recorded when the bundle was built"
                ));
            }
        }
    }
    if m.end.checkpoint.is_none() {
        faults.push(format!("{MANIFEST}: names no end checkpoint"));
    }
    let start: Option<Checkpoint> = if m.start.size == 0 {
        Some(Checkpoint::new(&m.origin, 0, empty_root()))
    } else if m.start.checkpoint.is_none() {
        faults.push(format!(
            "{MANIFEST}: a start at size {} without its checkpoint",
            m.start.size
        ));
        None
    } else {
        read_checkpoint(m.start.checkpoint.as_ref(), m.start.size, faults).map(|(c, _)| c)
    };
    if let (Some(start), Some((end, _))) = (&start, &end) {
        match text(&m.consistency).map(parse_hashes) {
            None => faults.push(format!("{}: missing or not text", m.consistency)),
            Some(Err(e)) => faults.push(format!("{}: {e}", m.consistency)),
            Some(Ok(proof)) => {
                if let Err(e) = consistent(start, end, &proof) {
                    faults.push(format!(
                        "{}: the start checkpoint is not a prefix of the end one: {e}",
                        m.consistency
                    ));
                }
            }
        }
    }

    // 3. Every event: its bytes, its proof against the end checkpoint, what it is.
    let mut events: Vec<PeriodEvent> = Vec::new();
    for listed in &m.events {
        let Some(bytes) = members.get(&listed.entry) else {
            faults.push(format!(
                "{}: entry {} is missing",
                listed.entry, listed.index
            ));
            continue;
        };
        if let Some((cp, note)) = &end {
            match text(&listed.proof).map(TlogProof::parse) {
                None => faults.push(format!("{}: missing or not text", listed.proof)),
                Some(Err(e)) => faults.push(format!("{}: {e}", listed.proof)),
                Some(Ok(p)) if p.checkpoint != *note => faults.push(format!(
                    "{}: proves against another checkpoint than the bundle's end (another log, or another size)",
                    listed.proof
                )),
                Some(Ok(p)) if p.index != listed.index => faults.push(format!(
                    "{}: proves entry {}, not {}",
                    listed.proof, p.index, listed.index
                )),
                Some(Ok(p)) => match verify_inclusion(p.index, cp.size, &leaf_hash(bytes), &p.proof, &cp.root) {
                    Ok(()) => v.proven += 1,
                    Err(e) => faults.push(format!(
                        "{}: entry {} is not in the log at its end checkpoint ({e}); its bytes in {}",
                        listed.proof, listed.index, listed.entry
                    )),
                },
            }
        }
        match PeriodEvent::parse(listed.index, bytes) {
            Ok(Some(e)) if e.action == listed.action && e.control == listed.control => {
                events.push(e)
            }
            Ok(_) => faults.push(format!(
                "{}: not the {} the manifest lists",
                listed.entry, listed.action
            )),
            Err(e) => faults.push(format!("{}: {e}", listed.entry)),
        }
    }

    // 3b. The registers' records and their events (see `registers::in_period`).
    v.proven += crate::registers::in_period::verify_members(members, end.as_ref(), faults);

    // 4. The catalog, the period, and that every event belongs to them.
    let catalog: CatalogSnapshot = match members.get(CATALOG).map(|b| serde_json::from_slice(b)) {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            faults.push(format!("{CATALOG}: {e}"));
            return;
        }
        None => {
            faults.push(format!("{CATALOG}: missing"));
            return;
        }
    };
    if catalog.framework != m.framework || catalog.catalog_hash != m.catalog_hash {
        faults.push(format!(
            "{CATALOG}: not the catalog or framework the manifest names"
        ));
    }
    for c in &catalog.controls {
        if !(Cadence::MIN_SECONDS..=Cadence::MAX_SECONDS).contains(&c.cadence_seconds) {
            faults.push(format!(
                "{CATALOG}: the cadence of {} is {} seconds, outside 1m … 366d",
                c.id, c.cadence_seconds
            ));
        }
    }
    let (Ok(from_us), Ok(to_us)) = (parse_time(&m.from), parse_time(&m.to)) else {
        faults.push(format!("{MANIFEST}: the period does not parse"));
        return;
    };
    let period = Period { from_us, to_us };
    let ids: BTreeSet<&str> = catalog.controls.iter().map(|c| c.id.as_str()).collect();
    let in_force: BTreeSet<u64> = policies_in_force(&events, period)
        .iter()
        .map(|e| e.index)
        .collect();
    let docs_in_force: BTreeSet<u64> = policy_docs_in_force(&events, period)
        .iter()
        .map(|e| e.index)
        .collect();
    for e in &events {
        let belongs = match e.kind {
            Kind::Policy => in_force.contains(&e.index),
            Kind::PolicyDoc => docs_in_force.contains(&e.index),
            _ => e.control.as_deref().is_some_and(|c| ids.contains(c)) && e.counts_for(period),
        };
        if !belongs {
            faults.push(format!(
                "{}: entry {} ({}) does not count for {} over the period",
                super::format::entry_member(e.index),
                e.index,
                e.action,
                m.framework
            ));
        }
        if e.index >= m.end.size {
            faults.push(format!(
                "{}: entry {} is beyond the end checkpoint",
                super::format::entry_member(e.index),
                e.index
            ));
        }
    }
    let policies: Vec<(u64, String, u64)> = events
        .iter()
        .filter(|e| in_force.contains(&e.index))
        .map(|e| {
            let (version, hash) = e.policy.clone().unwrap_or_default();
            (version, hash, e.index)
        })
        .collect();
    let claimed: Vec<(u64, String, u64)> = m
        .policies
        .iter()
        .map(|p| (p.version, p.hash.clone(), p.index))
        .collect();
    if policies != claimed {
        faults.push(format!(
            "{MANIFEST}: the policy versions it lists are not those its events show"
        ));
    }

    let documents: Vec<(String, u64, String, u64)> = events
        .iter()
        .filter(|e| docs_in_force.contains(&e.index))
        .map(|e| {
            let (version, sha256) = e.policy.clone().unwrap_or_default();
            (
                e.document.clone().unwrap_or_default(),
                version,
                sha256,
                e.index,
            )
        })
        .collect();
    let claimed: Vec<(String, u64, String, u64)> = m
        .policy_documents
        .iter()
        .map(|d| (d.document.clone(), d.version, d.sha256.clone(), d.index))
        .collect();
    if documents != claimed {
        faults.push(format!(
            "{MANIFEST}: the policy documents it lists are not those its events show"
        ));
    }

    // 5. The figures, recomputed.
    let recomputed = figures(&catalog, &events, period);
    if recomputed != m.figures {
        for (ours, theirs) in recomputed.controls.iter().zip(&m.figures.controls) {
            if ours != theirs {
                faults.push(format!(
                    "{MANIFEST}: the figures of {} are not those its events give (runs {} listed {}, evidence {} listed {}, gaps {} listed {})",
                    ours.control, ours.runs, theirs.runs, ours.evidence, theirs.evidence, ours.gaps.len(), theirs.gaps.len()
                ));
            }
        }
        if recomputed.controls.len() != m.figures.controls.len()
            || recomputed.columns != m.figures.columns
        {
            faults.push(format!("{MANIFEST}: its figures cover other controls or columns than the catalog and period"));
        }
    }
    match text(REPORT).map(embedded_figures) {
        Some(Some(shown)) if shown == recomputed => {}
        _ => faults.push(format!(
            "{REPORT}: the figures it shows are not those the events give"
        )),
    }
    let mut by_index: Vec<PeriodEvent> = events.clone();
    by_index.sort_by_key(|e| e.index);
    if text(REPORT) != Some(render(m, &catalog, &by_index).as_str()) {
        faults.push(format!(
            "{REPORT}: not the report the manifest and events give (it was edited)"
        ));
    }
    for fault in catalog_against_runs(&catalog, &events) {
        faults.push(format!("{CATALOG}: {fault}"));
    }

    // 6. Did the controls operate?
    for row in &recomputed.controls {
        for g in &row.gaps {
            v.findings.push(format!(
                "{} not checked {} … {}",
                row.control,
                short_time(&g.from),
                short_time(&g.to)
            ));
        }
        for index in &row.unresolved {
            v.findings.push(format!(
                "{} failed (entry {index}) with no later pass and no exception covering it",
                row.control
            ));
        }
    }
}

/// Where the catalog member says of a control other than its check runs in the log do
/// (title, cadence, requirement ids): the runs bind the member to the log.
fn catalog_against_runs(catalog: &CatalogSnapshot, events: &[PeriodEvent]) -> Vec<String> {
    let mut faults: BTreeMap<&str, u64> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == Kind::Check) {
        let (Some(id), Some(d)) = (&e.control, &e.declared) else {
            continue;
        };
        let Some(c) = catalog.controls.iter().find(|c| &c.id == id) else {
            continue;
        };
        if d.title.as_ref().is_some_and(|t| *t != c.title)
            || d.cadence_seconds.is_some_and(|s| s != c.cadence_seconds)
            || d.frameworks
                .get(&catalog.framework)
                .is_some_and(|r| *r != c.requirements)
        {
            faults.entry(id).or_insert(e.index);
        }
    }
    faults
        .into_iter()
        .map(|(id, index)| {
            format!("{id} is not the control its check runs state (title, cadence or requirements; entry {index})")
        })
        .collect()
}
