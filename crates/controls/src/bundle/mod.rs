//! Period evidence bundles and auditor samples: what an auditor takes away and verifies
//! offline with only the log's verifier key.
//!
//! - [`Controls::bundle`](crate::Controls::bundle) builds one ustar file for a framework
//!   over a period: a manifest (every member with its SHA-256, and the figures), the signed
//!   checkpoints at the period's ends with the consistency proof between them, every
//!   `controls.check` run, evidence (`evidence.added`, `evidence.ingested`) and exception
//!   (`controls.exception.granted`, `…revoked`) event that counts for the period for the
//!   framework's controls — its exact bytes and a C2SP tlog-proof against the end
//!   checkpoint —, the policy versions in force (`access.policy.applied`), the policy
//!   documents in force (`controls.policy_doc.published`), the catalog in
//!   force with its hash, the risk and incident registers' records of the period with their
//!   events and proofs ([`registers::in_period`](crate::registers::in_period)), and a
//!   self-contained HTML report with a control × time grid; the
//!   log records the built bundle's manifest hash (`evidence.bundle.built`), and the bundle
//!   carries that entry with its proofs, so the manifest is bound to the log.
//! - [`verify_bundle`] checks all of it and whether the controls operated: every automated
//!   control checked at its cadence through the period, every failure followed by a pass or
//!   covered by an exception.
//! - [`Controls::sample`](crate::Controls::sample) draws a seeded, reproducible sample of a
//!   control's events; [`verify_sample`] re-derives it.
//!
//! The layout is in [`format`]; docs/controls.md describes it for re-implementers.

mod anchor;
mod build;
mod events;
mod figures;
pub mod format;
mod report;
mod sample;
mod sample_verify;
mod source;
mod verify;

pub use anchor::{
    check_anchor, manifest_digest, Anchor, ANCHOR_CONSISTENCY, ANCHOR_ENTRY, ANCHOR_MEMBERS,
    ANCHOR_PROOF, BUNDLE_BUILT, SAMPLE_DRAWN,
};
pub use build::{snapshot, Built, Contents};
pub use events::{
    policies_in_force, policy_docs_in_force, Declared, Kind, Period, PeriodEvent, EVIDENCE_ADDED,
    EVIDENCE_INGESTED, EXCEPTION_GRANTED, EXCEPTION_REVOKED, POLICY_APPLIED, POLICY_DOC_PUBLISHED,
};
pub use figures::{
    figures, grace_us, short_time, CatalogSnapshot, ControlFigures, ControlInfo, Figures, Gap,
};
pub use report::{embedded_figures, FIGURES_ID};
pub use sample::{
    draw, key, population_digest, PopulationMember, SampleEnd, SampleFile, SampledItem, ALGORITHM,
    MAX_SAMPLE, SAMPLE_FORMAT,
};
pub use sample_verify::{read_sample, verify_sample};
pub use verify::{verify_bundle, BundleVerdict};

/// Adds members of its own to a bundle before its manifest is sealed: the OSCAL
/// assessment-results writer is one, writing [`format::OSCAL_ASSESSMENT_RESULTS`]. Its members
/// are listed and hashed in the manifest like every other, so verification covers them.
pub trait MemberWriter {
    /// The members to add (path, bytes); a path the bundle already holds is refused.
    fn members(&self, contents: &Contents<'_>) -> evident_core::Result<Vec<(String, Vec<u8>)>>;
}
