//! The audit event schema, its validation, and its encoding into a ledger entry.
//!
//! An entry is the RFC 8785 canonical JSON of the event as received, plus the server's own
//! receive time, with every field marked personal moved out of the event and replaced by a
//! salted commitment under `personal` (see [`crate::personal`]). Unknown top-level fields are
//! refused; free-form data belongs under `metadata`, which is kept as sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::objects::Object;
use crate::personal::{self, PersonalField};
use crate::{Error, Result};

/// The largest encoded entry: the C2SP tlog-tiles entry bundle limit.
pub const MAX_ENTRY_BYTES: usize = evident_ledger::tiles::MAX_ENTRY_BYTES;
/// The schema version written into every entry.
pub const SCHEMA_VERSION: u32 = 1;
const MAX_ID_CHARS: usize = 512;
const MAX_LIST: usize = 64;

/// One audit event as a client sends it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// When it happened, RFC 3339, by the client's clock. Defaults to the receive time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Who acted.
    #[serde(deserialize_with = "crate::objects::object")]
    pub actor: Actor,
    /// What was done, e.g. `record.read`.
    pub action: String,
    /// What it was done to.
    #[serde(deserialize_with = "crate::objects::object")]
    pub resource: Resource,
    /// How it ended.
    pub outcome: Outcome,
    /// Why (a decision's reason, an error message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The policy that decided, where one did.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::objects::optional_object"
    )]
    pub policy: Option<PolicyRef>,
    /// The caller's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A distributed trace id (W3C trace context).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// How serious: `info` (default), `low`, `medium`, `high`, `critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The person the personal fields are about, for erasure; defaults to `actor.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_subject: Option<String>,
    /// JSON pointers (RFC 6901) of further fields holding personal data. `/actor/ip` is
    /// always treated as personal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub personal: Vec<String>,
    /// Free-form data, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// Who acted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// A stable, unique identity.
    pub id: String,
    /// `user`, `service` or `system`.
    #[serde(rename = "type", default = "default_actor_type")]
    pub kind: ActorType,
    /// Roles held when acting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The client address (personal data: always committed, never stored in the clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// How the actor authenticated.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::objects::optional_object"
    )]
    pub auth: Option<AuthFacts>,
}

fn default_actor_type() -> ActorType {
    ActorType::User
}

/// The kinds of actor.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ActorType {
    /// a person
    User,
    /// a workload
    Service,
    /// Evident itself
    System,
}

/// Authentication facts (from an OIDC token or the API key used).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthFacts {
    /// `password`, `oidc`, `api_key`, `mtls`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Whether multi-factor authentication was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    /// Authentication method references (RFC 8176), e.g. `["pwd", "otp"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Authentication context class reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// When the actor authenticated, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<String>,
    /// The token issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// What an action was done to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// e.g. `patient_record`
    #[serde(rename = "type")]
    pub kind: String,
    /// the resource's id
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A policy reference.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// policy (set) id
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// its version or content hash
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// How an action ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// done
    Success,
    /// attempted and failed
    Failure,
    /// refused by policy
    Denied,
    /// failed by an error
    Error,
    /// not known (yet)
    Unknown,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
            Self::Error => "error",
            Self::Unknown => "unknown",
        }
    }
}

/// How serious an event is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// routine
    Info,
    /// low
    Low,
    /// medium
    Medium,
    /// high (break-glass, key destruction)
    High,
    /// critical
    Critical,
}

/// An event validated and encoded, ready to be sequenced.
#[derive(Debug, Clone)]
pub struct PreparedEntry {
    /// the canonical JSON bytes that become the leaf
    pub data: Vec<u8>,
    /// indexed columns for queries
    pub columns: EntryColumns,
    /// the personal values committed in the entry, stored beside the tree
    pub personal: Vec<PersonalField>,
}

/// The columns a store indexes for queries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryColumns {
    /// event time, µs since the Unix epoch
    pub time_us: i64,
    /// receive time, µs since the Unix epoch
    pub received_us: i64,
    /// `actor.id`, unless it was marked personal
    pub actor: Option<String>,
    /// `action`
    pub action: String,
    /// `resource.type`
    pub resource_type: String,
    /// `resource.id`, unless it was marked personal
    pub resource_id: Option<String>,
    /// `outcome`
    pub outcome: String,
}

