//! Every operation of the API in one table: each part's routes gathered, so the router, the
//! gate in front of it and the tests against the OpenAPI document all see the same list.

use super::{
    access, apikeys, consent, controls, dsr, events, keys, lockouts, log, meta, personal,
    policy_docs, privacy, redact, tokens,
};
use crate::gate::Operations;

/// Every operation of the API, each with who may call it.
pub(crate) fn operations() -> Operations {
    meta::routes()
        .merge(log::routes())
        .merge(events::routes())
        .merge(personal::routes())
        .merge(redact::routes())
        .merge(keys::routes())
        .merge(apikeys::routes())
        .merge(lockouts::routes())
        .merge(access::routes())
        .merge(tokens::routes())
        .merge(privacy::routes())
        .merge(controls::routes())
        .merge(consent::routes())
        .merge(policy_docs::routes())
        .merge(super::risks::routes())
        .merge(super::incidents::routes())
        .merge(dsr::routes())
}
