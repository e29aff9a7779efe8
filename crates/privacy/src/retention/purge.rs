//! One system's retention purge: for every mapped table with a `retention_from` column, the
//! rows whose anchor lies before the cutoff (`now` less the table's period), each with the
//! subject its join path leads to; rows of a held subject, and every row of a held table,
//! are held back; the others are deleted (`erasure = "delete_row"`) or anonymized by each
//! field's erasure strategy (the row stays). One transaction per system, children first; a
//! dry run computes everything and rolls back. The statements that update and delete a row,
//! the schema check and the strategies are the data-subject requests' own ([`crate::dsr`]).

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::datamap::introspect::quote;
use crate::datamap::{Erasure, Link, RowErasure, System, Table};
use crate::dsr::db::{self, Db, Value};
use crate::dsr::keys::ErasureKeys;
use crate::dsr::plan::{plan, TablePlan};
use crate::dsr::strategy::{self, Cell};
use crate::holds::Hold;
use crate::{Error, Result};

use super::cutoff::{cutoff_text, cutoff_us};

/// The legal holds a purge respects.
pub struct HeldBy<'a> {
    /// the holds in force at the purge's `now`
    pub holds: &'a [Hold],
    /// a subject's keyed name, as holds record it (`subject.<hex>`)
    pub subject_key: &'a dyn Fn(&str) -> String,
}

/// One table's part of a purge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TablePurge {
    /// the table
    pub table: String,
    /// its retention period, as the map writes it
    pub period: String,
    /// the column the period runs from
    pub retention_from: Option<String>,
    /// `delete` (the table's erasure is `delete_row`) or `anonymize` (each field's strategy)
    pub action: &'static str,
    /// the cutoff, as compared with the column (rows before it are past their period)
    pub cutoff: Option<String>,
    /// `purged`, `would_purge` (dry run), `held` (a hold covers the table) or
    /// `not_purgeable` (no `retention_from`, or a column that holds no date)
    pub status: &'static str,
    /// why a table is not purgeable
    pub reason: Option<String>,
    /// rows past their period
    pub past: u64,
    /// of those, rows held back by legal holds
    pub held: u64,
    /// rows deleted or changed (would be, in a dry run); anonymized rows already erased by an
    /// earlier run are not counted
    pub changed: u64,
    /// the holds that held rows back
    pub holds: Vec<String>,
    /// `sha256:` over the primary keys of the changed rows, in key order (one line each, key
    /// columns joined by `|`); none when nothing changed
    pub digest: Option<String>,
}

/// One system's purge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemPurge {
    /// the system
    pub system: String,
    /// nothing was written
    pub dry_run: bool,
    /// per table, children first
    pub tables: Vec<TablePurge>,
    /// rows changed in all
    pub changed: u64,
    /// rows held back in all
    pub held: u64,
}

fn fail(system: &System, e: Error) -> Error {
    match e {
        Error::Database { .. } => e,
        other => Error::Database {
            system: system.name.clone(),
            message: other.to_string(),
        },
    }
}

/// Purges `system` as of `now_us` (a dry run writes nothing). Any failure rolls the whole
/// system back and is answered as an error that names it.
pub fn purge_system(
    system: &System,
    held_by: &HeldBy<'_>,
    keys: &dyn ErasureKeys,
    now_us: i64,
    dry_run: bool,
) -> Result<SystemPurge> {
    let mut db = db::open(system)?;
    db.begin()?;
    match purge_in(db.as_mut(), system, held_by, keys, now_us, dry_run) {
        Ok(report) if !dry_run => {
            db.commit().map_err(|e| fail(system, e))?;
            Ok(report)
        }
        Ok(report) => {
            db.rollback()?;
            Ok(report)
        }
        Err(e) => {
            let _ = db.rollback();
            Err(fail(system, e))
        }
    }
}

