//! Who may call an operation: [`Access`], public or an exact list of roles, and the lists the
//! routes are registered with. `gate.rs` enforces them before a handler runs, `auth.rs` words
//! a refusal with them, and the OpenAPI document shows each as `x-evident-roles`.

use evident::Role;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// anyone, without a credential
    Public,
    /// a caller holding one of exactly these roles
    Roles(&'static [Role]),
}

/// Administration: keys, policy, erasure, lockouts, running checks.
pub(crate) const ADMINS: Access = Access::Roles(&[Role::Admin]);
/// Appending and the operations of services: decisions, encryption, tokens.
pub(crate) const WRITERS: Access = Access::Roles(&[Role::Writer, Role::Admin]);
/// Reading the log and the engine's state, events included.
pub(crate) const READERS: Access = Access::Roles(&[Role::Reader, Role::Writer, Role::Admin]);
/// Reading the evidence an audit needs — control status, history, coverage and catalog, the
/// risk and incident registers, the log's checkpoints and proofs — which the `auditor` role
/// may too; nothing that shows an event's personal data.
pub(crate) const EVIDENCE_READERS: Access =
    Access::Roles(&[Role::Reader, Role::Writer, Role::Admin, Role::Auditor]);

impl Access {
    /// Whether a caller holding `role` may call the operation (a public one: anyone).
    pub(crate) fn admits(self, role: Role) -> bool {
        match self {
            Self::Public => true,
            Self::Roles(roles) => roles.contains(&role),
        }
    }

    /// The roles a refusal names: those no other admitted role includes (`reader` and
    /// `auditor` for [`EVIDENCE_READERS`]).
    pub(crate) fn least(self) -> Vec<&'static str> {
        let Self::Roles(roles) = self else {
            return Vec::new();
        };
        roles
            .iter()
            .filter(|role| {
                !roles
                    .iter()
                    .any(|other| other != *role && role.allows(*other))
            })
            .map(|role| role.as_str())
            .collect()
    }
}
