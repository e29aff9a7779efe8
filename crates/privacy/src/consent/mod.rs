//! Consent records (GDPR Art. 6–7): grants, withdrawals and Global Privacy Control opt-outs of
//! a data subject for a purpose, each one ledger event (`evident.consent.granted` or
//! `evident.consent.withdrawn`) whose subject is a personal field, so that erasing the
//! subject leaves only commitments; and beside it a row in the store's consent table
//! ([`ConsentRecord`]) under the event's ledger index, so the current state is one indexed
//! read and the history comes with inclusion proofs.
//!
//! Withdrawal takes exactly the inputs a grant takes ([`ConsentChange`]). A grant past its
//! expiry reads as not granted. The store keeps the subject's erasure key (the redaction's
//! keyed hash for a value the ledger never stores in clear, else the id itself), the same key
//! erasure deletes by, so erasing the subject removes their consent rows too.
//!
//! Bulk import of existing consent lives in [`import`]; restoring rows a crash left unwritten,
//! in `repair` ([`Consent::repair`], run when the engine opens).

pub mod import;
mod json;
pub(crate) mod model;
pub mod repair;

use serde_json::{json, Value};

use evident_core::event::{format_time, now_us, system_event, Severity};
use evident_core::log::{InclusionProof, Log};
use evident_core::store::ConsentRecord;
use evident_core::{AuditEvent, Error, Result};
use evident_crypto::host::KeyHost;

pub use json::{record_json, report_json};
pub use model::{notice_hash, ConsentChange, LawfulBasis, DEFAULT_GPC_PURPOSES};

/// One purpose's current state as answered to a caller (the subject as the caller named it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentState {
    /// the change that holds
    pub record: ConsentRecord,
    /// granted and not expired now
    pub in_force: bool,
}

/// One change of a subject and purpose with its inclusion proof in the log.
#[derive(Debug, Clone)]
pub struct ProvenChange {
    /// the change
    pub record: ConsentRecord,
    /// its event's inclusion proof against the latest checkpoint
    pub proof: InclusionProof,
}

/// The consent part over one engine.
#[derive(Clone, Copy)]
pub struct Consent<'e> {
    engine: KeyHost<'e>,
}

impl<'e> Consent<'e> {
    /// The consent part of the engine behind `engine`.
    pub fn new(engine: KeyHost<'e>) -> Self {
        Consent { engine }
    }

    /// Records that `change.subject` grants `change.purpose`.
    pub fn grant(&self, change: &ConsentChange, actor: &str) -> Result<ConsentRecord> {
        self.record(change, true, actor)
    }

    /// Records that `change.subject` withdraws `change.purpose`: the same inputs as a grant.
    pub fn withdraw(&self, change: &ConsentChange, actor: &str) -> Result<ConsentRecord> {
        self.record(change, false, actor)
    }

    /// Records a Global Privacy Control signal (`Sec-GPC: 1`) as an opt-out of each of
    /// `purposes` (default [`DEFAULT_GPC_PURPOSES`]), source `gpc`, in one batch.
    pub fn gpc_opt_out(
        &self,
        subject: &str,
        purposes: Option<&[String]>,
        actor: &str,
    ) -> Result<Vec<ConsentRecord>> {
        let defaults: Vec<String> = DEFAULT_GPC_PURPOSES.iter().map(|p| p.to_string()).collect();
        let purposes = purposes.unwrap_or(&defaults);
        if purposes.is_empty() {
            return Err(Error::BadRequest(
                "a GPC opt-out needs at least one purpose".into(),
            ));
        }
        let changes: Vec<(ConsentChange, bool)> = purposes
            .iter()
            .map(|purpose| {
                let change = ConsentChange {
                    subject: subject.to_string(),
                    purpose: purpose.clone(),
                    basis: LawfulBasis::Consent,
                    source: "gpc".into(),
                    notice_hash: None,
                    at_us: None,
                    expires_us: None,
                };
                (change, false)
            })
            .collect();
        self.record_all(&changes, actor)
    }

    /// Records one change.
    pub fn record(
        &self,
        change: &ConsentChange,
        granted: bool,
        actor: &str,
    ) -> Result<ConsentRecord> {
        let mut stored = self.record_all(&[(change.clone(), granted)], actor)?;
        stored
            .pop()
            .ok_or_else(|| Error::Integrity("a consent change was not recorded".into()))
    }

