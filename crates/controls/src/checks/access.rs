//! What the active policy pack enforces, tested with real Cedar requests:
//!
//! - `access.mfa_privileged`: every principal × privileged action × resource the pack
//!   permits with a fresh MFA is refused without one (no authentication facts, MFA false,
//!   an MFA a day old);
//! - `access.phi_purpose_of_use`: every principal × action × PHI resource the pack permits
//!   with a purpose of use (and MFA) is refused without a purpose, with a purpose the pack
//!   does not accept, and (by default) without MFA.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::checks::context::{normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;
use crate::checks::probe::{self, show, Probe, Uid};

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct MfaSettings {
    /// the actions that are privileged
    privileged_actions: Vec<String>,
    /// what a fresh MFA looks like in a request's context (default: the pack's step-up
    /// context); `"$now"` is the time of the check
    mfa_context: Option<Map<String, Value>>,
    /// an MFA this old must no longer be enough
    stale_mfa_seconds: u64,
    /// the most requests the check makes
    max_evaluations: u64,
}

impl Default for MfaSettings {
    fn default() -> Self {
        MfaSettings {
            privileged_actions: vec!["delete".into(), "administer".into()],
            mfa_context: None,
            stale_mfa_seconds: 86_400,
            max_evaluations: 200_000,
        }
    }
}

/// The MFA check.
pub const MFA_PRIVILEGED: CheckDef = CheckDef {
    name: "access.mfa_privileged",
    revision: 1,
    summary: "the active pack refuses every privileged action without a fresh MFA",
    available: true,
    normalize: normalize::<MfaSettings>,
    run: run_mfa,
};

/// For a principal, the resource types and actions a check covers.
type Scope<'a> = dyn Fn(&Probe, &Uid) -> Vec<(String, Vec<String>)> + 'a;

/// Every principal × covered action × resource under the `strong` context (counting the
/// grants) and under each `weak` one, where every grant is a violation naming the context
/// and the policies that permitted it; with the ledger index of the event that put the pack in
/// force.
fn contrast(
    cx: &CheckContext<'_>,
    probe: &mut Probe,
    scope: &Scope<'_>,
    strong: &Map<String, Value>,
    weak: &[(String, Map<String, Value>)],
) -> Result<(u64, Vec<Value>, Option<u64>), Box<Outcome>> {
    let mut granted = 0u64;
    let mut violations = Vec::new();
    for principal in probe.principals() {
        for (rtype, actions) in scope(probe, &principal) {
            for action in &actions {
                for resource in probe.resources(&rtype) {
                    if probe.allows(&principal, action, &resource, strong)? {
                        granted += 1;
                    }
                    for (without, context) in weak {
                        if probe.allows(&principal, action, &resource, context)? {
                            let policies =
                                probe.determining(&principal, action, &resource, context);
                            violations
                                .push(violation(&principal, action, &resource, without, policies));
                        }
                    }
                }
            }
        }
    }
    Ok((granted, violations, probe.applied_event(cx)?))
}

/// One request the pack should have refused.
fn violation(p: &Uid, action: &str, r: &Uid, without: &str, policies: Vec<String>) -> Value {
    json!({"principal": show(p), "action": action, "resource": show(r), "context": without, "permitted_by": policies})
}

