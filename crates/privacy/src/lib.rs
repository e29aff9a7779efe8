//! # evident-privacy
//!
//! The privacy part of Evident: what a data subject's rights ask the engine to do to the
//! personal data it holds, each step leaving evidence in the ledger. Today that is erasure
//! ([`erasure`]): the subject's stored personal values are destroyed and their own key, if
//! data was ever sealed under it, is crypto-shredded, while every proof of the log still
//! verifies (invariant 3); and consent records ([`consent`]): grants, withdrawals and Global
//! Privacy Control opt-outs per subject and purpose, each a ledger event, with the current
//! state indexed in the store. Retention ([`retention`]) deletes or anonymizes the data map's
//! rows past their declared period, legal holds ([`holds`]) permitting, each purge a ledger event.
//!
//! It runs data-subject requests ([`dsr`]) against the application's own databases, driven by
//! the data map ([`datamap`]): access and portability exports, rectification, erasure by each
//! field's strategy in one transaction per system with dry runs and a verification read,
//! restriction; each request's lifecycle and deadlines as `privacy.dsr.*` ledger events, and
//! a signed erasure certificate.
//!
//! It also checks tables before they are released ([`anonymity`]): k-anonymity, l-diversity
//! and t-closeness over declared quasi-identifiers, Mondrian generalization to a target k,
//! and HIPAA Safe Harbor's eighteen identifier types through the detector. These are file
//! tools: they need no engine and record nothing, and fail with this crate's [`Error`].
//!
//! It turns identifiers into pseudonyms ([`pseudonymize`]): keyed HMAC-SHA-256 under a
//! managed, rotatable key per domain, or FF1 format-preserving tokens, over CSV and JSON-lines
//! columns as a stream.
//!
//! And it writes the record of processing activities of GDPR Art. 30 ([`ropa`]) from the data
//! map, the consent purposes and the controls' standings the facade hands it.
//!
//! The part stands on `evident-core` and uses the crypto part's keys; the `evident` facade
//! hands it out as `engine.privacy()`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod anonymity;
pub mod consent;
mod csv_input;
pub mod datamap;
pub mod dsr;
pub mod erasure;
mod error;
mod events;
pub mod holds;
mod pg;
pub mod pseudonymize;
pub mod retention;
pub mod ropa;

pub use erasure::{ErasureReport, Privacy};
pub use error::{Error, Result};
