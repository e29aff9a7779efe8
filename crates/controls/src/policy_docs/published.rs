//! Rendering a document from the settings as they are now, publishing it — one
//! `controls.policy_doc.published` ledger event with its SHA-256, version number, approver,
//! the settings it used and its Markdown — and reading the published versions back: history,
//! one version, and each document's status (unpublished, current, or drifted: the live
//! settings no longer render the published text).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use evident_core::event::{system_event, ActorType, Severity};
use evident_core::log::{EventRecord, Log};
use evident_core::store::EventQuery;
use evident_core::{Error, Result};

use crate::events::{actor_of, received_at};
use crate::names::{POLICY_DOC_PUBLISHED, POLICY_DOC_RESOURCE};
use crate::policy_docs::live::PolicyInputs;
use crate::policy_docs::setting::{Setting, Settings};
use crate::policy_docs::shipped::{self, Source, TemplateFile};
use crate::policy_docs::{html, markdown, template};
use crate::state::Controls;

/// The longest Markdown a published version may have (it is kept in its ledger entry).
pub const MAX_PUBLISHED_BYTES: usize = 48 * 1024;
/// The longest approver name.
pub const MAX_APPROVER_CHARS: usize = 200;
/// The most published versions one read goes through.
const MAX_READ: usize = 100_000;

/// `sha256:<hex>` of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A document rendered now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    /// its name (`access-control`)
    pub document: String,
    /// its title (its first heading)
    pub title: String,
    /// where its template comes from
    pub template: Source,
    /// `sha256:` of the template's text
    pub template_sha256: String,
    /// `sha256:` of the Markdown — the document's hash
    pub sha256: String,
    /// the settings it read, by name
    pub settings: BTreeMap<String, Setting>,
    /// the document as Markdown
    pub markdown: String,
    /// the document as an HTML page
    #[serde(skip)]
    pub html: String,
}

/// Renders one template with `settings` (no engine: tests and previews).
pub fn render(file: &TemplateFile, settings: &Settings) -> Result<Rendered> {
    let doc = template::render(&file.template, settings)?;
    let md = markdown::write(&doc);
    Ok(Rendered {
        document: file.template.name.clone(),
        title: doc.title.clone(),
        template: file.source,
        template_sha256: sha256(file.template.text.as_bytes()),
        sha256: sha256(md.as_bytes()),
        html: html::write(&doc),
        markdown: md,
        settings: doc.used,
    })
}

/// A published version, as its ledger entry holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    /// the document's name
    pub document: String,
    /// its title
    pub title: String,
    /// 1 for the first version of the document, then 2, …
    pub version: u64,
    /// `sha256:` of its Markdown
    pub sha256: String,
    /// who approved it
    pub approver: String,
    /// who published it (the event's actor)
    pub published_by: String,
    /// when, RFC 3339
    pub published_at: String,
    /// `shipped` or `local`
    pub template: String,
    /// `sha256:` of the template's text
    pub template_sha256: String,
    /// the settings it used
    pub settings: Value,
    /// its ledger index
    pub index: u64,
    /// its Markdown (in `show`; left out of listings)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

impl Published {
    fn read(e: &EventRecord) -> Option<Self> {
        let meta = e.entry.get("metadata")?;
        let text = |f: &str| meta.get(f).and_then(Value::as_str).map(str::to_string);
        Some(Published {
            document: text("document")?,
            title: text("title").unwrap_or_default(),
            version: meta.get("version").and_then(Value::as_u64)?,
            sha256: text("sha256")?,
            approver: text("approver").unwrap_or_default(),
            published_by: actor_of(e),
            published_at: received_at(e),
            template: text("template").unwrap_or_default(),
            template_sha256: text("template_sha256").unwrap_or_default(),
            settings: meta.get("settings").cloned().unwrap_or(Value::Null),
            index: e.index,
            markdown: text("markdown"),
        })
    }

    /// Its Markdown, checked against its hash (a text the ledger's intake changed — a
    /// value redacted — no longer matches and is refused).
    pub fn text(&self) -> Result<&str> {
        let text = self.markdown.as_deref().ok_or_else(|| {
            Error::Integrity(format!(
                "version {} of `{}` (entry {}) holds no text",
                self.version, self.document, self.index
            ))
        })?;
        if sha256(text.as_bytes()) != self.sha256 {
            return Err(Error::Integrity(format!(
                "the text of version {} of `{}` (entry {}) does not hash to its recorded {}",
                self.version, self.document, self.index, self.sha256
            )));
        }
        Ok(text)
    }
}

