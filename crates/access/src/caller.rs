//! Who asked: the [`Caller`], the credential of the policy enforcement point that asked for
//! a decision or a search (an API key, an OIDC token's subject, or the local operator). Every
//! decision and search event names it.

/// Who asked for a decision (the PEP's credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `api_key`, `oidc` or `cli`
    pub method: String,
    /// the key id or token subject
    pub id: String,
}

impl Caller {
    /// The local operator (CLI).
    pub fn cli() -> Self {
        Self {
            method: "cli".into(),
            id: std::env::var("USER").unwrap_or_else(|_| "operator".into()),
        }
    }
}
