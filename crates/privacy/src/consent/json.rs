//! The JSON shapes of consent records and import reports, written once so that the CLI's
//! `--json` output and the HTTP API answer the same documents.

use serde_json::{json, Value};

use evident_core::event::format_time;
use evident_core::store::ConsentRecord;

use super::import::ImportReport;

/// One consent record as JSON, with whether it is in force at the time of asking.
pub fn record_json(r: &ConsentRecord, in_force: bool) -> Value {
    json!({
        "purpose": r.purpose,
        "granted": r.granted,
        "in_force": in_force,
        "basis": r.basis,
        "source": r.source,
        "notice_hash": (!r.notice_hash.is_empty()).then_some(&r.notice_hash),
        "at": format_time(r.at_us),
        "expires_at": r.expires_us.map(format_time),
        "index": r.index,
    })
}

/// An import report as JSON: counts and each refused row's line, field and reason.
pub fn report_json(report: &ImportReport) -> Value {
    json!({
        "rows": report.rows,
        "recorded": report.recorded,
        "refused": report.refused,
        "errors": report.errors.iter().map(|e| json!({
            "line": e.line, "field": e.field, "message": e.message
        })).collect::<Vec<_>>(),
    })
}
