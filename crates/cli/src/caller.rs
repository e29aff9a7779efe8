//! Who a verb acts as, and in what context: the actor name the command line records in the
//! ledger, and the access-policy context `--access-context` gives a decision.

use anyhow::{Context, Result};
use serde_json::{Map, Value};

/// The actor of the ledger events a verb causes: `cli:$USER`.
pub fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Parses `--access-context`: a JSON object, or nothing.
pub fn access_context(text: Option<&str>) -> Result<Option<Map<String, Value>>> {
    text.map(serde_json::from_str)
        .transpose()
        .context("--access-context must be a JSON object")
}
