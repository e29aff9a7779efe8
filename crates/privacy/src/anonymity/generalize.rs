//! Generalization to a target k: strict multidimensional Mondrian (LeFevre, DeWitt and
//! Ramakrishnan 2006). The rows are cut recursively at the median of the quasi-identifier
//! with the widest normalized range in the current part, as long as both sides keep at least
//! k rows; each final part becomes one equivalence class. A numeric quasi-identifier is
//! published as the part's range (`30-39`, or the one value), a categorical one as the set of
//! its values in the part (`{F,M}`, or `*` for all of them), categorical values being cut in
//! lexicographic order; or, with a declared hierarchy ([`super::hierarchy`]), cut in the
//! tree's order and published as the values' lowest common ancestor. No row is dropped, so
//! nothing is suppressed.
//!
//! Information loss is reported as the normalized certainty penalty (Xu et al. 2006: a
//! cell's range over the column's, or its set's size less one over the domain's, averaged
//! over the quasi-identifier cells; 0 is the original table, 1 everything generalized away)
//! and the discernibility metric (Bayardo and Agrawal 2005: the sum of squared class sizes).

use serde::Serialize;

use super::hashing::FastMap;
use super::hierarchy::Hierarchy;
use super::table::Table;
use crate::error::{Error, Result};

/// A quasi-identifier to generalize: whether its values are numbers, or which declared
/// hierarchy generalizes it.
#[derive(Debug, Clone, Copy)]
pub struct Quasi<'h> {
    /// the column
    pub column: usize,
    /// published as numeric ranges (values must parse as numbers)
    pub numeric: bool,
    /// published as the lowest common ancestor in this hierarchy (a categorical column)
    pub hierarchy: Option<&'h Hierarchy>,
}

/// What generalizing cost.
#[derive(Debug, Clone, Serialize)]
pub struct InformationLoss {
    /// normalized certainty penalty, 0 (nothing lost) to 1 (every quasi-identifier `*`)
    pub ncp: f64,
    /// discernibility metric: Σ (class size)²
    pub discernibility: u64,
    /// average class size over k: 1 is the best a k-anonymous table can do
    pub average_class_size_ratio: f64,
    /// equivalence classes in the output
    pub classes: u64,
}

/// The generalized table and its cost.
#[derive(Debug, Clone)]
pub struct Generalized {
    /// the same rows in the same order, quasi-identifiers generalized
    pub table: Table,
    /// what it cost
    pub loss: InformationLoss,
}

/// One quasi-identifier's per-row positions: the number for a numeric column, the rank of the
/// value in lexicographic order for a categorical one.
struct Axis<'h> {
    column: usize,
    numeric: bool,
    hierarchy: Option<&'h Hierarchy>,
    /// position of each code
    position_of_code: Vec<f64>,
    /// the column's full span (max − min of positions)
    span: f64,
    /// distinct values in the column (categorical NCP)
    domain: usize,
}

