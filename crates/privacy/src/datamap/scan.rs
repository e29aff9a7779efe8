//! `evident privacy map scan`: compare a system's database with its map. Every column the
//! map does not list is sampled and run through the detector and through column-name rules;
//! what they suggest becomes a proposed fideslang category with a confidence and the
//! evidence (`detector: email 187/200`, `name: dob`). Foreign keys become proposed joins;
//! mapped tables and columns the database no longer has, and changed types, are drift.
//! Only counts and entity names leave this module, never a sampled value.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use evident_detect::{Detector, Entity};

use super::rules::{entity_category, name_rule};
use serde::Serialize;

use super::model::{Link, System};
use super::schema::{ColumnInfo, Schema, Source};
use crate::Result;

/// The default number of values sampled per column.
pub const DEFAULT_SAMPLE: usize = 200;

/// The scan's answer.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// the system scanned
    pub system: String,
    /// values sampled per column at most
    pub sample: usize,
    /// tables in the database
    pub tables: usize,
    /// columns in the database
    pub columns: usize,
    /// columns sampled (not listed in the map)
    pub columns_sampled: usize,
    /// the identity table and column: the map's, or proposed
    pub identity: Option<Identity>,
    /// proposed categories for unmapped columns
    pub proposals: Vec<Proposal>,
    /// proposed links of tables the map does not list
    pub joins: Vec<JoinProposal>,
    /// tables with proposals but no foreign-key path to the identity table
    pub unreachable: Vec<String>,
    /// where the map and the database disagree
    pub drift: Vec<Drift>,
}

/// The identity table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// the table
    pub table: String,
    /// the subject-id column
    pub column: String,
    /// whether the map declares it (else the scan proposes it)
    pub mapped: bool,
}

/// A proposed category for one column.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    /// the table
    pub table: String,
    /// the column
    pub column: String,
    /// its type in the database
    pub data_type: String,
    /// the fideslang category proposed
    pub category: &'static str,
    /// 0 to 1
    pub confidence: f64,
    /// why: `detector: email 187/200`, `name: dob`
    pub evidence: Vec<String>,
    /// whether the table is in the map already
    pub table_mapped: bool,
}

/// A proposed link for a table the map does not list, from a foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinProposal {
    /// the table
    pub table: String,
    /// its primary key
    pub primary_key: Vec<String>,
    /// `column -> parent.column`
    pub join: String,
    /// the parent table
    pub parent: String,
    /// the tables from this one to the identity table
    pub path: Vec<String>,
}

/// One disagreement between the map and the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// the table
    pub table: String,
    /// the column, when it is about one
    pub column: Option<String>,
    /// what differs
    pub message: String,
}

/// Scans `system`'s database through `source`, sampling up to `sample` values a column.
pub fn scan(
    system: &System,
    source: &mut dyn Source,
    detector: &Detector,
    sample: usize,
) -> Result<ScanReport> {
    let schema = source.schema()?;
    let mut report = ScanReport {
        system: system.name.clone(),
        sample,
        tables: schema.tables.len(),
        columns: schema.tables.iter().map(|t| t.columns.len()).sum(),
        columns_sampled: 0,
        identity: None,
        proposals: Vec::new(),
        joins: Vec::new(),
        unreachable: Vec::new(),
        drift: drift(system, &schema),
    };
    let mut cell = Vec::new();
    for table in &schema.tables {
        let mapped = system.table(&table.name);
        for column in &table.columns {
            if mapped.is_some_and(|t| t.known_columns().contains(&column.name.as_str())) {
                continue;
            }
            report.columns_sampled += 1;
            let values = source.sample(&table.name, &column.name, sample)?;
            let mut counts: BTreeMap<Entity, usize> = BTreeMap::new();
            for value in &values {
                // As `anonymity safe-harbor` does: the column name is the value's label,
                // so rules that need one (`dob:`, `MRN`) can fire; findings inside the
                // label are ignored.
                cell.clear();
                cell.extend_from_slice(column.name.as_bytes());
                cell.extend_from_slice(b": ");
                let start = cell.len();
                cell.extend_from_slice(value.as_bytes());
                let entities: BTreeSet<Entity> = detector
                    .find(&cell)
                    .into_iter()
                    .filter(|f| f.end > start)
                    .map(|f| detector.entity(f.rule))
                    .collect();
                for e in entities {
                    *counts.entry(e).or_default() += 1;
                }
            }
            if let Some(p) = propose(&table.name, column, &values, &counts, mapped.is_some()) {
                report.proposals.push(p);
            }
        }
    }
    propose_links(system, &schema, &mut report);
    Ok(report)
}

fn propose(
    table: &str,
    column: &ColumnInfo,
    values: &[String],
    counts: &BTreeMap<Entity, usize>,
    table_mapped: bool,
) -> Option<Proposal> {
    let sampled = values.len();
    let detected = counts
        .iter()
        .filter_map(|(e, n)| entity_category(*e).map(|c| (*e, c, *n)))
        .max_by_key(|&(_, _, n)| n)
        // Half the sampled values, and at least two unless only one was sampled.
        .filter(|&(_, _, n)| n * 2 >= sampled && n >= 2.min(sampled) && n > 0);
    let named = name_rule(&column.name);
    let mut evidence = Vec::new();
    let (category, confidence) = match (detected, &named) {
        (Some((e, dc, n)), named) => {
            evidence.push(format!("detector: {e} {n}/{sampled}"));
            let share = n as f64 / sampled as f64;
            let mut confidence = 0.5 + 0.45 * share;
            if let Some((nc, _, words)) = named {
                if *nc == dc
                    || dc.starts_with(&format!("{nc}."))
                    || nc.starts_with(&format!("{dc}."))
                {
                    evidence.push(format!("name: {words}"));
                    confidence = (confidence + 0.05).min(0.99);
                }
            }
            (dc, confidence)
        }
        (None, Some((nc, c, words))) => {
            evidence.push(format!("name: {words}"));
            if sampled == 0 {
                evidence.push("no values to sample".into());
            }
            (*nc, *c)
        }
        (None, None) => return None,
    };
    Some(Proposal {
        table: table.into(),
        column: column.name.clone(),
        data_type: column.data_type.clone(),
        category,
        confidence: (confidence * 100.0).round() / 100.0,
        evidence,
        table_mapped,
    })
}

