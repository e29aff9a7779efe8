//! Real Cedar requests against the active policy pack, for the checks that ask what the pack
//! does: who the pack knows (principals and resources in its entity data), which actions
//! apply to which types (its schema), and the decision of one request, made with the access
//! part's offline decision function (nothing logged, exactly the production decision).

use std::sync::Arc;

use serde_json::{Map, Value};

use evident_access::authzen::{Action, EvaluationsRequest, PartialRequest, Subject};
use evident_access::pack::CompiledPack;
use evident_access::{decide_offline, pdp, Answer};
use evident_core::store::EventQuery;

use crate::checks::context::CheckContext;
use crate::checks::outcome::Outcome;

/// `Type::"id"`.
pub type Uid = (String, String);

/// Shows a uid as Cedar writes it.
pub fn show(uid: &Uid) -> String {
    format!("{}::\"{}\"", uid.0, uid.1)
}

/// The active pack and a budget of evaluations.
pub struct Probe {
    /// the pack in force
    pub pack: Arc<CompiledPack>,
    now: i64,
    budget: u64,
    /// evaluations made so far
    pub evaluations: u64,
}

impl Probe {
    /// The active pack, or the outcome to answer when there is none.
    pub fn active(cx: &CheckContext<'_>, budget: u64) -> Result<Probe, Box<Outcome>> {
        match cx.access.active() {
            Ok(Some(pack)) => Ok(Probe {
                pack,
                now: cx.now_us / 1_000_000,
                budget,
                evaluations: 0,
            }),
            Ok(None) => Err(Box::new(Outcome::inconclusive(
                "no policy pack is active, so there is no policy to test (every request is refused); apply one with `evident policy apply DIR`",
            ))),
            Err(e) => Err(Box::new(e.into())),
        }
    }

    /// The time requests are made at, seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Every principal in the pack's entity data, sorted.
    pub fn principals(&self) -> Vec<Uid> {
        let types: Vec<String> = self
            .pack
            .schema
            .principals()
            .map(|t| t.to_string())
            .collect();
        let mut found: Vec<Uid> = self
            .pack
            .entities
            .iter()
            .map(|e| e.uid())
            .filter(|u| types.contains(&u.type_name().to_string()))
            .map(|u| (u.type_name().to_string(), u.id().unescaped().to_string()))
            .collect();
        found.sort();
        found
    }

    /// The known resources of a type, plus a blank one (`*`) that no attribute describes,
    /// so grants that do not depend on the resource show too.
    pub fn resources(&self, kind: &str) -> Vec<Uid> {
        let mut ids: Vec<String> = self
            .pack
            .entities
            .iter()
            .map(|e| e.uid())
            .filter(|u| u.type_name().to_string() == kind)
            .map(|u| u.id().unescaped().to_string())
            .collect();
        ids.sort();
        ids.push("*".into());
        ids.into_iter().map(|id| (kind.to_string(), id)).collect()
    }

    /// Whether the schema declares an entity type.
    pub fn has_type(&self, kind: &str) -> bool {
        self.pack.uid(kind, "x", "type").is_ok()
    }

    /// The actions the schema lets a principal type take on a resource type.
    pub fn actions(&self, principal: &str, resource: &str) -> Vec<String> {
        let (Ok(p), Ok(r)) = (
            self.pack.uid(principal, "x", "principal"),
            self.pack.uid(resource, "x", "resource"),
        ) else {
            return Vec::new();
        };
        let mut actions: Vec<String> = self
            .pack
            .schema
            .actions_for_principal_and_resource(p.type_name(), r.type_name())
            .map(|a| a.id().unescaped().to_string())
            .collect();
        actions.sort();
        actions.dedup();
        actions
    }

    /// Every action the schema declares.
    pub fn all_actions(&self) -> Vec<String> {
        let mut actions: Vec<String> = self
            .pack
            .schema
            .actions()
            .map(|a| a.id().unescaped().to_string())
            .collect();
        actions.sort();
        actions
    }

