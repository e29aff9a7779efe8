//! Reading an application database's schema (tables, columns and their types, primary and
//! foreign keys) and sampling column values, for SQLite and PostgreSQL, behind one trait.
//! Sampled values only ever go to the detector: they are personal data.

use std::path::Path;

pub use super::schema::{quote, ColumnInfo, ForeignKey, Schema, Source, TableInfo};

use super::model::{Connection, System};
use crate::{Error, Result};

/// Opens the database a system names: SQLite read-only; PostgreSQL through the URL in the
/// map or in the environment variable it names.
pub fn open(system: &System) -> Result<Box<dyn Source>> {
    match &system.connection {
        Connection::Sqlite { path } => Ok(Box::new(Sqlite::open(&system.name, path)?)),
        Connection::Postgres {
            url_env,
            url,
            schema,
        } => {
            let url = postgres_url(system, url.as_deref(), url_env.as_deref())?;
            Ok(Box::new(super::postgres::Postgres::connect(
                &system.name,
                &url,
                schema,
            )?))
        }
    }
}

/// The URL of a PostgreSQL system: the one in the map, else the environment variable it names.
pub(crate) fn postgres_url(
    system: &System,
    url: Option<&str>,
    url_env: Option<&str>,
) -> Result<String> {
    match (url, url_env) {
        (Some(url), _) => Ok(url.to_owned()),
        (None, Some(var)) => std::env::var(var).map_err(|_| Error::Database {
            system: system.name.clone(),
            message: format!("the environment variable `{var}` (its `url_env`) is not set"),
        }),
        (None, None) => Err(Error::Database {
            system: system.name.clone(),
            message: "no URL".into(),
        }),
    }
}

/// A SQLite database, opened read-only.
pub struct Sqlite {
    system: String,
    conn: rusqlite::Connection,
}

impl Sqlite {
    /// Opens `path` read-only (it must exist).
    pub fn open(system: &str, path: &Path) -> Result<Self> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::Database {
            system: system.into(),
            message: format!("opening `{}`: {e}", path.display()),
        })?;
        Ok(Self {
            system: system.into(),
            conn,
        })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::Database {
            system: self.system.clone(),
            message: e.to_string(),
        }
    }

    fn table(&self, name: &str) -> rusqlite::Result<TableInfo> {
        let mut info = TableInfo {
            name: name.into(),
            ..TableInfo::default()
        };
        let mut stmt = self
            .conn
            .prepare("SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid")?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        let rows = stmt.query_map([name], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (column, data_type, key) = row?;
            if key > 0 {
                pk.push((key, column.clone()));
            }
            info.columns.push(ColumnInfo {
                name: column,
                data_type: data_type.to_ascii_lowercase(),
            });
        }
        pk.sort();
        info.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        let mut stmt = self.conn.prepare(
            "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )?;
        let rows = stmt.query_map([name], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut last_id = None;
        for row in rows {
            let (id, parent, from, to) = row?;
            if last_id != Some(id) {
                info.foreign_keys.push(ForeignKey {
                    columns: Vec::new(),
                    parent: parent.clone(),
                    parent_columns: Vec::new(),
                });
                last_id = Some(id);
            }
            if let Some(fk) = info.foreign_keys.last_mut() {
                fk.columns.push(from);
                // `REFERENCES parent` without columns means the parent's primary key.
                fk.parent_columns.push(to.unwrap_or_default());
            }
        }
        Ok(info)
    }
}

impl Source for Sqlite {
    fn schema(&mut self) -> Result<Schema> {
        let names: Vec<String> = (|| {
            let mut stmt = self.conn.prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))?;
        let mut schema = Schema::default();
        for name in names {
            let table = self.table(&name).map_err(|e| self.err(e))?;
            schema.tables.push(table);
        }
        // Fill in foreign keys that name no parent column: the parent's primary key.
        let keys: Vec<(String, Vec<String>)> = schema
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.primary_key.clone()))
            .collect();
        for t in &mut schema.tables {
            for fk in &mut t.foreign_keys {
                if fk.parent_columns.iter().any(String::is_empty) {
                    if let Some((_, pk)) = keys.iter().find(|(n, _)| *n == fk.parent) {
                        fk.parent_columns = pk.clone();
                    }
                }
            }
        }
        Ok(schema)
    }

    fn sample(&mut self, table: &str, column: &str, limit: usize) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT ?1",
            c = quote(column),
            t = quote(table)
        );
        let run = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map([limit as i64], |r| {
                Ok(match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Integer(i) => Some(i.to_string()),
                    rusqlite::types::ValueRef::Real(f) => Some(f.to_string()),
                    rusqlite::types::ValueRef::Text(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                    _ => None,
                })
            })?;
            Ok(rows
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect())
        };
        run().map_err(|e| self.err(e))
    }
}
