//! A subject's data as handed to them (GDPR Art. 15 access, Art. 20 portability): one JSON
//! document (systems → tables → rows as objects) and one CSV in long form
//! (`system,table,row,column,value`), which any spreadsheet opens.

use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use super::connector::TableRows;

/// One system's part of an export.
#[derive(Debug, Clone, Serialize)]
pub struct SystemExport {
    /// the system
    pub system: String,
    /// its tables, identity table first
    pub tables: Vec<TableRows>,
}

/// The JSON document: `{"format": 1, "systems": [{"system", "tables": [{"table", "rows": [{column: value}]}]}]}`.
pub fn to_json(systems: &[SystemExport]) -> Json {
    json!({
        "format": 1,
        "systems": systems.iter().map(|s| json!({
            "system": s.system,
            "tables": s.tables.iter().map(|t| json!({
                "table": t.table,
                "rows": t.rows.iter().map(|r| {
                    let mut object = Map::new();
                    for (c, v) in t.columns.iter().zip(r) {
                        object.insert(c.clone(), v.clone().map_or(Json::Null, Json::String));
                    }
                    Json::Object(object)
                }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The CSV: a header, then one line per value; `row` counts from 1 within its table, an SQL
/// NULL is an empty field.
pub fn to_csv(systems: &[SystemExport]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut write = || -> csv::Result<()> {
        out.write_record(["system", "table", "row", "column", "value"])?;
        for s in systems {
            for t in &s.tables {
                for (n, r) in t.rows.iter().enumerate() {
                    let row = (n + 1).to_string();
                    for (c, v) in t.columns.iter().zip(r) {
                        out.write_record([
                            s.system.as_str(),
                            t.table.as_str(),
                            row.as_str(),
                            c.as_str(),
                            v.as_deref().unwrap_or(""),
                        ])?;
                    }
                }
            }
        }
        Ok(())
    };
    // Writing to memory fails only on a bug; an empty document is then answered.
    if write().is_err() {
        return String::new();
    }
    out.into_inner()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
