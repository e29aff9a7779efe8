//! The server-wide budget of request-body memory ([`crate::Limits::body_memory`]) and the
//! share of it one request holds while its body is read and answered.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::request::MAX_BODY_BYTES;

/// The budget is counted in units of this many bytes.
const UNIT: usize = 1024;

/// The server-wide budget of request-body memory.
pub(crate) struct BodyBudget {
    units: Arc<Semaphore>,
}

impl BodyBudget {
    /// A budget of `bytes` (at least one body of the largest size).
    pub(crate) fn new(bytes: usize) -> Self {
        Self {
            units: Arc::new(Semaphore::new(bytes.max(MAX_BODY_BYTES) / UNIT)),
        }
    }

    /// A reservation of nothing yet, for one request.
    pub(crate) fn reservation(&self) -> Reservation {
        Reservation {
            units: self.units.clone(),
            held: Vec::new(),
            bytes: 0,
        }
    }
}

/// The part of the budget one request holds; dropping it gives the part back.
pub(crate) struct Reservation {
    units: Arc<Semaphore>,
    held: Vec<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Reservation {
    /// Holds enough of the budget for `bytes` in all; false when the budget is spent.
    pub(crate) fn cover(&mut self, bytes: usize) -> bool {
        if bytes <= self.bytes {
            return true;
        }
        let more = bytes.div_ceil(UNIT) - self.bytes.div_ceil(UNIT);
        let Ok(more) = u32::try_from(more) else {
            return false;
        };
        if more > 0 {
            match self.units.clone().try_acquire_many_owned(more) {
                Ok(permit) => self.held.push(permit),
                Err(_) => return false,
            }
        }
        self.bytes = bytes;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_grows_within_the_budget_and_returns_it_when_dropped() {
        let budget = BodyBudget::new(MAX_BODY_BYTES);
        let mut first = budget.reservation();
        assert!(first.cover(1));
        assert!(first.cover(MAX_BODY_BYTES));
        let mut second = budget.reservation();
        assert!(!second.cover(1), "the budget is spent");
        drop(first);
        assert!(second.cover(MAX_BODY_BYTES));
        assert!(!second.cover(MAX_BODY_BYTES + UNIT));
    }
}