/// The statement reading a table's rows past the cutoff (parameter 1): primary key, fields,
/// then the subject id at the end of the join path (NULL for an orphan row).
fn select_past(
    db: &dyn Db,
    system: &System,
    tp: &TablePlan<'_>,
    from: &str,
    ty: &str,
) -> Result<String> {
    let table = tp.table;
    let mut columns: Vec<String> = table
        .primary_key
        .iter()
        .chain(table.fields.iter().map(|f| &f.name))
        .map(|c| format!("CAST(t0.{} AS text)", quote(c)))
        .collect();
    let mut joins = String::new();
    let mut current: &Table = table;
    let mut alias = 0usize;
    loop {
        match &current.link {
            Link::Identity { column } => {
                columns.push(format!("CAST(t{alias}.{} AS text)", quote(column)));
                break;
            }
            Link::Join {
                column,
                parent,
                parent_column,
            } => {
                let next = system.table(parent).ok_or_else(|| {
                    Error::BadRequest(format!(
                        "system `{}`: table `{}` joins to `{parent}`, which is not mapped",
                        system.name, current.name
                    ))
                })?;
                if alias > system.tables.len() {
                    return Err(Error::BadRequest(format!(
                        "system `{}`: the joins from `{}` form a cycle",
                        system.name, table.name
                    )));
                }
                joins.push_str(&format!(
                    " LEFT JOIN {} AS t{} ON t{alias}.{} = t{}.{}",
                    db.table(parent),
                    alias + 1,
                    quote(column),
                    alias + 1,
                    quote(parent_column)
                ));
                alias += 1;
                current = next;
            }
        }
    }
    Ok(format!(
        "SELECT {} FROM {} AS t0{joins} WHERE t0.{} < {} ORDER BY {}",
        columns.join(", "),
        db.table(&table.name),
        quote(from),
        db.param(1, ty),
        table
            .primary_key
            .iter()
            .map(|k| format!("t0.{}", quote(k)))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn row_key(keys_n: usize, row: &[Value]) -> String {
    row[..keys_n]
        .iter()
        .map(|v| v.as_deref().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("|")
}

fn purge_in(
    db: &mut dyn Db,
    system: &System,
    held_by: &HeldBy<'_>,
    keys: &dyn ErasureKeys,
    now_us: i64,
    dry_run: bool,
) -> Result<SystemPurge> {
    let live = db.columns()?;
    let plan = plan(db, system, &live)?;
    let mut report = SystemPurge {
        system: system.name.clone(),
        dry_run,
        tables: Vec::new(),
        changed: 0,
        held: 0,
    };
    for tp in &plan.tables {
        let table = tp.table;
        let mut out = TablePurge {
            table: table.name.clone(),
            period: table.retention.to_string(),
            retention_from: table.retention_from.clone(),
            action: match table.erasure {
                RowErasure::DeleteRow => "delete",
                RowErasure::Fields => "anonymize",
            },
            cutoff: None,
            status: if dry_run { "would_purge" } else { "purged" },
            reason: None,
            past: 0,
            held: 0,
            changed: 0,
            holds: Vec::new(),
            digest: None,
        };
        let Some(from) = &table.retention_from else {
            out.status = "not_purgeable";
            out.reason = Some(
                "no `retention_from` column in the data map: the age of its rows is unknown".into(),
            );
            report.tables.push(out);
            continue;
        };
        let ty = live
            .get(&table.name)
            .and_then(|c| c.get(from))
            .cloned()
            .unwrap_or_default();
        let cutoff = match cutoff_text(cutoff_us(now_us, &table.retention), &ty) {
            Ok(c) => c,
            Err(reason) => {
                out.status = "not_purgeable";
                out.reason = Some(reason);
                report.tables.push(out);
                continue;
            }
        };
        out.cutoff = Some(cutoff.clone());
        let rows = db.query(&select_past(db, system, tp, from, &ty)?, &[Some(cutoff)])?;
        out.past = rows.len() as u64;
        let table_holds: Vec<&Hold> = held_by
            .holds
            .iter()
            .filter(|h| h.covers_dataset(&system.name, &table.name))
            .collect();
        let mut hold_ids: BTreeSet<String> = BTreeSet::new();
        if !table_holds.is_empty() {
            out.status = "held";
            out.held = out.past;
            if out.past > 0 {
                hold_ids.extend(table_holds.iter().map(|h| h.hold_id.clone()));
            }
            out.holds = hold_ids.into_iter().collect();
            report.held += out.held;
            report.tables.push(out);
            continue;
        }
        let keys_n = table.primary_key.len();
        let subject_at = keys_n + table.fields.len();
        let mut digest = Sha256::new();
        for row in &rows {
            let subject = row[subject_at].clone();
            if let Some(s) = &subject {
                if !held_by.holds.is_empty() {
                    let key = (held_by.subject_key)(s);
                    let by: Vec<&Hold> = held_by
                        .holds
                        .iter()
                        .filter(|h| h.subject_keys.contains(&key))
                        .collect();
                    if !by.is_empty() {
                        out.held += 1;
                        hold_ids.extend(by.iter().map(|h| h.hold_id.clone()));
                        continue;
                    }
                }
            }
            let key: Vec<Value> = row[..keys_n].to_vec();
            let row_id = row_key(keys_n, row);
            if table.erasure == RowErasure::DeleteRow {
                if !dry_run {
                    db.execute(&tp.delete(db), &key)?;
                }
                out.changed += 1;
                digest.update(row_id.as_bytes());
                digest.update(b"\n");
                continue;
            }
            let mut changed = Vec::new();
            let mut values = Vec::new();
            for (i, field) in table.fields.iter().enumerate() {
                let cell = Cell {
                    system: &system.name,
                    table: &table.name,
                    row: &row_id,
                    ty: &tp.field_types[i],
                };
                let current = &row[keys_n + i];
                let new = if dry_run && !matches!(field.erasure, Erasure::Random) {
                    // A dry run seals and hashes nothing: it only asks whether a value is left.
                    (!strategy::is_erased(field, current, &cell, keys)?).then_some(None)
                } else {
                    strategy::target(
                        field,
                        current,
                        &cell,
                        subject.as_deref().unwrap_or(""),
                        keys,
                    )?
                };
                if let Some(value) = new {
                    changed.push(i);
                    values.push(value);
                }
            }
            if !changed.is_empty() {
                if !dry_run {
                    values.extend(key);
                    db.execute(&tp.update(db, &changed), &values)?;
                }
                out.changed += 1;
                digest.update(row_id.as_bytes());
                digest.update(b"\n");
            }
        }
        if out.changed > 0 {
            out.digest = Some(format!("sha256:{}", hex::encode(digest.finalize())));
        }
        out.holds = hold_ids.into_iter().collect();
        report.changed += out.changed;
        report.held += out.held;
        report.tables.push(out);
    }
    Ok(report)
}
