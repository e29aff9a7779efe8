//! The privacy data map: which application databases ("systems") hold personal data, in
//! which tables and columns, of which fideslang data categories, how every table joins to
//! the table that identifies the data subject, for which purpose and on which lawful basis,
//! for how long, and what erasure does to each column.
//!
//! The map is a TOML file ([`model::raw`] is its grammar; docs/privacy.md its reference).
//! [`parse`] reads and validates it in one go and answers either a [`DataMap`] or every
//! problem found, each with its file, line and column ([`Diagnostics`]). The data directory
//! keeps applied versions and the active one ([`store`]); each activation is a ledger event
//! carrying the map's SHA-256. [`introspect`] reads a SQLite or PostgreSQL schema and
//! samples values, and [`scan`] turns that into proposed categories and joins, schema drift,
//! and a TOML fragment to review.
//!
//! Data-subject requests, retention and the record of processing build on [`DataMap`]:
//! every table names its primary key and a [`Link`] that, followed table to table
//! ([`Table::path`]), reaches the identity table; every field names its [`Erasure`].

mod check;
pub mod introspect;
mod links;
mod load;
pub mod model;
pub(crate) mod postgres;
pub mod processing;
pub mod rules;
pub mod scan;
pub mod schema;
mod source;
pub mod store;
pub mod taxonomy;
mod validate;
pub mod write;

pub use load::{load, parse, read, MAX_MAP_BYTES};
pub use model::{
    Connection, Controller, DataMap, Erasure, Field, LawfulBasis, LedgerRetention, Link, Retention,
    RowErasure, Safeguard, System, Table, Transfer,
};
pub use source::{hash, Diagnostic, Diagnostics};

#[cfg(test)]
mod tests;
