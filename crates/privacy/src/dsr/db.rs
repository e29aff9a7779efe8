//! One application database as a data-subject request drives it, for SQLite and PostgreSQL
//! behind one trait: transactions, parameterized statements whose values travel as text
//! (cast to the column's type by the database), identifiers quoted, and the live columns
//! with their types (to find schema drift before anything is written).
//!
//! Values are `Option<String>`: what the database answers for `CAST(col AS text)`, so that
//! comparing rows before and after is exact for every type, and writing back one is the same
//! statement for every type.

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use crate::datamap::introspect::{postgres_url, quote};
use crate::datamap::{Connection, System};
use crate::{Error, Result};

/// A column's value as text; `None` is SQL NULL.
pub type Value = Option<String>;

/// The live columns of a database: table → column → declared type (lowercase).
pub type Columns = BTreeMap<String, BTreeMap<String, String>>;

/// A database a request runs against.
pub trait Db {
    /// Starts the one transaction of a run.
    fn begin(&mut self) -> Result<()>;
    /// Makes it durable.
    fn commit(&mut self) -> Result<()>;
    /// Undoes it.
    fn rollback(&mut self) -> Result<()>;
    /// Rows of a query, every column as text.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>>;
    /// Rows changed by a statement.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// The live tables and columns.
    fn columns(&mut self) -> Result<Columns>;
    /// The `n`th (1-based) parameter as a value of the SQL type `ty`.
    fn param(&self, n: usize, ty: &str) -> String;
    /// A table's qualified, quoted name.
    fn table(&self, name: &str) -> String;
}

/// Opens the database of `system` for reading and writing.
pub fn open(system: &System) -> Result<Box<dyn Db>> {
    match &system.connection {
        Connection::Sqlite { path } => {
            let conn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| Error::Database {
                system: system.name.clone(),
                message: format!("opening `{}`: {e}", path.display()),
            })?;
            conn.execute_batch("PRAGMA foreign_keys = ON")
                .map_err(|e| Error::Database {
                    system: system.name.clone(),
                    message: e.to_string(),
                })?;
            Ok(Box::new(Sqlite {
                system: system.name.clone(),
                conn,
            }))
        }
        Connection::Postgres {
            url_env,
            url,
            schema,
        } => {
            let url = postgres_url(system, url.as_deref(), url_env.as_deref())?;
            Ok(Box::new(Postgres::connect(&system.name, &url, schema)?))
        }
    }
}

struct Sqlite {
    system: String,
    conn: rusqlite::Connection,
}

impl Sqlite {
    fn err(&self, e: rusqlite::Error) -> Error {
        Error::Database {
            system: self.system.clone(),
            message: e.to_string(),
        }
    }
}

fn sqlite_text(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(format!("\\x{}", hex::encode(b))),
    }
}

impl Db for Sqlite {
    fn begin(&mut self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))
    }

    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))
    }

    fn rollback(&mut self) -> Result<()> {
        self.conn.execute_batch("ROLLBACK").map_err(|e| self.err(e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
        let run = || -> rusqlite::Result<Vec<Vec<Value>>> {
            let mut stmt = self.conn.prepare(sql)?;
            let width = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut values = Vec::with_capacity(width);
                for i in 0..width {
                    values.push(sqlite_text(row.get_ref(i)?));
                }
                out.push(values);
            }
            Ok(out)
        };
        run().map_err(|e| self.err(e))
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.conn
            .execute(sql, rusqlite::params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    fn columns(&mut self) -> Result<Columns> {
        let rows = self.query(
            "SELECT m.name, p.name, lower(p.type) FROM sqlite_schema m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' ORDER BY m.name, p.cid",
            &[],
        )?;
        Ok(fold_columns(rows))
    }

    fn param(&self, n: usize, _ty: &str) -> String {
        format!("?{n}")
    }

    fn table(&self, name: &str) -> String {
        quote(name)
    }
}

fn fold_columns(rows: Vec<Vec<Value>>) -> Columns {
    let mut columns = Columns::new();
    for row in rows {
        if let [Some(table), Some(column), ty] = row.as_slice() {
            columns
                .entry(table.clone())
                .or_default()
                .insert(column.clone(), ty.clone().unwrap_or_default());
        }
    }
    columns
}

struct Postgres {
    system: String,
    schema: String,
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// statements prepared on this connection, by text: a connection that serves many
    /// subjects parses each once (a bounded cache: updates differ by the fields they set)
    prepared: HashMap<String, Statement>,
}

/// Statements kept prepared per connection.
const PREPARED_MAX: usize = 256;

impl Postgres {
    fn connect(system: &str, url: &str, schema: &str) -> Result<Self> {
        let (runtime, client) = crate::pg::connect(system, url)?;
        Ok(Self {
            system: system.into(),
            schema: schema.into(),
            runtime,
            client,
            prepared: HashMap::new(),
        })
    }

    /// `sql` prepared on this connection (once).
    fn prepare(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .runtime
            .block_on(self.client.prepare(sql))
            .map_err(|e| self.err(e))?;
        if self.prepared.len() >= PREPARED_MAX {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn err(&self, e: tokio_postgres::Error) -> Error {
        // The server's message, never its detail (which quotes row values); a value the
        // column's type refuses is quoted in the message itself, so that one is named only.
        let message = match e.as_db_error() {
            Some(db) if db.code().code().starts_with("22") => format!(
                "a value is not valid for its column's type (SQLSTATE {})",
                db.code().code()
            ),
            Some(db) => db.message().to_owned(),
            None => e.to_string(),
        };
        Error::Database {
            system: self.system.clone(),
            message,
        }
    }
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Db for Postgres {
    fn begin(&mut self) -> Result<()> {
        self.runtime
            .block_on(
                self.client
                    .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ"),
            )
            .map_err(|e| self.err(e))
    }

    fn commit(&mut self) -> Result<()> {
        self.runtime
            .block_on(self.client.batch_execute("COMMIT"))
            .map_err(|e| self.err(e))
    }

    fn rollback(&mut self) -> Result<()> {
        self.runtime
            .block_on(self.client.batch_execute("ROLLBACK"))
            .map_err(|e| self.err(e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
        let statement = self.prepare(sql)?;
        let rows = self
            .runtime
            .block_on(self.client.query(&statement, &pg_params(params)))
            .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get::<_, Value>(i)).collect())
            .collect())
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let statement = self.prepare(sql)?;
        self.runtime
            .block_on(self.client.execute(&statement, &pg_params(params)))
            .map_err(|e| self.err(e))
    }

    fn columns(&mut self) -> Result<Columns> {
        let schema = Some(self.schema.clone());
        let rows = self
            .runtime
            .block_on(self.client.query(
                crate::datamap::postgres::COLUMNS,
                &pg_params(std::slice::from_ref(&schema)),
            ))
            .map_err(|e| self.err(e))?;
        Ok(fold_columns(
            rows.iter()
                .map(|r| (0..3).map(|i| r.get::<_, Value>(i)).collect())
                .collect(),
        ))
    }

    fn param(&self, n: usize, ty: &str) -> String {
        // The value travels as text; the database casts it to the column's own type (a type
        // name from the catalog, not from the map or the caller).
        format!("CAST(${n}::text AS {ty})")
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{}", quote(&self.schema), quote(name))
    }
}
