//! The anonymity measures of one table: its equivalence classes (rows that agree on every
//! quasi-identifier) and, per class and overall, k-anonymity (Sweeney 2002), distinct and
//! entropy l-diversity (Machanavajjhala et al. 2006) and t-closeness (Li et al. 2007) with
//! the Earth Mover's Distance: equal distance for a categorical sensitive attribute, ordered
//! distance for a numeric one. Also which classes violate requested thresholds.

use serde::Serialize;

use super::hashing::FastMap;
use super::table::Table;
use crate::error::{Error, Result};

/// How distances between sensitive values are measured for t-closeness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// every two distinct values are 1 apart (categorical attributes)
    Equal,
    /// values in numeric order, `|rank(a) − rank(b)| / (m − 1)` apart (numeric attributes)
    Ordered,
}

/// The rows grouped by their quasi-identifier values.
#[derive(Debug, Clone)]
pub struct Classes {
    /// each row's class
    pub of_row: Vec<u32>,
    /// each class's size
    pub sizes: Vec<u64>,
    /// each class's first row (in file order), which shows its quasi-identifier values
    pub first_row: Vec<u32>,
}

impl Classes {
    /// Groups the rows of `table` by the columns `quasi`.
    ///
    /// Each row's codes are folded into one integer key, `key · cardinality + code`, column
    /// by column; when the next column would overflow 64 bits the keys are renumbered densely
    /// first. A million rows then cost one integer hash each.
    pub fn of(table: &Table, quasi: &[usize]) -> Classes {
        let rows = table.rows();
        let mut keys = vec![0u64; rows];
        let mut radix: u64 = 1;
        for &index in quasi {
            let column = table.column(index);
            let cardinality = column.dictionary().len().max(1) as u64;
            if radix.checked_mul(cardinality).is_none() {
                radix = renumber(&mut keys).max(1);
            }
            for (key, &code) in keys.iter_mut().zip(column.codes()) {
                *key = *key * cardinality + u64::from(code);
            }
            radix *= cardinality;
        }
        let mut ids: FastMap<u64, u32> = FastMap::default();
        let mut of_row = Vec::with_capacity(rows);
        let mut sizes = Vec::new();
        let mut first_row = Vec::new();
        for (row, key) in keys.into_iter().enumerate() {
            let next = sizes.len() as u32;
            let id = *ids.entry(key).or_insert(next);
            if id == next {
                sizes.push(0);
                first_row.push(row as u32);
            }
            sizes[id as usize] += 1;
            of_row.push(id);
        }
        Classes {
            of_row,
            sizes,
            first_row,
        }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Whether there is no class (never, for a table, which has rows).
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }
}

/// Replaces keys by dense numbers in order of first appearance; answers how many there are.
fn renumber(keys: &mut [u64]) -> u64 {
    let mut ids: FastMap<u64, u64> = FastMap::default();
    for key in keys.iter_mut() {
        let next = ids.len() as u64;
        *key = *ids.entry(*key).or_insert(next);
    }
    ids.len() as u64
}

/// One equivalence class's measures.
#[derive(Debug, Clone, Serialize)]
pub struct ClassMeasure {
    /// rows in the class
    pub size: u64,
    /// distinct sensitive values
    pub distinct: u64,
    /// `exp(entropy)` of the sensitive values (natural logarithm)
    pub entropy_l: f64,
    /// Earth Mover's Distance of the class's sensitive values from the whole table's
    pub t: f64,
}

/// A table's measures.
#[derive(Debug, Clone, Serialize)]
pub struct Measures {
    /// rows
    pub rows: u64,
    /// equivalence classes
    pub classes: u64,
    /// the smallest class size
    pub k: u64,
    /// the fewest distinct sensitive values in a class (present with a sensitive attribute)
    pub distinct_l: Option<u64>,
    /// the smallest `exp(entropy)` of a class's sensitive values
    pub entropy_l: Option<f64>,
    /// the largest distance of a class's sensitive values from the table's
    pub t: Option<f64>,
    /// how `t` measured distances
    pub distance: Option<Distance>,
    /// each class's measures, by class id
    #[serde(skip)]
    pub per_class: Vec<ClassMeasure>,
}

/// The sensitive attribute of a check: its column and how its values are compared.
#[derive(Debug, Clone, Copy)]
pub struct Sensitive {
    /// the column
    pub column: usize,
    /// numeric (ordered distance, values equal as numbers are one value) or categorical
    pub distance: Distance,
}