impl<'h> Axis<'h> {
    fn new(table: &Table, quasi: Quasi<'h>) -> Result<Axis<'h>> {
        let column = table.column(quasi.column);
        let position_of_code = if quasi.numeric {
            table.numbers(quasi.column)?
        } else {
            let dictionary = column.dictionary();
            let mut order: Vec<usize> = (0..dictionary.len()).collect();
            match quasi.hierarchy {
                // Values under one ancestor next to each other, so cuts follow the tree.
                Some(h) => {
                    h.check_covers(table, quasi.column)?;
                    order.sort_by_cached_key(|&code| h.order_key(&dictionary[code]));
                }
                None => order.sort_unstable_by(|&a, &b| dictionary[a].cmp(&dictionary[b])),
            }
            let mut position = vec![0.0; dictionary.len()];
            for (rank, code) in order.into_iter().enumerate() {
                position[code] = rank as f64;
            }
            position
        };
        let min = position_of_code
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let max = position_of_code
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        Ok(Axis {
            column: quasi.column,
            numeric: quasi.numeric,
            hierarchy: quasi.hierarchy,
            span: max - min,
            domain: position_of_code.len(),
            position_of_code,
        })
    }

    fn position(&self, table: &Table, row: u32) -> f64 {
        self.position_of_code[table.column(self.column).codes()[row as usize] as usize]
    }
}

/// Generalizes `table` until every class over `quasi` has at least `k` rows.
pub fn mondrian(table: &Table, quasi: &[Quasi], k: u64) -> Result<Generalized> {
    if k == 0 {
        return Err(Error::BadRequest("the target k must be at least 1".into()));
    }
    if quasi.is_empty() {
        return Err(Error::BadRequest(
            "name at least one quasi-identifier to generalize".into(),
        ));
    }
    let rows = table.rows();
    if (rows as u64) < k {
        return Err(Error::BadRequest(format!(
            "{}: {rows} rows cannot be {k}-anonymous (a class needs {k} rows)",
            table.file().display()
        )));
    }
    let axes = quasi
        .iter()
        .map(|&q| Axis::new(table, q))
        .collect::<Result<Vec<_>>>()?;
    let k = k as usize;
    let mut order: Vec<u32> = (0..rows as u32).collect();
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut pending = vec![(0usize, rows)];
    let mut values: Vec<f64> = Vec::new();
    while let Some((start, end)) = pending.pop() {
        match cut(table, &axes, &mut order[start..end], k, &mut values) {
            Some(left) => {
                pending.push((start + left, end));
                pending.push((start, start + left));
            }
            None => parts.push((start, end)),
        }
    }
    Ok(publish(table, &axes, &order, &parts, k))
}

/// Cuts `rows` in two at a median, reordering them so the left part comes first, and answers
/// the left part's size; `None` when no quasi-identifier can be cut with k rows each side.
fn cut(
    table: &Table,
    axes: &[Axis],
    rows: &mut [u32],
    k: usize,
    values: &mut Vec<f64>,
) -> Option<usize> {
    if rows.len() < 2 * k {
        return None;
    }
    // Widest normalized range first.
    let mut spans: Vec<(f64, usize)> = axes
        .iter()
        .enumerate()
        .map(|(i, axis)| {
            let (lo, hi) = rows
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                    let p = axis.position(table, r);
                    (lo.min(p), hi.max(p))
                });
            let width = if axis.span > 0.0 {
                (hi - lo) / axis.span
            } else {
                0.0
            };
            (width, i)
        })
        .filter(|&(width, _)| width > 0.0)
        .collect();
    spans.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in spans {
        let axis = &axes[i];
        values.clear();
        values.extend(rows.iter().map(|&r| axis.position(table, r)));
        values.sort_unstable_by(f64::total_cmp);
        let median = values[(values.len() - 1) / 2];
        // Rows at or below the median go left; if that leaves the right too small, cut just
        // below the median instead.
        let at_or_below = values.partition_point(|&v| v <= median);
        let below = values.partition_point(|&v| v < median);
        let fits = |left: usize| left >= k && rows.len() - left >= k;
        let split = if fits(at_or_below) {
            median
        } else if fits(below) {
            values[below - 1]
        } else {
            continue;
        };
        // In place: everything ≤ split to the front.
        let mut left = 0;
        for j in 0..rows.len() {
            if axis.position(table, rows[j]) <= split {
                rows.swap(left, j);
                left += 1;
            }
        }
        return Some(left);
    }
    None
}

/// Writes each part's generalized values into a copy of the table and measures the loss.
fn publish(
    table: &Table,
    axes: &[Axis],
    order: &[u32],
    parts: &[(usize, usize)],
    k: usize,
) -> Generalized {
    let rows = table.rows();
    let mut out = table.clone();
    let mut ncp_sum = 0.0;
    for axis in axes {
        let column = table.column(axis.column);
        let mut dictionary: Vec<String> = Vec::with_capacity(parts.len());
        let mut interned: FastMap<String, u32> = FastMap::default();
        let mut codes = vec![0u32; rows];
        for &(start, end) in parts {
            let members = &order[start..end];
            let label = label(table, axis, members);
            let (lo, hi) =
                members
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                        let p = axis.position(table, r);
                        (lo.min(p), hi.max(p))
                    });
            let penalty = if axis.numeric {
                if axis.span > 0.0 {
                    (hi - lo) / axis.span
                } else {
                    0.0
                }
            } else if let Some(h) = axis.hierarchy {
                let values: Vec<&str> = distinct_codes(column.codes(), members)
                    .into_iter()
                    .map(|c| column.dictionary()[c as usize].as_str())
                    .collect();
                let (_, under) = h.common(&values);
                if h.leaves() > 1 {
                    (under - 1) as f64 / (h.leaves() - 1) as f64
                } else {
                    0.0
                }
            } else {
                let distinct = distinct_codes(column.codes(), members).len();
                if axis.domain > 1 {
                    (distinct - 1) as f64 / (axis.domain - 1) as f64
                } else {
                    0.0
                }
            };
            ncp_sum += penalty * members.len() as f64;
            let code = *interned.entry(label).or_insert_with_key(|label| {
                dictionary.push(label.clone());
                dictionary.len() as u32 - 1
            });
            for &r in members {
                codes[r as usize] = code;
            }
        }
        out.with_column(axis.column, dictionary, codes);
    }
    let discernibility = parts.iter().map(|&(s, e)| ((e - s) as u64).pow(2)).sum();
    Generalized {
        table: out,
        loss: InformationLoss {
            ncp: ncp_sum / (rows * axes.len()) as f64,
            discernibility,
            average_class_size_ratio: rows as f64 / (parts.len() * k) as f64,
            classes: parts.len() as u64,
        },
    }
}