/// Every published version (of one document when named), oldest first.
pub fn history(log: &Log<'_>, document: Option<&str>) -> Result<Vec<Published>> {
    let query = EventQuery {
        action: Some(POLICY_DOC_PUBLISHED.into()),
        resource_type: Some(POLICY_DOC_RESOURCE.into()),
        resource_id: document.map(str::to_string),
        ..EventQuery::default()
    };
    let events = log.query_all(&query, MAX_READ, "published policy documents")?;
    Ok(events.iter().filter_map(Published::read).collect())
}

/// Where a document stands against the live settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// never published
    Unpublished,
    /// the newest published version is what the live settings render
    Current,
    /// the live settings render something else than the newest published version
    Drifted,
    /// the template does not render now (the message says why)
    Error,
}

/// A document's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocStatus {
    /// its name
    pub document: String,
    /// its title (the newest rendering's, else the published one's)
    pub title: String,
    /// where its template comes from
    pub template: Source,
    /// where it stands
    pub state: State,
    /// `sha256:` of what the live settings render, when they do
    pub live_sha256: Option<String>,
    /// the newest published version (without its text)
    pub published: Option<Published>,
    /// why it does not render, when it does not
    pub error: Option<String>,
}

/// The settings that differ between a published version and now (name → (then, now)).
pub fn changed_settings(
    published: &Value,
    now: &BTreeMap<String, Setting>,
) -> BTreeMap<String, (Value, Value)> {
    let mut changed = BTreeMap::new();
    let then = published.as_object().cloned().unwrap_or_default();
    for (name, value) in &then {
        let current = now
            .get(name)
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or(Value::Null);
        if &current != value {
            changed.insert(name.clone(), (value.clone(), current));
        }
    }
    for (name, value) in now {
        if !then.contains_key(name) {
            let current = serde_json::to_value(value).unwrap_or(Value::Null);
            changed.insert(name.clone(), (Value::Null, current));
        }
    }
    changed
}

fn check_approver(approver: &str) -> Result<&str> {
    let approver = approver.trim();
    if approver.is_empty() {
        return Err(Error::BadRequest(
            "publishing a policy document needs its approver (--approver WHO)".into(),
        ));
    }
    if approver.chars().count() > MAX_APPROVER_CHARS || approver.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "the approver is a name of at most {MAX_APPROVER_CHARS} characters, without control characters"
        )));
    }
    Ok(approver)
}

