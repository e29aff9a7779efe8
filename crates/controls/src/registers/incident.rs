//! The incident register (GDPR Art. 33/34, HIPAA 164.404–410, PCI DSS 12.10): an incident
//! is opened with the time it was discovered, classified (personal data, PHI, card data, the
//! number of people affected), annotated, its notifications recorded, and closed.
//!
//! Every step is one ledger event filed under the resource type `incident`
//! (`controls.incident.opened`, `.classified`, `.updated`, `.notified`, `.closed`), and the
//! register is those events folded back in ledger order. What is owed to whom and by when
//! is not stored: [`clocks`](super::clocks) computes it from the folded incident and an
//! injected `now` whenever the register is read. Every time a caller gives is checked
//! against that `now` and the discovery: discovered in the future, closed or notified
//! before discovery, a negative count — each is refused and nothing is stored.
//!
//! A closed incident takes no more classification or notes, but still takes notifications:
//! closing an incident does not discharge what it owes.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use evident_core::event::{format_time, parse_time, Severity};
use evident_core::log::EventRecord;
use evident_core::{Error, Result};

use super::clocks::{obligations, Made, Obligation, Touched, RECIPIENTS};
use super::ledger::{action_of, check_id, check_text, metadata, read_register, register_event};
use crate::events::{actor_of, new_id, received_at};
use crate::state::Controls;

/// The resource type incident events are filed under (the resource id is the incident's).
pub const INCIDENT_RESOURCE: &str = "incident";
/// The ledger action of an incident opened.
pub const INCIDENT_OPENED: &str = "controls.incident.opened";
/// The ledger action of an incident (re)classified.
pub const INCIDENT_CLASSIFIED: &str = "controls.incident.classified";
/// The ledger action of a note added to an incident.
pub const INCIDENT_UPDATED: &str = "controls.incident.updated";
/// The ledger action of a notification made for an incident.
pub const INCIDENT_NOTIFIED: &str = "controls.incident.notified";
/// The ledger action of an incident closed.
pub const INCIDENT_CLOSED: &str = "controls.incident.closed";
/// The source of an incident a person opened.
pub const SOURCE_MANUAL: &str = "manual";
/// The source of an incident opened because the log did not verify.
pub const SOURCE_LOG_TAMPER: &str = "log-tamper";

/// A new incident.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// a short title
    pub title: String,
    /// what happened, as far as is known
    pub description: String,
    /// when it was discovered, µs (at most `now`)
    pub discovered_us: i64,
    /// what opened it ([`SOURCE_MANUAL`] for a person)
    pub source: String,
}

/// A classification: only the fields given change. The count is signed so that a negative
/// one is named in the refusal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classify {
    /// personal data was involved (GDPR)
    pub personal_data: Option<bool>,
    /// protected health information was involved (HIPAA)
    pub phi: Option<bool>,
    /// cardholder data was involved (PCI DSS)
    pub card_data: Option<bool>,
    /// how many people are affected
    pub subjects: Option<i64>,
}

/// A notification made.
#[derive(Debug, Clone)]
pub struct Notify {
    /// one of [`RECIPIENTS`]
    pub recipient: String,
    /// when it was made, µs (default: now)
    pub at_us: Option<i64>,
    /// the authority's case number, a letter's reference
    pub reference: String,
}

/// An incident's classification as it stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// personal data
    pub personal_data: bool,
    /// protected health information
    pub phi: bool,
    /// cardholder data
    pub card_data: bool,
    /// people affected, when known
    pub subjects: Option<u64>,
    /// whether it was ever classified
    pub classified: bool,
}

/// A note on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// when, RFC 3339
    pub at: String,
    /// by whom
    pub by: String,
    /// the note
    pub text: String,
    /// its ledger index
    pub index: u64,
}

/// A notification recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// to whom
    pub recipient: String,
    /// when it was made, RFC 3339
    pub at: String,
    /// µs of `at`
    #[serde(skip)]
    pub at_us: i64,
    /// a reference
    pub reference: String,
    /// who recorded it
    pub recorded_by: String,
    /// its ledger index
    pub index: u64,
}

