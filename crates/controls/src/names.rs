//! The names check runs are filed under in the ledger, shared by recording and reading.

/// The ledger action of a check run.
pub const CHECK_ACTION: &str = "controls.check";
/// The resource type check runs are filed under (the resource id is the control's id).
pub const CONTROL_RESOURCE: &str = "control";