fn run_mfa(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: MfaSettings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let mut probe = match Probe::active(cx, s.max_evaluations) {
        Ok(p) => p,
        Err(o) => return *o,
    };
    let declared = probe.all_actions();
    let actions: Vec<&String> = s
        .privileged_actions
        .iter()
        .filter(|a| declared.contains(a))
        .collect();
    if actions.is_empty() {
        return Outcome::inconclusive(format!(
            "the active pack declares none of the privileged actions {:?}; set `privileged_actions` to the pack's privileged actions",
            s.privileged_actions
        ))
        .with("pack_actions", json!(declared));
    }
    let base = probe::review_context(&probe.pack);
    let mfa = probe::mfa_context(&probe.pack, s.mfa_context.as_ref());
    let now = probe.now();
    let strong = probe::merged(&base, &mfa, now);
    let weak = probe::without_mfa(&base, &mfa, now, s.stale_mfa_seconds);
    let weak: Vec<(String, Map<String, Value>)> =
        weak.into_iter().map(|(n, c)| (n.to_string(), c)).collect();
    let scope = |probe: &Probe, principal: &Uid| -> Vec<(String, Vec<String>)> {
        probe
            .resource_types()
            .into_iter()
            .map(|rtype| {
                let allowed = probe.actions(&principal.0, &rtype);
                let privileged = actions
                    .iter()
                    .filter(|a| allowed.contains(a))
                    .map(|a| a.to_string())
                    .collect();
                (rtype, privileged)
            })
            .collect()
    };
    let (granted, violations, evidence) = match contrast(cx, &mut probe, &scope, &strong, &weak) {
        Ok(found) => found,
        Err(o) => return *o,
    };
    let o = if violations.is_empty() {
        Outcome::pass(format!(
            "policy v{}: {granted} privileged grant(s), each refused without a fresh MFA",
            probe.pack.version
        ))
    } else {
        Outcome::fail(
            format!(
                "policy v{} permits {} privileged request(s) without a fresh MFA",
                probe.pack.version,
                violations.len()
            ),
            "add the MFA condition (context.authn.mfa and a bounded context.now - context.authn.auth_time) to the policies in `permitted_by`, then `evident policy apply`",
        )
    };
    o.with("policy_version", probe.pack.version)
        .with("policy_hash", probe.pack.hash.clone())
        .with("privileged_actions", json!(actions))
        .with("grants_with_mfa", granted)
        .with(
            "violations",
            Value::Array(violations.into_iter().take(50).collect()),
        )
        .with("evaluations", probe.evaluations)
        .relying_on(evidence)
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PhiSettings {
    /// the resource types that hold PHI
    phi_types: Vec<String>,
    /// the context field carrying the purpose of use
    purpose_field: String,
    /// a purpose the pack must accept (default: the pack's review context's, else `treatment`)
    purpose: Option<String>,
    /// a purpose the pack must refuse
    refused_purpose: String,
    /// whether PHI access also needs a fresh MFA
    require_mfa: bool,
    /// what a fresh MFA looks like (default: the pack's step-up context)
    mfa_context: Option<Map<String, Value>>,
    /// an MFA this old must no longer be enough
    stale_mfa_seconds: u64,
    /// the most requests the check makes
    max_evaluations: u64,
}

impl Default for PhiSettings {
    fn default() -> Self {
        PhiSettings {
            phi_types: vec!["PatientRecord".into()],
            purpose_field: "purpose_of_use".into(),
            purpose: None,
            refused_purpose: "marketing".into(),
            require_mfa: true,
            mfa_context: None,
            stale_mfa_seconds: 86_400,
            max_evaluations: 200_000,
        }
    }
}

/// The purpose-of-use check.
pub const PHI_PURPOSE_OF_USE: CheckDef = CheckDef {
    name: "access.phi_purpose_of_use",
    revision: 1,
    summary:
        "the active pack refuses PHI access without an accepted purpose of use (and a fresh MFA)",
    available: true,
    normalize: normalize::<PhiSettings>,
    run: run_phi,
};

fn run_phi(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s: PhiSettings = match settings(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    let mut probe = match Probe::active(cx, s.max_evaluations) {
        Ok(p) => p,
        Err(o) => return *o,
    };
    let types: Vec<&String> = s.phi_types.iter().filter(|t| probe.has_type(t)).collect();
    if types.is_empty() {
        return Outcome::inconclusive(format!(
            "the active pack declares none of the PHI types {:?}; set `phi_types` to the pack's PHI resource types",
            s.phi_types
        ))
        .with("pack_resource_types", json!(probe.resource_types()));
    }
    let mut base = probe::review_context(&probe.pack);
    let purpose = s
        .purpose
        .clone()
        .or_else(|| {
            base.get(&s.purpose_field)
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "treatment".into());
    base.insert(s.purpose_field.clone(), Value::from(purpose.clone()));
    let now = probe.now();
    let mfa = probe::mfa_context(&probe.pack, s.mfa_context.as_ref());
    let full = probe::merged(&base, &mfa, now);
    let mut weak: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut no_purpose = full.clone();
    no_purpose.remove(&s.purpose_field);
    weak.push(("no purpose of use".into(), no_purpose));
    let mut refused = full.clone();
    refused.insert(
        s.purpose_field.clone(),
        Value::from(s.refused_purpose.clone()),
    );
    weak.push((format!("purpose `{}`", s.refused_purpose), refused));
    if s.require_mfa {
        for (name, context) in probe::without_mfa(&base, &mfa, now, s.stale_mfa_seconds) {
            weak.push((name.to_string(), context));
        }
    }
    let scope = |probe: &Probe, principal: &Uid| -> Vec<(String, Vec<String>)> {
        types
            .iter()
            .map(|rtype| (rtype.to_string(), probe.actions(&principal.0, rtype)))
            .collect()
    };
    let (granted, violations, evidence) = match contrast(cx, &mut probe, &scope, &full, &weak) {
        Ok(found) => found,
        Err(o) => return *o,
    };
    let o = if violations.is_empty() {
        Outcome::pass(format!(
            "policy v{}: {granted} PHI grant(s) with purpose `{purpose}`, each refused without an accepted purpose{}",
            probe.pack.version,
            if s.require_mfa { " or a fresh MFA" } else { "" }
        ))
    } else {
        Outcome::fail(
            format!(
                "policy v{} permits {} PHI request(s) without an accepted purpose of use{}",
                probe.pack.version,
                violations.len(),
                if s.require_mfa { " or a fresh MFA" } else { "" }
            ),
            format!(
                "require `context.{}` in the accepted purposes (and a fresh MFA) in the policies in `permitted_by`, then `evident policy apply`",
                s.purpose_field
            ),
        )
    };
    o.with("policy_version", probe.pack.version)
        .with("policy_hash", probe.pack.hash.clone())
        .with("phi_types", json!(types))
        .with("purpose_tested", purpose.clone())
        .with("grants", granted)
        .with(
            "violations",
            Value::Array(violations.into_iter().take(50).collect()),
        )
        .with("evaluations", probe.evaluations)
        .relying_on(evidence)
}
