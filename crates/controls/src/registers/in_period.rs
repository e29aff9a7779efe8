//! What a period evidence bundle carries of the registers: every risk and incident open at
//! some time in the period or changed in it, as the ledger stood at the period's end, and
//! each of their events up to then with its exact bytes and a C2SP tlog-proof against the
//! bundle's end checkpoint.
//!
//! Members: `registers/risks.json` and `registers/incidents.json` (each
//! `{"from", "to", "as_of", "records": […]}`), `registers/entries/NNNNNNNNNNNN.json` and
//! `registers/proofs/NNNNNNNNNNNN.tlog-proof`. The manifest lists and hashes them like every
//! member, and [`verify_bundle`](crate::bundle::verify_bundle) proves each carried event
//! against the end checkpoint and that every record's events are carried. A risk's residual score is as of the bundle's building (status is not kept
//! historically); an incident's obligations are as of the period's end.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use evident_core::event::{format_time, now_us, parse_time};
use evident_core::log::EventRecord;
use evident_core::{Error, Result};
use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::leaf_hash;
use evident_ledger::proof::verify_inclusion;
use evident_ledger::tlog_proof::TlogProof;

use super::incident::{self, INCIDENT_RESOURCE};
use super::ledger::read_register;
use super::risk::{self, RISK_RESOURCE};
use crate::bundle::Period;
use crate::state::Controls;

/// The member listing the period's risks.
pub const RISKS_MEMBER: &str = "registers/risks.json";
/// The member listing the period's incidents.
pub const INCIDENTS_MEMBER: &str = "registers/incidents.json";

/// The member holding a register event's bytes.
pub fn entry_member(index: u64) -> String {
    format!("registers/entries/{index:012}.json")
}

/// The member holding a register event's tlog-proof.
pub fn proof_member(index: u64) -> String {
    format!("registers/proofs/{index:012}.tlog-proof")
}

fn received_us(e: &EventRecord) -> Option<i64> {
    e.entry
        .get("received_at")
        .and_then(|v| v.as_str())
        .and_then(|t| parse_time(t).ok())
}

fn encode(value: &serde_json::Value) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Integrity(format!("encoding the registers: {e}")))
}

impl Controls<'_> {
    /// The registers' members of a bundle over `period` whose end checkpoint is `end_note`
    /// at tree size `end_size`.
    pub(crate) fn register_members(
        &self,
        period: Period,
        end_size: u64,
        end_note: &str,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let until_end = |events: Vec<EventRecord>| -> Vec<EventRecord> {
            events
                .into_iter()
                .filter(|e| e.index < end_size && received_us(e).is_some_and(|t| t < period.to_us))
                .collect()
        };
        let built = now_us();
        let from = format_time(period.from_us);
        let in_period = |open: bool, changed: &str| {
            open || parse_time(changed).is_ok_and(|t| t >= period.from_us)
        };

        let risk_events = until_end(read_register(&self.log, RISK_RESOURCE, None)?);
        let mut risks: Vec<_> = risk::fold(&risk_events)
            .into_iter()
            .filter(|r| in_period(r.is_open(), &r.changed_at))
            .collect();
        self.assess(&mut risks, built)?;

        let as_of = period.to_us.min(built);
        let incident_events = until_end(read_register(&self.log, INCIDENT_RESOURCE, None)?);
        let incidents: Vec<_> = incident::fold(&incident_events, as_of)
            .into_iter()
            .filter(|i| in_period(i.is_open(), &i.changed_at))
            .collect();

        let carried: BTreeSet<u64> = risks
            .iter()
            .flat_map(|r| r.events.iter().copied())
            .chain(incidents.iter().flat_map(|i| i.events.iter().copied()))
            .collect();
        let mut members = vec![
            (
                RISKS_MEMBER.to_string(),
                encode(&json!({
                    "from": from,
                    "to": format_time(period.to_us),
                    "residual_as_of": format_time(built),
                    "records": risks,
                }))?,
            ),
            (
                INCIDENTS_MEMBER.to_string(),
                encode(&json!({
                    "from": from,
                    "to": format_time(period.to_us),
                    "obligations_as_of": format_time(as_of),
                    "records": incidents,
                }))?,
            ),
        ];
        for index in carried {
            let proof = self.log.inclusion_proof(index, Some(end_size))?;
            let tlog = TlogProof {
                extra: None,
                index,
                proof: proof.proof,
                checkpoint: end_note.to_string(),
            };
            members.push((entry_member(index), self.log.entry_bytes(index)?));
            members.push((proof_member(index), tlog.to_text().into_bytes()));
        }
        Ok(members)
    }
}

/// Verifies a bundle's register members against its end checkpoint `end` (`None` when it
/// did not verify, already a fault): every record's events are carried, each entry's
/// tlog-proof is against the end checkpoint verbatim and proves its bytes; faults are pushed
/// naming the member. Answers how many entries were proven.
pub(crate) fn verify_members(
    members: &BTreeMap<String, Vec<u8>>,
    end: Option<&(Checkpoint, String)>,
    faults: &mut Vec<String>,
) -> usize {
    let mut wanted: BTreeSet<u64> = BTreeSet::new();
    for path in [RISKS_MEMBER, INCIDENTS_MEMBER] {
        // Bundles from before the registers carry neither member.
        let Some(bytes) = members.get(path) else {
            continue;
        };
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(v) => {
                for record in v["records"].as_array().into_iter().flatten() {
                    wanted.extend(
                        record["events"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(serde_json::Value::as_u64),
                    );
                }
            }
            Err(e) => faults.push(format!("{path}: {e}")),
        }
    }
    let mut proven = 0;
    for index in wanted {
        let (entry, proof) = (entry_member(index), proof_member(index));
        let Some(bytes) = members.get(&entry) else {
            faults.push(format!("{entry}: a register record's event is missing"));
            continue;
        };
        let Some((cp, note)) = end else {
            continue;
        };
        let parsed = members
            .get(&proof)
            .and_then(|b| std::str::from_utf8(b).ok())
            .map(TlogProof::parse);
        match parsed {
            None => faults.push(format!("{proof}: missing or not text")),
            Some(Err(e)) => faults.push(format!("{proof}: {e}")),
            Some(Ok(p)) if p.checkpoint != *note || p.index != index => faults.push(format!(
                "{proof}: does not prove entry {index} against the bundle's end checkpoint"
            )),
            Some(Ok(p)) => {
                match verify_inclusion(p.index, cp.size, &leaf_hash(bytes), &p.proof, &cp.root) {
                    Ok(()) => proven += 1,
                    Err(e) => faults.push(format!(
                        "{proof}: entry {index} is not in the log at its end checkpoint ({e})"
                    )),
                }
            }
        }
    }
    proven
}