/// An incident as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// `inc-…`
    pub id: String,
    /// its title
    pub title: String,
    /// what happened
    pub description: String,
    /// `open` or `closed`
    pub status: &'static str,
    /// what opened it
    pub source: String,
    /// when it was discovered, RFC 3339
    pub discovered_at: String,
    /// µs of `discovered_at`
    #[serde(skip)]
    pub discovered_us: i64,
    /// when it was opened in the register, RFC 3339
    pub opened_at: String,
    /// who opened it
    pub opened_by: String,
    /// what it touched
    pub classification: Classification,
    /// the notes, oldest first
    pub notes: Vec<Note>,
    /// the notifications made, oldest first
    pub notifications: Vec<Notification>,
    /// when it was closed, RFC 3339
    pub closed_at: Option<String>,
    /// why it was closed
    pub close_reason: Option<String>,
    /// when the register last changed for it, RFC 3339
    pub changed_at: String,
    /// the ledger indices of its events, oldest first
    pub events: Vec<u64>,
    /// what it owes, as of the time it was read
    pub obligations: Vec<Obligation>,
}

impl Incident {
    /// Whether it is open.
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }

    /// What it owes as of `now_us`.
    pub fn owed(&self, now_us: i64) -> Vec<Obligation> {
        let made: Vec<Made<'_>> = self
            .notifications
            .iter()
            .map(|n| Made {
                recipient: &n.recipient,
                at_us: n.at_us,
            })
            .collect();
        let c = self.classification;
        obligations(
            Touched {
                personal_data: c.personal_data,
                phi: c.phi,
                card_data: c.card_data,
                subjects: c.subjects,
            },
            self.discovered_us,
            &made,
            now_us,
        )
    }
}

fn text(meta: &Value, field: &str) -> Option<String> {
    meta.get(field).and_then(Value::as_str).map(str::to_string)
}

fn time(meta: &Value, field: &str) -> Option<i64> {
    meta.get(field)
        .and_then(Value::as_str)
        .and_then(|t| parse_time(t).ok())
}

/// The register folded from its events, oldest incident first, as of `now_us`.
pub fn fold(events: &[EventRecord], now_us: i64) -> Vec<Incident> {
    let mut incidents: Vec<Incident> = Vec::new();
    for e in events {
        let meta = metadata(e);
        let Some(id) = text(meta, "incident_id") else {
            continue;
        };
        let at = received_at(e);
        let action = action_of(e);
        if action == INCIDENT_OPENED {
            if incidents.iter().any(|i| i.id == id) {
                continue;
            }
            let Some(discovered_us) = time(meta, "discovered_at") else {
                continue;
            };
            incidents.push(Incident {
                id,
                title: text(meta, "title").unwrap_or_default(),
                description: text(meta, "description").unwrap_or_default(),
                status: "open",
                source: text(meta, "source").unwrap_or_else(|| SOURCE_MANUAL.into()),
                discovered_at: format_time(discovered_us),
                discovered_us,
                opened_at: at.clone(),
                opened_by: actor_of(e),
                classification: Classification::default(),
                notes: Vec::new(),
                notifications: Vec::new(),
                closed_at: None,
                close_reason: None,
                changed_at: at,
                events: vec![e.index],
                obligations: Vec::new(),
            });
            continue;
        }
        let Some(incident) = incidents.iter_mut().find(|i| i.id == id) else {
            continue;
        };
        match action {
            INCIDENT_CLASSIFIED => {
                let c = &mut incident.classification;
                let flag = |f: &str| meta.get(f).and_then(Value::as_bool);
                if let Some(v) = flag("personal_data") {
                    c.personal_data = v;
                }
                if let Some(v) = flag("phi") {
                    c.phi = v;
                }
                if let Some(v) = flag("card_data") {
                    c.card_data = v;
                }
                if let Some(v) = meta.get("subjects").and_then(Value::as_u64) {
                    c.subjects = Some(v);
                }
                c.classified = true;
            }
            INCIDENT_UPDATED => incident.notes.push(Note {
                at: at.clone(),
                by: actor_of(e),
                text: text(meta, "note").unwrap_or_default(),
                index: e.index,
            }),
            INCIDENT_NOTIFIED => {
                let Some(at_us) = time(meta, "notified_at") else {
                    continue;
                };
                incident.notifications.push(Notification {
                    recipient: text(meta, "recipient").unwrap_or_default(),
                    at: format_time(at_us),
                    at_us,
                    reference: text(meta, "reference").unwrap_or_default(),
                    recorded_by: actor_of(e),
                    index: e.index,
                });
            }
            INCIDENT_CLOSED => {
                incident.status = "closed";
                incident.closed_at = text(meta, "closed_at");
                incident.close_reason = text(meta, "reason");
            }
            _ => continue,
        }
        incident.changed_at = at;
        incident.events.push(e.index);
    }
    for incident in &mut incidents {
        incident.obligations = incident.owed(now_us);
    }
    incidents
}

