//! The one ledger record of a pseudonymization run (a CLI run or an HTTP request): which
//! domain, key version, columns and modes, how many rows and values — never a value or a
//! pseudonym.

use evident_core::event::{system_event, Severity};
use evident_core::AuditEvent;

use super::normalize::Normalization;

/// The action of the record.
pub const ACTION: &str = "evident.privacy.pseudonymized";

/// One pseudonymized column (or the values of an HTTP request) and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRecord {
    /// the column's name (`values` over HTTP)
    pub name: String,
    /// `hmac`, or `fpe:<alphabet>`
    pub mode: String,
}

/// What a run did, as recorded.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// the domain
    pub domain: String,
    /// the key version used
    pub key_version: u32,
    /// the columns and their modes
    pub columns: Vec<ColumnRecord>,
    /// the normalisation applied
    pub normalization: Normalization,
    /// rows read (values over HTTP)
    pub rows: u64,
    /// values pseudonymized
    pub values: u64,
    /// empty or null values left as they were
    pub skipped: u64,
    /// `cli` or `http`
    pub via: &'static str,
    /// who asked (operator, `apikey:ID`, `oidc:SUB`)
    pub requested_by: String,
}

impl RunRecord {
    /// The ledger event: action [`ACTION`], resource `pseudonym_domain::<domain>`, counts only.
    pub fn event(&self) -> AuditEvent {
        let columns: Vec<serde_json::Value> = self
            .columns
            .iter()
            .map(|c| serde_json::json!({"name": c.name, "mode": c.mode}))
            .collect();
        let mut event = system_event(
            ACTION,
            "pseudonym_domain",
            Some(&self.domain),
            serde_json::json!({
                "domain": self.domain,
                "key": format!("{}{}", super::key::KEY_PREFIX, self.domain),
                "key_version": self.key_version,
                "columns": columns,
                "normalization": self.normalization.names(),
                "rows": self.rows,
                "values": self.values,
                "skipped": self.skipped,
                "via": self.via,
                "requested_by": self.requested_by,
            }),
        );
        event.severity = Some(Severity::Low);
        event
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    #[test]
    fn the_record_carries_counts_not_values() {
        let record = RunRecord {
            domain: "patients".into(),
            key_version: 2,
            columns: vec![ColumnRecord {
                name: "mrn".into(),
                mode: "fpe:digits".into(),
            }],
            normalization: Normalization::EMAIL,
            rows: 10,
            values: 9,
            skipped: 1,
            via: "cli",
            requested_by: "ops".into(),
        };
        let event = record.event();
        assert_eq!(event.action, ACTION);
        let meta = serde_json::Value::Object(event.metadata.unwrap());
        assert_eq!(meta["key"], "pseudonym.patients");
        assert_eq!(meta["key_version"], 2);
        assert_eq!(meta["values"], 9);
        assert_eq!(meta["columns"][0]["mode"], "fpe:digits");
        assert_eq!(meta["normalization"][1], "lowercase");
    }
}
