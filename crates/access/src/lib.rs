//! # evident-access
//!
//! The access part of Evident: a [Cedar] policy decision point (PDP) behind the OpenID
//! [AuthZEN] API, where every decision is a ledger event. An application's policy
//! enforcement point (PEP) asks "may this subject do this action on this resource?"; the
//! active *policy pack* answers, and the question, the answer and the policies that decided
//! it are in the evidence ledger before the PEP hears it.
//!
//! The part stands on `evident-core` alone: the engine it runs in is a
//! [`Recorder`](evident_core::recorder::Recorder) (append to the ledger, open the store), and
//! its own state is an [`AccessState`], the engine's cache of the active pack. An [`Access`]
//! works over both; the `evident` facade hands one out as `engine.access()`.
//!
//! ## The parts
//!
//! - [`pack`]: policy packs (schema, policies, entity data, settings), validated strictly,
//!   versioned by content hash.
//! - [`authzen`]: the AuthZEN 1.0 wire types.
//! - [`pdp`]: one request against one pack: Cedar's answer plus break-glass, step-up hints
//!   and the regulated-data flag. Pure: nothing there logs or stores.
//! - [`review`]: who can do what, by exhaustive evaluation over the entity data.
//! - [`Access`]: the part over an engine. Its methods live in private modules by job:
//!   deciding (`decide.rs`: [`Access::prepare`], [`Access::settle`], [`Access::evaluate`]),
//!   searching (`search.rs`), policy versions (`versions.rs`: [`Access::apply`],
//!   [`Access::rollback`], [`Access::history`]), access and break-glass reviews
//!   (`oversight.rs`); finding the active pack is `state.rs`, the ledger events of
//!   decisions `events.rs`, sharing a large batch among threads `batch.rs`.
//! - [`decrypt_request`], [`detokenize_request`] and [`require_allow`]: how Evident asks
//!   its own policy before it uses a regulated key or reveals a card number.
//!
//! ## The life of a decision
//!
//! Decisions are logged before they are answered, in three steps:
//!
//! 1. **Prepare.** [`Access::prepare`] finds the active pack, decides every evaluation of the
//!    request (a large batch on helper threads too) and builds one ledger event per
//!    decision. The [`Pending`] it returns holds the answers, not yet given, and the events.
//! 2. **Append.** The caller appends [`Pending::events`] to the ledger in one batch: async in
//!    the server, blocking in the CLI. [`Access::evaluate`] and [`Access::evaluate_blocking`]
//!    do all three steps for a caller that has nothing to do in between.
//! 3. **Settle.** [`Access::settle`] turns the append's outcome into the [`Answer`], and
//!    queues break-glass grants for review by a second person.
//!
//! Regulated data fails closed: when the ledger cannot record a decision about a regulated
//! resource (a type listed in `pack.toml`, or an entity with `regulated == true`), the
//! answer is a deny with the reason `not_recorded`, whatever the policy said. Other
//! decisions keep their answer, marked `"recorded": false`.
//!
//! [`decide_offline`] makes the same decisions with nothing logged, for `evident policy
//! test` and benchmarks:
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//!
//! use evident_access::authzen::EvaluationsRequest;
//! use evident_access::pack::{self, PackFiles};
//! use evident_access::{decide_offline, Answer};
//!
//! let files = PackFiles(BTreeMap::from([
//!     (
//!         "schema.cedarschema".to_string(),
//!         "entity User; entity Doc; action read appliesTo { principal: User, resource: Doc };"
//!             .to_string(),
//!     ),
//!     (
//!         "read.cedar".to_string(),
//!         r#"@id("ann-reads-docs")
//!            permit(principal == User::"ann", action == Action::"read", resource);"#
//!             .to_string(),
//!     ),
//! ]));
//! let pack = Arc::new(pack::compile(files)?);
//! let request: EvaluationsRequest = serde_json::from_str(
//!     r#"{"subject": {"type": "User", "id": "ann"},
//!         "action": {"name": "read"},
//!         "resource": {"type": "Doc", "id": "1"}}"#,
//! )?;
//! let answer = decide_offline(&pack, &request, 0)?;
//! assert!(matches!(answer, Answer::One(d) if d.decision));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Where a change goes
//!
//! - A new compliance rule on top of Cedar's answer (like break-glass or step-up): decide it
//!   in [`pdp::decide`] and carry it in [`pdp::Verdict`]; its setting goes in
//!   [`pack::PackSettings`] (`pack.toml`), what the ledger shows of it in
//!   [`decision_event`], and what the PEP is told in [`pdp::Verdict::response_context`].
//! - A new AuthZEN endpoint or field: the wire types in [`authzen`], then the [`Access`]
//!   method that serves it, in the module of its job.
//! - A new logged operation on packs: `versions.rs`; on reviews: `oversight.rs`. Each builds
//!   its event and appends it before it changes anything.
//!
//! [Cedar]: https://www.cedarpolicy.com
//! [AuthZEN]: https://openid.net/specs/authorization-api-1_0.html

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod authzen;
mod batch;
mod caller;
mod consent;
mod decide;
mod events;
mod oversight;
pub mod pack;
pub mod pdp;
mod requests;
pub mod review;
mod search;
mod state;
mod versions;

pub use caller::Caller;
pub use decide::{decide_offline, Answer, Pending};
pub use events::decision_event;
pub use requests::{decrypt_request, detokenize_request, require_allow};
pub use search::MAX_PAGE;
pub use state::{Access, AccessState};
pub use versions::Applied;
