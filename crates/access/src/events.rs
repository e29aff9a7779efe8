//! The ledger events of decisions: [`decision_event`] for a decision and `error_event` for
//! an evaluation that could not be decided. The actor and how they authenticated come from
//! the request's subject and `context.authn`; the request's properties and context are
//! personal data, committed in the ledger rather than stored in the clear.

use serde_json::{json, Map, Value};

use crate::authzen::EvaluationRequest;
use crate::caller::Caller;
use crate::pack::CompiledPack;
use crate::pdp::{Denial, Verdict};
use evident_core::event::{
    Actor, ActorType, AuditEvent, AuthFacts, Outcome, PolicyRef, Resource, Severity,
};

/// Authentication facts the PEP passed in `context.authn`.
fn auth_facts(context: Option<&Map<String, Value>>) -> Option<AuthFacts> {
    let authn = context?.get("authn")?.as_object()?;
    let text = |k: &str| authn.get(k).and_then(Value::as_str).map(str::to_string);
    Some(AuthFacts {
        method: text("method").or(Some("oidc".into())),
        mfa: authn.get("mfa").and_then(Value::as_bool),
        amr: authn
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        acr: text("acr"),
        auth_time: authn
            .get("auth_time")
            .and_then(Value::as_i64)
            .map(|t| evident_core::event::format_time(t * 1_000_000)),
        issuer: text("iss").or_else(|| text("issuer")),
    })
}

fn actor_of(req: &EvaluationRequest) -> Actor {
    let kind = req.subject.kind.to_ascii_lowercase();
    Actor {
        id: req.subject.id.clone(),
        kind: if kind.contains("service") || kind.contains("workload") {
            ActorType::Service
        } else {
            ActorType::User
        },
        roles: Vec::new(),
        ip: None,
        session: None,
        auth: auth_facts(req.context.as_ref()),
    }
}

fn request_metadata(req: &EvaluationRequest) -> (Map<String, Value>, Vec<String>) {
    let mut request = Map::new();
    let mut personal = Vec::new();
    for (key, value) in [
        ("subject_properties", req.subject.properties.as_ref()),
        ("resource_properties", req.resource.properties.as_ref()),
        ("action_properties", req.action.properties.as_ref()),
        ("context", req.context.as_ref()),
    ] {
        if let Some(v) = value.filter(|m| !m.is_empty()) {
            request.insert(key.into(), Value::Object(v.clone()));
            personal.push(format!("/metadata/request/{key}"));
        }
    }
    (request, personal)
}

/// The ledger event of one decision: personal request fields are committed, not stored in
/// the clear; break-glass grants are high severity.
pub fn decision_event(
    pack: &CompiledPack,
    req: &EvaluationRequest,
    verdict: &Verdict,
    id: &str,
    caller: &Caller,
    request_id: Option<&str>,
) -> AuditEvent {
    let (request, personal) = request_metadata(req);
    let reason = match (verdict.allowed, verdict.denial) {
        (true, _) if verdict.break_glass.is_some() => {
            format!("break-glass: {}", verdict.determining.join(", "))
        }
        (true, _) => format!("permitted by {}", verdict.determining.join(", ")),
        (false, Some(d)) if !verdict.determining.is_empty() => {
            format!(
                "{}: forbidden by {}",
                d.code(),
                verdict.determining.join(", ")
            )
        }
        (false, Some(d)) => d.code().to_string(),
        (false, None) => "denied".into(),
    };
    let mut metadata = Map::new();
    metadata.insert("decision_id".into(), id.into());
    metadata.insert("decision".into(), verdict.allowed.into());
    metadata.insert("action_name".into(), req.action.name.clone().into());
    metadata.insert("subject_type".into(), req.subject.kind.clone().into());
    metadata.insert(
        "determining_policies".into(),
        verdict.determining.clone().into(),
    );
    metadata.insert("errors".into(), verdict.errors.clone().into());
    metadata.insert("regulated".into(), verdict.regulated.into());
    metadata.insert("break_glass".into(), verdict.break_glass.is_some().into());
    if !verdict.controls.is_empty() {
        metadata.insert("controls".into(), verdict.controls.clone().into());
    }
    if let Some(step) = &verdict.step_up {
        metadata.insert(
            "step_up".into(),
            json!({"acr_values": step.acr_values, "amr_values": step.amr_values}),
        );
    }
    metadata.insert(
        "caller".into(),
        json!({"method": caller.method, "id": caller.id}),
    );
    if !request.is_empty() {
        metadata.insert("request".into(), Value::Object(request));
    }
    AuditEvent {
        time: None,
        actor: actor_of(req),
        action: "access.evaluate".into(),
        resource: Resource {
            kind: req.resource.kind.clone(),
            id: Some(req.resource.id.clone()),
        },
        outcome: if verdict.allowed {
            Outcome::Success
        } else {
            Outcome::Denied
        },
        reason: Some(reason),
        policy: Some(PolicyRef {
            id: Some(format!("v{}", pack.version)),
            version: Some(pack.hash.clone()),
        }),
        request_id: request_id.map(str::to_string),
        trace_id: None,
        severity: Some(if verdict.break_glass.is_some() {
            Severity::High
        } else {
            Severity::Info
        }),
        data_subject: Some(req.subject.id.clone()),
        personal,
        metadata: Some(metadata),
    }
}

/// The ledger event of an evaluation that could not be decided: a deny with the error.
pub(crate) fn error_event(
    pack: &CompiledPack,
    req: &EvaluationRequest,
    message: &str,
    id: &str,
    caller: &Caller,
    request_id: Option<&str>,
) -> AuditEvent {
    let verdict = Verdict {
        allowed: false,
        determining: Vec::new(),
        errors: vec![message.to_string()],
        denial: Some(Denial::EvaluationError),
        break_glass: None,
        step_up: None,
        regulated: false,
        controls: Vec::new(),
    };
    let mut event = decision_event(pack, req, &verdict, id, caller, request_id);
    event.outcome = Outcome::Error;
    event
}
