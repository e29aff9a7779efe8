//! The automated checks: each is real code reading the live engine — its store, its policy
//! pack, its ledger, its files — and never answers pass when it cannot decide. A catalog
//! control names its check and gives its settings (`params`); the check's version is the
//! hash of its name, its revision (raised whenever its logic changes) and those settings.
//!
//! | check | reads |
//! |---|---|
//! | `crypto.key_rotation` | every key's versions and their age; the root-key provider; whether the data directory's own keys are sealed |
//! | `crypto.regulated_keys_gated` | the regulated keys; the active pack's answer to `decrypt` by a stranger and by each principal without a purpose |
//! | `access.mfa_privileged` | the active pack, evaluated for every principal × privileged action × resource with and without MFA |
//! | `access.phi_purpose_of_use` | the active pack, evaluated for every principal × action × PHI resource with and without a purpose of use |
//! | `access.break_glass_reviewed` | the break-glass review queue and its ledger events |
//! | `access.review_recent` | the newest `access.review.generated` event and the active policy version |
//! | `backup.restore_tested` | the newest `evident.backup.tested` event |
//! | `log.integrity` | the whole log, verified now; the latest signed checkpoint's age |
//! | `apikeys.hygiene` | every active API key's age and last use |
//! | `access.denied_spike` | denied decisions and failed logins in the last window against the baseline |
//! | `tls.certificate` | the server's certificate file: validity, expiry horizon, key strength |
//! | `redaction.active` | the engine's own redactor, run on a probe event |
//! | `privacy.retention`, `privacy.consent` | nothing yet: inconclusive until the privacy part has retention and consent |

mod access;
mod apikeys;
mod backup;
mod context;
mod crypto;
mod denials;
mod integrity;
mod outcome;
mod oversight;
mod privacy;
mod probe;
mod redaction;
mod tls;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use context::{CheckContext, HostFacts};
pub use outcome::{Outcome, Verdict, MAX_EVIDENCE};

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

/// Every check, by name.
pub static CHECKS: &[&CheckDef] = &[
    &crypto::KEY_ROTATION,
    &crypto::REGULATED_KEYS_GATED,
    &access::MFA_PRIVILEGED,
    &access::PHI_PURPOSE_OF_USE,
    &oversight::BREAK_GLASS_REVIEWED,
    &oversight::REVIEW_RECENT,
    &backup::RESTORE_TESTED,
    &integrity::LOG_INTEGRITY,
    &apikeys::HYGIENE,
    &denials::DENIED_SPIKE,
    &tls::CERTIFICATE,
    &redaction::ACTIVE,
    &privacy::RETENTION,
    &privacy::CONSENT,
];

/// The check called `name`.
pub fn find(name: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().copied().find(|c| c.name == name)
}

/// Every check's name.
pub fn names() -> Vec<&'static str> {
    CHECKS.iter().map(|c| c.name).collect()
}

/// Runs a check; a panic inside it becomes an error outcome rather than a lost run.
pub fn run(def: &CheckDef, cx: &CheckContext<'_>, params: &Value) -> Outcome {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (def.run)(cx, params))) {
        Ok(outcome) => outcome,
        Err(_) => Outcome::error(format!("the check `{}` failed unexpectedly", def.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_defaults_normalize() {
        let mut names = names();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
        for def in CHECKS {
            let empty = Value::Object(Default::default());
            let normalized = (def.normalize)(&empty).unwrap_or_else(|e| panic!("{}: {e}", def.name));
            assert_eq!((def.normalize)(&normalized).unwrap(), normalized, "{}", def.name);
            assert!((def.normalize)(&serde_json::json!({"no_such_setting": 1})).is_err(), "{}", def.name);
        }
    }

    #[test]
    fn the_version_changes_with_the_settings() {
        let def = find("backup.restore_tested").unwrap();
        let a = def.version(&serde_json::json!({"max_age_days": 30}));
        let b = def.version(&serde_json::json!({"max_age_days": 31}));
        assert_ne!(a, b);
        assert_eq!(a, def.version(&serde_json::json!({"max_age_days": 30})));
    }
}
