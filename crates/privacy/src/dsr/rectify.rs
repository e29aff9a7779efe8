//! Rectification (Art. 16) in one system: given columns of the subject's rows set to given
//! values, in one transaction, only in columns the data map declares as fields.

use serde::Serialize;

use crate::datamap::introspect::quote;
use crate::datamap::System;
use crate::{Error, Result};

use super::db;
use super::plan::plan;

/// One column set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rectified {
    /// `table.column`
    pub field: String,
    /// rows changed
    pub rows: u64,
}

/// Sets each `table.column` of `changes` that `system` maps, in the subject's rows; answers
/// what it set (changes for tables the system does not map are left to other systems).
pub fn rectify(
    system: &System,
    subject: &str,
    changes: &[(String, String)],
) -> Result<Vec<Rectified>> {
    let mine: Vec<(&str, &str, &str)> = changes
        .iter()
        .filter_map(|(f, v)| {
            let (t, c) = f.split_once('.')?;
            system.table(t).map(|_| (t, c, v.as_str()))
        })
        .collect();
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let mut db = db::open(system)?;
    db.begin()?;
    let result = (|| {
        let live = db.columns()?;
        let plan = plan(db.as_ref(), system, &live)?;
        let mut done = Vec::new();
        for (t, c, v) in mine {
            let tp = plan
                .tables
                .iter()
                .find(|p| p.table.name == t)
                .ok_or_else(|| Error::BadRequest(format!("no table `{t}`")))?;
            let i = tp
                .table
                .fields
                .iter()
                .position(|f| f.name == c)
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "`{t}.{c}` is not a field the data map declares for system `{}`",
                        system.name
                    ))
                })?;
            let keys = tp.table.primary_key.len();
            let rows = db.query(&tp.select, &[Some(subject.to_owned())])?;
            let mut n = 0;
            for row in rows {
                let mut params = vec![Some(v.to_owned())];
                params.extend(row[..keys].iter().cloned());
                n += db.execute(&tp.update(db.as_ref(), &[i]), &params)?;
            }
            done.push(Rectified {
                field: format!("{t}.{}", quote(c).trim_matches('"')),
                rows: n,
            });
        }
        Ok(done)
    })();
    match result {
        Ok(done) => {
            db.commit()?;
            Ok(done)
        }
        Err(e) => {
            let _ = db.rollback();
            Err(e)
        }
    }
}
