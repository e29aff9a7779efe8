//! # evident-store-conformance
//!
//! The one conformance suite of Evident's storage trait, [`LogStore`]: written once, run by
//! every backend. Each case drives a fresh, empty store through the trait alone and checks
//! what the trait's documentation promises — appends that conflict when another writer came
//! first and store nothing when they fail, checkpoints, personal values that erasure removes
//! while every proof still matches, meta values, API keys, key versions, policy versions and
//! break-glass reviews, card tokens, queries and scans, and that whatever was committed is
//! there for the next process that opens the store.
//!
//! ## Running it against a backend
//!
//! A backend's integration test implements [`Fixture`] (how to open its store again) and
//! hands [`store_conformance!`] a function that makes a fresh, empty one; the macro expands
//! to one `#[test]` per case, named after the case. The embedded backend does it in
//! `crates/store-sqlite/tests/conformance.rs`; the PostgreSQL backend needs only the same
//! two lines beside its own fixture (a new, empty database or schema per call):
//!
//! ```ignore
//! fn fresh() -> PostgresFixture { PostgresFixture::new_database() }
//! evident_store_conformance::store_conformance!(fresh);
//! ```
//!
//! `cargo test -p evident-store-sqlite --test conformance erase` then runs the cases whose
//! names hold `erase`. [`run_all`] runs every case in one test instead, for a backend whose
//! fixtures are better made in one place.
//!
//! ## What a case may assume, and what it cannot reach
//!
//! A case opens as many connections ([`Fixture::open`]) as it needs; each must see what the
//! others committed. It builds real entries (validated, encoded events) and checkpoints
//! signed over the real Merkle root, so every case can end by replaying the stored log
//! against its checkpoints as `evident verify` does. What only tampering produces — an entry
//! under a negative index, a personal value whose entry is gone, rows in another order — the
//! trait cannot write, so the suite checks only that a healthy store reports none; the
//! engine's tests tamper with the SQLite file directly. Durability across a power cut is the
//! backend's own test (for SQLite: WAL with `synchronous=FULL`); the suite checks what a
//! second process sees after the first stopped without closing its connection.
//!
//! Every case fails by panicking, naming the case; a store error ends the case as a failure.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cases;
mod fixture;
mod testlog;

pub use cases::{run_all, run_case};
pub use fixture::Fixture;

#[doc(no_inline)]
pub use evident_core::store::LogStore;
