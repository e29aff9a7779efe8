//! The PostgreSQL side of [`super::introspect`]: the schema from `pg_catalog`, samples cast
//! to text, through `tokio-postgres` on a runtime of its own (the scan is a blocking call).

use tokio_postgres::Client;

use super::schema::{quote, ColumnInfo, ForeignKey, Schema, Source, TableInfo};
use crate::{Error, Result};

/// A connection to one schema of a PostgreSQL database.
pub struct Postgres {
    system: String,
    schema: String,
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Postgres {
    /// Connects (without TLS) to `url`, reading `schema`.
    pub fn connect(system: &str, url: &str, schema: &str) -> Result<Self> {
        let (runtime, client) = crate::pg::connect(system, url)?;
        Ok(Self {
            system: system.into(),
            schema: schema.into(),
            runtime,
            client,
        })
    }

    fn err(&self, e: tokio_postgres::Error) -> Error {
        Error::Database {
            system: self.system.clone(),
            message: e.to_string(),
        }
    }
}

pub(crate) const COLUMNS: &str = "
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum";

const KEYS: &str = "
SELECT con.contype::text, c.relname, con.conname,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       COALESCE(p.relname, ''),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class p ON p.oid = con.confrelid
WHERE n.nspname = $1 AND con.contype IN ('p', 'f')
ORDER BY c.relname, con.conname";

impl Source for Postgres {
    fn schema(&mut self) -> Result<Schema> {
        let (columns, keys) = self
            .runtime
            .block_on(async {
                let columns = self.client.query(COLUMNS, &[&self.schema]).await?;
                let keys = self.client.query(KEYS, &[&self.schema]).await?;
                Ok::<_, tokio_postgres::Error>((columns, keys))
            })
            .map_err(|e| self.err(e))?;
        let mut schema = Schema::default();
        for row in columns {
            let table: String = row.get(0);
            if schema.tables.last().map(|t| &t.name) != Some(&table) {
                schema.tables.push(TableInfo {
                    name: table,
                    ..TableInfo::default()
                });
            }
            if let Some(t) = schema.tables.last_mut() {
                t.columns.push(ColumnInfo {
                    name: row.get(1),
                    data_type: row.get(2),
                });
            }
        }
        for row in keys {
            let kind: String = row.get(0);
            let table: String = row.get(1);
            let Some(t) = schema.tables.iter_mut().find(|t| t.name == table) else {
                continue;
            };
            let columns: Vec<String> = row.get(3);
            if kind == "p" {
                t.primary_key = columns;
            } else {
                t.foreign_keys.push(ForeignKey {
                    columns,
                    parent: row.get(4),
                    parent_columns: row.get(5),
                });
            }
        }
        Ok(schema)
    }

    fn sample(&mut self, table: &str, column: &str, limit: usize) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT {c}::text FROM {s}.{t} WHERE {c} IS NOT NULL LIMIT $1",
            c = quote(column),
            s = quote(&self.schema),
            t = quote(table)
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .runtime
            .block_on(self.client.query(sql.as_str(), &[&limit]))
            .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(0))
            .collect())
    }
}
