//! The risk register (HIPAA 164.308(a)(1)(ii)(A–B) risk analysis and management, SOC 2
//! CC3.1–CC3.4): each risk an asset, a threat, a likelihood and an impact (1–5), an owner, a
//! treatment and the controls of the catalog that treat it.
//!
//! Every change is one ledger event filed under the resource type `risk` — added
//! (`controls.risk.added`), changed (`controls.risk.updated`, only the fields that change)
//! or closed (`controls.risk.closed`) — and the register is those events folded back in
//! ledger order. Residual risk is not stored: it is recomputed from the linked controls'
//! live status each time the register is read (see [`residual`](super::residual)).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use evident_core::event::Severity;
use evident_core::log::EventRecord;
use evident_core::{Error, Result};

use super::ledger::{action_of, check_id, check_text, metadata, read_register, register_event};
use super::residual::{linked, residual, LinkedControl, Score};
use crate::catalog::Catalog;
use crate::events::{actor_of, received_at};
use crate::state::Controls;

/// The resource type risk events are filed under (the resource id is the risk's id).
pub const RISK_RESOURCE: &str = "risk";
/// The ledger action of a risk added to the register.
pub const RISK_ADDED: &str = "controls.risk.added";
/// The ledger action of a risk's fields changed.
pub const RISK_UPDATED: &str = "controls.risk.updated";
/// The ledger action of a risk closed.
pub const RISK_CLOSED: &str = "controls.risk.closed";
/// Ids a risk may not take: the register's own views over HTTP.
const RESERVED_IDS: [&str; 2] = ["export", "report"];
/// The most controls one risk links.
pub const MAX_LINKED: usize = 64;

/// How a risk is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Treatment {
    /// lowered by controls
    Mitigate,
    /// accepted as it is
    Accept,
    /// moved to another party (insurance, a processor's contract)
    Transfer,
    /// the activity that causes it is stopped
    Avoid,
}

impl Treatment {
    /// The treatment `text` names.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mitigate" => Ok(Self::Mitigate),
            "accept" => Ok(Self::Accept),
            "transfer" => Ok(Self::Transfer),
            "avoid" => Ok(Self::Avoid),
            _ => Err(Error::BadRequest(format!(
                "treatment `{}` is none of mitigate, accept, transfer, avoid",
                text.chars().take(40).collect::<String>()
            ))),
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mitigate => "mitigate",
            Self::Accept => "accept",
            Self::Transfer => "transfer",
            Self::Avoid => "avoid",
        }
    }
}

/// A new risk, as a caller gives it. Likelihood and impact are signed so that a negative
/// one is named in the refusal rather than lost in parsing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRisk {
    /// the id (default: the next `R-NNN`)
    #[serde(default)]
    pub id: Option<String>,
    /// a short title
    pub title: String,
    /// the asset at risk (a system, a data set)
    pub asset: String,
    /// the threat
    pub threat: String,
    /// 1 (rare) to 5 (almost certain)
    pub likelihood: i64,
    /// 1 (negligible) to 5 (severe)
    pub impact: i64,
    /// who owns it
    pub owner: String,
    /// mitigate, accept, transfer or avoid
    pub treatment: String,
    /// ids of the catalog's controls that treat it
    #[serde(default)]
    pub controls: Vec<String>,
}

/// A change to a risk: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskChange {
    /// a new title
    pub title: Option<String>,
    /// a new asset
    pub asset: Option<String>,
    /// a new threat
    pub threat: Option<String>,
    /// a new likelihood, 1–5
    pub likelihood: Option<i64>,
    /// a new impact, 1–5
    pub impact: Option<i64>,
    /// a new owner
    pub owner: Option<String>,
    /// a new treatment
    pub treatment: Option<String>,
    /// the linked controls, replacing the old list
    pub controls: Option<Vec<String>>,
    /// why it changes
    pub reason: Option<String>,
}

