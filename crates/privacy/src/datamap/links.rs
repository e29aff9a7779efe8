//! The joins of one system: each refers to a table and column the system declares, and
//! followed table to table they reach an identity table without a cycle.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::check::Check;
use super::model::{raw, Link, Table};

/// Joins refer to tables and columns the system declares, and lead, without a cycle, to an
/// identity table; sets each table's path.
pub(crate) fn check_links(c: &mut Check<'_>, s: &raw::System, tables: &mut [Table]) {
    let index: BTreeMap<String, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    let join_span = |i: usize| {
        s.tables
            .get(i)
            .and_then(|t| t.get_ref().join.as_ref())
            .map_or_else(
                || s.tables.get(i).map_or(0..0, |t| t.get_ref().name.span()),
                Spanned::span,
            )
    };
    for (i, table) in tables.iter().enumerate() {
        if let Link::Join {
            parent,
            parent_column,
            ..
        } = &table.link
        {
            match index.get(parent) {
                None => c.at(
                    join_span(i),
                    format!(
                        "table `{}` joins to `{parent}`, which system `{}` does not declare",
                        table.name,
                        s.name.get_ref()
                    ),
                ),
                Some(&p) => {
                    let target = &tables[p];
                    if !target.known_columns().contains(&parent_column.as_str()) {
                        c.at(
                            join_span(i),
                            format!(
                                "table `{}` joins to `{parent}.{parent_column}`, which is not a column the map declares for `{parent}` (its primary key is {})",
                                table.name,
                                target.primary_key.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }
    let mut paths = Vec::with_capacity(tables.len());
    let mut reported_cycles = BTreeSet::new();
    for (i, table) in tables.iter().enumerate() {
        let mut path = vec![table.name.clone()];
        let mut at = i;
        let mut complete = false;
        loop {
            match &tables[at].link {
                Link::Identity { .. } => {
                    complete = true;
                    break;
                }
                Link::Join { parent, .. } => {
                    let Some(&p) = index.get(parent) else { break };
                    if path.contains(parent) {
                        let start = path.iter().position(|n| n == parent).unwrap_or(0);
                        let mut cycle: Vec<String> = path[start..].to_vec();
                        cycle.sort();
                        if reported_cycles.insert(cycle) {
                            let mut shown = path[start..].to_vec();
                            shown.push(parent.clone());
                            c.at(
                                join_span(i),
                                format!("joins form a cycle: {}; one table of it must be the identity table", shown.join(" -> ")),
                            );
                        }
                        break;
                    }
                    path.push(parent.clone());
                    at = p;
                }
            }
        }
        paths.push(if complete { path } else { Vec::new() });
    }
    for (table, path) in tables.iter_mut().zip(paths) {
        table.path = path;
    }
}