/// `at_us` checked against the incident's discovery and `now_us`.
fn within(field: &str, at_us: i64, discovered_us: i64, now_us: i64) -> Result<()> {
    if at_us < discovered_us {
        return Err(Error::BadRequest(format!(
            "{field} ({}) is before the incident was discovered ({}); nothing was stored",
            format_time(at_us),
            format_time(discovered_us)
        )));
    }
    if at_us > now_us {
        return Err(Error::BadRequest(format!(
            "{field} ({}) is in the future; nothing was stored",
            format_time(at_us)
        )));
    }
    Ok(())
}

impl Controls<'_> {
    /// Every incident, oldest first, with what each owes as of `now_us`.
    pub fn incidents(&self, now_us: i64) -> Result<Vec<Incident>> {
        Ok(fold(
            &read_register(&self.log, INCIDENT_RESOURCE, None)?,
            now_us,
        ))
    }

    /// One incident, with what it owes as of `now_us`.
    pub fn incident(&self, id: &str, now_us: i64) -> Result<Incident> {
        check_id("incident", id)?;
        fold(
            &read_register(&self.log, INCIDENT_RESOURCE, Some(id))?,
            now_us,
        )
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no incident `{id}` (`evident incident list` lists them)"
            ))
        })
    }

    /// Opens an incident discovered at `new.discovered_us` (not after `now_us`); one
    /// `controls.incident.opened` event.
    pub fn open_incident(&self, new: &NewIncident, actor: &str, now_us: i64) -> Result<Incident> {
        let title = check_text("title", &new.title, true)?;
        let description = check_text("description", &new.description, false)?;
        if new.discovered_us > now_us {
            return Err(Error::BadRequest(format!(
                "discovered_at ({}) is in the future; nothing was stored",
                format_time(new.discovered_us)
            )));
        }
        check_id("source", &new.source)?;
        let id = new_id("inc")?;
        let event = register_event(
            INCIDENT_OPENED,
            INCIDENT_RESOURCE,
            &id,
            actor,
            json!({
                "incident_id": id,
                "title": title,
                "description": description,
                "discovered_at": format_time(new.discovered_us),
                "source": new.source,
            }),
            Severity::High,
        );
        self.recorder.append_blocking(vec![event])?;
        self.incident(&id, now_us)
    }

    /// The incident `id`, refused when it is closed and `open_only`.
    fn incident_to_change(&self, id: &str, open_only: bool, now_us: i64) -> Result<Incident> {
        let incident = self.incident(id, now_us)?;
        if open_only && !incident.is_open() {
            return Err(Error::Conflict(format!(
                "the incident {id} is closed ({})",
                incident.closed_at.unwrap_or_default()
            )));
        }
        Ok(incident)
    }

    /// Classifies an open incident (only the fields given change); one
    /// `controls.incident.classified` event.
    pub fn classify_incident(
        &self,
        id: &str,
        classify: &Classify,
        actor: &str,
        now_us: i64,
    ) -> Result<Incident> {
        let mut meta = json!({"incident_id": id});
        for (field, value) in [
            ("personal_data", classify.personal_data),
            ("phi", classify.phi),
            ("card_data", classify.card_data),
        ] {
            if let Some(v) = value {
                meta[field] = json!(v);
            }
        }
        if let Some(n) = classify.subjects {
            let n = u64::try_from(n).map_err(|_| {
                Error::BadRequest(format!(
                    "`subjects` is {n}; the number of people affected is 0 or more"
                ))
            })?;
            meta["subjects"] = json!(n);
        }
        if meta.as_object().is_some_and(|m| m.len() == 1) {
            return Err(Error::BadRequest(
                "nothing to classify: give personal_data, phi, card_data or subjects".into(),
            ));
        }
        check_id("incident", id)?;
        self.incident_to_change(id, true, now_us)?;
        let event = register_event(
            INCIDENT_CLASSIFIED,
            INCIDENT_RESOURCE,
            id,
            actor,
            meta,
            Severity::High,
        );
        self.recorder.append_blocking(vec![event])?;
        self.incident(id, now_us)
    }

    /// Adds a note to an open incident; one `controls.incident.updated` event.
    pub fn note_incident(
        &self,
        id: &str,
        note: &str,
        actor: &str,
        now_us: i64,
    ) -> Result<Incident> {
        let note = check_text("note", note, true)?;
        check_id("incident", id)?;
        self.incident_to_change(id, true, now_us)?;
        let event = register_event(
            INCIDENT_UPDATED,
            INCIDENT_RESOURCE,
            id,
            actor,
            json!({"incident_id": id, "note": note}),
            Severity::Medium,
        );
        self.recorder.append_blocking(vec![event])?;
        self.incident(id, now_us)
    }

    /// Records a notification made for an incident (open or closed) to one of
    /// [`RECIPIENTS`], at a time between its discovery and `now_us`; one
    /// `controls.incident.notified` event.
    pub fn notify_incident(
        &self,
        id: &str,
        notify: &Notify,
        actor: &str,
        now_us: i64,
    ) -> Result<Incident> {
        let recipient = notify.recipient.trim();
        if !RECIPIENTS.contains(&recipient) {
            return Err(Error::BadRequest(format!(
                "recipient `{}` is none of {}",
                recipient.chars().take(40).collect::<String>(),
                RECIPIENTS.join(", ")
            )));
        }
        let reference = check_text("reference", &notify.reference, false)?;
        check_id("incident", id)?;
        let incident = self.incident_to_change(id, false, now_us)?;
        let at_us = notify.at_us.unwrap_or(now_us);
        within(
            "the notification time",
            at_us,
            incident.discovered_us,
            now_us,
        )?;
        let event = register_event(
            INCIDENT_NOTIFIED,
            INCIDENT_RESOURCE,
            id,
            actor,
            json!({
                "incident_id": id,
                "recipient": recipient,
                "notified_at": format_time(at_us),
                "reference": reference,
            }),
            Severity::High,
        );
        self.recorder.append_blocking(vec![event])?;
        self.incident(id, now_us)
    }

    /// Closes an open incident at `closed_us` (default now; not before its discovery, not
    /// in the future) with a reason; one `controls.incident.closed` event.
    pub fn close_incident(
        &self,
        id: &str,
        closed_us: Option<i64>,
        reason: &str,
        actor: &str,
        now_us: i64,
    ) -> Result<Incident> {
        let reason = check_text("reason", reason, true)?;
        check_id("incident", id)?;
        let incident = self.incident_to_change(id, true, now_us)?;
        let closed_us = closed_us.unwrap_or(now_us);
        within("closed_at", closed_us, incident.discovered_us, now_us)?;
        let event = register_event(
            INCIDENT_CLOSED,
            INCIDENT_RESOURCE,
            id,
            actor,
            json!({"incident_id": id, "closed_at": format_time(closed_us), "reason": reason}),
            Severity::Medium,
        );
        self.recorder.append_blocking(vec![event])?;
        self.incident(id, now_us)
    }

    /// Opens an incident because the log did not verify (`why`), unless one opened for that
    /// reason is still open; answers the incident opened, if any.
    pub fn open_tamper_incident(&self, why: &str, now_us: i64) -> Result<Option<Incident>> {
        if self
            .incidents(now_us)?
            .iter()
            .any(|i| i.is_open() && i.source == SOURCE_LOG_TAMPER)
        {
            return Ok(None);
        }
        self.open_incident(
            &NewIncident {
                title: "The ledger does not verify".into(),
                description: format!(
                    "Opened automatically by the log integrity check: {}",
                    why.chars().take(1000).collect::<String>()
                ),
                discovered_us: now_us,
                source: SOURCE_LOG_TAMPER.into(),
            },
            "evident",
            now_us,
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_held_between_discovery_and_now() {
        assert!(within("t", 10, 10, 20).is_ok());
        assert!(within("t", 20, 10, 20).is_ok());
        let before = within("closed_at", 9, 10, 20).err().map(|e| e.to_string());
        assert!(before.is_some_and(|m| m.contains("before the incident was discovered")));
        let future = within("closed_at", 21, 10, 20).err().map(|e| e.to_string());
        assert!(future.is_some_and(|m| m.contains("in the future")));
    }
}
