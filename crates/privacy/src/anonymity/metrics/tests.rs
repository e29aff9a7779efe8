//! The measures on small tables computed by hand, and on the published examples.

use std::path::Path;

use super::*;
use crate::anonymity::table::Table;

fn table(csv: &str) -> Table {
    Table::read_csv(csv.as_bytes(), Path::new("t.csv")).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Machanavajjhala et al. 2006, the 4-anonymous inpatient table (their Figure 2): k = 4, but
/// the third class is all cancer, so distinct and entropy l are 1.
const HOSPITAL_4_ANONYMOUS: &str = "zip,age,nationality,condition
130**,<30,*,Heart Disease
130**,<30,*,Heart Disease
130**,<30,*,Viral Infection
130**,<30,*,Viral Infection
1485*,>=40,*,Cancer
1485*,>=40,*,Heart Disease
1485*,>=40,*,Viral Infection
1485*,>=40,*,Viral Infection
130**,3*,*,Cancer
130**,3*,*,Cancer
130**,3*,*,Cancer
130**,3*,*,Cancer
";

/// The same twelve patients in their 3-diverse table (Figure 3).
const HOSPITAL_3_DIVERSE: &str = "zip,age,nationality,condition
1305*,<=40,*,Heart Disease
1305*,<=40,*,Viral Infection
1305*,<=40,*,Cancer
1305*,<=40,*,Cancer
1485*,>40,*,Cancer
1485*,>40,*,Heart Disease
1485*,>40,*,Viral Infection
1485*,>40,*,Viral Infection
1306*,<=40,*,Heart Disease
1306*,<=40,*,Viral Infection
1306*,<=40,*,Cancer
1306*,<=40,*,Cancer
";

fn measured(
    csv: &str,
    quasi: &[usize],
    sensitive: usize,
    distance: Distance,
) -> (Table, Classes, Measures) {
    let t = table(csv);
    let classes = Classes::of(&t, quasi);
    let m = measure(
        &t,
        &classes,
        Some(Sensitive {
            column: sensitive,
            distance,
        }),
    )
    .unwrap();
    (t, classes, m)
}

#[test]
fn the_4_anonymous_hospital_table_is_not_diverse() {
    let (t, classes, m) = measured(HOSPITAL_4_ANONYMOUS, &[0, 1, 2], 3, Distance::Equal);
    assert_eq!((m.rows, m.classes, m.k), (12, 3, 4));
    assert_eq!(m.distinct_l, Some(1));
    assert!(close(m.entropy_l.unwrap(), 1.0));
    // Table: heart 3/12, viral 4/12, cancer 5/12. The all-cancer class is
    // ½(3/12 + 4/12 + 7/12) = 7/12 away.
    assert!(close(m.t.unwrap(), 7.0 / 12.0), "{:?}", m.t);
    let thresholds = Thresholds {
        k: Some(4),
        l: Some(2),
        ..Thresholds::default()
    };
    let v = violations(&t, &[0, 1, 2], &classes, &m, &thresholds);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].first_line, 10);
    assert_eq!(v[0].breaks, ["l"]);
    assert_eq!(v[0].quasi[1], ("age".to_owned(), "3*".to_owned()));
}

#[test]
fn the_3_diverse_hospital_table() {
    let (_, _, m) = measured(HOSPITAL_3_DIVERSE, &[0, 1, 2], 3, Distance::Equal);
    assert_eq!((m.k, m.distinct_l), (4, Some(3)));
    // Classes (¼, ¼, ½): exp(−2·¼·ln ¼ − ½·ln ½) = 2√2.
    assert!(
        close(m.entropy_l.unwrap(), 2.0 * 2f64.sqrt()),
        "{:?}",
        m.entropy_l
    );
}

/// Li, Li and Venkatasubramanian 2007: salaries 3K–11K. Their 3-diverse Table 3 puts
/// {3K, 4K, 5K} together, 0.375 from the whole table under ordered distance; their Table 4
/// is 0.167-close.
const SALARY_3_DIVERSE: &str = "zip,age,salary
476**,2*,3
476**,2*,4
476**,2*,5
4790*,>=40,6
4790*,>=40,11
4790*,>=40,8
476**,3*,7
476**,3*,9
476**,3*,10
";

