//! The keyring's state:
//!
//! - `crypto.key_rotation`: every named key's active version is younger than its rotation
//!   period, the root key lives with an allowed provider, and the data directory's own keys
//!   (signing, redaction) are sealed by it;
//! - `crypto.regulated_keys_gated`: keys that must guard regulated data are marked
//!   regulated, and for each regulated key the active pack refuses a stranger, and its
//!   decisions fail closed (a decision the ledger cannot record is a deny).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use evident_core::event::format_time;
use evident_core::store::EventQuery;

use crate::checks::context::{days, in_days, normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;
use crate::checks::probe::{self, show, Probe, Uid};

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RotationSettings {
    /// the oldest an active key version may be
    max_age_days: u64,
    /// the root-key providers allowed (`local`, `pkcs11`, `aws-kms`)
    allowed_providers: Vec<String>,
    /// whether the data directory's own keys must be sealed by the root key
    require_own_keys_sealed: bool,
}

impl Default for RotationSettings {
    fn default() -> Self {
        RotationSettings {
            max_age_days: 365,
            allowed_providers: vec!["local".into(), "pkcs11".into(), "aws-kms".into()],
            require_own_keys_sealed: true,
        }
    }
}

/// The rotation check.
pub const KEY_ROTATION: CheckDef = CheckDef {
    name: "crypto.key_rotation",
    revision: 1,
    summary: "every key's active version is younger than max_age_days; the root key is with an allowed provider and seals the directory's own keys",
    available: true,
    normalize: normalize::<RotationSettings>,
    run: run_rotation,
};

fn run_rotation(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: RotationSettings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let read = cx.recorder.pooled_store().and_then(|st| {
        let mut keys = Vec::new();
        for name in st.key_names()? {
            let versions = st.key_versions(&name)?;
            keys.push((name, versions));
        }
        Ok((keys, st.meta("crypto.provider")?))
    });
    let (keys, provider) = match read {
        Ok(r) => r,
        Err(e) => return e.into(),
    };
    let mut stale = Vec::new();
    let mut without_active = Vec::new();
    let mut listed = Vec::new();
    let mut evidence = Vec::new();
    for (name, versions) in &keys {
        let active = versions.iter().rev().find(|v| v.state == "active");
        match active {
            Some(v) => {
                let age = cx.now_us - v.created_us;
                let entry = json!({"key": name, "version": v.version, "created": format_time(v.created_us), "age_days": in_days(age)});
                if age > days(s.max_age_days) {
                    stale.push(entry.clone());
                }
                listed.push(entry);
            }
            None => without_active.push(name.clone()),
        }
        let page = cx.log.query(&EventQuery {
            resource_type: Some("crypto_key".into()),
            resource_id: Some(name.clone()),
            descending: true,
            limit: 1,
            ..EventQuery::default()
        });
        match page {
            Ok(p) => evidence.extend(p.events.iter().map(|e| e.index)),
            Err(e) => return e.into(),
        }
    }
    let mut failures = Vec::new();
    let mut remedies = Vec::new();
    if !stale.is_empty() {
        failures.push(format!(
            "{} key(s) older than {} days",
            stale.len(),
            s.max_age_days
        ));
        remedies.push(format!(
            "rotate them: `evident keys rotate NAME` (or `evident keys rotate --older-than {}`)",
            s.max_age_days
        ));
    }
    match &provider {
        Some(p) if !s.allowed_providers.contains(p) => {
            failures.push(format!(
                "the root key is with the `{p}` provider, which is not allowed"
            ));
            remedies.push(format!(
                "move the root key to one of {:?}",
                s.allowed_providers
            ));
        }
        None if !keys.is_empty() => {
            return Outcome::error(
                "named keys exist but no root-key provider is recorded for them",
            );
        }
        _ => {}
    }
    if s.require_own_keys_sealed && !cx.host.own_keys_sealed {
        failures.push(
            "the data directory's signing and redaction keys are not sealed by the root key".into(),
        );
        remedies.push("seal them: `evident keys seal`".into());
    }
    let with = |o: Outcome| {
        o.with("keys", Value::Array(listed.clone()))
            .with("older_than_allowed", Value::Array(stale.clone()))
            .with("without_active_version", json!(without_active.clone()))
            .with(
                "root_provider",
                provider.clone().map_or(Value::Null, Value::from),
            )
            .with("own_keys_sealed", cx.host.own_keys_sealed)
            .with("max_age_days", s.max_age_days)
            .relying_on(evidence.clone())
    };
    if !failures.is_empty() {
        return with(Outcome::fail(failures.join("; "), remedies.join("; ")));
    }
    if keys.is_empty() {
        return with(Outcome::inconclusive(
            "the keyring holds no named keys, so there is no rotation to judge (the directory's own keys are sealed)",
        ));
    }
    with(Outcome::pass(format!(
        "{} key(s), each active version younger than {} days; root key with `{}`; own keys sealed",
        keys.len(),
        s.max_age_days,
        provider.as_deref().unwrap_or("?")
    )))
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GatedSettings {
    /// key names (a trailing `*` matches a prefix) that must be marked regulated
    must_be_regulated: Vec<String>,
    /// the entity type of keys in the pack
    key_type: String,
    /// the principal types a stranger is tried as
    stranger_types: Vec<String>,
    /// how far back decisions on regulated keys are counted
    lookback_days: u64,
}

impl Default for GatedSettings {
    fn default() -> Self {
        GatedSettings {
            must_be_regulated: Vec::new(),
            key_type: "EncryptionKey".into(),
            stranger_types: vec!["User".into(), "Service".into()],
            lookback_days: 30,
        }
    }
}

/// The regulated-keys check.
pub const REGULATED_KEYS_GATED: CheckDef = CheckDef {
    name: "crypto.regulated_keys_gated",
    revision: 1,
    summary: "keys guarding regulated data are regulated, the pack refuses strangers their decryption, and its decisions fail closed",
    available: true,
    normalize: normalize::<GatedSettings>,
    run: run_gated,
};

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

fn run_gated(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: GatedSettings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let read = cx
        .recorder
        .pooled_store()
        .and_then(|st| Ok((st.key_names()?, st.regulated_keys()?)));
    let (names, regulated) = match read {
        Ok(r) => r,
        Err(e) => return e.into(),
    };
    let unmarked: Vec<&String> = names
        .iter()
        .filter(|n| !regulated.contains(n) && s.must_be_regulated.iter().any(|p| matches(p, n)))
        .collect();
    if !unmarked.is_empty() {
        return Outcome::fail(
            format!("{} key(s) must guard regulated data but are not marked regulated: their decryption asks no one", unmarked.len()),
            "mark them: `evident keys classify NAME regulated`",
        )
        .with("unmarked", json!(unmarked))
        .with("regulated", json!(regulated));
    }
    if regulated.is_empty() {
        return Outcome::inconclusive(
            "no key is marked regulated, so no decryption asks for an access decision; mark the keys that guard PHI or card data with `evident keys classify NAME regulated` (or list their names in `must_be_regulated`)",
        )
        .with("keys", json!(names));
    }
    let mut probe = match Probe::active(cx, 100_000) {
        Ok(p) => p,
        Err(o) => return *o,
    };
    if !probe.has_type(&s.key_type) {
        return Outcome::fail(
            format!("the active pack has no `{}` type, so every decryption with a regulated key is refused as malformed", s.key_type),
            "apply a pack that declares the key type and a `decrypt` action (see policies/default)",
        );
    }
    let strangers: Vec<Uid> = s
        .stranger_types
        .iter()
        .filter(|t| probe.has_type(t))
        .map(|t| (t.clone(), "evident-controls-stranger".to_string()))
        .collect();
    let base = probe::review_context(&probe.pack);
    let mut open_to_strangers = Vec::new();
    let mut not_fail_closed = Vec::new();
    let mut who_may = Vec::new();
    let principals = probe.principals();
    for key in &regulated {
        let resource: Uid = (s.key_type.clone(), key.clone());
        for stranger in &strangers {
            if !probe
                .actions(&stranger.0, &s.key_type)
                .iter()
                .any(|a| a == "decrypt")
            {
                continue;
            }
            match probe.allows(stranger, "decrypt", &resource, &base) {
                Ok(true) => {
                    open_to_strangers.push(json!({"key": key, "principal": show(stranger)}))
                }
                Ok(false) => {}
                Err(o) => return *o,
            }
            if probe.regulated(stranger, "decrypt", &resource) == Some(false) {
                not_fail_closed.push(key.clone());
            }
        }
        for principal in &principals {
            if !probe
                .actions(&principal.0, &s.key_type)
                .iter()
                .any(|a| a == "decrypt")
            {
                continue;
            }
            match probe.allows(principal, "decrypt", &resource, &base) {
                Ok(true) => who_may.push(json!({"key": key, "principal": show(principal)})),
                Ok(false) => {}
                Err(o) => return *o,
            }
        }
    }
    not_fail_closed.sort();
    not_fail_closed.dedup();
    let mut evidence = Vec::new();
    let mut decisions = 0u64;
    for key in &regulated {
        let counted = cx.count(
            &EventQuery {
                action: Some("access.evaluate".into()),
                resource_type: Some(s.key_type.clone()),
                resource_id: Some(key.clone()),
                since_us: Some(cx.now_us - days(s.lookback_days)),
                ..EventQuery::default()
            },
            100_000,
            20,
        );
        match counted {
            Ok((n, newest)) => {
                decisions += n;
                evidence.extend(newest);
            }
            Err(e) => return e.into(),
        }
    }
    if let Ok(Some(i)) = probe.applied_event(cx) {
        evidence.push(i);
    }
    let o = if !open_to_strangers.is_empty() {
        Outcome::fail(
            format!("the active pack lets a principal it does not know decrypt with {} regulated key(s)", open_to_strangers.len()),
            "restrict the `decrypt` permits on the key type to roles (see policies/default/crypto.cedar), then `evident policy apply`",
        )
    } else if !not_fail_closed.is_empty() {
        Outcome::fail(
            format!("decisions on {} regulated key(s) are not marked regulated: one the ledger cannot record would be answered as decided", not_fail_closed.len()),
            format!("add `{}` to `regulated_types` in the pack's pack.toml, then `evident policy apply`", s.key_type),
        )
    } else {
        Outcome::pass(format!(
            "{} regulated key(s): strangers are refused, decisions fail closed, {} decision(s) in {} days",
            regulated.len(),
            decisions,
            s.lookback_days
        ))
    };
    o.with("regulated_keys", json!(regulated))
        .with("policy_version", probe.pack.version)
        .with("open_to_strangers", Value::Array(open_to_strangers))
        .with("not_fail_closed", json!(not_fail_closed))
        .with(
            "may_decrypt_with_purpose",
            Value::Array(who_may.into_iter().take(50).collect()),
        )
        .with("decisions_in_lookback", decisions)
        .with("lookback_days", s.lookback_days)
        .relying_on(evidence)
}
