//! # evident-controls
//!
//! The controls part of Evident: which controls operate, since when, and the evidence —
//! computed from the engine's own state and its ledger rather than collected as screenshots.
//!
//! - [`catalog`]: Evident's controls (the repository's `catalog/`, compiled in), each with a
//!   description in our own words, the automated check that tests it, the events that are
//!   its evidence and its cadence, mapped to requirement ids of SOC 2, HIPAA, PCI DSS 4.0.1,
//!   GDPR and NIST SP 800-53 rev5 (whose Moderate and Privacy baselines are read from NIST's
//!   own OSCAL catalogs). Organisations add controls and dispositions in the data directory
//!   (`DIR/controls/*.toml`) and import other OSCAL baselines or profiles ([`Controls::import`]).
//!   A catalog is validated as it loads: an unknown framework or requirement, a duplicate
//!   control, a check that does not exist is an error naming the file and line.
//! - [`checks`]: the automated checks, each real code reading the live engine (the keyring,
//!   the active policy pack evaluated with real Cedar requests, the break-glass queue, the
//!   ledger, the log verified now, API keys, the TLS certificate, the redactor). A check
//!   that cannot decide answers *error* or *inconclusive* with the reason — never *pass*.
//! - [`Controls::check`]: runs checks now; every run is one `controls.check` ledger event
//!   (control, check version, result, reason, what to change, observed values, and the
//!   ledger indices relied on), and the control's status in the store moves on.
//! - [`Controls::status`], [`Controls::history`]: each control's last result, since when and
//!   its trend (kept incrementally in the store); a control's runs over a period (from the
//!   ledger's index).
//! - [`bundle`]: period evidence bundles (every check run, evidence and exception event of a
//!   framework's controls over a period, with proofs, figures and an HTML report) and seeded
//!   auditor samples, both verified offline with only the log's verifier key.
//! - [`period`]: a history's period as people write it (dates or RFC 3339 times).
//! - [`oscal_out`]: OSCAL 1.1.2 documents: Evident's component-definition (the NIST SP
//!   800-53 controls it implements) and assessment-results for a period, from the check runs.
//! - [`evidence`]: manual evidence — a file added to a control, kept encrypted under the
//!   keyring's `evidence` key in `DIR/evidence/`, one `evidence.added` event with its
//!   SHA-256, period and `valid_until`; expired evidence is a named gap in the status.
//! - [`exceptions`]: a failing control accepted until a date, approved by a second person
//!   (`controls.exception.granted` / `.revoked`).
//! - [`policy_docs`]: policy documents (access control, audit logging, encryption, incident
//!   response, backup, data retention) rendered to Markdown and HTML from the live settings,
//!   published as `controls.policy_doc.published` events, and flagged when they drift.
//! - [`diff`]: a regression gate between a saved `controls status --json` and now.
//! - [`coverage`]: a framework's requirements, each automated, partly automated, manual,
//!   not applicable, or a gap.
//! - [`registers`]: the risk register (residual risk recomputed from the linked controls'
//!   live status) and the incident register with its GDPR and HIPAA notification clocks,
//!   both kept as ledger events (`controls.risk.*`, `controls.incident.*`).
//!
//! The part stands on `evident-core` (the engine is a
//! [`Recorder`](evident_core::recorder::Recorder)) and on the access part's public handle
//! (the active pack and its offline decision function). The `evident` facade hands it out as
//! `engine.controls()`.
//!
//! ```
//! let catalog = evident_controls::catalog::load(None)?;
//! let soc2 = evident_controls::coverage::coverage(&catalog, "soc2")?;
//! assert!(soc2.rows.iter().any(|r| r.requirement == "CC6.1"));
//! let nist = evident_controls::coverage::coverage(&catalog, "nist-800-53")?;
//! assert_eq!(nist.rows.len(), 287);
//! assert_eq!(nist.gaps().count(), 0);
//! # Ok::<(), evident_core::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bundle;
mod cadence;
pub mod catalog;
pub mod checks;
pub mod coverage;
pub mod diff;
mod events;
pub mod evidence;
pub mod exceptions;
mod import;
mod names;
pub mod oscal_out;
pub mod period;
pub mod policy_docs;
pub mod registers;
mod run;
mod state;
mod status;

pub use cadence::Cadence;
pub use checks::{HostFacts, Outcome, Verdict};
pub use import::Imported;
pub use names::{
    CHECK_ACTION, CONTROL_RESOURCE, EVIDENCE_ADDED, EVIDENCE_INGESTED, EVIDENCE_KEY,
    EXCEPTION_GRANTED, EXCEPTION_REVOKED, POLICY_DOC_PUBLISHED, POLICY_DOC_RESOURCE,
};
pub use run::{run_event, select, CheckRun};
pub use state::{Controls, ControlsState};
pub use status::{check_period, ControlStatus, HistoryItem, TREND_LENGTH};