/// The identity table (the map's, or the referenced table most others lead to), then a
/// join for every unmapped table with proposals, and for the tables on its way.
fn propose_links(system: &System, schema: &Schema, report: &mut ScanReport) {
    let mapped_identity = system.tables.iter().find_map(|t| match &t.link {
        Link::Identity { column } => Some((t.name.clone(), column.clone())),
        Link::Join { .. } => None,
    });
    let with_proposals: BTreeSet<&str> = report
        .proposals
        .iter()
        .filter(|p| !p.table_mapped)
        .map(|p| p.table.as_str())
        .collect();
    let identity = match mapped_identity {
        Some((table, column)) => Some(Identity {
            table,
            column,
            mapped: true,
        }),
        None => {
            // The table with proposals that the most foreign keys point at, by its key.
            let mut inbound: BTreeMap<&str, usize> = BTreeMap::new();
            for t in &schema.tables {
                for fk in &t.foreign_keys {
                    *inbound.entry(fk.parent.as_str()).or_default() += 1;
                }
            }
            schema
                .tables
                .iter()
                .filter(|t| with_proposals.contains(t.name.as_str()) && t.primary_key.len() == 1)
                .max_by_key(|t| {
                    (
                        inbound.get(t.name.as_str()).copied().unwrap_or(0),
                        std::cmp::Reverse(t.name.clone()),
                    )
                })
                .filter(|t| inbound.get(t.name.as_str()).copied().unwrap_or(0) > 0)
                .and_then(|t| {
                    Some(Identity {
                        table: t.name.clone(),
                        column: t.primary_key.first()?.clone(),
                        mapped: false,
                    })
                })
        }
    };
    let Some(identity) = identity else {
        report.unreachable = with_proposals.iter().map(|s| s.to_string()).collect();
        return;
    };
    // Breadth-first from the identity table down the foreign keys: each table's first hop.
    let mut hop: BTreeMap<String, (String, String, String, Vec<String>)> = BTreeMap::new();
    let mut queue = VecDeque::from([(identity.table.clone(), vec![identity.table.clone()])]);
    let mut seen = BTreeSet::from([identity.table.clone()]);
    while let Some((parent, path)) = queue.pop_front() {
        for t in &schema.tables {
            for fk in &t.foreign_keys {
                if fk.parent != parent || fk.columns.len() != 1 || seen.contains(&t.name) {
                    continue;
                }
                let (Some(col), Some(pcol)) = (fk.columns.first(), fk.parent_columns.first())
                else {
                    continue;
                };
                seen.insert(t.name.clone());
                let mut p = vec![t.name.clone()];
                p.extend(path.iter().cloned());
                hop.insert(
                    t.name.clone(),
                    (col.clone(), parent.clone(), pcol.clone(), p.clone()),
                );
                queue.push_back((t.name.clone(), p));
            }
        }
    }
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for table in &with_proposals {
        if *table == identity.table {
            continue;
        }
        match hop.get(*table) {
            Some((_, _, _, path)) => {
                for t in path {
                    if t != &identity.table && system.table(t).is_none() {
                        needed.insert(t.clone());
                    }
                }
            }
            None => report.unreachable.push(table.to_string()),
        }
    }
    for table in needed {
        if let Some((col, parent, pcol, path)) = hop.get(&table) {
            report.joins.push(JoinProposal {
                primary_key: schema
                    .table(&table)
                    .map(|t| t.primary_key.clone())
                    .unwrap_or_default(),
                table: table.clone(),
                join: format!("{col} -> {parent}.{pcol}"),
                parent: parent.clone(),
                path: path.clone(),
            });
        }
    }
    report.identity = Some(identity);
}

/// Mapped tables and columns the database lacks, changed types, changed primary keys.
pub fn drift(system: &System, schema: &Schema) -> Vec<Drift> {
    let mut found = Vec::new();
    for t in &system.tables {
        let Some(info) = schema.table(&t.name) else {
            found.push(Drift {
                table: t.name.clone(),
                column: None,
                message: "the map lists this table; the database has none".into(),
            });
            continue;
        };
        for column in t.known_columns() {
            if info.column(column).is_none() {
                found.push(Drift {
                    table: t.name.clone(),
                    column: Some(column.into()),
                    message: "the map lists this column; the table has none".into(),
                });
            }
        }
        for f in &t.fields {
            if let (Some(mapped), Some(actual)) = (&f.data_type, info.column(&f.name)) {
                if !mapped.eq_ignore_ascii_case(&actual.data_type) {
                    found.push(Drift {
                        table: t.name.clone(),
                        column: Some(f.name.clone()),
                        message: format!(
                            "type changed: the map says `{mapped}`, the database `{}`",
                            actual.data_type
                        ),
                    });
                }
            }
        }
        if !info.primary_key.is_empty() && info.primary_key != t.primary_key {
            found.push(Drift {
                table: t.name.clone(),
                column: None,
                message: format!(
                    "primary key changed: the map says ({}), the database ({})",
                    t.primary_key.join(", "),
                    info.primary_key.join(", ")
                ),
            });
        }
    }
    found
}