/// A risk as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// its id
    pub id: String,
    /// its title
    pub title: String,
    /// the asset at risk
    pub asset: String,
    /// the threat
    pub threat: String,
    /// 1–5
    pub likelihood: u8,
    /// 1–5
    pub impact: u8,
    /// who owns it
    pub owner: String,
    /// how it is treated
    pub treatment: Treatment,
    /// the linked controls
    pub controls: Vec<String>,
    /// `open` or `closed`
    pub status: &'static str,
    /// when it was added, RFC 3339
    pub added_at: String,
    /// who added it
    pub added_by: String,
    /// when it last changed (added, updated or closed), RFC 3339
    pub changed_at: String,
    /// when it was closed, RFC 3339
    pub closed_at: Option<String>,
    /// why it was closed
    pub close_reason: Option<String>,
    /// the ledger indices of its events, oldest first
    pub events: Vec<u64>,
    /// likelihood × impact
    pub inherent: Score,
    /// recomputed from the linked controls' live status (equal to `inherent` until assessed)
    pub residual: Score,
    /// how each linked control stood when `residual` was computed
    pub linked: Vec<LinkedControl>,
}

impl Risk {
    /// Whether it is open.
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

fn level(field: &str, value: i64) -> Result<u8> {
    match u8::try_from(value) {
        Ok(v @ 1..=5) => Ok(v),
        _ => Err(Error::BadRequest(format!(
            "`{field}` is {value}; it is 1 (lowest) to 5 (highest)"
        ))),
    }
}

/// The linked controls, each known to `catalog` (a request's fault when not), deduplicated.
fn known_controls(catalog: &Catalog, ids: &[String]) -> Result<Vec<String>> {
    if ids.len() > MAX_LINKED {
        return Err(Error::BadRequest(format!(
            "{} linked controls; at most {MAX_LINKED}",
            ids.len()
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let Some(control) = catalog.control(id.trim()) else {
            return Err(Error::BadRequest(format!(
                "no control `{}` in the catalog in force (`evident controls list` shows them); nothing was stored",
                id.trim().chars().take(80).collect::<String>()
            )));
        };
        if !out.contains(&control.id) {
            out.push(control.id.clone());
        }
    }
    Ok(out)
}

fn text_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn text(meta: &Value, field: &str) -> Option<String> {
    meta.get(field).and_then(Value::as_str).map(str::to_string)
}

fn small(meta: &Value, field: &str) -> Option<u8> {
    meta.get(field)
        .and_then(Value::as_u64)
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=5).contains(v))
}

/// Applies a `controls.risk.updated` event's changes.
fn apply(risk: &mut Risk, changes: &Value) {
    if let Some(v) = text(changes, "title") {
        risk.title = v;
    }
    if let Some(v) = text(changes, "asset") {
        risk.asset = v;
    }
    if let Some(v) = text(changes, "threat") {
        risk.threat = v;
    }
    if let Some(v) = small(changes, "likelihood") {
        risk.likelihood = v;
    }
    if let Some(v) = small(changes, "impact") {
        risk.impact = v;
    }
    if let Some(v) = text(changes, "owner") {
        risk.owner = v;
    }
    if let Some(t) = text(changes, "treatment").and_then(|t| Treatment::parse(&t).ok()) {
        risk.treatment = t;
    }
    if changes.get("controls").is_some() {
        risk.controls = text_list(changes.get("controls"));
    }
}

/// The register folded from its events, oldest risk first. A second `added` for an id
/// already added, or a change to an id never added, is ignored: the first one stands.
pub fn fold(events: &[EventRecord]) -> Vec<Risk> {
    let mut risks: BTreeMap<String, Risk> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for e in events {
        let meta = metadata(e);
        let Some(id) = text(meta, "risk_id") else {
            continue;
        };
        let at = received_at(e);
        match action_of(e) {
            RISK_ADDED if !risks.contains_key(&id) => {
                let (Some(likelihood), Some(impact)) =
                    (small(meta, "likelihood"), small(meta, "impact"))
                else {
                    continue;
                };
                let inherent = Score::new(likelihood, impact);
                order.push(id.clone());
                risks.insert(
                    id.clone(),
                    Risk {
                        id,
                        title: text(meta, "title").unwrap_or_default(),
                        asset: text(meta, "asset").unwrap_or_default(),
                        threat: text(meta, "threat").unwrap_or_default(),
                        likelihood,
                        impact,
                        owner: text(meta, "owner").unwrap_or_default(),
                        treatment: text(meta, "treatment")
                            .and_then(|t| Treatment::parse(&t).ok())
                            .unwrap_or(Treatment::Mitigate),
                        controls: text_list(meta.get("controls")),
                        status: "open",
                        added_at: at.clone(),
                        added_by: actor_of(e),
                        changed_at: at,
                        closed_at: None,
                        close_reason: None,
                        events: vec![e.index],
                        inherent,
                        residual: inherent,
                        linked: Vec::new(),
                    },
                );
            }
            RISK_UPDATED => {
                if let Some(risk) = risks.get_mut(&id) {
                    apply(risk, meta.get("changes").unwrap_or(&Value::Null));
                    risk.changed_at = at;
                    risk.events.push(e.index);
                    risk.inherent = Score::new(risk.likelihood, risk.impact);
                    risk.residual = risk.inherent;
                }
            }
            RISK_CLOSED => {
                if let Some(risk) = risks.get_mut(&id) {
                    risk.status = "closed";
                    risk.closed_at = Some(at.clone());
                    risk.close_reason = text(meta, "reason");
                    risk.changed_at = at;
                    risk.events.push(e.index);
                }
            }
            _ => {}
        }
    }
    order.iter().filter_map(|id| risks.remove(id)).collect()
}

/// The next free `R-NNN` id.
fn next_id(risks: &[Risk]) -> String {
    let mut n = risks.len() + 1;
    loop {
        let id = format!("R-{n:03}");
        if !risks.iter().any(|r| r.id == id) {
            return id;
        }
        n += 1;
    }
}

impl Controls<'_> {
    /// The register as the ledger holds it (residual equal to inherent: not assessed).
    fn risks_folded(&self) -> Result<Vec<Risk>> {
        Ok(fold(&read_register(&self.log, RISK_RESOURCE, None)?))
    }

    /// Every risk, oldest first, its residual risk computed from the linked controls'
    /// status as of `now_us`.
    pub fn risks(&self, now_us: i64) -> Result<Vec<Risk>> {
        let mut risks = self.risks_folded()?;
        self.assess(&mut risks, now_us)?;
        Ok(risks)
    }

    /// Computes each risk's residual score from its linked controls' status as of `now_us`.
    pub(crate) fn assess(&self, risks: &mut [Risk], now_us: i64) -> Result<()> {
        if risks.iter().all(|r| r.controls.is_empty()) {
            return Ok(());
        }
        let status = self.status(now_us)?;
        for risk in risks.iter_mut() {
            risk.linked = risk
                .controls
                .iter()
                .map(|id| match status.iter().find(|s| &s.control == id) {
                    Some(s) => linked(s),
                    None => LinkedControl {
                        control: id.clone(),
                        result: "not in the catalog".into(),
                        effective: false,
                        why: "the control is not in the catalog in force".into(),
                    },
                })
                .collect();
            risk.residual = residual(risk.likelihood, risk.impact, &risk.linked);
        }
        Ok(())
    }

    /// One risk, assessed as of `now_us`.
    pub fn risk(&self, id: &str, now_us: i64) -> Result<Risk> {
        check_id("risk", id)?;
        self.risks(now_us)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| not_found(id))
    }

