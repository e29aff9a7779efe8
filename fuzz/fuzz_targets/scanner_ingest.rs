//! Scanner results as `evident evidence ingest` reads them: arbitrary bytes as a SARIF 2.1.0
//! log and as Prowler's OCSF JSON are refused with a message or read into findings, never a
//! panic; the findings are then mapped to the shipped catalog's controls through the shipped
//! mapping files, and every finding either counts for a control or as unmapped.
#![no_main]
use std::sync::LazyLock;

use evident_controls::catalog::{self, Catalog};
use evident_controls::evidence::mappings::RuleMap;
use evident_controls::evidence::scan::{read_ocsf, read_sarif, tally, Scan};
use libfuzzer_sys::fuzz_target;

static SHIPPED: LazyLock<(Catalog, RuleMap)> = LazyLock::new(|| {
    let catalog = catalog::load(None).expect("the shipped catalog loads");
    let rules = RuleMap::load(&catalog, None).expect("the shipped mappings load");
    (catalog, rules)
});

fuzz_target!(|data: &[u8]| {
    for read in [read_sarif, read_ocsf] {
        match read(data) {
            Ok(scan) => check_tally(&scan),
            Err(e) => assert!(!e.is_empty()),
        }
    }
});

fn check_tally(scan: &Scan) {
    let (catalog, rules) = &*SHIPPED;
    let (tallies, unmapped) = tally(scan, catalog, rules);
    assert!(unmapped <= scan.findings.len());
    let counted: u64 = tallies.values().map(|t| t.passed + t.failed).sum();
    assert!(
        counted >= (scan.findings.len() - unmapped) as u64,
        "every mapped finding counts for at least one control"
    );
    for (control, t) in &tallies {
        assert!(
            catalog.control(control).is_some(),
            "{control} is in the catalog"
        );
        assert!(t.failed_rules.len() as u64 <= t.failed);
        assert_eq!(t.failed_rules.is_empty(), t.failed == 0);
    }
}
