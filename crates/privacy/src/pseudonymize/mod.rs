//! # Pseudonymization (GDPR Art. 4(5), 25, 32)
//!
//! Identifiers in a table are replaced by pseudonyms that stand for them consistently — the
//! same value always gets the same pseudonym in a domain, so joins and counts still work —
//! while the link back needs a key the keyring keeps.
//!
//! - **Domains and keys.** A domain (`patients`, `customers`) is a namespace of pseudonyms;
//!   its key is the keyring's named, versioned key `pseudonym.<domain>` ([`key_name`]),
//!   created, rotated, disabled and destroyed like any other key, each step a ledger event.
//!   Two keys are derived from one version's material with distinct labels
//!   ([`evident_crypto::keyring::Keyring::derive_key`]): one for HMAC-SHA-256, one for FF1.
//!   A key is made on first use only when the caller asks ([`OpenOptions::create`]).
//! - **Keyed-hash pseudonyms** ([`Pseudonymizer::pseudonym`]): `ps1.v<N>.<base64url>`, the
//!   first 128 bits of HMAC-SHA-256 of the (optionally [normalised](Normalization)) value
//!   under version N's key. Not reversible, even with the key (only by guessing and checking,
//!   which needs the key). Among 10⁹ distinct values the chance that any two collide is below
//!   n²/2¹²⁹ ≈ 1.5 × 10⁻²¹.
//! - **Format-preserving pseudonyms** ([`Pseudonymizer::fpe`]): FF1 (the card tokens' FF1)
//!   over an [`Alphabet`]; a 9-digit number stays 9 digits. Anyone with the key can reverse
//!   them (it is encryption), and they carry no version.
//! - **Rotation.** After `evident keys rotate pseudonym.<domain>` new runs use the new
//!   version: the same value gets a new, unrelated pseudonym, and old ones keep their `v<N>`
//!   ([`pseudonym_version`]). [`OpenOptions::version`] reproduces an older version's
//!   pseudonyms while it is not disabled or destroyed; destroying it makes them unlinkable
//!   for good.
//! - **Tables** ([`Plan`]): CSV (with a header) or JSON lines, chosen columns, streamed in
//!   constant memory on every core, output in input order; one ledger record per run
//!   ([`RunRecord`], counts only).
//!
//! ```
//! use evident_privacy::pseudonymize::{Normalization, Pseudonymizer, pseudonym_version};
//! let p = Pseudonymizer::from_keys("patients", 3, &[7; 32], &[9; 32]).unwrap();
//! let a = p.pseudonym("alice@example.com", Normalization::NONE);
//! assert!(a.starts_with("ps1.v3.") && a.len() == 29);
//! assert_eq!(a, p.pseudonym(" Alice@Example.com", Normalization::EMAIL));
//! assert_eq!(pseudonym_version(&a), Some(3));
//! ```

mod alphabet;
mod event;
mod key;
mod normalize;
mod plan;
mod rows;
mod stream;

pub use alphabet::{Alphabet, MAX_FPE_CHARS};
pub use event::{ColumnRecord, RunRecord, ACTION};
pub use key::{
    check_domain, key_name, pseudonym_version, OpenOptions, Pseudonymizer, KEY_PREFIX, MAX_DOMAIN,
    SCHEME, TAG_BYTES,
};
pub use normalize::Normalization;
pub use plan::{Counts, Mode, Plan, Target};
pub use rows::MAX_JSON_LINE;
