//! The routes of policy documents: each document's state against the live configuration
//! (`GET /v1/policy-docs`), one rendered now (`GET /v1/policy-docs/{name}`), its published
//! versions (`GET /v1/policy-docs/{name}/history`) — which readers and auditors may read —
//! and publishing one (`POST /v1/policy-docs/{name}/publish`, `admin`), a
//! `controls.policy_doc.published` ledger event.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use evident::controls::policy_docs::{Format, Published};
use evident::{Engine, Error};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Identity;
use crate::blocking::blocking;
use crate::error::ApiResult;
use crate::gate::Operations;
use crate::request::{json_body, Path, Query};
use crate::roles::{ADMINS, EVIDENCE_READERS};
use crate::state::Shared;

/// The list, one rendering, history, and publishing.
pub(crate) fn routes() -> Operations {
    Operations::new()
        .get("/v1/policy-docs", EVIDENCE_READERS, list)
        .get("/v1/policy-docs/{name}", EVIDENCE_READERS, render)
        .get("/v1/policy-docs/{name}/history", EVIDENCE_READERS, history)
        .post("/v1/policy-docs/{name}/publish", ADMINS, publish)
}

/// Runs a policy-document call on a blocking thread.
async fn call<T: Send + 'static>(
    engine: &Arc<Engine>,
    work: impl FnOnce(&Engine) -> Result<T, Error> + Send + 'static,
) -> ApiResult<T> {
    let engine = engine.clone();
    blocking(move || work(&engine)).await
}

async fn list(State(state): Shared) -> ApiResult<Json<Value>> {
    call(&state.engine, |engine| {
        let documents = engine
            .controls()
            .policy_docs_status(&engine.policy_inputs())?;
        Ok(Json(json!({ "documents": documents })))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderQuery {
    format: Option<String>,
}

async fn render(
    State(state): Shared,
    Path(name): Path<String>,
    Query(query): Query<RenderQuery>,
) -> ApiResult<Json<Value>> {
    let format: Format = query.format.as_deref().unwrap_or("md").parse()?;
    call(&state.engine, move |engine| {
        let r = engine
            .controls()
            .render_policy_doc(&name, &engine.policy_inputs())?;
        let (format, content) = match format {
            Format::Markdown => ("md", r.markdown),
            Format::Html => ("html", r.html),
        };
        Ok(Json(json!({
            "document": r.document,
            "title": r.title,
            "template": r.template,
            "sha256": r.sha256,
            "settings": r.settings,
            "format": format,
            "content": content,
        })))
    })
    .await
}

async fn history(State(state): Shared, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    call(&state.engine, move |engine| {
        let versions = engine.controls().policy_doc_history(Some(&name))?;
        Ok(Json(json!({ "document": name, "versions": versions })))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    approver: String,
}

async fn publish(
    State(state): Shared,
    identity: Identity,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let request: PublishRequest = json_body(body)?;
    let actor = identity.admin_actor();
    call(&state.engine, move |engine| {
        let published = engine.controls().publish_policy_doc(
            &name,
            &engine.policy_inputs(),
            &request.approver,
            &actor,
        )?;
        Ok(Json(json!(Published {
            markdown: None,
            ..published
        })))
    })
    .await
}
