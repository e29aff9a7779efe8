//! Auditor sampling: a reproducible draw from every event of one control in a period (its
//! `controls.check` runs and its evidence), carried with what shows the population is the
//! log's: the checkpoints at the period's ends and their consistency proof, the index range
//! scanned, every member of the population with its leaf hash and inclusion proof, and the
//! sampled entries' bytes.
//!
//! The draw: each member's key is SHA-256(seed as UTF-8 ‖ 0x00 ‖ its ledger index as 8 bytes
//! big-endian); members are ordered by key (bytewise) and the first `n` are the sample
//! (the whole population when it has `n` or fewer).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use evident_core::event::{format_time, now_us};
use evident_core::{Error, Result};

use super::anchor::{Anchor, SAMPLE_DRAWN};
use super::events::{Kind, Period, EVIDENCE_ADDED, EVIDENCE_INGESTED};
use super::format::hashes_text;
use crate::names::CHECK_ACTION;
use crate::state::Controls;
use crate::status::check_period;

/// The `format` of a sample file.
pub const SAMPLE_FORMAT: &str = "evident.sample/1";
/// The draw, in words, as a sample file states it.
pub const ALGORITHM: &str =
    "key = SHA-256(seed UTF-8 || 0x00 || index u64 big-endian); order by key; first n";
/// The most a sample may draw.
pub const MAX_SAMPLE: usize = 10_000;

/// The sampling key of ledger index `index` under `seed`.
pub fn key(seed: &str, index: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0]);
    h.update(index.to_be_bytes());
    h.finalize().into()
}

/// The indices `n` draws from `population` under `seed`, in draw order.
pub fn draw(seed: &str, population: &[u64], n: usize) -> Vec<u64> {
    let mut keyed: Vec<([u8; 32], u64)> = population.iter().map(|&i| (key(seed, i), i)).collect();
    keyed.sort_unstable();
    keyed.into_iter().take(n).map(|(_, i)| i).collect()
}

/// A signed checkpoint at one end of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleEnd {
    /// the tree size
    pub size: u64,
    /// its signed note (`None` for the empty tree)
    pub checkpoint: Option<String>,
}

/// One member of the population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationMember {
    /// its ledger index
    pub index: u64,
    /// its leaf hash, hex
    pub leaf: String,
    /// its action
    pub action: String,
    /// its event time, RFC 3339
    pub time: String,
    /// its inclusion proof against the end checkpoint: base64 hashes, one a line
    pub proof: String,
}

/// One sampled event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledItem {
    /// its ledger index
    pub index: u64,
    /// its sampling key, hex
    pub key: String,
    /// its exact bytes (canonical JSON, UTF-8)
    pub entry: String,
}

/// A sample file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleFile {
    /// [`SAMPLE_FORMAT`]
    pub format: String,
    /// the control
    pub control: String,
    /// the period's start, RFC 3339 (inclusive)
    pub from: String,
    /// its end, RFC 3339 (exclusive)
    pub to: String,
    /// the log's origin
    pub origin: String,
    /// when the sample was drawn
    pub drawn_at: String,
    /// the seed
    pub seed: String,
    /// how many were asked for
    pub n: u64,
    /// [`ALGORITHM`]
    pub algorithm: String,
    /// the newest checkpoint at or before the start
    pub start: SampleEnd,
    /// the end checkpoint every proof leads to
    pub end: SampleEnd,
    /// the consistency proof from start to end: base64 hashes, one a line
    pub consistency: String,
    /// the index range scanned for the population, `[first, end)`
    pub scanned: [u64; 2],
    /// the population's size
    pub population_count: u64,
    /// every member, by index
    pub population: Vec<PopulationMember>,
    /// the sample, in draw order
    pub sample: Vec<SampledItem>,
    /// the log's `evidence.sample.drawn` record of this draw (its population's digest), with
    /// its proofs
    #[serde(default)]
    pub anchor: Option<Anchor>,
}

/// The digest the log records of a population: SHA-256 over each member's line
/// `INDEX:LEAFHEX\n` (index in decimal), in the file's order.
pub fn population_digest(population: &[PopulationMember]) -> String {
    let mut h = Sha256::new();
    for m in population {
        h.update(format!("{}:{}\n", m.index, m.leaf).as_bytes());
    }
    hex::encode(h.finalize())
}

