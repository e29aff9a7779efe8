//! How fast the anonymity check runs on a million rows with four quasi-identifiers (age, ZIP
//! code, sex, race; diagnosis sensitive), each figure printed next to the limit measured in
//! the same run: a bare pass that only hashes each row's quasi-identifier tuple into a
//! `HashMap`, which is all that finding k needs and less than any check can do.
//!
//! `cargo bench -p evident-privacy --bench anonymity` (`-- ROWS` for another size). Each
//! figure is the best of three runs.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::path::Path;
use std::time::{Duration, Instant};

use evident_privacy::anonymity::hashing::{FastHasher, FastMap};
use evident_privacy::anonymity::metrics::{measure, Classes, Sensitive};
use evident_privacy::anonymity::{generalize, Distance, Quasi, Table};

/// A small xorshift generator: the same table on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn generate(rows: usize) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut csv = String::with_capacity(rows * 40);
    csv.push_str("age,zip,sex,race,diagnosis\n");
    let races = ["white", "black", "asian", "native", "other"];
    for _ in 0..rows {
        let age = 18 + rng.below(72);
        let zip = 10_000 + rng.below(900) * 97;
        let sex = if rng.below(2) == 0 { "F" } else { "M" };
        let race = races[rng.below(5) as usize];
        let diagnosis = rng.below(20);
        csv.push_str(&format!("{age},{zip},{sex},{race},dx{diagnosis}\n"));
    }
    csv.into_bytes()
}

fn best_of_three<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..3 {
        let started = Instant::now();
        let out = f();
        best = best.min(started.elapsed());
        last = Some(out);
    }
    (best, last.unwrap_or_else(|| unreachable!()))
}

fn ms(d: Duration) -> String {
    format!("{:>8.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let csv = generate(rows);
    let mb = csv.len() as f64 / 1e6;
    println!("{rows} rows × 4 quasi-identifiers (age, zip, sex, race), sensitive diagnosis; CSV {mb:.1} MB; best of 3");

    // From the file's bytes.
    let path = Path::new("bench.csv");
    let (read, table) =
        best_of_three(|| Table::read_csv(&csv[..], path).unwrap_or_else(|e| panic!("{e}")));
    let (limit_read, groups) = best_of_three(|| {
        let mut reader = csv::ReaderBuilder::new().from_reader(&csv[..]);
        let mut record = csv::ByteRecord::new();
        let mut counts: HashMap<u64, u32, BuildHasherDefault<FastHasher>> = HashMap::default();
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            let mut h = FastHasher::default();
            for field in record.iter().take(4) {
                field.hash(&mut h);
            }
            *counts.entry(h.finish()).or_insert(0) += 1;
        }
        counts.len()
    });
    println!(
        "read the CSV into columns        {}  ({:.0} MB/s) | limit: CSV parse + hash each row's QI fields {}",
        ms(read),
        mb / read.as_secs_f64(),
        ms(limit_read)
    );

    // On the table in memory.
    let quasi = [0, 1, 2, 3];
    let (k_only, k) = best_of_three(|| {
        let classes = Classes::of(&table, &quasi);
        measure(&table, &classes, None).map(|m| m.k).unwrap_or(0)
    });
    let (limit, classes) = best_of_three(|| {
        let codes = |q: usize| table.column(quasi[q]).codes().iter();
        let mut counts: FastMap<[u32; 4], u32> = FastMap::default();
        for (((&a, &b), &c), &d) in codes(0).zip(codes(1)).zip(codes(2)).zip(codes(3)) {
            *counts.entry([a, b, c, d]).or_insert(0) += 1;
        }
        counts.len()
    });
    let sensitive = |distance| {
        Some(Sensitive {
            column: 4,
            distance,
        })
    };
    let (full, measures) = best_of_three(|| {
        let classes = Classes::of(&table, &quasi);
        measure(&table, &classes, sensitive(Distance::Equal)).unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(classes, groups, "the two limits disagree on the classes");
    println!(
        "bare pass: hash each row's QI tuple into a HashMap   {}  ({classes} classes) ← the limit",
        ms(limit)
    );
    println!(
        "k (classes and sizes)            {}  = {:.2}× the limit  (k = {k})",
        ms(k_only),
        ratio(k_only, limit)
    );
    println!(
        "k, distinct l, entropy l, t      {}  = {:.2}× the limit  (l = {}, entropy l = {:.3}, t = {:.4})",
        ms(full),
        ratio(full, limit),
        measures.distinct_l.unwrap_or(0),
        measures.entropy_l.unwrap_or(0.0),
        measures.t.unwrap_or(0.0)
    );
    println!(
        "file to verdict (read + all)     {}  = {:.2}× CSV parse + hash",
        ms(read + full),
        ratio(read + full, limit_read)
    );

    let started = Instant::now();
    let axes = [
        Quasi {
            column: 0,
            numeric: true,
            hierarchy: None,
        },
        Quasi {
            column: 1,
            numeric: true,
            hierarchy: None,
        },
        Quasi {
            column: 2,
            numeric: false,
            hierarchy: None,
        },
        Quasi {
            column: 3,
            numeric: false,
            hierarchy: None,
        },
    ];
    let generalized = generalize::mondrian(&table, &axes, 5).unwrap_or_else(|e| panic!("{e}"));
    let mondrian = started.elapsed();
    let after = measure(
        &generalized.table,
        &Classes::of(&generalized.table, &quasi),
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "Mondrian to k = 5 (one run)      {}  ({} classes, k = {}, NCP {:.4})",
        ms(mondrian),
        generalized.loss.classes,
        after.k,
        generalized.loss.ncp
    );
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
