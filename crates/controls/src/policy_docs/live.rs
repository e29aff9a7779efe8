//! The settings as they are now, by name, for templates to show.
//!
//! | names | from |
//! |---|---|
//! | `check.<check>.<setting>` | every automated check's settings in the catalog in force (the first control, by id, that runs it) |
//! | `tls.min_version`, `tls.cert_expiry_horizon_days`, `tls.min_rsa_bits`, `tls.versions` | `tls.protocols`, `tls.certificate`; the versions `serve` offers ([`PolicyInputs`]) |
//! | `keys.max_age_days`, `keys.provider`, `keys.names` | `crypto.key_rotation`; the root-key provider and the named keys in the store |
//! | `apikeys.max_age_days`, `apikeys.max_unused_days` | `apikeys.hygiene` |
//! | `access.policy_version`, `access.roles`, `access.role_names`, `access.regulated_types`, `access.break_glass_min_justification_chars` | the active Cedar policy pack |
//! | `access.session_max_minutes`, `access.break_glass_review_hours`, `access.review_max_age_days` | `access.session_lifetime`, `access.break_glass_reviewed`, `access.review_recent` |
//! | `audit.log_origin`, `audit.checkpoint_max_age_hours`, `audit.denied_window_minutes`, `audit.denied_baseline_days`, `audit.denied_factor`, `audit.denied_min_events` | the log; `log.integrity`, `access.denied_spike` |
//! | `backup.restore_test_max_age_days` | `backup.restore_tested` |
//! | `controls.max_failing_days` | `controls.monitored` |
//! | `retention.data_map`, `retention.table` | the active data map ([`PolicyInputs`]) |
//!
//! Nothing that changes by itself (an age, a count of events, a time) is a setting, so the
//! same configuration renders the same document.

use serde_json::Value;

use evident_core::Result;

use crate::catalog::Catalog;
use crate::policy_docs::setting::{Setting, Settings};
use crate::state::Controls;

/// One table's retention, as the data map declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRow {
    /// the system (application database)
    pub system: String,
    /// the table
    pub table: String,
    /// how long rows are kept (`6y`, `90d`)
    pub retention: String,
    /// the column the period runs from (empty: the row's creation)
    pub runs_from: String,
    /// why the rows are processed
    pub purpose: String,
    /// the GDPR Art. 6(1) basis
    pub lawful_basis: String,
}

/// What the controls part cannot read itself: filled by the facade from the parts and the
/// server's configuration (`engine.policy_inputs()`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyInputs {
    /// the TLS versions `evident serve` offers, newest first (`TLS 1.3`)
    pub tls_versions: Vec<String>,
    /// the active data map's hash and its tables' retention; `None` when no map is applied
    pub data_map: Option<(String, Vec<RetentionRow>)>,
    /// why the active data map could not be read, when it could not
    pub data_map_problem: Option<String>,
}