/// What the log records of a draw; a verifier compares it with the file.
pub fn recorded_metadata(s: &SampleFile) -> serde_json::Value {
    serde_json::json!({
        "control": s.control,
        "from": s.from,
        "to": s.to,
        "seed": s.seed,
        "n": s.n,
        "end_size": s.end.size,
        "population_count": s.population_count,
        "population_sha256": population_digest(&s.population),
    })
}

impl Controls<'_> {
    /// Draws `n` of control `control`'s events in `period` under `seed`. The one thing stored
    /// is the log's record of the draw (`evidence.sample.drawn`, appended last); a sample
    /// that cannot be drawn stores nothing.
    pub fn sample(
        &self,
        control: &str,
        period: Period,
        n: usize,
        seed: &str,
        actor: &str,
    ) -> Result<SampleFile> {
        check_period(period.from_us, period.to_us)?;
        if seed.is_empty() {
            return Err(Error::BadRequest(
                "the seed is empty: give one the auditor chose".into(),
            ));
        }
        if n == 0 || n > MAX_SAMPLE {
            return Err(Error::BadRequest(format!(
                "a sample draws 1 … {MAX_SAMPLE} events"
            )));
        }
        if self.catalog()?.control(control).is_none() {
            return Err(Error::NotFound(format!(
                "no control `{control}` in the catalog (`evident controls list` shows them)"
            )));
        }
        let mine = |e: &super::events::PeriodEvent| {
            e.control.as_deref() == Some(control) && e.counts_for(period)
        };
        let mut events = self.read_events(&[CHECK_ACTION], Some(control), Some(period), &mine)?;
        events.extend(self.read_events(&[EVIDENCE_ADDED, EVIDENCE_INGESTED], None, None, &mine)?);
        events.sort_by_key(|r| r.event.index);
        events.retain(|r| matches!(r.event.kind, Kind::Check | Kind::Evidence));
        let anchors = self.anchors(period, events.last().map(|r| r.event.index))?;
        let mut population = Vec::with_capacity(events.len());
        for r in &events {
            let proof = self
                .log
                .inclusion_proof(r.event.index, Some(anchors.end_size))?;
            population.push(PopulationMember {
                index: r.event.index,
                leaf: hex::encode(proof.leaf),
                action: r.event.action.clone(),
                time: format_time(r.event.time_us),
                proof: hashes_text(&proof.proof),
            });
        }
        let indices: Vec<u64> = population.iter().map(|p| p.index).collect();
        let sample = draw(seed, &indices, n)
            .into_iter()
            .map(|index| {
                let bytes = &events
                    .iter()
                    .find(|r| r.event.index == index)
                    .ok_or_else(|| Error::Integrity(format!("entry {index} left the population")))?
                    .bytes;
                Ok(SampledItem {
                    index,
                    key: hex::encode(key(seed, index)),
                    entry: String::from_utf8(bytes.clone())
                        .map_err(|_| Error::Integrity(format!("entry {index} is not UTF-8")))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut file = SampleFile {
            format: SAMPLE_FORMAT.into(),
            control: control.into(),
            from: format_time(period.from_us),
            to: format_time(period.to_us),
            origin: self.recorder.origin().into(),
            drawn_at: format_time(now_us()),
            seed: seed.into(),
            n: n as u64,
            algorithm: ALGORITHM.into(),
            start: SampleEnd {
                size: anchors.start_size,
                checkpoint: anchors.start_note,
            },
            end: SampleEnd {
                size: anchors.end_size,
                checkpoint: Some(anchors.end_note),
            },
            consistency: hashes_text(&anchors.consistency),
            scanned: [0, anchors.end_size],
            population_count: population.len() as u64,
            population,
            sample,
            anchor: None,
        };
        let mut metadata = recorded_metadata(&file);
        metadata["requested_by"] = actor.into();
        file.anchor = Some(self.record_anchor(
            SAMPLE_DRAWN,
            ("evidence_sample", control),
            metadata,
            file.end.size,
        )?);
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draw_is_reproducible_and_depends_on_the_seed() {
        let population: Vec<u64> = (10..60).collect();
        let a = draw("audit-2026", &population, 5);
        assert_eq!(a, draw("audit-2026", &population, 5));
        assert_eq!(a.len(), 5);
        assert_ne!(a, draw("audit-2027", &population, 5));
        assert_eq!(
            draw("s", &population, 500).len(),
            50,
            "n above the population takes it all"
        );
        // The key is the documented one.
        let mut h = Sha256::new();
        h.update(b"audit-2026\x00");
        h.update(42u64.to_be_bytes());
        assert_eq!(key("audit-2026", 42), <[u8; 32]>::from(h.finalize()));
    }
}
