//! One router per part of the engine. Each file owns the endpoints of one part, their request
//! and answer shapes, and nothing else; each exposes `routes()`, the operations it serves
//! with the least role each needs, which `all.rs` gathers into the API.
//!
//! | file | endpoints |
//! | --- | --- |
//! | `meta.rs` | `/healthz`, `/metrics`, `/openapi.json` |
//! | `events.rs` | `/v1/events`, `/v1/events/{index}` |
//! | `log.rs` | `/v1/checkpoint`, `/v1/proof/…`, the public read side `/log/…` |
//! | `access.rs` | AuthZEN (`/.well-known/authzen-configuration`, `/access/v1/…`), `/v1/policy…`, `/v1/access/…` |
//! | `keys.rs` | `/v1/keys…`, `/v1/decrypt`, `/v1/rewrap` |
//! | `personal.rs` | `/v1/personal/…` |
//! | `tokens.rs` | `/v1/tokens…` |
//! | `privacy.rs` | `/v1/pseudonymize` |
//! | `redact.rs` | `/v1/redact` |
//! | `apikeys.rs` | `/v1/apikeys…` |
//! | `controls.rs` | `/v1/controls…` |
//! | `lockouts.rs` | `/v1/auth/lockouts…` |
//! | `consent.rs` | `/v1/consent…` |
//! | `policy_docs.rs` | `/v1/policy-docs…` |
//! | `risks.rs` | `/v1/risks…` |
//! | `incidents.rs` | `/v1/incidents…` |
//! | `dsr.rs` | `/v1/dsr…` |

pub(crate) mod access;
pub(crate) mod all;
pub(crate) mod apikeys;
pub(crate) mod consent;
pub(crate) mod controls;
pub(crate) mod dsr;
pub(crate) mod events;
pub(crate) mod incidents;
pub(crate) mod keys;
pub(crate) mod lockouts;
pub(crate) mod log;
pub(crate) mod meta;
pub(crate) mod personal;
pub(crate) mod policy_docs;
pub(crate) mod privacy;
pub(crate) mod redact;
pub(crate) mod risks;
pub(crate) mod tokens;
