//! The OpenID AuthZEN Authorization API 1.0 wire types: evaluation, evaluations (with
//! defaults, per-item overrides and the three `evaluations_semantic` options), search and
//! the discovery document.
//!
//! Unknown fields are ignored, as the specification asks of a PDP; missing or mistyped
//! required fields are refused by the deserializer with the path of the bad field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `subject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// e.g. `user`
    #[serde(rename = "type")]
    pub kind: String,
    /// its id
    pub id: String,
    /// attributes the PEP asserts
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
}

/// `resource` (same shape as a subject).
pub type Resource = Subject;

/// `action`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// e.g. `can_read`
    pub name: String,
    /// action properties (logged; Cedar actions carry no request attributes)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
}

/// `POST /access/v1/evaluation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRequest {
    /// who
    #[serde(deserialize_with = "evident_core::objects::object")]
    pub subject: Subject,
    /// does what
    #[serde(deserialize_with = "evident_core::objects::object")]
    pub action: Action,
    /// to what
    #[serde(deserialize_with = "evident_core::objects::object")]
    pub resource: Resource,
    /// in which circumstances
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionResponse {
    /// permit (true) or deny (false)
    pub decision: bool,
    /// why, what would satisfy a deny, or a per-item error
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

impl DecisionResponse {
    /// A per-item error inside an evaluations answer.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            decision: false,
            context: Some(serde_json::json!({
                "error": {"status": status, "message": message.into()}
            })),
        }
    }
}

/// A partial request: one item of `evaluations`, or the defaults beside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialRequest {
    /// who
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "evident_core::objects::optional_object"
    )]
    pub subject: Option<Subject>,
    /// does what
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "evident_core::objects::optional_object"
    )]
    pub action: Option<Action>,
    /// to what
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "evident_core::objects::optional_object"
    )]
    pub resource: Option<Resource>,
    /// in which circumstances
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
}

/// How a batch stops early.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Semantic {
    /// evaluate every item (the default)
    #[default]
    ExecuteAll,
    /// stop after the first deny
    DenyOnFirstDeny,
    /// stop after the first permit
    PermitOnFirstPermit,
}

/// `options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// how the batch stops early
    #[serde(default)]
    pub evaluations_semantic: Semantic,
}

/// `POST /access/v1/evaluations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluationsRequest {
    /// defaults for every item
    #[serde(flatten)]
    pub defaults: PartialRequest,
    /// the items; missing or empty makes this a single evaluation of the defaults
    #[serde(default, deserialize_with = "evident_core::objects::optional_objects")]
    pub evaluations: Option<Vec<PartialRequest>>,
    /// options
    #[serde(default, deserialize_with = "evident_core::objects::optional_object")]
    pub options: Option<Options>,
}

/// The largest batch.
pub const MAX_EVALUATIONS: usize = 1000;

impl EvaluationsRequest {
    /// Each item with the defaults filled in; an item missing a part is an error message.
    pub fn items(&self) -> Vec<Result<EvaluationRequest, String>> {
        let items = match &self.evaluations {
            Some(items) if !items.is_empty() => items.clone(),
            _ => vec![PartialRequest::default()],
        };
        items
            .into_iter()
            .map(|item| {
                let subject = item
                    .subject
                    .or_else(|| self.defaults.subject.clone())
                    .ok_or("`subject` is missing (neither in the item nor at the top level)")?;
                let action = item
                    .action
                    .or_else(|| self.defaults.action.clone())
                    .ok_or("`action` is missing (neither in the item nor at the top level)")?;
                let resource = item
                    .resource
                    .or_else(|| self.defaults.resource.clone())
                    .ok_or("`resource` is missing (neither in the item nor at the top level)")?;
                let context = item.context.or_else(|| self.defaults.context.clone());
                Ok(EvaluationRequest {
                    subject,
                    action,
                    resource,
                    context,
                })
            })
            .collect()
    }

    /// Whether this batch is really a single evaluation (no `evaluations` items).
    pub fn is_single(&self) -> bool {
        self.evaluations.as_ref().is_none_or(|e| e.is_empty())
    }

    /// The semantic asked for.
    pub fn semantic(&self) -> Semantic {
        self.options
            .as_ref()
            .map(|o| o.evaluations_semantic)
            .unwrap_or_default()
    }
}

/// `{"evaluations": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationsResponse {
    /// one per item evaluated, in order
    pub evaluations: Vec<DecisionResponse>,
}

/// A subject or resource in a search: the id is what is searched for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchEntity {
    /// e.g. `user`
    #[serde(rename = "type")]
    pub kind: String,
    /// ignored in the searched position
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// attributes the PEP asserts
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
}

/// `page` in a search request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageRequest {
    /// the `next_token` of the previous page
    #[serde(default)]
    pub token: Option<String>,
    /// the most results wanted
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `POST /access/v1/search/{subject,resource,action}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// who (only the type for a subject search)
    #[serde(deserialize_with = "evident_core::objects::object")]
    pub subject: SearchEntity,
    /// the action (absent in an action search)
    #[serde(default, deserialize_with = "evident_core::objects::optional_object")]
    pub action: Option<Action>,
    /// to what (only the type for a resource search)
    #[serde(deserialize_with = "evident_core::objects::object")]
    pub resource: SearchEntity,
    /// in which circumstances
    #[serde(default)]
    pub context: Option<Map<String, Value>>,
    /// which page
    #[serde(default, deserialize_with = "evident_core::objects::optional_object")]
    pub page: Option<PageRequest>,
}

/// What a search looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// subjects allowed the action on the resource
    Subject,
    /// resources the subject may act on
    Resource,
    /// actions the subject may take on the resource
    Action,
}

impl SearchKind {
    /// `subject`, `resource` or `action`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "subject" => Some(Self::Subject),
            "resource" => Some(Self::Resource),
            "action" => Some(Self::Action),
            _ => None,
        }
    }

    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Resource => "resource",
            Self::Action => "action",
        }
    }
}

/// `page` in a search response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageResponse {
    /// where the next page starts; empty when this is the last page
    pub next_token: String,
    /// results in this page
    pub count: usize,
    /// results in all pages
    pub total: usize,
}

/// A search answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// `{type, id}` for subjects and resources, `{name}` for actions
    pub results: Vec<Value>,
    /// paging
    pub page: PageResponse,
}

/// `GET /.well-known/authzen-configuration` for a PDP at `base` (no trailing slash).
pub fn configuration(base: &str) -> Value {
    serde_json::json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
        "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
        "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
        "search_action_endpoint": format!("{base}/access/v1/search/action"),
    })
}