    /// Adds a risk: every field checked, every linked control known to the catalog in force;
    /// one `controls.risk.added` event. Nothing is stored when a check fails.
    pub fn add_risk(&self, new: &NewRisk, actor: &str, now_us: i64) -> Result<Risk> {
        let title = check_text("title", &new.title, true)?;
        let asset = check_text("asset", &new.asset, true)?;
        let threat = check_text("threat", &new.threat, true)?;
        let owner = check_text("owner", &new.owner, true)?;
        let likelihood = level("likelihood", new.likelihood)?;
        let impact = level("impact", new.impact)?;
        let treatment = Treatment::parse(&new.treatment)?;
        let controls = known_controls(&self.catalog()?, &new.controls)?;
        let _one_writer = self.registers_lock()?;
        let existing = self.risks_folded()?;
        let id = match new.id.as_deref().map(str::trim) {
            Some(id) => {
                check_id("risk", id)?;
                if RESERVED_IDS.contains(&id.to_ascii_lowercase().as_str()) {
                    return Err(Error::BadRequest(format!(
                        "`{id}` names a view of the register (`/v1/risks/{id}`); choose another id"
                    )));
                }
                if existing.iter().any(|r| r.id == id) {
                    return Err(Error::Conflict(format!(
                        "the risk {id} already exists (`evident risk update {id}` changes it)"
                    )));
                }
                id.to_string()
            }
            None => next_id(&existing),
        };
        let event = register_event(
            RISK_ADDED,
            RISK_RESOURCE,
            &id,
            actor,
            json!({
                "risk_id": id,
                "title": title,
                "asset": asset,
                "threat": threat,
                "likelihood": likelihood,
                "impact": impact,
                "owner": owner,
                "treatment": treatment.as_str(),
                "controls": controls,
            }),
            Severity::Low,
        );
        self.recorder.append_blocking(vec![event])?;
        drop(_one_writer);
        self.risk(&id, now_us)
    }

