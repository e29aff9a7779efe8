//! # evident-core
//!
//! The layer every part of Evident stands on, and the only one that writes to the evidence
//! ledger ([`evident_ledger`]):
//!
//! - [`event`]: the audit event schema ([`AuditEvent`]), its validation and canonical
//!   encoding ([`canonical`], RFC 8785) into a [`PreparedEntry`];
//! - [`redaction`]: cards, CVVs, SSNs, ITINs, IBANs and secrets are masked before an event
//!   is encoded, so no part can store one raw (invariant 4);
//! - [`personal`]: personal fields committed with a salted hash and kept beside the tree,
//!   sealed under a key ([`aead`]) so they can be erased without breaking a proof;
//! - [`intake`]: what every append does first — the batch limit, redaction, validation,
//!   encoding and sealing personal values;
//! - [`sequencer`]: group commit — indices, the in-memory tree, a signed checkpoint per
//!   batch, one durable transaction, then the answer;
//! - [`datadir`]: the data directory's files — the log's signing key and the pseudonym key,
//!   sealed by a root key when asked — and the check that a store holds this log;
//! - [`store`]: the one storage trait ([`store::LogStore`]) every backend implements
//!   (`evident-store-sqlite` today);
//! - [`apikey`]: API keys and roles; [`key_provider`]: the trait a root-key provider
//!   implements (`evident-crypto` has them);
//! - [`recorder`]: the engine as a part sees it ([`recorder::Recorder`]: append, store
//!   connections, redaction), implemented by the `evident` facade.
//!
//! Parts (access, crypto, privacy, controls …) build on this crate and never on each
//! other's internals; the `evident` facade composes them. Where the core needs something a
//! part provides, it defines a small trait ([`key_provider::KeyProvider`]) and the part
//! implements it; what parts need of the engine is [`recorder::Recorder`].
//!
//! ```
//! use evident_core::AuditEvent;
//!
//! let event = AuditEvent::from_json(serde_json::json!({
//!     "actor": {"id": "dr.ames"},
//!     "action": "record.read",
//!     "resource": {"type": "patient_record", "id": "pr-1"},
//!     "outcome": "success",
//!     "reason": "card 4111 1111 1111 1111 12/29"
//! }))
//! .unwrap();
//! let redactor = evident_core::redaction::EventRedactor::new(&[7; 32]).unwrap();
//! let (clean, replaced) = redactor.event(&event).unwrap();
//! assert_eq!(replaced, 1);
//! assert_eq!(clean.reason.as_deref(), Some("card 411111******1111 12/29"));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aead;
pub mod apikey;
pub mod canonical;
pub mod datadir;
mod error;
pub mod event;
pub mod files;
pub mod intake;
pub mod key_provider;
pub mod log;
pub mod objects;
pub mod personal;
pub mod recorder;
pub mod redaction;
pub mod sequencer;
pub mod store;
pub mod verify;

pub use apikey::{ApiKey, NewApiKey, Role};
pub use error::{Error, Result};
pub use event::{AuditEvent, PreparedEntry};
pub use sequencer::{BatchReceipt, Receipt, SignedCheckpoint};