/// A check setting's value as text, list or (for anything else) its JSON.
fn to_setting(value: &Value) -> Setting {
    match value {
        Value::String(s) => Setting::text(s),
        Value::Bool(true) => Setting::text("yes"),
        Value::Bool(false) => Setting::text("no"),
        Value::Number(n) => Setting::text(n),
        Value::Array(items) => Setting::List(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        other => Setting::text(other),
    }
}

/// Every check's settings, `check.<check>.<setting>`, from the first control running it.
pub fn check_settings(catalog: &Catalog, settings: &mut Settings) {
    let mut controls: Vec<_> = catalog.controls.iter().collect();
    controls.sort_by(|a, b| a.id.cmp(&b.id));
    for control in controls {
        let (Some(check), Value::Object(params)) = (&control.check, &control.params) else {
            continue;
        };
        for (key, value) in params {
            let name = format!("check.{check}.{key}");
            if settings.get(&name).is_none() {
                settings.set(name, to_setting(value));
            }
        }
    }
}

/// The short names: `alias` for `check.<check>.<setting>`, or why it is absent.
const ALIASES: [(&str, &str, &str); 17] = [
    ("tls.min_version", "tls.protocols", "min_version"),
    (
        "tls.cert_expiry_horizon_days",
        "tls.certificate",
        "expiry_horizon_days",
    ),
    ("tls.min_rsa_bits", "tls.certificate", "min_rsa_bits"),
    ("keys.max_age_days", "crypto.key_rotation", "max_age_days"),
    ("apikeys.max_age_days", "apikeys.hygiene", "max_age_days"),
    (
        "apikeys.max_unused_days",
        "apikeys.hygiene",
        "max_unused_days",
    ),
    (
        "access.session_max_minutes",
        "access.session_lifetime",
        "max_minutes",
    ),
    (
        "access.break_glass_review_hours",
        "access.break_glass_reviewed",
        "max_review_hours",
    ),
    (
        "access.review_max_age_days",
        "access.review_recent",
        "max_age_days",
    ),
    (
        "audit.checkpoint_max_age_hours",
        "log.integrity",
        "max_checkpoint_age_hours",
    ),
    (
        "audit.denied_window_minutes",
        "access.denied_spike",
        "window_minutes",
    ),
    (
        "audit.denied_baseline_days",
        "access.denied_spike",
        "baseline_days",
    ),
    ("audit.denied_factor", "access.denied_spike", "factor"),
    (
        "audit.denied_min_events",
        "access.denied_spike",
        "min_events",
    ),
    (
        "backup.restore_test_max_age_days",
        "backup.restore_tested",
        "max_age_days",
    ),
    (
        "controls.max_failing_days",
        "controls.monitored",
        "max_failing_days",
    ),
    ("controls.monitored_except", "controls.monitored", "except"),
];

/// The settings the catalog, the inputs and nothing else give (no engine): the check
/// settings with their short names, the TLS versions and the retention table.
pub fn from_catalog(catalog: &Catalog, inputs: &PolicyInputs) -> Settings {
    let mut settings = Settings::default();
    check_settings(catalog, &mut settings);
    for (alias, check, key) in ALIASES {
        match settings.get(&format!("check.{check}.{key}")).cloned() {
            Some(value) => settings.set(alias, value),
            None => settings.absent(
                alias,
                format!("no control of the catalog in force runs the `{check}` check"),
            ),
        }
    }
    if inputs.tls_versions.is_empty() {
        settings.absent("tls.versions", "the TLS versions served are not known here");
    } else {
        settings.set("tls.versions", Setting::List(inputs.tls_versions.clone()));
    }
    match &inputs.data_map {
        Some((hash, rows)) => {
            settings.set("retention.data_map", Setting::text(hash));
            settings.set(
                "retention.table",
                Setting::Table {
                    columns: [
                        "system",
                        "table",
                        "kept for",
                        "runs from",
                        "purpose",
                        "lawful basis",
                    ]
                    .map(String::from)
                    .to_vec(),
                    rows: rows
                        .iter()
                        .map(|r| {
                            vec![
                                r.system.clone(),
                                r.table.clone(),
                                r.retention.clone(),
                                if r.runs_from.is_empty() {
                                    "row creation".into()
                                } else {
                                    r.runs_from.clone()
                                },
                                r.purpose.clone(),
                                r.lawful_basis.clone(),
                            ]
                        })
                        .collect(),
                },
            );
        }
        None => settings.absent(
            "retention.",
            match &inputs.data_map_problem {
                Some(problem) => format!("the active data map does not read: {problem}"),
                None => "no data map is applied (apply one with `evident privacy map apply FILE`)"
                    .to_string(),
            },
        ),
    }
    settings
}

impl Controls<'_> {
    /// Every setting as it is now: [`from_catalog`] plus the log, the keyring's names and
    /// provider, and the active policy pack's roles and version.
    pub fn policy_settings(&self, inputs: &PolicyInputs) -> Result<Settings> {
        let catalog = self.catalog()?;
        let mut settings = from_catalog(&catalog, inputs);
        settings.set("audit.log_origin", Setting::text(self.recorder.origin()));
        let store = self.recorder.pooled_store()?;
        let mut names = store.key_names()?;
        names.sort();
        settings.set("keys.names", Setting::List(names));
        settings.set(
            "keys.provider",
            Setting::text(
                store
                    .meta("crypto.provider")?
                    .unwrap_or_else(|| "local".into()),
            ),
        );
        drop(store);
        match self.access.active()? {
            Some(pack) => {
                settings.set("access.policy_version", Setting::text(pack.version));
                settings.set("access.policy_hash", Setting::text(&pack.hash));
                let mut regulated = pack.settings.regulated_types.clone();
                regulated.sort();
                settings.set("access.regulated_types", Setting::List(regulated));
                settings.set(
                    "access.break_glass_min_justification_chars",
                    Setting::text(pack.settings.break_glass.min_justification_chars),
                );
                let mut roles: Vec<(String, Vec<String>)> = pack
                    .entities
                    .iter()
                    .map(|e| e.uid())
                    .filter(|u| u.type_name().basename() == "Role")
                    .map(|u| {
                        let mut includes: Vec<String> = pack
                            .entities
                            .ancestors(&u)
                            .into_iter()
                            .flatten()
                            .filter(|a| a.type_name().basename() == "Role")
                            .map(|a| a.id().unescaped().to_string())
                            .collect();
                        includes.sort();
                        (u.id().unescaped().to_string(), includes)
                    })
                    .collect();
                roles.sort();
                settings.set(
                    "access.role_names",
                    Setting::List(roles.iter().map(|(r, _)| r.clone()).collect()),
                );
                settings.set(
                    "access.roles",
                    Setting::Table {
                        columns: vec!["role".into(), "also holds the permissions of".into()],
                        rows: roles
                            .into_iter()
                            .map(|(r, inc)| {
                                let inc = if inc.is_empty() {
                                    "-".to_string()
                                } else {
                                    inc.join(", ")
                                };
                                vec![r, inc]
                            })
                            .collect(),
                    },
                );
            }
            None => settings.absent(
                "access.",
                "no policy pack is active (apply one with `evident policy apply DIR`)",
            ),
        }
        Ok(settings)
    }
}
