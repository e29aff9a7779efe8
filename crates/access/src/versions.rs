//! Policy versions: applying a pack, rolling back to an earlier version's content (as a new
//! version), and reading the history. A version is only activated once its change (hash,
//! diff against the previous version, the controls its policies name) is in the ledger.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::pack::{self, CompiledPack, PackDiff, PackFiles};
use crate::state::{files_of, Access};
use evident_core::event::{now_us, system_event, PolicyRef, Severity};
use evident_core::store::StoredPolicyVersion;
use evident_core::{Error, Result};

/// The result of applying or rolling back a pack.
#[derive(Debug, Clone)]
pub struct Applied {
    /// the version now active
    pub version: u64,
    /// its hash
    pub hash: String,
    /// what changed against the previous active version
    pub diff: PackDiff,
    /// validator warnings
    pub warnings: Vec<String>,
    /// false when the pack equals the active one (nothing stored or logged)
    pub changed: bool,
}

impl Access<'_> {
    /// Validates `files` and makes them the active version; logged with the hash and diff.
    /// An invalid pack is refused with Cedar's diagnostics and the active one stays. So is a
    /// pack holding a value the ledger never stores in clear (a card number in an entity's
    /// attributes, a secret in a comment): versions are kept as given, and a mask would
    /// change what the pack says.
    pub fn apply(&self, files: PackFiles, actor: &str) -> Result<Applied> {
        for (name, text) in &files.0 {
            if let Some(found) = self.recorder.redaction().sensitive(text) {
                return Err(Error::Policy(format!(
                    "`{name}` holds {found}; a policy pack is stored as given, so it must \
                     not carry card data, secrets or national identifiers"
                )));
            }
        }
        self.activate(files, actor, "apply".into())
    }

    /// Makes an earlier version's content active again, as a new version.
    pub fn rollback(&self, version: u64, actor: &str) -> Result<Applied> {
        let (_, files) = self.version(Some(version))?;
        self.activate(files, actor, format!("rollback to {version}"))
    }

    fn activate(&self, files: PackFiles, actor: &str, origin: String) -> Result<Applied> {
        let mut compiled = pack::compile(files)?;
        // One change at a time in this process, so two applies never claim one version number.
        let _one_at_a_time = self
            .state
            .applying
            .lock()
            .map_err(|_| Error::Integrity("policy apply lock poisoned".into()))?;
        let previous = self.active_within(Duration::ZERO)?;
        if let Some(prev) = &previous {
            if prev.hash == compiled.hash {
                return Ok(Applied {
                    version: prev.version,
                    hash: prev.hash.clone(),
                    diff: PackDiff::default(),
                    warnings: compiled.warnings,
                    changed: false,
                });
            }
        }
        let mut store = self.recorder.connect_store()?;
        let version = store.policy_versions()?.last().map_or(0, |v| v.version) + 1;
        compiled.version = version;
        let diff = PackDiff::between(previous.as_deref(), &compiled);
        let mut event = system_event(
            "access.policy.applied",
            "policy_set",
            Some(&format!("v{version}")),
            json!({
                "version": version,
                "hash": compiled.hash,
                "previous": previous.as_ref().map(|p| json!({"version": p.version, "hash": p.hash})),
                "origin": origin,
                "requested_by": actor,
                "diff": diff,
                "summary": diff.summary(),
                "controls": controls_of(&compiled),
            }),
        );
        event.severity = Some(Severity::Medium);
        event.policy = Some(PolicyRef {
            id: Some(format!("v{version}")),
            version: Some(compiled.hash.clone()),
        });
        // Evidence first: a version is only activated once its change is in the log.
        self.recorder.append_blocking(vec![event])?;
        let files_json = serde_json::to_string(&compiled.files)
            .map_err(|e| Error::Integrity(format!("encoding the pack: {e}")))?;
        store.insert_policy_version(&StoredPolicyVersion {
            version,
            hash: compiled.hash.clone(),
            files: Some(files_json),
            created_us: now_us(),
            actor: actor.into(),
            origin,
        })?;
        let hash = compiled.hash.clone();
        let warnings = compiled.warnings.clone();
        if let Ok(mut c) = self.state.cached.write() {
            *c = Some((Arc::new(compiled), Instant::now()));
        }
        Ok(Applied {
            version,
            hash,
            diff,
            warnings,
            changed: true,
        })
    }

    /// Every version, oldest first.
    pub fn history(&self) -> Result<Vec<StoredPolicyVersion>> {
        self.recorder.connect_store()?.policy_versions()
    }

    /// One version (the active one if `None`) and its files.
    pub fn version(&self, version: Option<u64>) -> Result<(StoredPolicyVersion, PackFiles)> {
        let store = self.recorder.connect_store()?;
        let version = match version {
            Some(v) => v,
            None => self.require_active()?.version,
        };
        let stored = store
            .policy_version(version)?
            .ok_or_else(|| Error::NotFound(format!("no policy version {version}")))?;
        let files = files_of(&stored)?;
        Ok((stored, files))
    }
}

/// The controls each policy names (`@control`), by policy id, for the change event.
fn controls_of(pack: &CompiledPack) -> Value {
    let mut map = Map::new();
    for (id, info) in &pack.info {
        if !info.controls.is_empty() {
            map.insert(id.clone(), info.controls.clone().into());
        }
    }
    Value::Object(map)
}
