//! The decision core: one AuthZEN request against one compiled pack, with Evident's
//! compliance rules on top of Cedar's answer (break-glass justification, step-up hints,
//! regulated resources). Pure: nothing here logs or stores; [`super::Access`] does.

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, Request, Response,
    RestrictedExpression,
};
use serde_json::{Map, Value};

use crate::authzen::{Action, EvaluationRequest, Subject};
use crate::pack::CompiledPack;
use evident_core::{Error, Result};

/// Why a request was denied, when Evident knows more than "no policy permits".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// no permit applied, or a forbid did
    Policy,
    /// only break-glass policies permitted, and no adequate justification was given
    JustificationRequired,
    /// the policies erred (a missing attribute, say) and nothing permitted
    EvaluationError,
    /// the ledger could not record a decision about regulated data
    NotRecorded,
}

impl Denial {
    /// The reason code in responses and events.
    pub fn code(self) -> &'static str {
        match self {
            Self::Policy => "policy_denied",
            Self::JustificationRequired => "break_glass_justification_required",
            Self::EvaluationError => "evaluation_error",
            Self::NotRecorded => "not_recorded",
        }
    }
}

/// What stronger authentication would turn a deny into a permit.
#[derive(Debug, Clone, PartialEq)]
pub struct StepUp {
    /// OIDC `acr_values`
    pub acr_values: Option<String>,
    /// authentication methods
    pub amr_values: Vec<String>,
}

/// One decision, before it is logged.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// permit or deny
    pub allowed: bool,
    /// the policies that determined it
    pub determining: Vec<String>,
    /// evaluation errors (policy id: message)
    pub errors: Vec<String>,
    /// why it is a deny
    pub denial: Option<Denial>,
    /// the justification, when access is granted by break-glass
    pub break_glass: Option<String>,
    /// what would satisfy a deny
    pub step_up: Option<StepUp>,
    /// whether the resource is regulated data
    pub regulated: bool,
    /// controls named by the determining policies
    pub controls: Vec<String>,
}

impl Verdict {
    /// The AuthZEN response context: present only when it tells the caller something.
    pub fn response_context(&self, pack: &CompiledPack) -> Option<Value> {
        let denial = self.denial?;
        let mut ctx = Map::new();
        ctx.insert("reason".into(), denial.code().into());
        if let Some(step) = &self.step_up {
            if let Some(acr) = &step.acr_values {
                ctx.insert("acr_values".into(), acr.clone().into());
            }
            if !step.amr_values.is_empty() {
                ctx.insert("amr_values".into(), step.amr_values.clone().into());
            }
        }
        if denial == Denial::JustificationRequired {
            let bg = &pack.settings.break_glass;
            ctx.insert(
                "justification_field".into(),
                bg.justification_field.clone().into(),
            );
            ctx.insert(
                "min_justification_chars".into(),
                bg.min_justification_chars.into(),
            );
        }
        if denial == Denial::Policy && self.step_up.is_none() {
            return None;
        }
        Some(Value::Object(ctx))
    }
}

/// Decides one request. `now` is seconds since the epoch. Errors are the caller's: a type
/// the schema does not declare, an action that does not apply, a context or property that
/// does not fit the schema.
pub fn decide(pack: &CompiledPack, req: &EvaluationRequest, now: i64) -> Result<Verdict> {
    let prepared = Prepared::new(pack, &req.subject, &req.action, &req.resource)?;
    let context = request_context(pack, req.context.as_ref(), now);
    let response = prepared.authorize(pack, &context)?;
    let mut verdict = verdict_of(pack, &prepared, &response);

    if verdict.allowed && verdict.break_glass.is_some() {
        let bg = &pack.settings.break_glass;
        let justification = context
            .get(&bg.justification_field)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        if justification.chars().count() < bg.min_justification_chars {
            verdict.allowed = false;
            verdict.denial = Some(Denial::JustificationRequired);
            verdict.break_glass = None;
        } else {
            verdict.break_glass = Some(justification.to_string());
        }
    }

    if !verdict.allowed && verdict.denial != Some(Denial::JustificationRequired) {
        if let (Some(step), Some(step_context)) = (&pack.settings.step_up, &pack.step_up_context) {
            let mut upgraded = context.clone();
            merge(&mut upgraded, &replace_now(step_context.clone(), now));
            if let Ok(r) = prepared.authorize(pack, &upgraded) {
                let better = verdict_of(pack, &prepared, &r);
                if better.allowed && better.break_glass.is_none() {
                    verdict.step_up = Some(StepUp {
                        acr_values: step.acr_values.clone(),
                        amr_values: step.amr_values.clone(),
                    });
                }
            }
        }
    }
    Ok(verdict)
}

