//! The names check runs are filed under in the ledger, shared by recording and reading.

/// The ledger action of a check run.
pub const CHECK_ACTION: &str = "controls.check";
/// The resource type check runs are filed under (the resource id is the control's id).
pub const CONTROL_RESOURCE: &str = "control";
/// The ledger action of manual evidence added to a control.
pub const EVIDENCE_ADDED: &str = "evidence.added";
/// The ledger action of a scanner's results recorded against one control.
pub const EVIDENCE_INGESTED: &str = "evidence.ingested";
/// The ledger action of an exception (waiver) granted to a failing control.
pub const EXCEPTION_GRANTED: &str = "controls.exception.granted";
/// The ledger action of an exception withdrawn before its end.
pub const EXCEPTION_REVOKED: &str = "controls.exception.revoked";
/// The named key (of the crypto part's keyring) evidence files are encrypted under.
pub const EVIDENCE_KEY: &str = "evidence";
/// The ledger action of a policy document published (its hash, version, approver, settings).
pub const POLICY_DOC_PUBLISHED: &str = "controls.policy_doc.published";
/// The resource type published policy documents are filed under (the id is the document's name).
pub const POLICY_DOC_RESOURCE: &str = "policy_document";
