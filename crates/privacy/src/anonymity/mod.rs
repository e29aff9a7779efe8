//! # Anonymity of a released table
//!
//! Whether a table about people (a CSV or JSON-lines file) can be released: the rows are
//! grouped into equivalence classes by their quasi-identifiers (columns that, joined with
//! outside data, single a person out: age, ZIP code, sex), and each class is measured against
//! the sensitive attribute (a diagnosis, a salary):
//!
//! - **k-anonymity**: every class has at least k rows ([`metrics`]);
//! - **distinct l-diversity**: every class has at least l distinct sensitive values;
//! - **entropy l-diversity**: every class's sensitive values have entropy at least `ln l`;
//! - **t-closeness**: every class's distribution of sensitive values is within Earth Mover's
//!   Distance t of the whole table's.
//!
//! [`generalize`] rewrites the quasi-identifiers until the table is k-anonymous (Mondrian,
//! along declared [`hierarchy`] files where given)
//! and says what that cost; [`safe_harbor`] checks the eighteen HIPAA identifier types with
//! the detector. [`table`] reads and writes the files. [`check`] runs a whole request, as
//! `evident anonymity check` does.
//!
//! ```
//! use std::path::Path;
//! use evident_privacy::anonymity::{check, Request, Table, Thresholds};
//!
//! let csv = "age,sex,diagnosis\n34,F,flu\n35,F,cold\n51,M,flu\n52,M,flu\n";
//! let table = Table::read_csv(csv.as_bytes(), Path::new("patients.csv")).unwrap();
//! let request = Request {
//!     quasi: vec!["age".into(), "sex".into()],
//!     numeric: vec!["age".into()],
//!     sensitive: Some("diagnosis".into()),
//!     thresholds: Thresholds { k: Some(2), ..Thresholds::default() },
//!     target_k: Some(2),
//!     ..Request::default()
//! };
//! let outcome = check(&table, &request).unwrap();
//! assert_eq!(outcome.report.measures.k, 2);
//! assert_eq!(outcome.report.measures.distinct_l, Some(1)); // the men both have flu
//! assert_eq!(outcome.generalized.unwrap().column(0).value(0), "34-35");
//! ```

pub mod generalize;
pub mod hashing;
pub mod hierarchy;
pub mod metrics;
pub mod safe_harbor;
pub mod table;

use serde::Serialize;

pub use generalize::{InformationLoss, Quasi};
pub use hierarchy::Hierarchy;
pub use metrics::{ClassMeasure, Distance, Measures, Thresholds, Violation};
pub use safe_harbor::SafeHarborReport;
pub use table::{Format, Table};

use crate::error::{Error, Result};
use metrics::{Classes, Sensitive};

/// What to check: the columns' roles and the thresholds.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// the quasi-identifier columns
    pub quasi: Vec<String>,
    /// columns whose values are numbers: numeric quasi-identifiers are generalized to ranges,
    /// a numeric sensitive attribute is compared by ordered distance
    pub numeric: Vec<String>,
    /// the sensitive attribute, needed for l and t
    pub sensitive: Option<String>,
    /// declared hierarchies of categorical quasi-identifiers (column, hierarchy), used by
    /// `target_k`
    pub hierarchies: Vec<(String, Hierarchy)>,
    /// the thresholds to meet
    pub thresholds: Thresholds,
    /// generalize to this k first, and check the result
    pub target_k: Option<u64>,
}

/// The result of a check, as printed (and as `--json` writes it).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// the file checked
    pub file: String,
    /// the quasi-identifiers
    pub quasi: Vec<String>,
    /// the sensitive attribute
    pub sensitive: Option<String>,
    /// the measures of the table checked (the generalized one with a target k)
    pub measures: Measures,
    /// the thresholds asked for
    pub thresholds: Thresholds,
    /// how many classes break a threshold
    pub violations_total: u64,
    /// the classes that break a threshold, smallest first ([`check`] lists every one; a
    /// caller may cut the list, `violations_total` keeps the count)
    pub violations: Vec<Violation>,
    /// with a target k: the original table's measures and what generalizing cost
    pub generalization: Option<GeneralizationReport>,
}

