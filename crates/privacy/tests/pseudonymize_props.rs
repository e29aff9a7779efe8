//! Properties of pseudonyms under proptest: the same value gives the same pseudonym,
//! distinct values give distinct ones (on small sets), FF1 keeps length and alphabet, and the
//! streamed table keeps every row, in order, with only the named columns changed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::{BTreeSet, HashSet};

use evident_privacy::anonymity::Format;
use evident_privacy::pseudonymize::{
    pseudonym_version, Alphabet, Mode, Normalization, Plan, Pseudonymizer, Target,
};
use proptest::prelude::*;

fn pseudonymizer(seed: u8, version: u32) -> Pseudonymizer {
    let mac: [u8; 32] = std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8));
    let ff1: [u8; 32] = std::array::from_fn(|i| seed.wrapping_mul(17) ^ (i as u8));
    Pseudonymizer::from_keys("props", version, &mac, &ff1).unwrap()
}

/// An alphabet and a value in it, long enough for FF1.
fn fpe_value() -> impl Strategy<Value = (Alphabet, String)> {
    prop_oneof![
        Just((Alphabet::Digits, "[0-9]{6,40}")),
        Just((Alphabet::Lower, "[a-z]{5,40}")),
        Just((Alphabet::Upper, "[A-Z]{5,40}")),
        Just((Alphabet::Alnum, "[0-9A-Za-z]{4,40}")),
    ]
    .prop_flat_map(|(alphabet, pattern)| {
        (
            Just(alphabet),
            proptest::string::string_regex(pattern).unwrap(),
        )
    })
}

proptest! {
    #[test]
    fn the_same_value_gives_the_same_pseudonym(value in ".{0,64}", seed in any::<u8>(), version in 1u32..1000) {
        let p = pseudonymizer(seed, version);
        let a = p.pseudonym(&value, Normalization::NONE);
        prop_assert_eq!(&a, &pseudonymizer(seed, version).pseudonym(&value, Normalization::NONE));
        prop_assert_eq!(pseudonym_version(&a), Some(version));
        prop_assert_eq!(a.len(), format!("ps1.v{version}.").len() + 22);
    }

    #[test]
    fn distinct_values_give_distinct_pseudonyms(values in prop::collection::hash_set(".{0,24}", 1..200)) {
        let p = pseudonymizer(1, 1);
        let out: HashSet<String> = values.iter().map(|v| p.pseudonym(v, Normalization::NONE)).collect();
        prop_assert_eq!(out.len(), values.len());
    }

    #[test]
    fn ff1_keeps_length_and_alphabet((alphabet, value) in fpe_value(), seed in any::<u8>()) {
        let p = pseudonymizer(seed, 1);
        let out = p.fpe(&value, alphabet, Normalization::NONE).unwrap();
        prop_assert_eq!(out.len(), value.len());
        let ok = match alphabet {
            Alphabet::Digits => out.bytes().all(|b| b.is_ascii_digit()),
            Alphabet::Lower => out.bytes().all(|b| b.is_ascii_lowercase()),
            Alphabet::Upper => out.bytes().all(|b| b.is_ascii_uppercase()),
            Alphabet::Alnum => out.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
        prop_assert!(ok, "{} → {}", value, out);
        prop_assert_eq!(&out, &p.fpe(&value, alphabet, Normalization::NONE).unwrap());
    }

    #[test]
    fn ff1_is_one_to_one_on_small_sets(values in prop::collection::btree_set("[0-9]{6}", 1..100)) {
        let p = pseudonymizer(3, 1);
        let out: BTreeSet<String> = values
            .iter()
            .map(|v| p.fpe(v, Alphabet::Digits, Normalization::NONE).unwrap())
            .collect();
        prop_assert_eq!(out.len(), values.len());
    }

    #[test]
    fn a_streamed_table_keeps_rows_order_and_other_columns(
        cells in prop::collection::vec(("[a-z0-9@.]{0,12}", "[a-zA-Z ]{0,12}"), 0..5000),
        workers in 1usize..4,
    ) {
        let p = pseudonymizer(9, 2);
        let mut input = String::from("email,name\n");
        for (email, name) in &cells {
            input.push_str(&format!("{email},\"{name}\"\n"));
        }
        let plan = Plan {
            pseudonymizer: &p,
            targets: vec![Target { column: "email".into(), mode: Mode::Hmac }],
            normalization: Normalization::NONE,
            format: Format::Csv,
            file: "props.csv".into(),
            workers,
        };
        let mut output = Vec::new();
        let counts = plan.run(input.as_bytes(), &mut output, &mut |_| {}).unwrap();
        prop_assert_eq!(counts.rows, cells.len() as u64);
        let mut reader = csv::Reader::from_reader(output.as_slice());
        let got: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        prop_assert_eq!(got.len(), cells.len());
        for (row, (email, name)) in got.iter().zip(&cells) {
            let expected = if email.is_empty() { String::new() } else { p.pseudonym(email, Normalization::NONE) };
            prop_assert_eq!(&row[0], expected.as_str());
            prop_assert_eq!(&row[1], name.as_str());
        }
    }
}