/// The bare Cedar call on an already built request: the benchmark's reference cost.
pub fn bare(pack: &CompiledPack, request: &Request, entities: &Entities) -> bool {
    Authorizer::new()
        .is_authorized(request, &pack.policies, entities)
        .decision()
        == Decision::Allow
}

/// A request's entities and uids, built once and evaluated under one or more contexts.
pub struct Prepared {
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
    entities: Option<Entities>,
    regulated: bool,
}

impl Prepared {
    /// Resolves uids and merges the request's properties into the entity data.
    pub fn new(
        pack: &CompiledPack,
        subject: &Subject,
        action: &Action,
        resource: &Subject,
    ) -> Result<Self> {
        check_id("subject", subject)?;
        check_id("resource", resource)?;
        if action.name.is_empty() {
            return Err(Error::BadRequest("action.name is empty".into()));
        }
        let principal = pack.uid(&subject.kind, &subject.id, "subject")?;
        let resource_uid = pack.uid(&resource.kind, &resource.id, "resource")?;
        let action_uid = pack.action(&action.name);
        let mut extra = Vec::new();
        for (uid, props, what) in [
            (&principal, subject.properties.as_ref(), "subject"),
            (&resource_uid, resource.properties.as_ref(), "resource"),
        ] {
            if let Some(props) = props.filter(|p| !p.is_empty()) {
                extra.push(with_properties(pack, uid, props, what)?);
            }
        }
        let entities = if extra.is_empty() {
            None
        } else {
            Some(
                pack.entities
                    .clone()
                    .upsert_entities(extra, Some(&pack.schema))
                    .map_err(|e| Error::BadRequest(format!("the request's properties: {e}")))?,
            )
        };
        let store = entities.as_ref().unwrap_or(&pack.entities);
        let regulated = pack
            .settings
            .regulated_types
            .iter()
            .any(|t| *t == resource_uid.type_name().to_string())
            || store
                .get(&resource_uid)
                .and_then(|e| e.attr("regulated"))
                .and_then(|a| a.ok())
                .is_some_and(|v| matches!(v, cedar_policy::EvalResult::Bool(true)));
        Ok(Self {
            principal,
            action: action_uid,
            resource: resource_uid,
            entities,
            regulated,
        })
    }

    /// The Cedar request under `context`, checked against the schema.
    pub fn request(&self, pack: &CompiledPack, context: &Map<String, Value>) -> Result<Request> {
        // Fast path: plain JSON (booleans, integers, strings, sets, records) becomes a Cedar
        // context directly and `Request::new` type-checks it against the schema. Cedar's
        // schema-guided JSON parser, which also reads `__entity` / `__extn` forms and
        // extension values written as strings, costs several times more; it is the
        // fallback, and its message is the one a caller sees.
        if let Some(pairs) = context
            .iter()
            .map(|(k, v)| plain(v).map(|r| (k.clone(), r)))
            .collect::<Option<Vec<_>>>()
        {
            if let Ok(ctx) = Context::from_pairs(pairs) {
                if let Ok(request) = Request::new(
                    self.principal.clone(),
                    self.action.clone(),
                    self.resource.clone(),
                    ctx,
                    Some(&pack.schema),
                ) {
                    return Ok(request);
                }
            }
        }
        let context = Context::from_json_value(
            Value::Object(context.clone()),
            Some((&pack.schema, &self.action)),
        )
        .map_err(|e| Error::BadRequest(format!("context: {e}")))?;
        Request::new(
            self.principal.clone(),
            self.action.clone(),
            self.resource.clone(),
            context,
            Some(&pack.schema),
        )
        .map_err(|e| Error::BadRequest(e.to_string()))
    }

    /// The entity data the request is evaluated against.
    pub fn entities<'a>(&'a self, pack: &'a CompiledPack) -> &'a Entities {
        self.entities.as_ref().unwrap_or(&pack.entities)
    }

    fn authorize(&self, pack: &CompiledPack, context: &Map<String, Value>) -> Result<Response> {
        let request = self.request(pack, context)?;
        Ok(Authorizer::new().is_authorized(
            &request,
            pack.policies_for(&self.action),
            self.entities(pack),
        ))
    }
}

