//! One system's plan: the map's tables checked against the live schema (a mapped table or
//! column that is missing is schema drift, named in the error), and for each table the
//! statement that finds the subject's rows by following the declared joins up to the
//! identity table, plus the statements that update or delete one row by its primary key.
//! Tables are ordered children first, so deletes keep foreign keys intact.

use crate::datamap::introspect::quote;
use crate::datamap::{Field, Link, System, Table};
use crate::{Error, Result};

use super::db::{Columns, Db};
use super::strategy;

/// One table's statements.
pub struct TablePlan<'m> {
    /// the table in the map
    pub table: &'m Table,
    /// selects the subject's rows: the primary-key columns, then every field, as text
    pub select: String,
    /// live types of the primary-key columns
    pub key_types: Vec<String>,
    /// live types of the fields, in field order
    pub field_types: Vec<String>,
}

impl TablePlan<'_> {
    /// `UPDATE … SET` the fields at `changed` (indices into the fields) of one row, values
    /// first, then the key's.
    pub fn update(&self, db: &dyn Db, changed: &[usize]) -> String {
        let mut n = 0;
        let mut sets = Vec::new();
        for &i in changed {
            n += 1;
            sets.push(format!(
                "{} = {}",
                quote(&self.table.fields[i].name),
                db.param(n, &self.field_types[i])
            ));
        }
        format!(
            "UPDATE {} SET {} WHERE {}",
            db.table(&self.table.name),
            sets.join(", "),
            self.key_match(db, n)
        )
    }

    /// `DELETE` one row by its key.
    pub fn delete(&self, db: &dyn Db) -> String {
        format!(
            "DELETE FROM {} WHERE {}",
            db.table(&self.table.name),
            self.key_match(db, 0)
        )
    }

    fn key_match(&self, db: &dyn Db, offset: usize) -> String {
        self.table
            .primary_key
            .iter()
            .zip(&self.key_types)
            .enumerate()
            .map(|(i, (k, ty))| format!("{} = {}", quote(k), db.param(offset + i + 1, ty)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The field at `i`.
    pub fn field(&self, i: usize) -> &Field {
        &self.table.fields[i]
    }
}

/// A system's tables in the order erasure visits them.
pub struct Plan<'m> {
    /// the system
    pub system: &'m System,
    /// children first (longest join path first), then map order
    pub tables: Vec<TablePlan<'m>>,
}

/// Checks the map against the live columns and builds the statements.
pub fn plan<'m>(db: &dyn Db, system: &'m System, live: &Columns) -> Result<Plan<'m>> {
    let drift = |message: String| Error::Database {
        system: system.name.clone(),
        message: format!("schema drift: {message}"),
    };
    let type_of = |table: &str, column: &str| -> Result<String> {
        let columns = live
            .get(table)
            .ok_or_else(|| drift(format!("the mapped table `{table}` is not in the database")))?;
        columns.get(column).cloned().ok_or_else(|| {
            drift(format!(
                "the mapped column `{table}.{column}` is not in the database"
            ))
        })
    };
    let mut tables = Vec::new();
    for table in &system.tables {
        for column in table.known_columns() {
            type_of(&table.name, column)?;
        }
        if table.path.is_empty() {
            return Err(Error::BadRequest(format!(
                "system `{}`: table `{}` does not reach an identity table",
                system.name, table.name
            )));
        }
        let field_types = table
            .fields
            .iter()
            .map(|f| type_of(&table.name, &f.name))
            .collect::<Result<Vec<_>>>()?;
        for (f, ty) in table.fields.iter().zip(&field_types) {
            strategy::check_type(&table.name, f, ty).map_err(|e| Error::Database {
                system: system.name.clone(),
                message: e.to_string(),
            })?;
        }
        let key_types = table
            .primary_key
            .iter()
            .map(|k| type_of(&table.name, k))
            .collect::<Result<Vec<_>>>()?;
        let columns: Vec<String> = table
            .primary_key
            .iter()
            .chain(table.fields.iter().map(|f| &f.name))
            .map(|c| format!("CAST({} AS text)", quote(c)))
            .collect();
        let filter = filter(db, system, table, &type_of)?;
        let select = format!(
            "SELECT {} FROM {} WHERE {filter} ORDER BY {}",
            columns.join(", "),
            db.table(&table.name),
            table
                .primary_key
                .iter()
                .map(|k| quote(k))
                .collect::<Vec<_>>()
                .join(", ")
        );
        tables.push(TablePlan {
            table,
            select,
            key_types,
            field_types,
        });
    }
    tables.sort_by_key(|t| std::cmp::Reverse(t.table.path.len()));
    Ok(Plan { system, tables })
}

/// The condition a table's rows of the subject meet: at the identity table, its subject-id
/// column equals parameter 1; elsewhere, the join column is among the parent's.
fn filter(
    db: &dyn Db,
    system: &System,
    table: &Table,
    type_of: &dyn Fn(&str, &str) -> Result<String>,
) -> Result<String> {
    match &table.link {
        Link::Identity { column } => Ok(format!(
            "{} = {}",
            quote(column),
            db.param(1, &type_of(&table.name, column)?)
        )),
        Link::Join {
            column,
            parent,
            parent_column,
        } => {
            let parent_table = system.table(parent).ok_or_else(|| {
                Error::BadRequest(format!(
                    "system `{}`: table `{}` joins to `{parent}`, which is not mapped",
                    system.name, table.name
                ))
            })?;
            Ok(format!(
                "{} IN (SELECT {} FROM {} WHERE {})",
                quote(column),
                quote(parent_column),
                db.table(parent),
                filter(db, system, parent_table, type_of)?
            ))
        }
    }
}
