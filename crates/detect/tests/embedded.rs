//! Every checked value (card, SSN, ITIN, IBAN, and the national, health-plan and financial
//! identifiers after their labels) is found and masked whatever stands around
//! it: expiry dates, CVVs, other numbers, dates, words glued on, other entities. A candidate
//! that ran on into the digits after a card once hid the card, and it was stored raw.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::sync::Arc;

use evident_detect::corpus::Rng;
use evident_detect::embedded::{embedded, identifier_embedded, Embedded};
use evident_detect::{Detector, Fingerprinter, RedactMode, Redactor, Scanner};
use proptest::prelude::*;

fn detector() -> Arc<Detector> {
    static DETECTOR: std::sync::OnceLock<Arc<Detector>> = std::sync::OnceLock::new();
    DETECTOR
        .get_or_init(|| Arc::new(Detector::builtin().unwrap()))
        .clone()
}

fn assert_found(case: &Embedded) {
    let fp = Fingerprinter::new(&[9; 32]).unwrap();
    let mut found = Vec::new();
    Scanner::new(&detector(), &fp).scan_bytes(case.text.as_bytes(), "case", &mut |f| found.push(f));
    let covered = found.iter().any(|f| {
        f.entity == case.entity && f.start as usize <= case.start && f.end as usize >= case.end
    });
    assert!(
        covered,
        "{:?} {:?} not found in {:?}; found {:?}",
        case.entity,
        case.value(),
        case.text,
        found
            .iter()
            .map(|f| (f.entity, &case.text[f.start as usize..f.end as usize]))
            .collect::<Vec<_>>()
    );
}

fn assert_masked(case: &Embedded) {
    for mode in [RedactMode::Mask, RedactMode::Remove, RedactMode::Pseudonym] {
        let redactor = Redactor::new(detector(), Fingerprinter::new(&[9; 32]).unwrap(), mode);
        let (clean, _) = redactor.redact_str(&case.text);
        for spelling in [case.value().to_owned(), case.compact()] {
            assert!(
                !clean.contains(&spelling),
                "{mode:?}: {spelling:?} survives in {clean:?} (from {:?})",
                case.text
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn a_checked_value_is_found_whatever_surrounds_it(seed in any::<u64>()) {
        let case = embedded(&mut Rng::new(seed));
        assert_found(&case);
        assert_masked(&case);
    }

    #[test]
    fn an_identifier_after_its_label_is_found_whatever_surrounds_it(seed in any::<u64>()) {
        let case = identifier_embedded(&mut Rng::new(seed));
        assert_found(&case);
        assert_masked(&case);
    }
}

/// The text of every finding in `text`.
fn found_spans(text: &str) -> Vec<&str> {
    let fp = Fingerprinter::new(&[9; 32]).unwrap();
    let mut found = Vec::new();
    Scanner::new(&detector(), &fp).scan_bytes(text.as_bytes(), "t", &mut |f| found.push(f));
    found
        .iter()
        .map(|f| &text[f.start as usize..f.end as usize])
        .collect()
}

/// The shapes from the report that opened this, pinned by name.
#[test]
fn a_card_followed_by_its_expiry_is_found() {
    for (text, value) in [
        ("card 4539 1488 0343 6467 12/29", "4539 1488 0343 6467"),
        ("4539148803436467 1229 737", "4539148803436467"),
        ("mc 5425 2334 3010 9903 03/28", "5425 2334 3010 9903"),
        ("mc 5425-2334-3010-9903-0328", "5425-2334-3010-9903"),
        ("amex 3782 822463 10005 11/27", "3782 822463 10005"),
        ("ssn 536-22-8410 12", "536-22-8410"),
        ("pan4111111111111111exp1229", "4111111111111111"),
        // A card behind a number shaped like a phone, and an IBAN followed by an IP (no card
        // may straddle the IBAN's tail and the address).
        ("076 3561 3040 0434 9149\"pan", "3561 3040 0434 9149"),
        (
            "card) ES80 6152 0257 3945 1009 9971 154.24.241.138 (2029-12-07",
            "ES80 6152 0257 3945 1009 9971",
        ),
    ] {
        let spans = found_spans(text);
        assert!(spans.contains(&value), "{text:?}: found {spans:?}");
    }
}

/// What the boundary still refuses: a value inside a longer run of digits, or inside a hex
/// digest.
#[test]
fn fragments_of_longer_numbers_and_digests_stay_quiet() {
    for text in [
        "x 41111111111111111111111",
        "n 94111111111111111",
        "sha256 0a3f4111111111111111be29c0ffee00deadbeef0123456789abcdef0123",
        "commit 4111111111111111a0b1c2d3e4f5a6b7c8d9e0f1",
        "id 8536-22-84109",
    ] {
        let spans = found_spans(text);
        assert!(spans.is_empty(), "{text:?}: found {spans:?}");
    }
}
