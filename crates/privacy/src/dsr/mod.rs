//! Data-subject requests (GDPR Art. 15–20, CCPA): what the data map's systems hold about one
//! subject, exported (access, portability) or erased by each field's declared strategy.
//!
//! - [`db`]: one application database (SQLite, PostgreSQL) behind one trait;
//! - [`plan`]: the map checked against the live schema, and the statements that follow the
//!   declared joins from each table up to the identity table;
//! - [`strategy`]: what erasure writes in a field, and whether a value is already erased;
//! - [`keys`]: the keys erasure needs (keyed hashes, the subject's own key, fillers);
//! - [`connector`]: export and erasure of one system in one transaction, dry runs, the
//!   verification read;
//! - [`export`]: the subject's data as JSON and CSV;
//! - [`rectify`]: given fields of the subject's rows set to given values;
//! - [`request`], [`deadline`], [`service`], [`run`]: the request's lifecycle as ledger
//!   events (`privacy.dsr.*`), its deadlines, and its run over every system and the ledger;
//! - [`certificate`]: the erasure certificate, anchored in the log and checked offline.

pub mod certificate;
pub mod connector;
pub mod db;
pub mod deadline;
pub mod export;
pub mod keys;
pub mod plan;
pub mod rectify;
pub mod request;
pub mod run;
pub mod service;
pub mod strategy;

pub use connector::{Session, SystemErasure, TableErasure, TableRows, Verification};
pub use deadline::Regime;
pub use keys::{ErasureKeys, KeyringKeys, LocalKeys};
pub use request::{Kind, Request, State};
pub use run::{RunOptions, RunReport, SystemRun};
pub use service::{Dsr, NewRequest};