/// Parses RFC 3339 into µs since the epoch.
pub fn parse_time(text: &str) -> Result<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        Error::InvalidEvent(format!("`{}` is not an RFC 3339 time: {e}", clip(text)))
    })?;
    Ok((t.unix_timestamp_nanos() / 1000) as i64)
}

/// Formats µs since the epoch as RFC 3339 (UTC).
pub fn format_time(us: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| us.to_string())
}

/// The current time in µs since the epoch.
pub fn now_us() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

fn clip(text: &str) -> String {
    let mut s: String = text.chars().take(64).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

fn check_text(field: &str, value: &str) -> Result<()> {
    if value.chars().count() > MAX_ID_CHARS {
        return Err(Error::InvalidEvent(format!(
            "`{field}` is longer than {MAX_ID_CHARS} characters"
        )));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidEvent(format!(
            "`{field}` holds a control character"
        )));
    }
    Ok(())
}

fn check_required(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::InvalidEvent(format!("`{field}` must not be empty")));
    }
    check_text(field, value)
}

impl AuditEvent {
    /// Parses one event, or an array of events, straight from JSON bytes, naming the
    /// offending event and field on error.
    pub fn parse_many(bytes: &[u8]) -> Result<Vec<Self>> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let result = match first {
            Some(b'[') => serde_path_to_error::deserialize::<_, Vec<Object<Self>>>(&mut de)
                .map(|events| events.into_iter().map(|Object(e)| e).collect()),
            Some(b'{') => serde_path_to_error::deserialize::<_, Self>(&mut de).map(|e| vec![e]),
            _ => {
                return Err(Error::BadRequest(
                    "expected an event object or a JSON array of events".into(),
                ))
            }
        };
        let events = result.map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_eof() || (inner.is_syntax() && path == ".") {
                return Error::BadRequest(format!("malformed JSON: {inner}"));
            }
            match path.strip_prefix('[').and_then(|p| p.split_once(']')) {
                Some((index, rest)) => {
                    let rest = rest.trim_start_matches('.');
                    if rest.is_empty() {
                        Error::InvalidEvent(format!("event {index}: {inner}"))
                    } else {
                        Error::InvalidEvent(format!("event {index}: `{rest}`: {inner}"))
                    }
                }
                None if path == "." => Error::InvalidEvent(inner.to_string()),
                None => Error::InvalidEvent(format!("`{path}`: {inner}")),
            }
        })?;
        de.end()
            .map_err(|e| Error::BadRequest(format!("malformed JSON: {e}")))?;
        if events.is_empty() {
            return Err(Error::BadRequest("the batch is empty".into()));
        }
        Ok(events)
    }

    /// Parses one event from JSON, naming the offending field on error.
    pub fn from_json(value: Value) -> Result<Self> {
        serde_path_to_error::deserialize(value)
            .map(|Object(event)| event)
            .map_err(|e| {
                let path = e.path().to_string();
                if path == "." {
                    Error::InvalidEvent(e.into_inner().to_string())
                } else {
                    Error::InvalidEvent(format!("`{path}`: {}", e.into_inner()))
                }
            })
    }

    fn validate(&self) -> Result<()> {
        check_required("actor.id", &self.actor.id)?;
        check_required("action", &self.action)?;
        check_required("resource.type", &self.resource.kind)?;
        for (field, value) in [
            ("resource.id", &self.resource.id),
            ("actor.session", &self.actor.session),
            ("actor.ip", &self.actor.ip),
            ("request_id", &self.request_id),
            ("trace_id", &self.trace_id),
            ("data_subject", &self.data_subject),
        ] {
            if let Some(v) = value {
                check_text(field, v)?;
            }
        }
        if self.actor.roles.len() > MAX_LIST || self.personal.len() > MAX_LIST {
            return Err(Error::InvalidEvent(format!(
                "`actor.roles` and `personal` hold at most {MAX_LIST} items"
            )));
        }
        for role in &self.actor.roles {
            check_required("actor.roles[]", role)?;
        }
        if let Some(ip) = &self.actor.ip {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(Error::InvalidEvent(format!(
                    "`actor.ip` `{}` is not an IP address",
                    clip(ip)
                )));
            }
        }
        if let Some(auth_time) = self.actor.auth.as_ref().and_then(|a| a.auth_time.as_ref()) {
            parse_time(auth_time)?;
        }
        Ok(())
    }

    /// Validates the event and encodes it as a ledger entry received at `received_us`.
    pub fn prepare(&self, received_us: i64) -> Result<PreparedEntry> {
        let value = serde_json::to_value(self).map_err(|e| Error::InvalidEvent(e.to_string()))?;
        self.prepare_value(value, received_us)
    }

    /// [`AuditEvent::prepare`] given the event already as JSON (`value` must be
    /// `serde_json::to_value(self)`): the redaction pass has built it, and building it again
    /// was a third of the cost of preparing an access decision's event.
    pub fn prepare_value(&self, mut value: Value, received_us: i64) -> Result<PreparedEntry> {
        self.validate()?;
        let time_us = match &self.time {
            Some(t) => parse_time(t)?,
            None => received_us,
        };
        let subject = self
            .data_subject
            .clone()
            .unwrap_or_else(|| self.actor.id.clone());
        let mut paths: Vec<String> = self.personal.clone();
        if self.actor.ip.is_some() && !paths.iter().any(|p| p == "/actor/ip") {
            paths.push("/actor/ip".to_string());
        }
        let Value::Object(obj) = &mut value else {
            return Err(Error::InvalidEvent("an event must be a JSON object".into()));
        };
        obj.remove("personal");
        obj.remove("data_subject");
        obj.insert("time".into(), Value::String(format_time(time_us)));
        obj.insert(
            "received_at".into(),
            Value::String(format_time(received_us)),
        );
        obj.insert("v".into(), Value::from(SCHEMA_VERSION));
        let mut fields = Vec::with_capacity(paths.len());
        let mut commitments = Map::new();
        for path in paths {
            let field = personal::extract(&mut value, &path, &subject)?;
            commitments.insert(path, Value::String(field.commitment_string()));
            fields.push(field);
        }
        if !commitments.is_empty() {
            if let Value::Object(obj) = &mut value {
                obj.insert("personal".into(), Value::Object(commitments));
            }
        }
        let data = crate::canonical::to_vec(&value);
        if data.len() > MAX_ENTRY_BYTES {
            return Err(Error::TooLarge {
                size: data.len(),
                limit: MAX_ENTRY_BYTES,
            });
        }
        let is_personal = |p: &str| fields.iter().any(|f| f.path == p);
        let columns = EntryColumns {
            time_us,
            received_us,
            actor: (!is_personal("/actor/id")).then(|| self.actor.id.clone()),
            action: self.action.clone(),
            resource_type: self.resource.kind.clone(),
            resource_id: self
                .resource
                .id
                .clone()
                .filter(|_| !is_personal("/resource/id")),
            outcome: self.outcome.as_str().to_string(),
        };
        Ok(PreparedEntry {
            data,
            columns,
            personal: fields,
        })
    }
}