/// The distinct codes among `members`, sorted.
fn distinct_codes(codes: &[u32], members: &[u32]) -> Vec<u32> {
    let mut seen: Vec<u32> = members.iter().map(|&r| codes[r as usize]).collect();
    seen.sort_unstable();
    seen.dedup();
    seen
}

/// How a part's values are published.
fn label(table: &Table, axis: &Axis, members: &[u32]) -> String {
    let column = table.column(axis.column);
    let codes = distinct_codes(column.codes(), members);
    if codes.len() == 1 {
        return column.dictionary()[codes[0] as usize].clone();
    }
    if axis.numeric {
        let (lo, hi) = codes
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &c| {
                let p = axis.position_of_code[c as usize];
                (lo.min(p), hi.max(p))
            });
        if lo == hi {
            // "5" and "5.0": one number written two ways.
            return format!("{lo}");
        }
        if lo < 0.0 {
            return format!("[{lo}, {hi}]");
        }
        return format!("{lo}-{hi}");
    }
    if let Some(h) = axis.hierarchy {
        let values: Vec<&str> = codes
            .iter()
            .map(|&c| column.dictionary()[c as usize].as_str())
            .collect();
        return h.common(&values).0;
    }
    if codes.len() == axis.domain {
        return "*".to_owned();
    }
    let mut values: Vec<&str> = codes
        .iter()
        .map(|&c| column.dictionary()[c as usize].as_str())
        .collect();
    values.sort_unstable();
    format!("{{{}}}", values.join(","))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;
    use crate::anonymity::metrics::{measure, Classes};

    fn table(csv: &str) -> Table {
        Table::read_csv(csv.as_bytes(), Path::new("t.csv")).unwrap()
    }

    fn k_of(t: &Table, quasi: &[usize]) -> u64 {
        measure(t, &Classes::of(t, quasi), None).unwrap().k
    }

    #[test]
    fn ages_become_ranges_and_sexes_sets() {
        let t = table(
            "age,sex,diagnosis\n21,F,flu\n22,F,cold\n23,M,flu\n41,M,flu\n45,F,cold\n47,M,cold\n",
        );
        let q = [
            Quasi {
                column: 0,
                numeric: true,
                hierarchy: None,
            },
            Quasi {
                column: 1,
                numeric: false,
                hierarchy: None,
            },
        ];
        let g = mondrian(&t, &q, 3).unwrap();
        assert_eq!(k_of(&g.table, &[0, 1]), 3);
        let ages: Vec<&str> = (0..6).map(|r| g.table.column(0).value(r)).collect();
        assert_eq!(ages, ["21-23", "21-23", "21-23", "41-47", "41-47", "41-47"]);
        assert_eq!(g.table.column(1).value(0), "*");
        assert_eq!(
            g.table.column(2).value(1),
            "cold",
            "non-quasi columns are kept"
        );
        assert_eq!(g.loss.classes, 2);
        assert_eq!(g.loss.discernibility, 18);
        // Ages: 2/26 and 6/26 of the span, three rows each; sex: every cell `*`.
        let expected = ((2.0 / 26.0 + 6.0 / 26.0) * 3.0 / 6.0 + 1.0) / 2.0;
        assert!((g.loss.ncp - expected).abs() < 1e-12, "{}", g.loss.ncp);
    }

    #[test]
    fn an_already_anonymous_table_loses_nothing() {
        let t = table("sex\nF\nF\nM\nM\n");
        let g = mondrian(
            &t,
            &[Quasi {
                column: 0,
                numeric: false,
                hierarchy: None,
            }],
            2,
        )
        .unwrap();
        assert_eq!(g.loss.ncp, 0.0);
        assert_eq!(g.table.column(0).value(2), "M");
    }

    #[test]
    fn too_few_rows_and_bad_numbers_are_refused() {
        let t = table("age\n1\n2\n");
        let q = [Quasi {
            column: 0,
            numeric: true,
            hierarchy: None,
        }];
        assert!(mondrian(&t, &q, 3)
            .unwrap_err()
            .to_string()
            .contains("2 rows cannot be 3-anonymous"));
        assert!(mondrian(&t, &q, 0).is_err());
        let t = table("age\n1\nten\n");
        assert!(matches!(
            mondrian(&t, &q, 1),
            Err(Error::NotNumeric { line: 3, .. })
        ));
    }

    #[test]
    fn skewed_values_still_cut_below_the_median() {
        // Eight rows of 5 and two of 9 with k = 2: cutting at ≤ 5 leaves 2 on the right.
        let t = table("v\n5\n5\n5\n5\n5\n5\n5\n5\n9\n9\n");
        let g = mondrian(
            &t,
            &[Quasi {
                column: 0,
                numeric: true,
                hierarchy: None,
            }],
            2,
        )
        .unwrap();
        assert_eq!(g.loss.classes, 2);
        assert_eq!(g.loss.ncp, 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Mondrian's output is k-anonymous over the quasi-identifiers, keeps every row in
        /// place, leaves other columns alone, and covers each original value.
        #[test]
        fn mondrian_output_is_k_anonymous_and_keeps_every_row(
            rows in prop::collection::vec((0u8..90, 0u8..4, 0u8..3, 0u8..5), 1..120),
            k in 1u64..8,
        ) {
            let mut csv = String::from("age,zip,sex,diagnosis\n");
            for (age, zip, sex, d) in &rows {
                csv.push_str(&format!("{age},{},{},d{d}\n", 13050 + u32::from(*zip), ["F", "M", "X"][*sex as usize]));
            }
            let t = table(&csv);
            let q = [
                Quasi { column: 0, numeric: true, hierarchy: None },
                Quasi { column: 1, numeric: true, hierarchy: None },
                Quasi { column: 2, numeric: false, hierarchy: None },
            ];
            let result = mondrian(&t, &q, k);
            if (rows.len() as u64) < k {
                prop_assert!(result.is_err());
                return Ok(());
            }
            let g = result.unwrap();
            prop_assert_eq!(g.table.rows(), t.rows());
            prop_assert!(k_of(&g.table, &[0, 1, 2]) >= k);
            prop_assert!(g.loss.ncp >= 0.0 && g.loss.ncp <= 1.0 + 1e-12);
            for r in 0..t.rows() {
                prop_assert_eq!(g.table.column(3).value(r), t.column(3).value(r));
                let age: f64 = t.column(0).value(r).parse().unwrap();
                let published = g.table.column(0).value(r);
                let covers = match published.split_once('-') {
                    Some((lo, hi)) => lo.parse::<f64>().unwrap() <= age && age <= hi.parse::<f64>().unwrap(),
                    None => published.parse::<f64>().unwrap() == age,
                };
                prop_assert!(covers, "{} does not cover {}", published, age);
                let sex = t.column(2).value(r);
                let set = g.table.column(2).value(r);
                let covered = set == sex
                    || set == "*"
                    || set.trim_matches(['{', '}']).split(',').any(|s| s == sex);
                prop_assert!(covered, "{} does not cover {}", set, sex);
            }
        }

        /// With a declared hierarchy the output is k-anonymous too, and each published ZIP
        /// code is the value itself or one of its ancestors.
        #[test]
        fn mondrian_along_a_hierarchy_is_k_anonymous(
            rows in prop::collection::vec((0u8..90, 0u8..4), 1..100),
            k in 1u64..6,
        ) {
            let mut csv = String::from("age,zip\n");
            for (age, zip) in &rows {
                csv.push_str(&format!("{age},{}\n", 13050 + u32::from(*zip)));
            }
            let t = table(&csv);
            let zips = "13050,1305a,*\n13051,1305a,*\n13052,1305b,*\n13053,1305b,*\n";
            let h = Hierarchy::read_csv(zips.as_bytes(), Path::new("zip.csv")).unwrap();
            let q = [
                Quasi { column: 0, numeric: true, hierarchy: None },
                Quasi { column: 1, numeric: false, hierarchy: Some(&h) },
            ];
            let Ok(g) = mondrian(&t, &q, k) else {
                prop_assert!((rows.len() as u64) < k);
                return Ok(());
            };
            prop_assert!(k_of(&g.table, &[0, 1]) >= k);
            for r in 0..t.rows() {
                let zip = t.column(1).value(r);
                let published = g.table.column(1).value(r);
                let half = if zip < "13052" { "1305a" } else { "1305b" };
                prop_assert!([zip, half, "*"].contains(&published), "{} for {}", published, zip);
            }
        }
    }
}