impl CheckReport {
    /// Whether every threshold asked for holds.
    pub fn passed(&self) -> bool {
        self.violations_total == 0
    }
}

/// What generalizing to a target k did.
#[derive(Debug, Clone, Serialize)]
pub struct GeneralizationReport {
    /// the k asked for
    pub target_k: u64,
    /// the measures before
    pub before: Measures,
    /// what it cost
    pub loss: InformationLoss,
}

/// A check's report and, with a target k, the generalized table to write.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// the report
    pub report: CheckReport,
    /// the generalized table
    pub generalized: Option<Table>,
}

/// Runs `request` over `table`.
pub fn check(table: &Table, request: &Request) -> Result<Outcome> {
    if request.quasi.is_empty() {
        return Err(Error::BadRequest(
            "name the quasi-identifiers (--quasi age,zip,sex)".into(),
        ));
    }
    let quasi = request
        .quasi
        .iter()
        .map(|name| table.column_index(name))
        .collect::<Result<Vec<_>>>()?;
    for (i, q) in quasi.iter().enumerate() {
        if quasi[..i].contains(q) {
            return Err(Error::BadRequest(format!(
                "the quasi-identifier `{}` is named twice",
                request.quasi[i]
            )));
        }
    }
    let numeric = request
        .numeric
        .iter()
        .map(|name| table.column_index(name))
        .collect::<Result<Vec<_>>>()?;
    for &n in &numeric {
        table.numbers(n)?;
    }
    let mut hierarchies: Vec<(usize, &Hierarchy)> = Vec::new();
    for (name, hierarchy) in &request.hierarchies {
        let column = table.column_index(name)?;
        if !quasi.contains(&column) || numeric.contains(&column) {
            return Err(Error::BadRequest(format!(
                "a hierarchy generalizes a categorical quasi-identifier; `{name}` is not one"
            )));
        }
        hierarchy.check_covers(table, column)?;
        hierarchies.push((column, hierarchy));
    }
    let sensitive = match &request.sensitive {
        Some(name) => {
            let column = table.column_index(name)?;
            if quasi.contains(&column) {
                return Err(Error::BadRequest(format!(
                    "`{name}` cannot be both a quasi-identifier and the sensitive attribute"
                )));
            }
            let distance = if numeric.contains(&column) {
                Distance::Ordered
            } else {
                Distance::Equal
            };
            Some(Sensitive { column, distance })
        }
        None => None,
    };
    metrics::require_sensitive(&request.thresholds, sensitive)?;
    let measure_all = |t: &Table| -> Result<(Classes, Measures)> {
        let classes = Classes::of(t, &quasi);
        let measures = metrics::measure(t, &classes, sensitive)?;
        Ok((classes, measures))
    };
    let (generalized, generalization) = match request.target_k {
        Some(target_k) => {
            let axes: Vec<Quasi> = quasi
                .iter()
                .map(|&column| Quasi {
                    column,
                    numeric: numeric.contains(&column),
                    hierarchy: hierarchies
                        .iter()
                        .find(|(c, _)| *c == column)
                        .map(|(_, h)| *h),
                })
                .collect();
            let result = generalize::mondrian(table, &axes, target_k)?;
            let (_, before) = measure_all(table)?;
            (
                Some(result.table),
                Some(GeneralizationReport {
                    target_k,
                    before,
                    loss: result.loss,
                }),
            )
        }
        None => (None, None),
    };
    let checked = generalized.as_ref().unwrap_or(table);
    let (classes, measures) = measure_all(checked)?;
    let violations = metrics::violations(checked, &quasi, &classes, &measures, &request.thresholds);
    Ok(Outcome {
        report: CheckReport {
            file: table.file().display().to_string(),
            quasi: request.quasi.clone(),
            sensitive: request.sensitive.clone(),
            measures,
            thresholds: request.thresholds,
            violations_total: violations.len() as u64,
            violations,
            generalization,
        },
        generalized,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn table(csv: &str) -> Table {
        Table::read_csv(csv.as_bytes(), Path::new("p.csv")).unwrap()
    }

    const PATIENTS: &str =
        "age,zip,sex,diagnosis\n34,13053,F,flu\n35,13053,F,cold\n51,13068,M,flu\n52,13068,M,flu\n";

    fn request(quasi: &[&str], sensitive: Option<&str>) -> Request {
        Request {
            quasi: quasi.iter().map(|s| s.to_string()).collect(),
            sensitive: sensitive.map(str::to_owned),
            ..Request::default()
        }
    }

    #[test]
    fn a_request_names_real_distinct_columns() {
        let t = table(PATIENTS);
        assert!(check(&t, &request(&[], None)).is_err());
        let missing = check(&t, &request(&["age", "nope"], None)).unwrap_err();
        assert!(matches!(missing, Error::MissingColumn { .. }));
        assert!(check(&t, &request(&["age", "age"], None)).is_err());
        assert!(check(&t, &request(&["age", "diagnosis"], Some("diagnosis"))).is_err());
        let mut numeric = request(&["age"], None);
        numeric.numeric = vec!["sex".into()];
        assert!(matches!(
            check(&t, &numeric),
            Err(Error::NotNumeric { line: 2, .. })
        ));
    }

    #[test]
    fn thresholds_decide_and_violations_name_the_classes() {
        let t = table(PATIENTS);
        let mut r = request(&["age", "sex"], Some("diagnosis"));
        r.thresholds.k = Some(2);
        let outcome = check(&t, &r).unwrap();
        assert!(!outcome.report.passed());
        assert_eq!(outcome.report.violations.len(), 4);
        let mut r = request(&["zip", "sex"], Some("diagnosis"));
        r.thresholds = Thresholds {
            k: Some(2),
            l: Some(2),
            ..Thresholds::default()
        };
        let outcome = check(&t, &r).unwrap();
        assert_eq!(outcome.report.violations.len(), 1);
        assert_eq!(outcome.report.violations[0].first_line, 4);
        assert_eq!(outcome.report.violations[0].breaks, ["l"]);
    }

    #[test]
    fn a_declared_hierarchy_publishes_ancestors() {
        let t = table(PATIENTS);
        let zips = "13053,1305*,130**,*\n13068,1306*,130**,*\n";
        let h = Hierarchy::read_csv(zips.as_bytes(), Path::new("zip.csv")).unwrap();
        let mut r = request(&["zip", "sex"], Some("diagnosis"));
        r.hierarchies = vec![("zip".into(), h.clone())];
        r.target_k = Some(4);
        let outcome = check(&t, &r).unwrap();
        assert_eq!(outcome.report.measures.k, 4);
        let out = outcome.generalized.unwrap();
        assert_eq!(out.column(1).value(0), "130**");
        assert_eq!(out.column(2).value(0), "*");
        // A hierarchy on a numeric or non-quasi column is refused, and must list every value.
        r.hierarchies = vec![("diagnosis".into(), h.clone())];
        assert!(check(&t, &r).is_err());
        let partial = Hierarchy::read_csv("13053,*\n".as_bytes(), Path::new("zip.csv")).unwrap();
        r.hierarchies = vec![("zip".into(), partial)];
        assert!(matches!(
            check(&t, &r),
            Err(Error::NotInHierarchy { line: 4, .. })
        ));
    }

    #[test]
    fn a_target_k_checks_the_generalized_table() {
        let t = table(PATIENTS);
        let mut r = request(&["age", "zip", "sex"], Some("diagnosis"));
        r.numeric = vec!["age".into(), "zip".into()];
        r.target_k = Some(2);
        r.thresholds.k = Some(2);
        let outcome = check(&t, &r).unwrap();
        assert!(outcome.report.passed());
        let g = outcome.report.generalization.unwrap();
        assert_eq!((g.before.k, outcome.report.measures.k), (1, 2));
        assert!(g.loss.ncp > 0.0);
        assert_eq!(outcome.generalized.unwrap().rows(), 4);
    }
}
