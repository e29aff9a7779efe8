//! The one list of checks, finding one by name, and running one.

use serde_json::Value;

use crate::checks::context::CheckContext;
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;
use crate::checks::{
    access, apikeys, backup, crypto, denials, integrity, monitoring, oversight, precommit, privacy,
    redaction, tls, tls_probe,
};

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
    &tls_probe::PROTOCOLS,
    &redaction::ACTIVE,
    &precommit::PRE_COMMIT,
    &monitoring::MONITORED,
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
            let normalized =
                (def.normalize)(&empty).unwrap_or_else(|e| panic!("{}: {e}", def.name));
            assert_eq!(
                (def.normalize)(&normalized).unwrap(),
                normalized,
                "{}",
                def.name
            );
            assert!(
                (def.normalize)(&serde_json::json!({"no_such_setting": 1})).is_err(),
                "{}",
                def.name
            );
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