    /// Changes an open risk's fields (only those given); one `controls.risk.updated` event
    /// holding the changed fields. A change that changes nothing is refused.
    pub fn update_risk(
        &self,
        id: &str,
        change: &RiskChange,
        actor: &str,
        now_us: i64,
    ) -> Result<Risk> {
        check_id("risk", id)?;
        let mut changes = Map::new();
        for (field, value) in [
            ("title", &change.title),
            ("asset", &change.asset),
            ("threat", &change.threat),
            ("owner", &change.owner),
        ] {
            if let Some(v) = value {
                changes.insert(field.into(), json!(check_text(field, v, true)?));
            }
        }
        if let Some(v) = change.likelihood {
            changes.insert("likelihood".into(), json!(level("likelihood", v)?));
        }
        if let Some(v) = change.impact {
            changes.insert("impact".into(), json!(level("impact", v)?));
        }
        if let Some(t) = &change.treatment {
            changes.insert("treatment".into(), json!(Treatment::parse(t)?.as_str()));
        }
        if let Some(ids) = &change.controls {
            changes.insert(
                "controls".into(),
                json!(known_controls(&self.catalog()?, ids)?),
            );
        }
        if changes.is_empty() {
            return Err(Error::BadRequest(
                "nothing to change: give at least one field (title, asset, threat, likelihood, impact, owner, treatment, controls)".into(),
            ));
        }
        let reason = check_text("reason", change.reason.as_deref().unwrap_or(""), false)?;
        let _one_writer = self.registers_lock()?;
        let risk = self
            .risks_folded()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| not_found(id))?;
        if !risk.is_open() {
            return Err(Error::Conflict(format!(
                "the risk {id} is closed; add a new risk instead"
            )));
        }
        let mut meta = json!({"risk_id": id, "changes": changes});
        if !reason.is_empty() {
            meta["reason"] = json!(reason);
        }
        let event = register_event(RISK_UPDATED, RISK_RESOURCE, id, actor, meta, Severity::Low);
        self.recorder.append_blocking(vec![event])?;
        drop(_one_writer);
        self.risk(id, now_us)
    }

    /// Closes an open risk with a reason; one `controls.risk.closed` event.
    pub fn close_risk(&self, id: &str, reason: &str, actor: &str, now_us: i64) -> Result<Risk> {
        check_id("risk", id)?;
        let reason = check_text("reason", reason, true)?;
        let _one_writer = self.registers_lock()?;
        let risk = self
            .risks_folded()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| not_found(id))?;
        if !risk.is_open() {
            return Err(Error::Conflict(format!(
                "the risk {id} was already closed ({})",
                risk.closed_at.unwrap_or_default()
            )));
        }
        let event = register_event(
            RISK_CLOSED,
            RISK_RESOURCE,
            id,
            actor,
            json!({"risk_id": id, "reason": reason}),
            Severity::Low,
        );
        self.recorder.append_blocking(vec![event])?;
        drop(_one_writer);
        self.risk(id, now_us)
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("no risk `{id}` (`evident risk list` lists them)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_one_to_five() {
        assert_eq!(level("impact", 1).ok(), Some(1));
        assert_eq!(level("impact", 5).ok(), Some(5));
        for bad in [-1, 0, 6, 300] {
            let e = level("impact", bad).err().map(|e| e.to_string());
            assert!(e.is_some_and(|m| m.contains("1 (lowest) to 5")), "{bad}");
        }
    }

    #[test]
    fn treatments_parse() {
        assert_eq!(Treatment::parse(" Accept").ok(), Some(Treatment::Accept));
        assert!(Treatment::parse("ignore").is_err());
    }

    #[test]
    fn the_registers_views_are_no_ids() {
        assert!(RESERVED_IDS.contains(&"export") && RESERVED_IDS.contains(&"report"));
    }

    #[test]
    fn ids_are_numbered_past_those_taken() {
        assert_eq!(next_id(&[]), "R-001");
    }
}
