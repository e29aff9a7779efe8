//! Verifying a sample file offline with the log's verifier key: the checkpoints and their
//! consistency, every population member's inclusion proof, the sample re-derived from the
//! seed over the population, and each sampled entry's bytes against its member's leaf, its
//! control and the period.

use std::collections::BTreeMap;

use evident_core::event::parse_time;
use evident_core::{Error, Result};
use evident_ledger::checkpoint::Checkpoint;
use evident_ledger::hash::{empty_root, leaf_hash};
use evident_ledger::note::NoteVerifier;
use evident_ledger::proof::verify_inclusion;

use super::anchor::{check_anchor, SAMPLE_DRAWN};
use super::events::{Kind, Period, PeriodEvent};
use super::format::{consistent, parse_hashes};
use super::sample::{draw, key, recorded_metadata, SampleFile, SAMPLE_FORMAT};

/// Reads a sample file; `Err` when it is not one.
pub fn read_sample(bytes: &[u8]) -> Result<SampleFile> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::BadRequest(format!("not a sample file (not JSON: {e})")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(SAMPLE_FORMAT) {
        return Err(Error::BadRequest(format!(
            "not a sample file: no format `{SAMPLE_FORMAT}`"
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| Error::BadRequest(format!("a damaged sample file: {e}")))
}

/// Verifies a sample; answers every fault found (none: it verifies). `seed`, when given, is
/// the seed the auditor chose, which the file must carry.
pub fn verify_sample(s: &SampleFile, verifier: &NoteVerifier, seed: Option<&str>) -> Vec<String> {
    let mut faults = Vec::new();
    if let Some(seed) = seed {
        if seed != s.seed {
            faults.push(format!(
                "seed: the file was drawn with `{}`, not `{seed}`",
                s.seed
            ));
        }
    }
    let read = |name: &str,
                end: &super::sample::SampleEnd,
                faults: &mut Vec<String>|
     -> Option<Checkpoint> {
        match &end.checkpoint {
            None if end.size == 0 => Some(Checkpoint::new(&s.origin, 0, empty_root())),
            None => {
                faults.push(format!("{name}: size {} without its checkpoint", end.size));
                None
            }
            Some(note) => match verifier.verify_checkpoint(note) {
                Ok(cp) if cp.size == end.size && cp.origin == s.origin => Some(cp),
                Ok(cp) => {
                    faults.push(format!(
                        "{name}: a checkpoint of `{}` at size {}, not `{}` at {}",
                        cp.origin, cp.size, s.origin, end.size
                    ));
                    None
                }
                Err(e) => {
                    faults.push(format!("{name}: {e}"));
                    None
                }
            },
        }
    };
    let start = read("start checkpoint", &s.start, &mut faults);
    let end = read("end checkpoint", &s.end, &mut faults);
    if let (Some(a), Some(b)) = (&start, &end) {
        match parse_hashes(&s.consistency) {
            Ok(p) => {
                if let Err(e) = consistent(a, b, &p) {
                    faults.push(format!(
                        "consistency: the start is not a prefix of the end: {e}"
                    ));
                }
            }
            Err(e) => faults.push(format!("consistency: {e}")),
        }
    }
    if s.scanned[1] != s.end.size || s.scanned[0] > s.scanned[1] {
        faults.push(format!(
            "scanned: [{}, {}) is not the log up to its end checkpoint",
            s.scanned[0], s.scanned[1]
        ));
    }
    if s.population_count != s.population.len() as u64 {
        faults.push(format!(
            "population: {} members listed, {} counted",
            s.population.len(),
            s.population_count
        ));
    }
    let mut leaves: BTreeMap<u64, &str> = BTreeMap::new();
    let mut previous = None;
    for m in &s.population {
        if previous.is_some_and(|p| p >= m.index)
            || !(s.scanned[0]..s.scanned[1]).contains(&m.index)
        {
            faults.push(format!(
                "population: entry {} is out of order or outside the range scanned",
                m.index
            ));
        }
        previous = Some(m.index);
        leaves.insert(m.index, &m.leaf);
        let Some(cp) = &end else { continue };
        let proven = hex::decode(&m.leaf)
            .ok()
            .zip(parse_hashes(&m.proof).ok())
            .is_some_and(|(leaf, proof)| {
                verify_inclusion(m.index, cp.size, &leaf, &proof, &cp.root).is_ok()
            });
        if !proven {
            faults.push(format!(
                "population: entry {} is not in the log with the leaf hash listed",
                m.index
            ));
        }
    }
    match check_anchor(
        s.anchor.as_ref(),
        SAMPLE_DRAWN,
        end.as_ref(),
        verifier,
        "anchor",
    ) {
        Err(fault) => faults.push(fault),
        Ok(recorded) => {
            let claimed = recorded_metadata(s);
            for (field, value) in claimed.as_object().into_iter().flatten() {
                if recorded.get(field) != Some(value) {
                    faults.push(format!(
                        "anchor: the log recorded {field} {} for this draw, the file says {value}",
                        recorded.get(field).unwrap_or(&serde_json::Value::Null)
                    ));
                }
            }
        }
    }
    let indices: Vec<u64> = s.population.iter().map(|m| m.index).collect();
    let expected = draw(
        &s.seed,
        &indices,
        usize::try_from(s.n).unwrap_or(usize::MAX),
    );
    let drawn: Vec<u64> = s.sample.iter().map(|i| i.index).collect();
    if expected != drawn {
        faults.push(format!(
            "sample: the seed `{}` draws entries {:?} from the population, the file lists {:?}",
            s.seed, expected, drawn
        ));
    }
    let period = match (parse_time(&s.from), parse_time(&s.to)) {
        (Ok(from_us), Ok(to_us)) => Some(Period { from_us, to_us }),
        _ => {
            faults.push("period: does not parse".into());
            None
        }
    };
    for item in &s.sample {
        let name = format!("sample entry {}", item.index);
        if item.key != hex::encode(key(&s.seed, item.index)) {
            faults.push(format!("{name}: its key is not the seed's"));
        }
        let leaf = hex::encode(leaf_hash(item.entry.as_bytes()));
        if leaves.get(&item.index) != Some(&leaf.as_str()) {
            faults.push(format!(
                "{name}: its bytes do not hash to the population's leaf"
            ));
        }
        match PeriodEvent::parse(item.index, item.entry.as_bytes()) {
            Ok(Some(e))
                if matches!(e.kind, Kind::Check | Kind::Evidence)
                    && e.control.as_deref() == Some(s.control.as_str())
                    && period.is_some_and(|p| e.counts_for(p)) => {}
            Ok(_) => faults.push(format!(
                "{name}: not an event of {} in the period",
                s.control
            )),
            Err(e) => faults.push(format!("{name}: {e}")),
        }
    }
    faults
}