    /// The resource types the schema declares.
    pub fn resource_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self
            .pack
            .schema
            .resources()
            .map(|t| t.to_string())
            .collect();
        types.sort();
        types.dedup();
        types
    }

    /// The decision on one request, or why it could not be made (a context the schema
    /// refuses, say). Counts against the budget.
    pub fn allows(
        &mut self,
        principal: &Uid,
        action: &str,
        resource: &Uid,
        context: &Map<String, Value>,
    ) -> Result<bool, Box<Outcome>> {
        self.evaluations += 1;
        if self.evaluations > self.budget {
            return Err(Box::new(Outcome::error(format!(
                "the pack needs more than {} evaluations to test; raise `max_evaluations` or test a smaller entity set",
                self.budget
            ))));
        }
        let request = request(principal, action, resource, context);
        match decide_offline(&self.pack, &request, self.now) {
            Ok(Answer::One(d)) => Ok(d.decision),
            Ok(Answer::Many(_)) => Err(Box::new(Outcome::error(
                "a single request was answered as a batch",
            ))),
            Err(e) => Err(Box::new(Outcome::error(format!(
                "{} {action} {}: the pack refused the request: {e}",
                show(principal),
                show(resource)
            )))),
        }
    }

    /// The policies that decided a request (for naming what to change).
    pub fn determining(
        &self,
        principal: &Uid,
        action: &str,
        resource: &Uid,
        context: &Map<String, Value>,
    ) -> Vec<String> {
        let request = request(principal, action, resource, context);
        request
            .items()
            .into_iter()
            .next()
            .and_then(Result::ok)
            .and_then(|item| pdp::decide(&self.pack, &item, self.now).ok())
            .map(|v| v.determining)
            .unwrap_or_default()
    }

    /// Whether a decision about a resource is regulated (fails closed when not recorded).
    pub fn regulated(&self, principal: &Uid, action: &str, resource: &Uid) -> Option<bool> {
        let request = request(principal, action, resource, &Map::new());
        let item = request.items().into_iter().next()?.ok()?;
        pdp::decide(&self.pack, &item, self.now)
            .ok()
            .map(|v| v.regulated)
    }

    /// The ledger index of the event that put the active pack in force.
    pub fn applied_event(&self, cx: &CheckContext<'_>) -> Result<Option<u64>, Box<Outcome>> {
        let page = cx.log.query(&EventQuery {
            action: Some("access.policy.applied".into()),
            resource_type: Some("policy_set".into()),
            resource_id: Some(format!("v{}", self.pack.version)),
            descending: true,
            limit: 1,
            ..EventQuery::default()
        });
        match page {
            Ok(p) => Ok(p.events.first().map(|e| e.index)),
            Err(e) => Err(Box::new(e.into())),
        }
    }
}

fn request(
    principal: &Uid,
    action: &str,
    resource: &Uid,
    context: &Map<String, Value>,
) -> EvaluationsRequest {
    EvaluationsRequest {
        defaults: PartialRequest {
            subject: Some(Subject {
                kind: principal.0.clone(),
                id: principal.1.clone(),
                properties: None,
            }),
            action: Some(Action {
                name: action.to_string(),
                properties: None,
            }),
            resource: Some(Subject {
                kind: resource.0.clone(),
                id: resource.1.clone(),
                properties: None,
            }),
            context: Some(context.clone()),
        },
        evaluations: None,
        options: None,
    }
}

/// The context an access review assumes (`[review] context` in pack.toml).
pub fn review_context(pack: &CompiledPack) -> Map<String, Value> {
    pdp::toml_to_json(&pack.settings.review.context)
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// What the pack takes as a fresh multi-factor authentication: the check's own setting,
/// else the pack's step-up context, else `{authn: {mfa: true, auth_time: "$now"}}`.
pub fn mfa_context(
    pack: &CompiledPack,
    configured: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    if let Some(c) = configured {
        return c.clone();
    }
    if let Some(step) = &pack.settings.step_up {
        if let Some(map) = pdp::toml_to_json(&step.context).as_object() {
            return map.clone();
        }
    }
    serde_json::json!({"authn": {"mfa": true, "auth_time": "$now"}})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// `base` with `over` merged in, `"$now"` replaced by `now`.
pub fn merged(
    base: &Map<String, Value>,
    over: &Map<String, Value>,
    now: i64,
) -> Map<String, Value> {
    let mut out = base.clone();
    pdp::merge(
        &mut out,
        &pdp::replace_now(Value::Object(over.clone()), now),
    );
    out
}

/// The ways of *not* having a fresh MFA, each named: no authentication facts at all, every
/// `true` of the MFA context turned `false`, and (when it carries `"$now"`) an MFA
/// `stale_seconds` old.
pub fn without_mfa(
    base: &Map<String, Value>,
    mfa: &Map<String, Value>,
    now: i64,
    stale_seconds: u64,
) -> Vec<(&'static str, Map<String, Value>)> {
    let mut absent = base.clone();
    for key in mfa.keys() {
        absent.remove(key);
    }
    let falsified = merged(
        base,
        &flip(&Value::Object(mfa.clone()))
            .as_object()
            .cloned()
            .unwrap_or_default(),
        now,
    );
    let mut variants = vec![
        ("no authentication facts", absent),
        ("MFA false", falsified),
    ];
    if mentions_now(&Value::Object(mfa.clone())) {
        let stale = now.saturating_sub(i64::try_from(stale_seconds).unwrap_or(i64::MAX));
        variants.push((
            "MFA too old",
            merged(base, mfa, stale).into_iter().collect(),
        ));
        // `merged` put `stale` where "$now" was; the request's own `now` stays the pack's.
    }
    variants
}

fn flip(value: &Value) -> Value {
    match value {
        Value::Bool(true) => Value::Bool(false),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), flip(v))).collect()),
        other => other.clone(),
    }
}

fn mentions_now(value: &Value) -> bool {
    match value {
        Value::String(s) => s == "$now",
        Value::Object(m) => m.values().any(mentions_now),
        Value::Array(a) => a.iter().any(mentions_now),
        _ => false,
    }
}
