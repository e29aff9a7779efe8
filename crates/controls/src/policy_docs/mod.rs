//! Policy documents rendered from the live configuration: access control, audit logging and
//! retention, encryption and key management, incident response, backup and recovery, data
//! retention.
//!
//! Each document is a template (shipped in the binary, or the organisation's own in
//! `DIR/policy-docs/NAME.md`) written in a small Markdown subset with named placeholders —
//! `{{tls.min_version}}`, `{{keys.max_age_days}}`, `{{access.roles}}` — filled from the
//! engine's settings as they are now ([`live`]): the catalog's check settings (the TLS
//! minimum the `tls.protocols` check holds the endpoint to, the key age `crypto.key_rotation`
//! allows, …), the active Cedar policy pack (its roles and version), the keyring, the log, and
//! what only the facade knows ([`PolicyInputs`]: the data map's retention periods, the TLS
//! versions `serve` offers). A placeholder naming a setting that does not exist is an error
//! naming the template, the line and the setting, and nothing is rendered or published.
//!
//! A document renders to Markdown and to HTML (values escaped in both); the same settings
//! render the same bytes. Publishing records its SHA-256, its version number, the approver,
//! the settings it used and its text as one `controls.policy_doc.published` ledger event;
//! a published version whose text the live settings no longer render is *drifted*.
//!
//! | file | owns |
//! |---|---|
//! | [`setting`] | a setting's value (text, list or table) and the settings a render reads |
//! | [`template`] | the template language: reading a template, strict placeholders, the document it renders to |
//! | [`markdown`], [`html`] | writing a rendered document as Markdown or HTML |
//! | [`shipped`] | the shipped templates and the data directory's overrides |
//! | [`live`] | the settings as they are now |
//! | [`published`] | publishing, history, status and drift |
//! | [`diff`] | a line diff between two versions |

pub mod diff;
pub mod html;
pub mod live;
pub mod markdown;
pub mod published;
pub mod setting;
pub mod shipped;
pub mod template;

pub use live::{PolicyInputs, RetentionRow};
pub use published::{DocStatus, Published, Rendered};
pub use setting::{Setting, Settings};
pub use shipped::{Source, TemplateFile};
pub use template::{Format, Template};

#[cfg(test)]
mod tests;
