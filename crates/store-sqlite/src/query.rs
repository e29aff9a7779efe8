//! Queries over the log: filters on the indexed columns of `entries`, driven by one of the
//! query indexes below their watermark and by a scan of the unindexed tail above it.

use rusqlite::Connection;

use evident_core::store::{EventQuery, StoredEntry};
use evident_core::Result;

use crate::convert::to_i64;
use crate::entries::row_entry;
use crate::indexer::index_watermark;

pub(crate) fn query(conn: &Connection, q: &EventQuery) -> Result<Vec<StoredEntry>> {
    // Every filter applies to the entry row; one of them may also drive an index lookup
    // for the indexed part of the log (below the watermark). The unindexed tail is
    // scanned, so a query sees every committed entry however far the indexer lags.
    let mut filters = String::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut add = |clause: &str, value: rusqlite::types::Value| -> String {
        args.push(value);
        let param = format!("?{}", args.len());
        filters.push_str(&format!(" AND e.{clause} {param}"));
        param
    };
    let actor = q.actor.as_ref().map(|v| add("actor =", v.clone().into()));
    let action = q.action.as_ref().map(|v| add("action =", v.clone().into()));
    let rtype = q
        .resource_type
        .as_ref()
        .map(|v| add("rtype =", v.clone().into()));
    let rid = q
        .resource_id
        .as_ref()
        .map(|v| add("rid =", v.clone().into()));
    if let Some(v) = &q.outcome {
        add("outcome =", v.clone().into());
    }
    if let Some(v) = q.since_us {
        add("time_us >=", v.into());
    }
    if let Some(v) = q.until_us {
        add("time_us <", v.into());
    }
    if let Some(c) = q.cursor {
        add(
            if q.descending { "idx <" } else { "idx >" },
            to_i64(c)?.into(),
        );
    }
    // The most selective index drives: one resource, then one actor, then one action; a
    // resource type alone last (every control check shares `control`, so driving an
    // exception's query by it would read every check run of the log).
    let driver = match (&rtype, &rid, &actor, &action) {
        (Some(t), Some(r), _, _) => Some(format!(
            "ix.by_resource d WHERE d.rtype = {t} AND d.rid = {r}"
        )),
        (_, _, Some(a), _) => Some(format!("ix.by_actor d WHERE d.actor = {a}")),
        (_, _, _, Some(a)) => Some(format!("ix.by_action d WHERE d.action = {a}")),
        (Some(t), None, _, _) => Some(format!("ix.by_resource d WHERE d.rtype = {t}")),
        _ => None,
    };
    let watermark = if driver.is_some() {
        args.push(index_watermark(conn)?.into());
        format!("?{}", args.len())
    } else {
        String::new()
    };
    let order = if q.descending { "DESC" } else { "ASC" };
    let limit = q.limit.clamp(1, 1000);
    let sql = match driver {
        Some(driver) => format!(
            "SELECT idx, leaf, data FROM (
                    SELECT e.idx AS idx, e.leaf AS leaf, e.data AS data FROM {driver}
                        AND d.idx < {watermark} AND e.idx = d.idx{filters_join}
                    UNION ALL
                    SELECT e.idx, e.leaf, e.data FROM main.entries e WHERE e.idx >= {watermark}{filters}
                 ) ORDER BY idx {order} LIMIT {limit}",
            driver = driver.replacen(" d WHERE ", " d, main.entries e WHERE ", 1),
            filters_join = filters,
        ),
        None => format!(
            "SELECT e.idx, e.leaf, e.data FROM main.entries e WHERE 1=1{filters} ORDER BY e.idx {order} LIMIT {limit}"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), row_entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
