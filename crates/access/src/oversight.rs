//! Oversight of access, each step in the ledger: an access review of the active pack (the
//! report comes from [`crate::review`]; the ledger holds its hash), and the break-glass
//! review queue, where a second person closes each emergency access as approved or a
//! violation.

use serde_json::json;

use crate::review;
use crate::state::Access;
use evident_core::event::{now_us, system_event, PolicyRef, Severity};
use evident_core::store::BreakGlassRecord;
use evident_core::{Error, Result};

impl Access<'_> {
    /// Runs an access review of the active pack; the run is logged with the report's hash.
    pub fn review(&self, actor: &str) -> Result<review::Report> {
        use sha2::Digest as _;
        let pack = self.require_active()?;
        let report = review::review(&pack, now_us() / 1_000_000)?;
        let json = serde_json::to_value(&report)
            .map_err(|e| Error::Integrity(format!("encoding the review: {e}")))?;
        let digest = sha2::Sha256::digest(evident_core::canonical::to_vec(&json));
        let mut event = system_event(
            "access.review.generated",
            "policy_set",
            Some(&format!("v{}", pack.version)),
            json!({
                "requested_by": actor,
                "report_sha256": hex::encode(digest),
                "type_rows": report.by_type.len(),
                "regulated_rows": report.regulated.len(),
                "evaluations": report.evaluations,
            }),
        );
        event.policy = Some(PolicyRef {
            id: Some(format!("v{}", pack.version)),
            version: Some(pack.hash.clone()),
        });
        self.recorder.append_blocking(vec![event])?;
        Ok(report)
    }

    /// Break-glass reviews (only open ones if `open_only`).
    pub fn break_glass(&self, open_only: bool) -> Result<Vec<BreakGlassRecord>> {
        self.recorder.connect_store()?.break_glass(open_only)
    }

    /// Closes a break-glass review. The reviewer must be a second person: not the one who
    /// broke the glass. Logged.
    pub fn review_break_glass(
        &self,
        id: &str,
        reviewer: &str,
        outcome: &str,
        note: &str,
    ) -> Result<BreakGlassRecord> {
        if !matches!(outcome, "approved" | "violation") {
            return Err(Error::BadRequest(format!(
                "the outcome must be `approved` or `violation`, got `{outcome}`"
            )));
        }
        if note.trim().is_empty() {
            return Err(Error::BadRequest("a review needs a note".into()));
        }
        let mut store = self.recorder.connect_store()?;
        let record = store
            .break_glass(false)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::NotFound(format!("no break-glass review `{id}`")))?;
        if record.closed_us.is_some() {
            return Err(Error::Conflict(format!(
                "the review `{id}` was already closed by {}",
                record.reviewer.as_deref().unwrap_or("?")
            )));
        }
        let subject_id = record
            .subject
            .split_once("::")
            .map(|(_, id)| id.trim_matches('"'))
            .unwrap_or(&record.subject);
        if reviewer == subject_id || reviewer == record.subject {
            return Err(Error::BadRequest(
                "a break-glass access must be reviewed by a second person, not the one who used it"
                    .into(),
            ));
        }
        let mut event = system_event(
            "access.break_glass.reviewed",
            "break_glass_review",
            Some(id),
            json!({
                "decision_id": record.decision_id,
                "reviewer": reviewer,
                "outcome": outcome,
                "note": note,
                "subject": record.subject,
                "resource": record.resource,
            }),
        );
        event.severity = Some(if outcome == "violation" {
            Severity::High
        } else {
            Severity::Medium
        });
        event.personal = vec!["/metadata/note".into(), "/metadata/subject".into()];
        event.data_subject = Some(subject_id.to_string());
        self.recorder.append_blocking(vec![event])?;
        let at = now_us();
        // Kept beside the ledger, so masked as the event's copy is.
        let note = self.recorder.redaction().text(note);
        if !store.close_break_glass(id, reviewer, outcome, &note, at)? {
            return Err(Error::BadRequest(format!(
                "the review `{id}` was closed by someone else meanwhile"
            )));
        }
        Ok(BreakGlassRecord {
            reviewer: Some(reviewer.into()),
            outcome: Some(outcome.into()),
            note: Some(note),
            closed_us: Some(at),
            ..record
        })
    }
}
