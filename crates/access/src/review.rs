//! Access review (SOC 2 CC6.2/CC6.3, HIPAA 164.308(a)(4)): who can perform which actions on
//! which resource types, and on each regulated resource, found by evaluating every principal
//! in the entity data against every action and resource the schema allows together.
//!
//! Exhaustive evaluation, not static analysis, so attribute conditions count: a row says on
//! how many of the known resources of a type the access is granted outright, after step-up
//! authentication, or only by break-glass. Each type also gets a blank resource (`*`) so
//! grants that do not depend on the resource show even when no resource of the type is known.
//! Ordinary requests are evaluated under `[review] context` (pack.toml); break-glass grants
//! are found with `[break_glass] request_context`, step-up authentication and a justification.

use serde::Serialize;

use crate::authzen::{Action, EvaluationRequest, Subject};
use crate::pack::CompiledPack;
use crate::pdp;
use evident_core::{Error, Result};

/// The most evaluations one review runs.
pub const MAX_EVALUATIONS: usize = 5_000_000;

/// One principal × action × resource type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeRow {
    /// `Type::"id"`
    pub principal: String,
    /// the action
    pub action: String,
    /// the resource type
    pub resource_type: String,
    /// resources (known ones plus the blank one) where access is granted outright
    pub allowed: usize,
    /// … granted once the caller steps up authentication
    pub step_up: usize,
    /// … granted only as break-glass
    pub break_glass: usize,
    /// resources evaluated
    pub evaluated: usize,
}

/// One principal × action × regulated resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegulatedRow {
    /// `Type::"id"`
    pub principal: String,
    /// the action
    pub action: String,
    /// `Type::"id"`
    pub resource: String,
    /// `allow`, `step_up`, `break_glass`
    pub access: String,
    /// the policies that grant it
    pub policies: Vec<String>,
}

/// A review of one policy version.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// the version reviewed
    pub policy_version: u64,
    /// its hash
    pub policy_hash: String,
    /// rows with any access (rows with none are left out)
    pub by_type: Vec<TypeRow>,
    /// every access to a regulated resource
    pub regulated: Vec<RegulatedRow>,
    /// evaluations run
    pub evaluations: usize,
}

