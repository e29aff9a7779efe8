//! Running checks now: each selected control's check reads the live engine, every run
//! becomes one `controls.check` ledger event (all of a run's events in one batch), and then
//! each control's status in the store moves on. Nothing is appended when the selection is
//! wrong (an unknown control, a manual one named explicitly).

use serde::Serialize;
use serde_json::{json, Value};

use evident_core::event::{format_time, now_us, system_event, Outcome as EventOutcome, Severity};
use evident_core::{Error, Result};

use crate::catalog::{Catalog, Control};
use crate::checks::{self, CheckContext, Outcome, Verdict};
use crate::names::{CHECK_ACTION, CONTROL_RESOURCE};
use crate::state::Controls;
use crate::status::advance;

/// Observed values larger than this (encoded) are replaced by their keys, so a run's event
/// stays under the ledger's entry size limit.
const MAX_OBSERVED_BYTES: usize = 40_000;

/// One check run, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    /// the control
    pub control: String,
    /// its title
    pub title: String,
    /// the check that ran
    pub check: String,
    /// the check's version (its code identity and settings)
    pub check_version: String,
    /// what it found
    #[serde(flatten)]
    pub outcome: Outcome,
    /// the ledger index of the run's event
    pub index: u64,
    /// when it ran, RFC 3339
    pub checked_at: String,
}

/// The controls `ids` names (every control with a check when empty), or why not.
pub fn select<'c>(catalog: &'c Catalog, ids: &[String]) -> Result<Vec<&'c Control>> {
    if ids.is_empty() {
        return Ok(catalog
            .controls
            .iter()
            .filter(|c| c.check.is_some())
            .collect());
    }
    let mut chosen: Vec<&Control> = Vec::new();
    for id in ids {
        let control = catalog.known(id)?;
        if control.check.is_none() {
            return Err(Error::BadRequest(format!(
                "`{id}` is a manual control: it has no automated check (its evidence is an attested artifact)"
            )));
        }
        if !chosen.iter().any(|c| c.id == control.id) {
            chosen.push(control);
        }
    }
    Ok(chosen)
}

impl Controls<'_> {
    /// Runs the checks of the controls `ids` names (all automated and partly automated ones
    /// when empty), records each run in the ledger and the store, and answers the runs.
    pub fn check(&self, ids: &[String], actor: &str) -> Result<Vec<CheckRun>> {
        let catalog = self.catalog()?;
        let chosen = select(&catalog, ids)?;
        let _running = self
            .state
            .running
            .lock()
            .map_err(|_| Error::Integrity("a check run panicked while recording".into()))?;
        let now = now_us();
        let cx = CheckContext {
            recorder: self.recorder,
            access: &self.access,
            log: &self.log,
            host: &self.host,
            catalog: &catalog,
            now_us: now,
        };
        let mut runs = Vec::with_capacity(chosen.len());
        let mut events = Vec::with_capacity(chosen.len());
        for control in chosen {
            let name = control.check.as_deref().unwrap_or_default();
            let def = checks::find(name)
                .ok_or_else(|| Error::Integrity(format!("the check `{name}` vanished")))?;
            let version = def.version(&control.params);
            let outcome = checks::run(def, &cx, &control.params);
            events.push(run_event(&catalog, control, &version, &outcome, actor));
            runs.push(CheckRun {
                control: control.id.clone(),
                title: control.title.clone(),
                check: def.name.to_string(),
                check_version: version,
                outcome,
                index: 0,
                checked_at: format_time(now),
            });
        }
        if events.is_empty() {
            return Ok(runs);
        }
        let receipt = self.recorder.append_blocking(events)?;
        let mut store = self.recorder.connect_store()?;
        for (run, r) in runs.iter_mut().zip(&receipt.receipts) {
            run.index = r.index;
            advance(
                &mut *store,
                &run.control,
                run.outcome.verdict,
                now,
                r.index,
                &run.check_version,
            )?;
        }
        self.open_incidents_for(&runs, now);
        Ok(runs)
    }
}

/// The `controls.check` event of one run of `control`'s check with `outcome`, as
/// [`Controls::check`] records it (benchmarks and tests build runs of chosen times with it).
pub fn run_event(
    catalog: &Catalog,
    control: &Control,
    version: &str,
    outcome: &Outcome,
    actor: &str,
) -> evident_core::AuditEvent {
    let check = control.check.as_deref().unwrap_or_default();
    let mut observed = Value::Object(outcome.observed.clone());
    if serde_json::to_vec(&observed).map_or(0, |b| b.len()) > MAX_OBSERVED_BYTES {
        observed = json!({
            "truncated": "the observed values were over the ledger's entry size limit",
            "keys": outcome.observed.keys().collect::<Vec<_>>(),
        });
    }
    let mut event = system_event(
        CHECK_ACTION,
        CONTROL_RESOURCE,
        Some(&control.id),
        json!({
            "control": control.id,
            "title": control.title,
            "check": check,
            "check_version": version,
            "result": outcome.verdict.as_str(),
            "reason": outcome.reason,
            "remedy": outcome.remedy,
            "observed": observed,
            "evidence": outcome.evidence,
            "cadence": control.cadence.to_string(),
            "catalog": catalog.hash,
            "frameworks": control.frameworks,
            "requested_by": actor,
        }),
    );
    event.reason = Some(outcome.reason.chars().take(400).collect());
    let (result, severity) = match outcome.verdict {
        Verdict::Pass => (EventOutcome::Success, Severity::Info),
        Verdict::Fail => (EventOutcome::Failure, Severity::High),
        Verdict::Error => (EventOutcome::Error, Severity::Medium),
        Verdict::Inconclusive => (EventOutcome::Unknown, Severity::Low),
    };
    event.outcome = result;
    event.severity = Some(severity);
    event
}

/// The reason the `log.integrity` check gives when the log itself does not verify.
const TAMPER_REASON: &str = "the log does not verify";

impl Controls<'_> {
    /// Opens an incident for a run that found the log tampered with (unless one is open for
    /// that already). The run stands whatever happens here: a failure is logged, not raised.
    fn open_incidents_for(&self, runs: &[CheckRun], now_us: i64) {
        for run in runs.iter().filter(|r| {
            r.check == "log.integrity"
                && r.outcome.verdict == Verdict::Fail
                && r.outcome.reason.starts_with(TAMPER_REASON)
        }) {
            match self.open_tamper_incident(&run.outcome.reason, now_us) {
                Ok(Some(incident)) => tracing::error!(
                    target: "evident::controls",
                    incident = %incident.id,
                    control = %run.control,
                    "the log does not verify: incident opened"
                ),
                Ok(None) => {}
                Err(e) => tracing::error!(
                    target: "evident::controls",
                    error = %e,
                    "the log does not verify, and no incident could be opened for it"
                ),
            }
        }
    }
}