/// Action families Evident writes itself: access decisions and policy changes, logins,
/// control checks and exceptions, evidence, key and backup operations, data-subject requests
/// (`privacy.dsr.*`, whose state is read back from them). A client may not send
/// events of these actions — a writer key could otherwise forge a passing control check or an
/// access decision — so the HTTP API refuses them, and `evident log append` only takes them
/// with its loud `--danger-system-actions` switch.
pub const RESERVED_ACTION_PREFIXES: &[&str] = &[
    "access.",
    "auth.",
    "controls.",
    "evidence.",
    "evident.",
    "privacy.",
];

/// The reserved family `action` belongs to, if any (see [`RESERVED_ACTION_PREFIXES`]).
pub fn reserved_action(action: &str) -> Option<&'static str> {
    RESERVED_ACTION_PREFIXES
        .iter()
        .copied()
        .find(|prefix| action.starts_with(prefix))
}

/// A system event written by Evident itself (key creation, erasure, verification runs).
pub fn system_event(
    action: &str,
    resource_type: &str,
    resource_id: Option<&str>,
    metadata: Value,
) -> AuditEvent {
    AuditEvent {
        time: None,
        actor: Actor {
            id: "evident".into(),
            kind: ActorType::System,
            roles: Vec::new(),
            ip: None,
            session: None,
            auth: None,
        },
        action: action.into(),
        resource: Resource {
            kind: resource_type.into(),
            id: resource_id.map(str::to_string),
        },
        outcome: Outcome::Success,
        reason: None,
        policy: None,
        request_id: None,
        trace_id: None,
        severity: None,
        data_subject: None,
        personal: Vec::new(),
        metadata: match metadata {
            Value::Object(map) => Some(map),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "time": "2026-11-22T10:00:00Z",
            "actor": {"id": "u-1", "type": "user", "roles": ["clinician"], "ip": "10.0.0.1",
                      "auth": {"method": "oidc", "mfa": true, "amr": ["pwd", "otp"]}},
            "action": "record.read",
            "resource": {"type": "patient_record", "id": "p-9"},
            "outcome": "success",
            "metadata": {"b": 2, "a": [1, "x"], "email": "ann@example.org"},
            "personal": ["/metadata/email"]
        })
    }

    #[test]
    fn encoding_is_canonical_and_commits_personal_fields() {
        let event = AuditEvent::from_json(sample()).unwrap();
        let entry = event.prepare(1_700_000_000_000_000).unwrap();
        let text = String::from_utf8(entry.data.clone()).unwrap();
        assert!(!text.contains("10.0.0.1"), "{text}");
        assert!(!text.contains("ann@example.org"), "{text}");
        assert!(
            text.contains(r#""personal":{"/actor/ip":"sha256:"#),
            "{text}"
        );
        assert!(
            text.starts_with(r#"{"action":"record.read","actor":{"auth":"#),
            "{text}"
        );
        assert_eq!(entry.personal.len(), 2);
        assert_eq!(entry.columns.actor.as_deref(), Some("u-1"));
        // Re-encoding the same event gives different salts, so commitments cannot be guessed.
        let again = event.prepare(1_700_000_000_000_000).unwrap();
        assert_ne!(again.data, entry.data);
    }

    #[test]
    fn bad_events_are_refused_with_the_field_named() {
        let cases: Vec<(Value, &str)> = vec![
            (
                json!({"actor": {"id": "u"}, "action": "a", "resource": {"type": "r"}, "outcome": "success", "extra": 1}),
                "extra",
            ),
            (
                json!({"actor": {"id": ""}, "action": "a", "resource": {"type": "r"}, "outcome": "success"}),
                "actor.id",
            ),
            (
                json!({"actor": {"id": "u"}, "action": 5, "resource": {"type": "r"}, "outcome": "success"}),
                "invalid type",
            ),
            (
                json!({"actor": {"id": "u"}, "action": "a", "resource": {"type": "r"}, "outcome": "maybe"}),
                "maybe",
            ),
            (
                json!({"actor": {"id": "u", "ip": "nope"}, "action": "a", "resource": {"type": "r"}, "outcome": "success"}),
                "actor.ip",
            ),
            (
                json!({"time": "yesterday", "actor": {"id": "u"}, "action": "a", "resource": {"type": "r"}, "outcome": "success"}),
                "RFC 3339",
            ),
            (
                json!({"actor": {"id": "u"}, "action": "a\u{0}", "resource": {"type": "r"}, "outcome": "success"}),
                "control",
            ),
            (
                json!({"actor": {"id": "u"}, "action": "a", "resource": {"type": "r"}, "outcome": "success", "personal": ["/nope"]}),
                "/nope",
            ),
        ];
        for (value, needle) in cases {
            let err = AuditEvent::from_json(value.clone())
                .and_then(|e| e.prepare(0))
                .expect_err(&value.to_string())
                .to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }

    #[test]
    fn oversized_events_are_refused() {
        let mut value = sample();
        value["metadata"]["blob"] = Value::String("x".repeat(70_000));
        let err = AuditEvent::from_json(value)
            .unwrap()
            .prepare(0)
            .unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    }
}
