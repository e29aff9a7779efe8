//! One system's side of a request for one subject: find the subject's rows in every mapped
//! table, export them, or erase them — all inside one transaction per system, rolled back on
//! any failure so a failed system is untouched. An erasure may be a dry run (everything is
//! computed, nothing written); after a real one, a verification read runs the same joins
//! again and checks that no personal value is left (fields with `keep` aside).

use serde::Serialize;

use crate::datamap::{RowErasure, System};
use crate::{Error, Result};

use super::db::{self, Db, Value};
use super::keys::ErasureKeys;
use super::plan::{plan, Plan, TablePlan};
use super::strategy::{self, Cell};

/// One table's rows of the subject, as read.
#[derive(Debug, Clone, Serialize)]
pub struct TableRows {
    /// the table
    pub table: String,
    /// the column names: the primary key's, then the exported fields'
    pub columns: Vec<String>,
    /// the rows, values as text (`null` for SQL NULL)
    pub rows: Vec<Vec<Value>>,
}

/// What a field's erasure did (or, in a dry run, would do) in one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// the column
    pub field: String,
    /// its strategy
    pub strategy: &'static str,
    /// rows whose value changed (would change)
    pub rows: u64,
}

/// One table's part of an erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableErasure {
    /// the table
    pub table: String,
    /// `fields` or `delete_row`
    pub erasure: &'static str,
    /// the subject's rows found
    pub found: u64,
    /// rows updated or deleted (would be, in a dry run)
    pub changed: u64,
    /// per field, for `fields` tables
    pub fields: Vec<FieldChange>,
}

/// The verification read after an erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// no personal value left
    pub clean: bool,
    /// `table.column` (or `table` for rows that should be gone) with a count, where not
    pub remaining: Vec<String>,
    /// rows the read found, in every table
    pub rows_read: u64,
}

/// One system's erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemErasure {
    /// the system
    pub system: String,
    /// nothing was written
    pub dry_run: bool,
    /// per table, in the order visited (children first)
    pub tables: Vec<TableErasure>,
    /// rows changed in all
    pub changed: u64,
    /// every value was already as erasure leaves it (an earlier run did it): nothing written
    pub already_erased: bool,
    /// the read after a real erasure
    pub verification: Option<Verification>,
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

/// Reads every mapped table's rows of `subject` in `system` (for access and portability):
/// primary-key columns and the fields marked for export.
pub fn export(system: &System, subject: &str) -> Result<Vec<TableRows>> {
    let mut db = db::open(system)?;
    db.begin()?;
    let result = (|| {
        let live = db.columns()?;
        let plan = plan(db.as_ref(), system, &live)?;
        export_in(db.as_mut(), &plan, subject)
    })();
    let _ = db.rollback();
    result.map_err(|e| fail(system, e))
}

fn export_in(db: &mut dyn Db, plan: &Plan<'_>, subject: &str) -> Result<Vec<TableRows>> {
    let found = find(db, plan, subject)?;
    let mut tables = Vec::new();
    for (tp, rows) in plan.tables.iter().zip(found).rev() {
        let keys = tp.table.primary_key.len();
        let keep: Vec<usize> = (0..keys)
            .chain(
                tp.table
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.export)
                    .map(|(i, _)| keys + i),
            )
            .collect();
        let names: Vec<String> = tp
            .table
            .primary_key
            .iter()
            .chain(tp.table.fields.iter().map(|f| &f.name))
            .cloned()
            .collect();
        tables.push(TableRows {
            table: tp.table.name.clone(),
            columns: keep.iter().map(|&i| names[i].clone()).collect(),
            rows: rows
                .into_iter()
                .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
                .collect(),
        });
    }
    Ok(tables)
}

/// One system opened once for many subjects, one after another (a bulk run): one
/// connection, the map checked against the live schema once when opened, its statements
/// prepared once. Each subject's export or erasure is still its own transaction, rolled back
/// on any failure; a schema changed after opening fails the statements that touch it.
pub struct Session<'m> {
    system: &'m System,
    db: Box<dyn Db>,
    plan: Plan<'m>,
}

impl<'m> Session<'m> {
    /// Connects to `system` and checks the map against its schema.
    pub fn open(system: &'m System) -> Result<Self> {
        let mut db = db::open(system)?;
        let planned = (|| {
            db.begin()?;
            let live = db.columns()?;
            let planned = plan(db.as_ref(), system, &live);
            db.rollback()?;
            planned
        })()
        .map_err(|e| fail(system, e))?;
        Ok(Self {
            system,
            db,
            plan: planned,
        })
    }