/// Reviews a pack. `now` is seconds since the epoch.
pub fn review(pack: &CompiledPack, now: i64) -> Result<Report> {
    let principal_types: Vec<String> = pack.schema.principals().map(|t| t.to_string()).collect();
    let resource_types: Vec<String> = {
        let mut t: Vec<String> = pack.schema.resources().map(|t| t.to_string()).collect();
        t.sort();
        t.dedup();
        t
    };
    let mut principals: Vec<(String, String)> = pack
        .entities
        .iter()
        .map(|e| e.uid())
        .filter(|u| principal_types.contains(&u.type_name().to_string()))
        .map(|u| (u.type_name().to_string(), u.id().unescaped().to_string()))
        .collect();
    principals.sort();
    let resources_of = |ty: &str| -> Vec<String> {
        let mut ids: Vec<String> = pack
            .entities
            .iter()
            .map(|e| e.uid())
            .filter(|u| u.type_name().to_string() == ty)
            .map(|u| u.id().unescaped().to_string())
            .collect();
        ids.sort();
        ids
    };

    let mut by_type = Vec::new();
    let mut regulated = Vec::new();
    let mut evaluations = 0usize;
    for (ptype, pid) in &principals {
        let p_uid = pack.uid(ptype, pid, "subject")?;
        for rtype in &resource_types {
            let r_uid = pack.uid(rtype, "*", "resource")?;
            let mut actions: Vec<String> = pack
                .schema
                .actions_for_principal_and_resource(p_uid.type_name(), r_uid.type_name())
                .map(|a| a.id().unescaped().to_string())
                .collect();
            actions.sort();
            actions.dedup();
            if actions.is_empty() {
                continue;
            }
            let mut ids = resources_of(rtype);
            ids.push("*".into());
            for action in &actions {
                let mut row = TypeRow {
                    principal: format!("{ptype}::\"{pid}\""),
                    action: action.clone(),
                    resource_type: rtype.clone(),
                    allowed: 0,
                    step_up: 0,
                    break_glass: 0,
                    evaluated: 0,
                };
                let base = pdp::toml_to_json(&pack.settings.review.context);
                let base = base.as_object().cloned().unwrap_or_default();
                let mut emergency = base.clone();
                if let Some(step) = &pack.settings.step_up {
                    pdp::merge(
                        &mut emergency,
                        &pdp::replace_now(pdp::toml_to_json(&step.context), now),
                    );
                }
                let bg = &pack.settings.break_glass;
                pdp::merge(&mut emergency, &pdp::toml_to_json(&bg.request_context));
                emergency.insert(
                    bg.justification_field.clone(),
                    "j".repeat(bg.min_justification_chars.max(1)).into(),
                );
                for rid in &ids {
                    evaluations += 1;
                    if evaluations > MAX_EVALUATIONS {
                        return Err(Error::BadRequest(format!(
                            "the review needs more than {MAX_EVALUATIONS} evaluations; review a smaller pack"
                        )));
                    }
                    row.evaluated += 1;
                    let request = EvaluationRequest {
                        subject: Subject {
                            kind: ptype.clone(),
                            id: pid.clone(),
                            properties: None,
                        },
                        action: Action {
                            name: action.clone(),
                            properties: None,
                        },
                        resource: Subject {
                            kind: rtype.clone(),
                            id: rid.clone(),
                            properties: None,
                        },
                        context: Some(base.clone()),
                    };
                    let Ok(verdict) = pdp::decide(pack, &request, now) else {
                        continue;
                    };
                    let (access, policies) = if verdict.allowed && verdict.break_glass.is_none() {
                        row.allowed += 1;
                        ("allow", verdict.determining.clone())
                    } else if verdict.step_up.is_some() {
                        row.step_up += 1;
                        ("step_up", verdict.determining.clone())
                    } else {
                        let mut emergency_request = request.clone();
                        emergency_request.context = Some(emergency.clone());
                        match pdp::decide(pack, &emergency_request, now) {
                            Ok(v) if v.allowed && v.break_glass.is_some() => {
                                row.break_glass += 1;
                                ("break_glass", v.determining)
                            }
                            _ => continue,
                        }
                    };
                    if rid != "*" && verdict.regulated {
                        regulated.push(RegulatedRow {
                            principal: row.principal.clone(),
                            action: action.clone(),
                            resource: format!("{rtype}::\"{rid}\""),
                            access: access.into(),
                            policies,
                        });
                    }
                }
                if row.allowed + row.step_up + row.break_glass > 0 {
                    by_type.push(row);
                }
            }
        }
    }
    Ok(Report {
        policy_version: pack.version,
        policy_hash: pack.hash.clone(),
        by_type,
        regulated,
        evaluations,
    })
}

impl Report {
    /// One CSV table: `scope` is `type` or `regulated`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "scope,principal,action,resource_type,resource,allowed,step_up,break_glass,evaluated,policies\n",
        );
        for r in &self.by_type {
            out.push_str(&format!(
                "type,{},{},{},,{},{},{},{},\n",
                csv(&r.principal),
                csv(&r.action),
                csv(&r.resource_type),
                r.allowed,
                r.step_up,
                r.break_glass,
                r.evaluated
            ));
        }
        for r in &self.regulated {
            let rtype = r.resource.split("::").next().unwrap_or("");
            let flag = |a: &str| usize::from(r.access == a);
            out.push_str(&format!(
                "regulated,{},{},{},{},{},{},{},1,{}\n",
                csv(&r.principal),
                csv(&r.action),
                csv(rtype),
                csv(&r.resource),
                flag("allow"),
                flag("step_up"),
                flag("break_glass"),
                csv(&r.policies.join(" "))
            ));
        }
        out
    }
}

/// RFC 4180 quoting, and a leading `'` on cells a spreadsheet would run as a formula.
fn csv(cell: &str) -> String {
    let cell = if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}