/// Measures `table` grouped into `classes`, with the sensitive attribute if there is one.
pub fn measure(table: &Table, classes: &Classes, sensitive: Option<Sensitive>) -> Result<Measures> {
    let k = classes.sizes.iter().copied().min().unwrap_or(0);
    let mut measures = Measures {
        rows: table.rows() as u64,
        classes: classes.len() as u64,
        k,
        distinct_l: None,
        entropy_l: None,
        t: None,
        distance: None,
        per_class: Vec::new(),
    };
    let Some(sensitive) = sensitive else {
        measures.per_class = classes
            .sizes
            .iter()
            .map(|&size| ClassMeasure {
                size,
                distinct: 0,
                entropy_l: 0.0,
                t: 0.0,
            })
            .collect();
        return Ok(measures);
    };
    let (values, m) = sensitive_values(table, sensitive)?;
    // The whole table's distribution over the m values, and for ordered distance the running
    // sums the sparse EMD needs.
    let mut global = vec![0u64; m];
    for &v in &values {
        global[v as usize] += 1;
    }
    let rows = table.rows() as f64;
    let q: Vec<f64> = global.iter().map(|&c| c as f64 / rows).collect();
    let ordered = OrderedEmd::new(&q);
    // (class, value) pairs sorted: each class's histogram is then one run.
    let mut pairs: Vec<u64> = classes
        .of_row
        .iter()
        .zip(&values)
        .map(|(&class, &value)| (u64::from(class) << 32) | u64::from(value))
        .collect();
    pairs.sort_unstable();
    let mut per_class = vec![
        ClassMeasure {
            size: 0,
            distinct: 0,
            entropy_l: 0.0,
            t: 0.0
        };
        classes.len()
    ];
    let mut histogram: Vec<(u32, u64)> = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let class = (pairs[start] >> 32) as usize;
        histogram.clear();
        let mut end = start;
        while end < pairs.len() && (pairs[end] >> 32) as usize == class {
            let value = pairs[end] as u32;
            match histogram.last_mut() {
                Some((v, count)) if *v == value => *count += 1,
                _ => histogram.push((value, 1)),
            }
            end += 1;
        }
        let size = (end - start) as f64;
        let entropy: f64 = histogram
            .iter()
            .map(|&(_, c)| {
                let p = c as f64 / size;
                -p * p.ln()
            })
            .sum();
        let t = match sensitive.distance {
            Distance::Equal => equal_emd(&histogram, size, &q),
            Distance::Ordered => ordered.distance(&histogram, size),
        };
        per_class[class] = ClassMeasure {
            size: (end - start) as u64,
            distinct: histogram.len() as u64,
            entropy_l: entropy.exp(),
            t,
        };
        start = end;
    }
    measures.distinct_l = per_class.iter().map(|c| c.distinct).min();
    measures.entropy_l = per_class.iter().map(|c| c.entropy_l).min_by(f64::total_cmp);
    measures.t = per_class.iter().map(|c| c.t).max_by(f64::total_cmp);
    measures.distance = Some(sensitive.distance);
    measures.per_class = per_class;
    Ok(measures)
}

/// Each row's sensitive value as a dense number, and how many distinct values there are. For
/// ordered distance the numbers are ranks in numeric order, values equal as numbers sharing
/// one (`5` and `5.0`).
fn sensitive_values(table: &Table, sensitive: Sensitive) -> Result<(Vec<u32>, usize)> {
    let column = table.column(sensitive.column);
    match sensitive.distance {
        Distance::Equal => Ok((column.codes().to_vec(), column.dictionary().len())),
        Distance::Ordered => {
            let numbers = table.numbers(sensitive.column)?;
            let mut order: Vec<u32> = (0..numbers.len() as u32).collect();
            order.sort_unstable_by(|&a, &b| numbers[a as usize].total_cmp(&numbers[b as usize]));
            let mut rank_of_code = vec![0u32; numbers.len()];
            let mut rank = 0u32;
            for (i, &code) in order.iter().enumerate() {
                if i > 0 && numbers[code as usize] != numbers[order[i - 1] as usize] {
                    rank += 1;
                }
                rank_of_code[code as usize] = rank;
            }
            let values = column
                .codes()
                .iter()
                .map(|&c| rank_of_code[c as usize])
                .collect();
            Ok((values, rank as usize + 1))
        }
    }
}

/// EMD under equal distance: half the L1 distance of the two distributions, summed over the
/// class's own values plus the table's mass on values the class lacks.
fn equal_emd(histogram: &[(u32, u64)], size: f64, q: &[f64]) -> f64 {
    let mut differing = 0.0;
    let mut covered = 0.0;
    for &(value, count) in histogram {
        let q = q[value as usize];
        differing += (count as f64 / size - q).abs();
        covered += q;
    }
    0.5 * (differing + (1.0 - covered).max(0.0))
}

/// EMD under ordered distance, `1/(m−1) · Σᵢ |Pᵢ − Qᵢ|` over the cumulative distributions
/// (Li et al. 2007), computed from the class's own values only: between two of them the
/// class's cumulative `c` is constant and the table's `Qᵢ` only grows, so `Σ |c − Qᵢ|` over
/// that stretch splits where `Qᵢ` passes `c` and is read off prefix sums of `Qᵢ`.
struct OrderedEmd {
    /// `Qᵢ`, the table's cumulative distribution
    cumulative: Vec<f64>,
    /// `Sᵢ = Q₀ + … + Qᵢ₋₁`
    prefix: Vec<f64>,
}