    /// Records changes (each granted or not) in one ledger batch, then their rows; every
    /// change is checked first, so one bad change records none.
    pub fn record_all(
        &self,
        changes: &[(ConsentChange, bool)],
        actor: &str,
    ) -> Result<Vec<ConsentRecord>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_us();
        let redaction = self.engine.redaction();
        let mut rows = Vec::with_capacity(changes.len());
        let mut events = Vec::with_capacity(changes.len());
        for (change, granted) in changes {
            change.validate(*granted)?;
            let row = ConsentRecord {
                subject: redaction.subject(&change.subject),
                purpose: change.purpose.clone(),
                granted: *granted,
                basis: change.basis.as_str().into(),
                source: change.source.clone(),
                notice_hash: change.notice_hash.clone().unwrap_or_default(),
                at_us: change.at_us.unwrap_or(now),
                expires_us: change.expires_us,
                index: 0,
            };
            events.push(consent_event(change, &row, actor));
            rows.push(row);
        }
        let receipt = self.engine.append_blocking(events)?;
        let mut store = self.engine.connect_store()?;
        for (row, r) in rows.iter_mut().zip(&receipt.receipts) {
            row.index = r.index;
            store.put_consent(row)?;
        }
        Ok(rows)
    }

    /// The current state of every purpose of `subject`, by purpose.
    pub fn current(&self, subject: &str) -> Result<Vec<ConsentState>> {
        let key = self.key(subject)?;
        let now = now_us();
        let rows = self.engine.pooled_store()?.consents_of(&key)?;
        Ok(rows
            .into_iter()
            .map(|record| ConsentState {
                in_force: record.in_force(now),
                record,
            })
            .collect())
    }

    /// Whether `subject` consents to `purpose` now (granted, not withdrawn, not expired).
    pub fn is_granted(&self, subject: &str, purpose: &str) -> Result<bool> {
        let key = self.key(subject)?;
        let row = self.engine.pooled_store()?.consent(&key, purpose)?;
        Ok(row.is_some_and(|r| r.in_force(now_us())))
    }

    /// Every change of `subject` and `purpose`, oldest first, each with its inclusion proof
    /// against the latest checkpoint of `log` (the engine's log).
    pub fn history(
        &self,
        log: &Log<'_>,
        subject: &str,
        purpose: &str,
    ) -> Result<Vec<ProvenChange>> {
        let key = self.key(subject)?;
        model::check_purpose(purpose)?;
        let rows = self.engine.pooled_store()?.consent_history(&key, purpose)?;
        let size = log.checkpoint().map(|c| c.checkpoint.size);
        rows.into_iter()
            .map(|record| {
                let proof = log.inclusion_proof(record.index, size)?;
                Ok(ProvenChange { record, proof })
            })
            .collect()
    }

    fn key(&self, subject: &str) -> Result<String> {
        model::check_subject(subject)?;
        Ok(self.engine.redaction().subject(subject))
    }
}

/// The ledger event of one change: the subject only as a personal field (erasable), the
/// purpose as the resource id.
fn consent_event(change: &ConsentChange, row: &ConsentRecord, actor: &str) -> AuditEvent {
    let action = if row.granted {
        "evident.consent.granted"
    } else {
        "evident.consent.withdrawn"
    };
    let mut event = system_event(
        action,
        "consent",
        Some(&row.purpose),
        json!({
            "subject": change.subject,
            "purpose": row.purpose,
            "basis": row.basis,
            "source": row.source,
            "notice_hash": (!row.notice_hash.is_empty()).then_some(&row.notice_hash),
            "expires_at": row.expires_us.map(format_time),
            "recorded_by": actor,
        }),
    );
    if let Some(Value::Object(meta)) = event.metadata.as_mut().map(|m| Value::Object(m.clone())) {
        // Absent optional fields are left out rather than stored as null.
        event.metadata = Some(meta.into_iter().filter(|(_, v)| !v.is_null()).collect());
    }
    event.time = Some(format_time(row.at_us));
    event.severity = Some(Severity::Info);
    event.data_subject = Some(change.subject.clone());
    event.personal = vec!["/metadata/subject".into()];
    event
}