impl Controls<'_> {
    /// Every document's template in force (shipped, or the data directory's own).
    pub fn policy_templates(&self) -> Result<Vec<TemplateFile>> {
        shipped::all(Some(self.dir()))
    }

    /// Renders the document `name` from the settings as they are now.
    pub fn render_policy_doc(&self, name: &str, inputs: &PolicyInputs) -> Result<Rendered> {
        let file = shipped::find(Some(self.dir()), name)?;
        render(&file, &self.policy_settings(inputs)?)
    }

    /// Renders `name` now and publishes it as its next version, approved by `approver`: one
    /// `controls.policy_doc.published` event holding its hash, version, approver, the
    /// settings it read and its Markdown. A template that does not render publishes nothing.
    pub fn publish_policy_doc(
        &self,
        name: &str,
        inputs: &PolicyInputs,
        approver: &str,
        actor: &str,
    ) -> Result<Published> {
        let approver = check_approver(approver)?;
        let rendered = self.render_policy_doc(name, inputs)?;
        if rendered.markdown.len() > MAX_PUBLISHED_BYTES {
            return Err(Error::BadRequest(format!(
                "`{name}` renders to {} bytes; a published document is at most {MAX_PUBLISHED_BYTES}",
                rendered.markdown.len()
            )));
        }
        let _turn = self
            .state
            .publishing
            .lock()
            .map_err(|_| Error::Integrity("the publishing lock is poisoned".into()))?;
        let version = history(&self.log, Some(name))?
            .iter()
            .map(|p| p.version)
            .max()
            .unwrap_or(0)
            + 1;
        let settings = serde_json::to_value(&rendered.settings)
            .map_err(|e| Error::Integrity(format!("encoding the settings: {e}")))?;
        let mut event = system_event(
            POLICY_DOC_PUBLISHED,
            POLICY_DOC_RESOURCE,
            Some(name),
            json!({
                "document": name,
                "title": rendered.title,
                "version": version,
                "sha256": rendered.sha256,
                "html_sha256": sha256(rendered.html.as_bytes()),
                "approver": approver,
                "template": rendered.template.as_str(),
                "template_sha256": rendered.template_sha256,
                "settings": settings,
                "markdown": rendered.markdown,
            }),
        );
        event.actor.id = actor.to_string();
        event.actor.kind = ActorType::User;
        event.severity = Some(Severity::Low);
        event.reason = Some(
            format!("version {version} approved by {approver}")
                .chars()
                .take(400)
                .collect(),
        );
        let receipt = self.recorder.append_blocking(vec![event])?;
        let index = receipt.receipts.first().map(|r| r.index);
        let published = history(&self.log, Some(name))?
            .into_iter()
            .find(|p| Some(p.index) == index)
            .ok_or_else(|| {
                Error::Integrity(format!("version {version} of `{name}` was not read back"))
            })?;
        published.text()?;
        Ok(published)
    }

    /// Every published version (of one document when named), oldest first, without texts.
    pub fn policy_doc_history(&self, name: Option<&str>) -> Result<Vec<Published>> {
        if let Some(name) = name.filter(|n| !shipped::valid_name(n)) {
            return Err(Error::BadRequest(format!(
                "`{}` is not a policy document name",
                name.chars().take(80).collect::<String>()
            )));
        }
        Ok(history(&self.log, name)?
            .into_iter()
            .map(|p| Published {
                markdown: None,
                ..p
            })
            .collect())
    }

    /// One published version of `name` (the newest when `version` is `None`), with its text.
    pub fn policy_doc_version(&self, name: &str, version: Option<u64>) -> Result<Published> {
        if !shipped::valid_name(name) {
            return Err(Error::BadRequest(format!(
                "`{}` is not a policy document name",
                name.chars().take(80).collect::<String>()
            )));
        }
        let all = history(&self.log, Some(name))?;
        let found = match version {
            Some(v) => all.into_iter().find(|p| p.version == v),
            None => all.into_iter().max_by_key(|p| p.version),
        };
        let found = found.ok_or_else(|| match version {
            Some(v) => Error::NotFound(format!(
                "no version {v} of `{name}` (`evident policy-doc history {name}` lists them)"
            )),
            None => Error::NotFound(format!(
                "`{name}` was never published (`evident policy-doc publish {name} --approver WHO`)"
            )),
        })?;
        found.text()?;
        Ok(found)
    }

    /// Every document's status against the live settings: unpublished, current, drifted,
    /// or not rendering now.
    pub fn policy_docs_status(&self, inputs: &PolicyInputs) -> Result<Vec<DocStatus>> {
        let settings = self.policy_settings(inputs)?;
        let mut latest: BTreeMap<String, Published> = BTreeMap::new();
        for p in history(&self.log, None)? {
            match latest.get(&p.document) {
                Some(held) if held.version >= p.version => {}
                _ => {
                    latest.insert(
                        p.document.clone(),
                        Published {
                            markdown: None,
                            ..p
                        },
                    );
                }
            }
        }
        let mut out = Vec::new();
        for file in self.policy_templates()? {
            let published = latest.remove(&file.template.name);
            let (state, live, title, error) = match render(&file, &settings) {
                Ok(r) => {
                    let state = match &published {
                        None => State::Unpublished,
                        Some(p) if p.sha256 == r.sha256 => State::Current,
                        Some(_) => State::Drifted,
                    };
                    (state, Some(r.sha256), r.title, None)
                }
                Err(e) => (
                    State::Error,
                    None,
                    published
                        .as_ref()
                        .map(|p| p.title.clone())
                        .unwrap_or_else(|| file.template.name.clone()),
                    Some(e.to_string()),
                ),
            };
            out.push(DocStatus {
                document: file.template.name.clone(),
                title,
                template: file.source,
                state,
                live_sha256: live,
                published,
                error,
            });
        }
        Ok(out)
    }
}
