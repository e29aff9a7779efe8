//! AuthZEN search: which subjects, resources or actions the active pack allows, found by
//! deciding every candidate the entity data or the schema offers, paged with tokens bound to
//! the pack's hash. Break-glass grants are emergency access, not standing grants, so they
//! are left out. Each search is one ledger event, which the caller appends.

use serde_json::{json, Value};

use crate::authzen::{
    self, EvaluationRequest, PageResponse, SearchKind, SearchRequest, SearchResponse,
};
use crate::caller::Caller;
use crate::pdp;
use crate::state::Access;
use evident_core::event::{now_us, system_event, AuditEvent, PolicyRef};
use evident_core::{Error, Result};

/// The most results one search page holds.
pub const MAX_PAGE: usize = 1000;
/// The results a search page holds when the request sets no `page.limit`.
const DEFAULT_PAGE: usize = 100;

impl Access<'_> {
    /// Runs a search and builds its one ledger event (the caller appends it).
    pub fn search(
        &self,
        kind: SearchKind,
        req: &SearchRequest,
        caller: &Caller,
        request_id: Option<&str>,
    ) -> Result<(SearchResponse, AuditEvent)> {
        // Refused as an evaluation refuses them, even where no candidate would be decided.
        for (what, entity) in [("subject", &req.subject), ("resource", &req.resource)] {
            if entity.kind.is_empty() {
                return Err(Error::BadRequest(format!("{what}.type is empty")));
            }
        }
        if req.action.as_ref().is_some_and(|a| a.name.is_empty()) {
            return Err(Error::BadRequest("action.name is empty".into()));
        }
        let pack = self.require_active()?;
        let now = now_us() / 1_000_000;
        let limit = req
            .page
            .as_ref()
            .and_then(|p| p.limit)
            .map_or(DEFAULT_PAGE, |l| l as usize);
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::BadRequest(format!(
                "page.limit must be 1 to {MAX_PAGE}, got {limit}"
            )));
        }
        let offset = match req.page.as_ref().and_then(|p| p.token.as_deref()) {
            Some(token) if !token.is_empty() => parse_token(token, &pack.hash)?,
            _ => 0,
        };
        let action = req.action.clone();
        let candidates: Vec<(Value, EvaluationRequest)> = match kind {
            SearchKind::Subject | SearchKind::Resource => {
                let searched = if kind == SearchKind::Subject {
                    &req.subject
                } else {
                    &req.resource
                };
                let action = action.ok_or_else(|| {
                    Error::BadRequest(format!("a {} search needs `action`", kind.as_str()))
                })?;
                let mut ids: Vec<String> = pack
                    .entities
                    .iter()
                    .filter(|e| e.uid().type_name().to_string() == searched.kind)
                    .map(|e| e.uid().id().unescaped().to_string())
                    .collect();
                ids.sort();
                ids.into_iter()
                    .map(|id| {
                        let found = authzen::Subject {
                            kind: searched.kind.clone(),
                            id: id.clone(),
                            properties: searched.properties.clone(),
                        };
                        let other =
                            |e: &authzen::SearchEntity, what: &str| -> Result<authzen::Subject> {
                                Ok(authzen::Subject {
                                    kind: e.kind.clone(),
                                    id: e.id.clone().ok_or_else(|| {
                                        Error::BadRequest(format!(
                                            "{what}.id is required in a {} search",
                                            kind.as_str()
                                        ))
                                    })?,
                                    properties: e.properties.clone(),
                                })
                            };
                        let (subject, resource) = if kind == SearchKind::Subject {
                            (found, other(&req.resource, "resource")?)
                        } else {
                            (other(&req.subject, "subject")?, found)
                        };
                        Ok((
                            json!({"type": searched.kind, "id": id}),
                            EvaluationRequest {
                                subject,
                                action: action.clone(),
                                resource,
                                context: req.context.clone(),
                            },
                        ))
                    })
                    .collect::<Result<_>>()?
            }
            SearchKind::Action => {
                let need = |e: &authzen::SearchEntity, what: &str| -> Result<authzen::Subject> {
                    Ok(authzen::Subject {
                        kind: e.kind.clone(),
                        id: e.id.clone().ok_or_else(|| {
                            Error::BadRequest(format!("{what}.id is required in an action search"))
                        })?,
                        properties: e.properties.clone(),
                    })
                };
                let subject = need(&req.subject, "subject")?;
                let resource = need(&req.resource, "resource")?;
                let p = pack.uid(&subject.kind, &subject.id, "subject")?;
                let r = pack.uid(&resource.kind, &resource.id, "resource")?;
                let mut names: Vec<String> = pack
                    .schema
                    .actions_for_principal_and_resource(p.type_name(), r.type_name())
                    .map(|a| a.id().unescaped().to_string())
                    .collect();
                names.sort();
                names.dedup();
                names
                    .into_iter()
                    .map(|name| {
                        (
                            json!({"name": name}),
                            EvaluationRequest {
                                subject: subject.clone(),
                                action: authzen::Action {
                                    name,
                                    properties: None,
                                },
                                resource: resource.clone(),
                                context: req.context.clone(),
                            },
                        )
                    })
                    .collect()
            }
        };
        let mut matches = Vec::new();
        for (result, request) in candidates {
            let verdict = pdp::decide(&pack, &request, now)?;
            // Search answers who is normally allowed; emergency access is not a standing grant.
            if verdict.allowed && verdict.break_glass.is_none() {
                matches.push(result);
            }
        }
        let total = matches.len();
        let page: Vec<Value> = matches.into_iter().skip(offset).take(limit).collect();
        let next = offset + page.len();
        let next_token = if next < total {
            make_token(next, &pack.hash)
        } else {
            String::new()
        };
        let mut event = system_event(
            "access.search",
            "policy_set",
            Some(&format!("v{}", pack.version)),
            json!({
                "search": kind.as_str(),
                "request": req,
                "results": page,
                "total": total,
                "caller": {"method": caller.method, "id": caller.id},
            }),
        );
        event.personal = vec!["/metadata/request".into(), "/metadata/results".into()];
        event.data_subject = Some(caller.id.clone());
        event.request_id = request_id.map(str::to_string);
        event.policy = Some(PolicyRef {
            id: Some(format!("v{}", pack.version)),
            version: Some(pack.hash.clone()),
        });
        Ok((
            SearchResponse {
                page: PageResponse {
                    next_token,
                    count: page.len(),
                    total,
                },
                results: page,
            },
            event,
        ))
    }
}

/// The token of the page that starts at `offset`, bound to the pack with hash `hash`.
fn make_token(offset: usize, hash: &str) -> String {
    use base64::Engine as _;
    let text = format!(
        "{}:{offset}",
        hash.trim_start_matches("sha256:").get(..16).unwrap_or("")
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// The offset a [`make_token`] token names, refused if it belongs to another pack.
fn parse_token(token: &str, hash: &str) -> Result<usize> {
    use base64::Engine as _;
    let bad = || Error::BadRequest("page.token is not a token this PDP issued".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (prefix, offset) = text.split_once(':').ok_or_else(bad)?;
    if prefix != hash.trim_start_matches("sha256:").get(..16).unwrap_or("") {
        return Err(Error::BadRequest(
            "page.token belongs to an earlier policy version; start the search again".into(),
        ));
    }
    offset.parse().map_err(|_| bad())
}
