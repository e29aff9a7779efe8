//! Who asked: the [`Caller`], the credential of the policy enforcement point that asked for
//! a decision or a search (an API key, an OIDC token's subject, or the local operator). Every
//! decision and search event names it.

/// Who asked for a decision (the PEP's credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `api_key`, `oidc` or `cli`
    pub method: String,
    /// the key id, token subject or operator name (the CLI resolves its operator itself:
    /// a flag, the environment, or the account of the process's user id)
    pub id: String,
}