fn verdict_of(pack: &CompiledPack, prepared: &Prepared, response: &Response) -> Verdict {
    let allowed = response.decision() == Decision::Allow;
    let determining: Vec<String> = response
        .diagnostics()
        .reason()
        .map(|id| id.to_string())
        .collect();
    let errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(|e| e.to_string())
        .collect();
    let infos: Vec<_> = determining
        .iter()
        .filter_map(|id| pack.info.get(id))
        .collect();
    let break_glass = allowed && !infos.is_empty() && infos.iter().all(|i| i.break_glass);
    let mut controls: Vec<String> = infos.iter().flat_map(|i| i.controls.clone()).collect();
    controls.sort();
    controls.dedup();
    let denial = if allowed {
        None
    } else if determining.is_empty() && !errors.is_empty() {
        Some(Denial::EvaluationError)
    } else {
        Some(Denial::Policy)
    };
    Verdict {
        allowed,
        determining,
        errors,
        denial,
        break_glass: break_glass.then(String::new),
        step_up: None,
        regulated: prepared.regulated,
        controls,
    }
}

/// A JSON value as a Cedar expression, if it is plain (no escapes, floats or nulls).
fn plain(v: &Value) -> Option<RestrictedExpression> {
    match v {
        Value::Bool(b) => Some(RestrictedExpression::new_bool(*b)),
        Value::Number(n) => n.as_i64().map(RestrictedExpression::new_long),
        Value::String(s) => Some(RestrictedExpression::new_string(s.clone())),
        Value::Array(items) => items
            .iter()
            .map(plain)
            .collect::<Option<Vec<_>>>()
            .map(RestrictedExpression::new_set),
        Value::Object(map) if !map.keys().any(|k| k.starts_with("__")) => map
            .iter()
            .map(|(k, v)| plain(v).map(|r| (k.clone(), r)))
            .collect::<Option<Vec<_>>>()
            .and_then(|pairs| RestrictedExpression::new_record(pairs).ok()),
        _ => None,
    }
}

fn check_id(what: &str, entity: &Subject) -> Result<()> {
    if entity.kind.is_empty() {
        return Err(Error::BadRequest(format!("{what}.type is empty")));
    }
    if entity.id.is_empty() {
        return Err(Error::BadRequest(format!("{what}.id is empty")));
    }
    Ok(())
}

/// The stored entity (if any) with the request's properties added where it has none.
fn with_properties(
    pack: &CompiledPack,
    uid: &EntityUid,
    props: &Map<String, Value>,
    what: &str,
) -> Result<Entity> {
    let mut json = match pack.entities.get(uid) {
        Some(stored) => stored
            .to_json_value()
            .map_err(|e| Error::BadRequest(format!("{what}: {e}")))?,
        None => serde_json::json!({
            "uid": {"type": uid.type_name().to_string(), "id": uid.id().unescaped()},
            "attrs": {},
            "parents": []
        }),
    };
    // Stored entity data is the directory's word and wins: a caller can add attributes an
    // entity lacks (a todo's owner the store has never seen) but cannot rewrite a stored
    // user's department or clearance.
    if let Some(attrs) = json.get_mut("attrs").and_then(Value::as_object_mut) {
        for (k, v) in props {
            attrs.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Entity::from_json_value(json, Some(&pack.schema))
        .map_err(|e| Error::BadRequest(format!("{what}.properties: {e}")))
}

fn request_context(
    pack: &CompiledPack,
    context: Option<&Map<String, Value>>,
    now: i64,
) -> Map<String, Value> {
    let mut ctx = context.cloned().unwrap_or_default();
    if pack.settings.inject_now {
        ctx.insert("now".into(), now.into());
    }
    ctx
}

/// Merges `over` into `target`, objects recursively.
pub fn merge(target: &mut Map<String, Value>, over: &Value) {
    if let Value::Object(over) = over {
        for (k, v) in over {
            match (target.get_mut(k), v) {
                (Some(Value::Object(inner)), Value::Object(_)) => merge(inner, v),
                _ => {
                    target.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// Replaces the string `"$now"` with `now`, anywhere in `value`.
pub fn replace_now(value: Value, now: i64) -> Value {
    match value {
        Value::String(s) if s == "$now" => now.into(),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, replace_now(v, now)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| replace_now(v, now)).collect()),
        other => other,
    }
}

/// A TOML table as JSON.
pub fn toml_to_json(table: &toml::Table) -> Value {
    serde_json::to_value(table).unwrap_or(Value::Null)
}