    /// [`export`] of one subject over this session's connection.
    pub fn export(&mut self, subject: &str) -> Result<Vec<TableRows>> {
        self.db.begin().map_err(|e| fail(self.system, e))?;
        let result = export_in(self.db.as_mut(), &self.plan, subject);
        let _ = self.db.rollback();
        result.map_err(|e| fail(self.system, e))
    }

    /// [`erase`] of one subject over this session's connection, in its own transaction.
    pub fn erase(
        &mut self,
        subject: &str,
        keys: &dyn ErasureKeys,
        dry_run: bool,
    ) -> Result<SystemErasure> {
        let system = self.system;
        let db = self.db.as_mut();
        db.begin().map_err(|e| fail(system, e))?;
        let result = erase_in(db, &self.plan, subject, keys, dry_run);
        finish(db, system, result, dry_run, |db| {
            verify(db, &self.plan, subject, keys)
        })
    }
}

/// The subject's rows of every table of the plan (in plan order); an error when the identity
/// table has none (an unknown subject: the message never repeats the id).
fn find(db: &mut dyn Db, plan: &Plan<'_>, subject: &str) -> Result<Vec<Vec<Vec<Value>>>> {
    let param = [Some(subject.to_owned())];
    let mut found = Vec::with_capacity(plan.tables.len());
    let mut identity_rows = 0;
    for tp in &plan.tables {
        let rows = db.query(&tp.select, &param)?;
        if tp.table.path.len() == 1 {
            identity_rows += rows.len();
        }
        found.push(rows);
    }
    if identity_rows == 0 {
        let identity: Vec<String> = plan
            .tables
            .iter()
            .filter(|t| t.table.path.len() == 1)
            .map(|t| format!("`{}`", t.table.name))
            .collect();
        return Err(Error::Database {
            system: plan.system.name.clone(),
            message: format!(
                "unknown subject: no row of {} has the given subject id",
                identity.join(", ")
            ),
        });
    }
    Ok(found)
}

fn row_key(tp: &TablePlan<'_>, row: &[Value]) -> String {
    row[..tp.table.primary_key.len()]
        .iter()
        .map(|v| v.as_deref().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("|")
}

/// Erases `subject` in `system` by each field's strategy, in one transaction; a dry run
/// writes nothing. Any failure rolls the transaction back and is answered as an error that
/// names the system.
pub fn erase(
    system: &System,
    subject: &str,
    keys: &dyn ErasureKeys,
    dry_run: bool,
) -> Result<SystemErasure> {
    let mut db = db::open(system)?;
    db.begin()?;
    let result = (|| {
        let live = db.columns()?;
        let planned = plan(db.as_ref(), system, &live)?;
        erase_in(db.as_mut(), &planned, subject, keys, dry_run)
    })();
    finish(db.as_mut(), system, result, dry_run, |db| {
        // The verification read: the map checked against the schema again, the same joins.
        let live = db.columns()?;
        let planned = plan(db, system, &live)?;
        verify(db, &planned, subject, keys)
    })
}

impl Session<'_> {
    /// Erases several subjects in one transaction (a bulk run: one commit for all of them),
    /// then runs each one's verification read. Any failure — an unknown subject among them
    /// too — rolls every one of them back; the error names the system, never a subject.
    pub fn erase_batch(
        &mut self,
        subjects: &[&str],
        keys: &dyn ErasureKeys,
    ) -> Result<Vec<SystemErasure>> {
        let system = self.system;
        let db = self.db.as_mut();
        db.begin().map_err(|e| fail(system, e))?;
        let mut reports = Vec::with_capacity(subjects.len());
        for subject in subjects {
            match erase_in(db, &self.plan, subject, keys, false) {
                Ok(report) => reports.push(report),
                Err(e) => {
                    let _ = db.rollback();
                    return Err(fail(system, e));
                }
            }
        }
        db.commit().map_err(|e| fail(system, e))?;
        for (report, subject) in reports.iter_mut().zip(subjects) {
            let verification = verify(db, &self.plan, subject, keys);
            report.verification = Some(verification.map_err(|e| fail(system, e))?);
        }
        Ok(reports)
    }
}

