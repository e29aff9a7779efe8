//! What introspection answers, for every engine: a schema (tables, columns and their types,
//! primary and foreign keys), and the [`Source`] trait a database implements.

use serde::Serialize;

use crate::Result;

/// A database's schema as the scan sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// its tables, by name
    pub tables: Vec<TableInfo>,
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    /// its name
    pub name: String,
    /// its columns, in order
    pub columns: Vec<ColumnInfo>,
    /// its primary-key columns
    pub primary_key: Vec<String>,
    /// its foreign keys
    pub foreign_keys: Vec<ForeignKey>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    /// its name
    pub name: String,
    /// its declared type, as the database spells it
    pub data_type: String,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// the referring columns
    pub columns: Vec<String>,
    /// the referred table
    pub parent: String,
    /// the referred columns
    pub parent_columns: Vec<String>,
}

impl Schema {
    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&TableInfo> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl TableInfo {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A database the scan can read.
pub trait Source {
    /// The schema.
    fn schema(&mut self) -> Result<Schema>;
    /// Up to `limit` non-null values of a column, as text (binary values are skipped).
    fn sample(&mut self, table: &str, column: &str, limit: usize) -> Result<Vec<String>>;
}

/// Quotes an SQL identifier (both engines use `"`).
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
