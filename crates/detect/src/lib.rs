//! # evident-detect
//!
//! Finds card data, PHI identifiers and secrets in text — source code, logs, JSON, CSV,
//! prose — and redacts them. Usable alone; Evident's engine runs every event and its own log
//! output through it.
//!
//! What it finds ([`Entity`]): payment cards (brand IIN ranges and lengths, Luhn), CVV next
//! to its label, US SSN (with the invalid-range rules) and ITIN, email, phone (NANP, E.164),
//! IBAN (mod-97), US NPI, DEA numbers, medical record numbers and dates of birth (next to a
//! label), IPv4/IPv6, secrets: cloud keys, private key blocks, JWTs, source-hosting,
//! chat and payment tokens, and high-entropy values assigned to a password or key name; and
//! the national, health-plan and financial identifiers of fifteen jurisdictions (NHS, NINO,
//! SIN, NIF/NIE, codice fiscale, Steuer-ID, NIR, PESEL, personnummer, Aadhaar, TFN, NRIC, …,
//! US passports, licences, bank and routing numbers, MBIs, member, claim, Rx and
//! prior-authorization numbers) and crypto wallet addresses, each with its check digit where
//! the format has one. Rules carry jurisdictions; a rule file's `[scope]` switches them
//! ([`rules::Scope`]).
//!
//! How: rules live in TOML ([`rules`]; Evident's own file is built in, users add theirs and
//! can import gitleaks files with [`gitleaks::import`]). A [`Detector`] makes one pass per
//! input with a keyword prefilter (Aho-Corasick) and one multi-pattern automaton
//! (`regex-automata`), then validators ([`validate`]), entropy, allowlists and context
//! scoring. A [`Scanner`] streams input of any size in bounded memory; [`walk`] scans trees in
//! parallel honouring `.gitignore`. A [`Finding`] never holds the raw value: only a masked
//! excerpt and a keyed HMAC fingerprint ([`Fingerprinter`]).
//!
//! ```
//! use evident_detect::{Detector, Fingerprinter, Scanner, Entity};
//!
//! let detector = Detector::builtin().unwrap();
//! let key = Fingerprinter::new(b"a key of sixteen bytes or more").unwrap();
//! let mut findings = Vec::new();
//! Scanner::new(&detector, &key).scan_bytes(
//!     b"refund to card 4111 1111 1111 1111, ssn 123-45-6789\n",
//!     "note.txt",
//!     &mut |f| findings.push(f),
//! );
//! assert_eq!(findings[0].entity, Entity::Card);
//! assert_eq!(findings[0].masked, "411111******1111");
//! assert_eq!(findings[1].entity, Entity::Ssn);
//! assert!(!format!("{findings:?}").contains("123-45-6789"));
//! ```
//!
//! Redaction uses the same detector:
//!
//! ```
//! use std::sync::Arc;
//! use evident_detect::{Detector, Fingerprinter, Redactor, RedactMode};
//!
//! let redactor = Redactor::new(
//!     Arc::new(Detector::builtin().unwrap()),
//!     Fingerprinter::random().unwrap(),
//!     RedactMode::Remove,
//! );
//! let (clean, _) = redactor.redact_str("token=ghp_8fK2mQ9xL3vR7tW1yB5nC0hJ4sD6gA2eZ9uP");
//! assert_eq!(clean, "token=[REDACTED:secret]");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod corpus;
pub mod detector;
pub mod embedded;
mod entity;
mod error;
pub mod finding;
pub mod gitleaks;
pub mod redact;
pub mod rules;
pub mod sarif;
pub mod stream;
pub mod validate;
pub mod walk;

pub use detector::Detector;
pub use entity::Entity;
pub use error::{Error, Result};
pub use finding::{Finding, Fingerprinter};
pub use redact::{LineRedactor, RedactMode, Redactor};
pub use rules::RuleSet;
pub use stream::{Outcome, Scanner};