/// Commits a real erasure and runs the verification read after it; rolls back a dry run or
/// a failure.
fn finish(
    db: &mut dyn Db,
    system: &System,
    result: Result<SystemErasure>,
    dry_run: bool,
    verify: impl FnOnce(&mut dyn Db) -> Result<Verification>,
) -> Result<SystemErasure> {
    match result {
        Ok(mut report) if !dry_run => {
            db.commit()?;
            let verification = verify(db);
            report.verification = Some(verification.map_err(|e| fail(system, e))?);
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

fn erase_in(
    db: &mut dyn Db,
    plan: &Plan<'_>,
    subject: &str,
    keys: &dyn ErasureKeys,
    dry_run: bool,
) -> Result<SystemErasure> {
    let system = plan.system;
    // Every table's rows first, then the writes: an update never hides a row from a join.
    let found = find(db, plan, subject)?;
    let mut report = SystemErasure {
        system: system.name.clone(),
        dry_run,
        tables: Vec::new(),
        changed: 0,
        already_erased: false,
        verification: None,
    };
    for (tp, rows) in plan.tables.iter().zip(&found) {
        let keys_n = tp.table.primary_key.len();
        let mut table = TableErasure {
            table: tp.table.name.clone(),
            erasure: match tp.table.erasure {
                RowErasure::Fields => "fields",
                RowErasure::DeleteRow => "delete_row",
            },
            found: rows.len() as u64,
            changed: 0,
            fields: tp
                .table
                .fields
                .iter()
                .map(|f| FieldChange {
                    field: f.name.clone(),
                    strategy: strategy::name(&f.erasure),
                    rows: 0,
                })
                .collect(),
        };
        for row in rows {
            let key: Vec<Value> = row[..keys_n].to_vec();
            if tp.table.erasure == RowErasure::DeleteRow {
                if !dry_run {
                    db.execute(&tp.delete(db), &key)?;
                }
                table.changed += 1;
                continue;
            }
            let row_id = row_key(tp, row);
            let mut changed = Vec::new();
            let mut values = Vec::new();
            for (i, field) in tp.table.fields.iter().enumerate() {
                let cell = Cell {
                    system: &system.name,
                    table: &tp.table.name,
                    row: &row_id,
                    ty: &tp.field_types[i],
                };
                let current = &row[keys_n + i];
                let new = if dry_run && !matches!(field.erasure, crate::datamap::Erasure::Random) {
                    // A dry run seals and hashes nothing: it only asks whether a value is left.
                    (!strategy::is_erased(field, current, &cell, keys)?).then_some(None)
                } else {
                    strategy::target(field, current, &cell, subject, keys)?
                };
                if let Some(value) = new {
                    changed.push(i);
                    values.push(value);
                    table.fields[i].rows += 1;
                }
            }
            if !changed.is_empty() {
                if !dry_run {
                    values.extend(key);
                    db.execute(&tp.update(db, &changed), &values)?;
                }
                table.changed += 1;
            }
        }
        report.changed += table.changed;
        report.tables.push(table);
    }
    report.already_erased = report.changed == 0;
    Ok(report)
}

/// Runs the joins again and checks every value is what erasure leaves.
fn verify(
    db: &mut dyn Db,
    plan: &Plan<'_>,
    subject: &str,
    keys: &dyn ErasureKeys,
) -> Result<Verification> {
    let system = plan.system;
    let param = [Some(subject.to_owned())];
    let mut remaining = Vec::new();
    let mut rows_read = 0;
    for tp in &plan.tables {
        let rows = db.query(&tp.select, &param)?;
        rows_read += rows.len() as u64;
        if tp.table.erasure == RowErasure::DeleteRow {
            if !rows.is_empty() {
                remaining.push(format!("{}: {} rows", tp.table.name, rows.len()));
            }
            continue;
        }
        let keys_n = tp.table.primary_key.len();
        for (i, field) in tp.table.fields.iter().enumerate() {
            let mut left = 0;
            for row in &rows {
                let row_id = row_key(tp, row);
                let cell = Cell {
                    system: &system.name,
                    table: &tp.table.name,
                    row: &row_id,
                    ty: &tp.field_types[i],
                };
                if !strategy::is_erased(field, &row[keys_n + i], &cell, keys)? {
                    left += 1;
                }
            }
            if left > 0 {
                remaining.push(format!(
                    "{}.{}: {left} rows",
                    tp.table.name,
                    tp.field(i).name
                ));
            }
        }
    }
    Ok(Verification {
        clean: remaining.is_empty(),
        remaining,
        rows_read,
    })
}