impl OrderedEmd {
    fn new(q: &[f64]) -> OrderedEmd {
        let mut cumulative = Vec::with_capacity(q.len());
        let mut running = 0.0;
        for &p in q {
            running += p;
            cumulative.push(running);
        }
        let mut prefix = Vec::with_capacity(q.len() + 1);
        prefix.push(0.0);
        let mut sum = 0.0;
        for &c in &cumulative {
            sum += c;
            prefix.push(sum);
        }
        OrderedEmd { cumulative, prefix }
    }

    /// `Σ_{i ∈ [a, b)} |c − Qᵢ|`.
    fn stretch(&self, a: usize, b: usize, c: f64) -> f64 {
        if a >= b {
            return 0.0;
        }
        let split = a + self.cumulative[a..b].partition_point(|&q| q < c);
        let below = c * (split - a) as f64 - (self.prefix[split] - self.prefix[a]);
        let above = (self.prefix[b] - self.prefix[split]) - c * (b - split) as f64;
        below + above
    }

    fn distance(&self, histogram: &[(u32, u64)], size: f64) -> f64 {
        let m = self.cumulative.len();
        if m < 2 {
            return 0.0;
        }
        let mut total = 0.0;
        let mut at = 0;
        let mut class_cumulative = 0.0;
        for &(value, count) in histogram {
            let value = value as usize;
            total += self.stretch(at, value, class_cumulative);
            class_cumulative += count as f64 / size;
            at = value;
        }
        total += self.stretch(at, m, class_cumulative);
        total / (m - 1) as f64
    }
}

/// Thresholds a check asks for; `None` is not checked.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Thresholds {
    /// every class at least this large
    pub k: Option<u64>,
    /// every class with at least this many distinct sensitive values
    pub l: Option<u64>,
    /// every class with `exp(entropy)` at least this
    pub entropy_l: Option<f64>,
    /// every class at most this far from the table's distribution
    pub t: Option<f64>,
}

impl Thresholds {
    /// Whether any threshold needs the sensitive attribute.
    pub fn need_sensitive(&self) -> bool {
        self.l.is_some() || self.entropy_l.is_some() || self.t.is_some()
    }
}

/// A class that breaks a threshold, and which.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    /// the class id
    pub class: u32,
    /// its quasi-identifier values (column, value)
    pub quasi: Vec<(String, String)>,
    /// the 1-based line of its first row
    pub first_line: u64,
    /// its measures
    pub measure: ClassMeasure,
    /// which thresholds it breaks (`k`, `l`, `entropy_l`, `t`)
    pub breaks: Vec<&'static str>,
}

/// Margin for comparing computed real-valued measures with a threshold: `exp(ln 3)` is not
/// exactly 3 in floating point, and a class exactly at the threshold meets it.
const EPSILON: f64 = 1e-9;

/// Every class that breaks a threshold, smallest classes first.
pub fn violations(
    table: &Table,
    quasi: &[usize],
    classes: &Classes,
    measures: &Measures,
    thresholds: &Thresholds,
) -> Vec<Violation> {
    let mut found = Vec::new();
    for (class, m) in measures.per_class.iter().enumerate() {
        let mut breaks = Vec::new();
        if thresholds.k.is_some_and(|k| m.size < k) {
            breaks.push("k");
        }
        if thresholds.l.is_some_and(|l| m.distinct < l) {
            breaks.push("l");
        }
        if thresholds
            .entropy_l
            .is_some_and(|l| m.entropy_l + EPSILON < l)
        {
            breaks.push("entropy_l");
        }
        if thresholds.t.is_some_and(|t| m.t > t + EPSILON) {
            breaks.push("t");
        }
        if breaks.is_empty() {
            continue;
        }
        let row = classes.first_row[class] as usize;
        found.push(Violation {
            class: class as u32,
            quasi: quasi
                .iter()
                .map(|&q| {
                    let column = table.column(q);
                    (column.name().to_owned(), column.value(row).to_owned())
                })
                .collect(),
            first_line: table.line(row),
            measure: m.clone(),
            breaks,
        });
    }
    found.sort_by_key(|v| (v.measure.size, v.first_line));
    found
}

/// Checks that a sensitive attribute is named when a threshold needs one.
pub fn require_sensitive(thresholds: &Thresholds, sensitive: Option<Sensitive>) -> Result<()> {
    if thresholds.need_sensitive() && sensitive.is_none() {
        return Err(Error::BadRequest(
            "l, entropy l and t need a sensitive attribute (--sensitive COLUMN)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
