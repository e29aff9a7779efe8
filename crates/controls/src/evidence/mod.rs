//! Manual evidence: files (an access review, a signed policy, a scanner's report) added to a
//! control, kept encrypted in the data directory ([`store`]), each one ledger event naming
//! its SHA-256, its period and until when it stands ([`record`]). A control whose evidence
//! is past its `valid_until` shows as a gap in `evident controls status`, never as a pass.
//! A scanner's results (SARIF, Prowler's OCSF) are kept the same way, with one
//! `evidence.ingested` event per control they speak to ([`scan`], [`mappings`]).

mod ingest;
pub mod mappings;
pub mod media;
pub mod record;
pub mod scan;
pub mod store;

pub use ingest::{Ingested, IngestedControl};
pub use record::{
    standing, standings, Evidence, EvidenceOptions, EvidenceStanding, DEFAULT_MAX_BYTES,
};
