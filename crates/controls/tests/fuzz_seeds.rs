//! The properties of the controls part's fuzz targets (`fuzz/fuzz_targets/bundle_archive.rs`,
//! `evidence_sample.rs`, `scanner_ingest.rs`, `control_catalog.rs`), run on stable over their
//! corpora in `fuzz/corpus/` — real bundles, samples, scanner logs and catalog files, cut and
//! edited — and over every cut of each seed at a few lengths: each input is refused with a
//! message or read, never a panic. `scripts/ci-fuzz.sh` searches further with libFuzzer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::PathBuf;

use evident_controls::bundle::format::read_tar;
use evident_controls::bundle::{read_sample, verify_bundle, verify_sample};
use evident_controls::catalog::{self, Catalog, Source};
use evident_controls::evidence::mappings::RuleMap;
use evident_controls::evidence::scan::{read_ocsf, read_sarif, tally, Scan};
use evident_ledger::note::NoteVerifier;

/// The C2SP signed-note reference verifier key, which the targets use when the input names none.
const REFERENCE_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

/// Every file of a target's corpus (seeds and what fuzzing kept), with at least one seed.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/fuzz-seeds.py writes it)", dir.display()))
        .map(|f| {
            let path = f.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(
        files.iter().any(|(name, _)| name.starts_with("seed-")),
        "{} has no seed (scripts/fuzz-seeds.py writes them)",
        dir.display()
    );
    files
}

/// Each input, then the seeds cut at a few lengths (a file an auditor got half of).
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut all = corpus(target);
    let seeds: Vec<(String, Vec<u8>)> = all
        .iter()
        .filter(|(name, _)| name.starts_with("seed-"))
        .cloned()
        .collect();
    for (name, bytes) in seeds {
        for cut in [1, 100, 511, 513, 2048, bytes.len() * 3 / 4] {
            if cut < bytes.len() {
                all.push((format!("{name} cut at {cut}"), bytes[..cut].to_vec()));
            }
        }
    }
    all
}

/// The verifier key on the input's first line when there is one, and the rest (as the
/// bundle and sample targets read their input).
fn split_vkey(data: &[u8]) -> (NoteVerifier, &[u8]) {
    let reference = || NoteVerifier::parse(REFERENCE_VKEY).unwrap();
    let Some(newline) = data.iter().take(512).position(|&b| b == b'\n') else {
        return (reference(), data);
    };
    match std::str::from_utf8(&data[..newline])
        .ok()
        .and_then(|line| NoteVerifier::parse(line).ok())
    {
        Some(verifier) => (verifier, &data[newline + 1..]),
        None => (reference(), data),
    }
}

#[test]
fn bundle_seeds_are_read_or_refused_and_the_real_one_verifies() {
    let mut verified = 0;
    for (name, data) in inputs("bundle_archive") {
        let (verifier, bundle) = split_vkey(&data);
        match verify_bundle(bundle, &verifier) {
            Ok(verdict) if verdict.faults.is_empty() => {
                let manifest = verdict.manifest.as_ref().expect(&name);
                assert_eq!(verdict.proven, manifest.events.len(), "{name}");
                verified += 1;
            }
            Ok(_) => {}
            Err(e) => assert!(!e.to_string().is_empty(), "{name}"),
        }
        if let Ok(members) = read_tar(bundle) {
            assert!(!members.is_empty(), "{name}");
        }
    }
    assert!(
        verified >= 1,
        "the seed of a real bundle, with its key, has no integrity fault"
    );
}

#[test]
fn sample_seeds_are_read_or_refused_and_the_real_one_verifies() {
    let mut verified = 0;
    for (name, data) in inputs("evidence_sample") {
        let (verifier, file) = split_vkey(&data);
        match read_sample(file) {
            Ok(sample) => {
                let again = serde_json::to_vec(&sample).unwrap();
                assert_eq!(read_sample(&again).unwrap(), sample, "{name}");
                let faults = verify_sample(&sample, &verifier, None);
                assert_eq!(
                    verify_sample(&sample, &verifier, Some(&sample.seed)),
                    faults,
                    "{name}"
                );
                verified += usize::from(faults.is_empty());
            }
            Err(e) => assert!(!e.to_string().is_empty(), "{name}"),
        }
    }
    assert!(
        verified >= 1,
        "the seed of a real sample, with its key, verifies"
    );
}

fn check_tally(scan: &Scan, catalog: &Catalog, rules: &RuleMap, name: &str) -> usize {
    let (tallies, unmapped) = tally(scan, catalog, rules);
    assert!(unmapped <= scan.findings.len(), "{name}");
    let counted: u64 = tallies.values().map(|t| t.passed + t.failed).sum();
    assert!(counted >= (scan.findings.len() - unmapped) as u64, "{name}");
    for (control, t) in &tallies {
        assert!(catalog.control(control).is_some(), "{name}: {control}");
        assert!(t.failed_rules.len() as u64 <= t.failed, "{name}");
        assert_eq!(t.failed_rules.is_empty(), t.failed == 0, "{name}");
    }
    tallies.len()
}

#[test]
fn scanner_seeds_are_read_or_refused_and_map_to_controls() {
    let catalog = catalog::load(None).unwrap();
    let rules = RuleMap::load(&catalog, None).unwrap();
    let mut mapped = 0;
    for (name, data) in inputs("scanner_ingest") {
        for read in [read_sarif, read_ocsf] {
            match read(&data) {
                Ok(scan) => mapped += check_tally(&scan, &catalog, &rules, &name),
                Err(e) => assert!(!e.is_empty(), "{name}"),
            }
        }
    }
    assert!(mapped >= 2, "the SARIF and OCSF fixtures map to controls");
}

#[test]
fn catalog_seeds_are_built_or_refused_and_keep_the_shipped_controls() {
    let shipped = catalog::load(None).unwrap();
    let mut built = 0;
    for (name, data) in inputs("control_catalog") {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        let (catalog_text, mapping_text) = text.split_once('\0').unwrap_or((text, ""));
        let mut sources = catalog::builtin_sources();
        sources.push(Source {
            name: "org.toml".into(),
            text: catalog_text.into(),
            shipped: false,
        });
        let result = catalog::build(sources, Vec::new());
        let against = match &result {
            Ok(catalog) => {
                for control in &shipped.controls {
                    assert!(catalog.control(&control.id).is_some(), "{name}");
                }
                built += 1;
                catalog
            }
            Err(e) => {
                assert!(!e.to_string().is_empty(), "{name}");
                &shipped
            }
        };
        if let Err(e) =
            RuleMap::from_files(against, vec![("mappings.toml".into(), mapping_text.into())])
        {
            assert!(e.to_string().contains("mappings.toml"), "{name}: {e}");
        }
    }
    assert!(
        built >= 3,
        "the organisation's own files of the seeds build"
    );
}
