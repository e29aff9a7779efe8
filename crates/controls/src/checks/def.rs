//! What a check is: [`CheckDef`], its name, revision, settings and code, and its version.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::checks::context::CheckContext;
use crate::checks::outcome::Outcome;

/// One automated check.
pub struct CheckDef {
    /// its name in catalogs: `family.what`
    pub name: &'static str,
    /// raised whenever what it checks or how changes (part of its version)
    pub revision: u32,
    /// one line: what it checks
    pub summary: &'static str,
    /// false for a check whose data does not exist yet (it answers inconclusive): coverage
    /// then counts its controls as manual, carried by their attestation
    pub available: bool,
    /// its settings with defaults filled in, or why they are wrong
    pub normalize: fn(&Value) -> Result<Value, String>,
    /// runs it
    pub run: fn(&CheckContext<'_>, &Value) -> Outcome,
}

impl std::fmt::Debug for CheckDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckDef")
            .field("name", &self.name)
            .field("revision", &self.revision)
            .finish()
    }
}

impl CheckDef {
    /// `sha256:<hex>` of the check's identity (name, revision, this crate's version) and
    /// its settings: the version a check run records.
    pub fn version(&self, params: &Value) -> String {
        let identity = serde_json::json!({
            "check": self.name,
            "revision": self.revision,
            "crate": env!("CARGO_PKG_VERSION"),
            "params": params,
        });
        let digest = Sha256::digest(evident_core::canonical::to_vec(&identity));
        format!("sha256:{}", hex::encode(digest))
    }
}