const SALARY_CLOSE: &str = "zip,age,salary
4767*,<=40,3
4767*,<=40,5
4767*,<=40,9
4790*,>=40,6
4790*,>=40,11
4790*,>=40,8
4760*,<=40,4
4760*,<=40,7
4760*,<=40,10
";

#[test]
fn ordered_distance_matches_li_et_al() {
    let (_, classes, m) = measured(SALARY_3_DIVERSE, &[0, 1], 2, Distance::Ordered);
    assert!(close(m.per_class[classes.of_row[0] as usize].t, 0.375));
    assert!(close(m.t.unwrap(), 0.375));
    let (_, classes, m) = measured(SALARY_CLOSE, &[0, 1], 2, Distance::Ordered);
    assert!(close(m.t.unwrap(), 1.0 / 6.0), "{:?}", m.t);
    assert!(close(m.per_class[classes.of_row[6] as usize].t, 1.0 / 12.0));
    assert_eq!(m.distance, Some(Distance::Ordered));
}

/// The sparse ordered EMD against the definition, term by term, on a table with gaps.
#[test]
fn sparse_ordered_emd_equals_the_definition() {
    let q = [0.1, 0.05, 0.3, 0.05, 0.2, 0.1, 0.2];
    let emd = OrderedEmd::new(&q);
    let class: [(u32, u64); 3] = [(1, 2), (4, 1), (5, 3)];
    let size = 6.0;
    let mut p = [0.0; 7];
    for (v, c) in class {
        p[v as usize] = c as f64 / size;
    }
    let (mut run, mut sum) = (0.0, 0.0);
    for i in 0..7 {
        run += p[i] - q[i];
        sum += f64::abs(run);
    }
    assert!(close(emd.distance(&class, size), sum / 6.0));
}

#[test]
fn numeric_values_equal_as_numbers_are_one_value() {
    let (_, _, m) = measured("g,v\na,5\na,5.0\nb,5\nb,7\n", &[0], 1, Distance::Ordered);
    assert_eq!(m.distinct_l, Some(1));
    let (_, _, m) = measured("g,v\na,5\na,5.0\nb,5\nb,7\n", &[0], 1, Distance::Equal);
    assert_eq!(m.distinct_l, Some(2));
}

#[test]
fn a_non_number_in_an_ordered_sensitive_column_is_refused() {
    let t = table("g,v\na,5\na,n/a\n");
    let classes = Classes::of(&t, &[0]);
    let err = measure(
        &t,
        &classes,
        Some(Sensitive {
            column: 1,
            distance: Distance::Ordered,
        }),
    );
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("line 3, column `v`: `n/a`"));
}

#[test]
fn classes_survive_keys_wider_than_64_bits() {
    // Eight columns of 300 distinct values each: 300⁸ overflows u64, so keys are renumbered.
    let mut csv = String::from("a,b,c,d,e,f,g,h,i\n");
    for row in 0..600u32 {
        let v = row % 300;
        csv.push_str(&format!("{v},{v},{v},{v},{v},{v},{v},{v},{}\n", row / 300));
    }
    let t = table(&csv);
    let classes = Classes::of(&t, &[0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(classes.len(), 600);
    let classes = Classes::of(&t, &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(classes.len(), 300);
    assert!(classes.sizes.iter().all(|&s| s == 2));
}

#[test]
fn thresholds_exactly_met_are_met() {
    let (t, classes, m) = measured(HOSPITAL_3_DIVERSE, &[0, 1, 2], 3, Distance::Equal);
    let exact = Thresholds {
        k: Some(4),
        l: Some(3),
        entropy_l: Some(m.entropy_l.unwrap()),
        t: Some(m.t.unwrap()),
    };
    assert!(violations(&t, &[0, 1, 2], &classes, &m, &exact).is_empty());
    let stricter = Thresholds {
        k: Some(5),
        ..exact
    };
    assert_eq!(violations(&t, &[0, 1, 2], &classes, &m, &stricter).len(), 3);
}

#[test]
fn without_a_sensitive_attribute_only_k_is_measured() {
    let t = table(HOSPITAL_4_ANONYMOUS);
    let classes = Classes::of(&t, &[1]);
    let m = measure(&t, &classes, None).unwrap();
    assert_eq!((m.k, m.distinct_l, m.t), (4, None, None));
    let needs = Thresholds {
        l: Some(2),
        ..Thresholds::default()
    };
    assert!(require_sensitive(&needs, None).is_err());
}
