//! The shipped catalog against NIST's own OSCAL files, and catalogs that must be refused
//! with the file and line named.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::PathBuf;

use evident_controls::catalog::{self, oscal, Source};
use evident_controls::checks;
use evident_controls::coverage::{coverage, Class};

const MODERATE: &str = "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared copy of NIST's files, beside the checkout (as CI lays it out).
fn shared(name: &str) -> PathBuf {
    let path = repo().join("../shared/oscal").join(name);
    assert!(
        path.is_file(),
        "{} is missing: CI needs shared/ beside the checkout",
        path.display()
    );
    path
}

#[test]
fn every_moderate_control_and_enhancement_has_an_entry() {
    let text = std::fs::read_to_string(shared(MODERATE)).unwrap();
    let list = oscal::read_catalog(MODERATE, &text).unwrap();
    assert_eq!(
        list.requirements.len(),
        287,
        "the Moderate baseline lists 287"
    );
    let shipped = std::fs::read(repo().join("catalog/nist").join(MODERATE)).unwrap();
    assert_eq!(
        shipped,
        text.as_bytes(),
        "the shipped copy is NIST's file, unchanged"
    );

    let catalog = catalog::load(None).unwrap();
    let report = coverage(&catalog, "nist-800-53").unwrap();
    assert_eq!(report.rows.len(), 287);
    for requirement in &list.requirements {
        let row = report
            .rows
            .iter()
            .find(|r| r.requirement == requirement.id)
            .unwrap_or_else(|| panic!("{} is not in the coverage", requirement.id));
        assert_ne!(row.class, Class::Gap, "{} has no entry", requirement.id);
        if row.class == Class::NotApplicable {
            assert!(
                row.note.as_ref().is_some_and(|r| r.len() > 20),
                "{}: a reason",
                row.requirement
            );
        }
        if matches!(row.class, Class::Automated | Class::PartlyAutomated) {
            // Automated only where a real, available check tests it.
            let backed = row.controls.iter().any(|id| {
                let c = catalog.control(id).unwrap();
                c.check
                    .as_deref()
                    .and_then(checks::find)
                    .is_some_and(|d| d.available)
            });
            assert!(
                backed,
                "{} is {:?} without a check",
                row.requirement, row.class
            );
        }
        assert_eq!(row.title, requirement.title, "titles come from NIST's file");
    }
    let automated = report
        .counts
        .iter()
        .find(|(c, _)| *c == Class::Automated)
        .unwrap()
        .1;
    assert!(automated >= 20, "{automated}");
}

#[test]
fn the_moderate_profile_selects_the_same_controls_as_the_resolved_catalog() {
    let catalog_text = std::fs::read_to_string(shared(MODERATE)).unwrap();
    let resolved = oscal::read_catalog(MODERATE, &catalog_text).unwrap();
    let profile = oscal::read_file(
        &shared("NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"),
        &[&resolved],
    )
    .unwrap();
    assert_eq!(profile.kind, "profile");
    let ids = |l: &oscal::OscalList| {
        l.requirements
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>()
    };
    let mut a = ids(&profile);
    let mut b = ids(&resolved);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert!(profile.requirements.iter().all(|r| r.title.is_some()));
}

#[test]
fn frameworks_list_their_ids_and_soc2_gaps_are_named() {
    let catalog = catalog::load(None).unwrap();
    let soc2 = coverage(&catalog, "soc2").unwrap();
    for id in ["CC6.1", "CC6.8", "CC7.5", "CC8.1", "A1.2", "C1.2", "P8.1"] {
        assert!(soc2.rows.iter().any(|r| r.requirement == id), "{id}");
    }
    let cc61 = soc2.rows.iter().find(|r| r.requirement == "CC6.1").unwrap();
    assert_eq!(cc61.class, Class::Automated);
    assert!(cc61.controls.contains(&"EV-AC-01".to_string()));
    // Nothing covers processing integrity (PI1.x): a gap, listed.
    assert!(soc2.gaps().any(|r| r.requirement == "PI1.1"));
    let total: usize = soc2.counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, soc2.rows.len());
    // Retention depends on the privacy part: its control counts as manual, not automated.
    let gdpr = coverage(&catalog, "gdpr").unwrap();
    let art6 = gdpr.rows.iter().find(|r| r.requirement == "Art.6").unwrap();
    assert_eq!(art6.class, Class::Manual, "{art6:?}");
    assert!(coverage(&catalog, "iso27001")
        .unwrap_err()
        .to_string()
        .contains("no framework"));
    assert_eq!(coverage(&catalog, "pci-dss").unwrap().framework, "pci");
}

fn with_org_file(text: &str) -> Result<catalog::Catalog, String> {
    let mut sources = catalog::builtin_sources();
    sources.push(Source {
        name: "org/controls.toml".into(),
        text: text.into(),
        shipped: false,
    });
    catalog::build(sources, Vec::new()).map_err(|e| e.to_string())
}

const GOOD: &str = r#"
[[control]]
id = "ORG-01"
title = "Our own control"
description = "What it is."
implementation = "automated"
check = "backup.restore_tested"
cadence = "1d"
params = { max_age_days = 7 }
frameworks = { soc2 = ["A1.2"] }
"#;

#[test]
fn an_organisation_adds_controls_and_replaces_dispositions() {
    let catalog = with_org_file(&format!(
        "{GOOD}\n[[disposition]]\nframework = \"nist-800-53\"\nrequirements = [\"PE-3\"]\nclass = \"not-applicable\"\nreason = \"we run in a cloud region; the provider's report covers it\"\n"
    ))
    .unwrap();
    let own = catalog.control("ORG-01").unwrap();
    assert_eq!(own.params["max_age_days"], 7);
    assert_eq!(own.location.file, "org/controls.toml");
    assert_eq!(own.location.line, 2);
    let nist = coverage(&catalog, "nist-800-53").unwrap();
    let pe3 = nist.rows.iter().find(|r| r.requirement == "PE-3").unwrap();
    assert_eq!(pe3.class, Class::NotApplicable);
    assert_ne!(catalog.hash, catalog::load(None).unwrap().hash);
}

#[test]
fn an_organisation_sets_a_shipped_controls_params_and_its_version_moves() {
    let shipped = catalog::load(None).unwrap();
    let catalog = with_org_file(
        "[[settings]]\ncontrol = \"EV-OPS-03\"\nparams = { repositories = [\"/srv/git/payments\"] }\n\n[[settings]]\ncontrol = \"EV-OPS-01\"\nparams = { max_age_days = 7 }\n",
    )
    .unwrap();
    let hooks = catalog.control("EV-OPS-03").unwrap();
    assert_eq!(hooks.params["repositories"][0], "/srv/git/payments");
    let backups = catalog.control("EV-OPS-01").unwrap();
    assert_eq!(backups.params["max_age_days"], 7);
    let def = evident_controls::checks::find("backup.restore_tested").unwrap();
    assert_ne!(
        def.version(&backups.params),
        def.version(&shipped.control("EV-OPS-01").unwrap().params)
    );
    assert_ne!(catalog.hash, shipped.hash);
}

/// Each bad file is refused, naming the file, the line, and what is wrong.
#[test]
fn bad_catalogs_are_refused_with_file_and_line() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "unknown framework",
            "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"manual\"\nattestation = \"a\"\ncadence = \"1d\"\n\n[control.frameworks]\niso27001 = [\"A.5.1\"]\n",
            &["org/controls.toml:10", "unknown framework `iso27001`"],
        ),
        (
            "unknown requirement",
            "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"manual\"\nattestation = \"a\"\ncadence = \"1d\"\nframeworks = { soc2 = [\"CC6.1\",\n  \"CC9.9\"] }\n",
            &["org/controls.toml:9", "`CC9.9` is not a requirement"],
        ),
        (
            "nist id written the OSCAL way",
            "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"manual\"\nattestation = \"a\"\ncadence = \"1d\"\nframeworks = { nist-800-53 = [\"ac-2.1\"] }\n",
            &["org/controls.toml:8", "`AC-2(1)`?"],
        ),
        (
            "duplicate control",
            "\n\n[[control]]\nid = \"EV-AC-01\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"manual\"\nattestation = \"a\"\ncadence = \"1d\"\n",
            &["org/controls.toml:4", "duplicate control `EV-AC-01`", "catalog/controls/access.toml:"],
        ),
        (
            "unknown check",
            "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"backup.restored\"\ncadence = \"1d\"\n",
            &["org/controls.toml:6", "unknown check `backup.restored`", "backup.restore_tested"],
        ),
        (
            "setting the check does not take",
            "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"automated\"\ncheck = \"backup.restore_tested\"\ncadence = \"1d\"\nparams = { max_age = 7 }\n",
            &["org/controls.toml:8", "max_age"],
        ),
        (
            "manual control with a check",
            "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"manual\"\ncheck = \"backup.restore_tested\"\nattestation = \"a\"\ncadence = \"1d\"\n",
            &["org/controls.toml:6", "manual control has no check"],
        ),
        (
            "bad cadence",
            "[[control]]\nid = \"ORG-1\"\ntitle = \"t\"\ndescription = \"d\"\nimplementation = \"manual\"\nattestation = \"a\"\ncadence = \"weekly\"\n",
            &["org/controls.toml:7", "cadence `weekly`"],
        ),
        (
            "unknown field",
            "[[control]]\nid = \"ORG-1\"\ntitel = \"t\"\n",
            &["org/controls.toml:3", "titel"],
        ),
        (
            "syntax",
            "[[control]\nid = 1\n",
            &["org/controls.toml:1"],
        ),
        (
            "duplicate disposition in one organisation",
            "[[disposition]]\nframework = \"soc2\"\nrequirements = [\"PI1.1\"]\nclass = \"manual\"\nartifact = \"x\"\n\n[[disposition]]\nframework = \"soc2\"\nrequirements = [\"PI1.1\"]\nclass = \"manual\"\nartifact = \"y\"\n",
            &["org/controls.toml:9", "duplicate disposition", "org/controls.toml:3"],
        ),
        (
            "disposition without its reason",
            "[[disposition]]\nframework = \"soc2\"\nrequirements = [\"PI1.1\"]\nclass = \"not-applicable\"\n",
            &["org/controls.toml:4", "reason"],
        ),
        (
            "settings of a control that does not exist",
            "[[settings]]\ncontrol = \"EV-NOPE\"\nparams = { repositories = [] }\n",
            &["org/controls.toml:2", "no control `EV-NOPE`"],
        ),
        (
            "settings of a manual control",
            "[[settings]]\ncontrol = \"EV-OPS-02\"\nparams = { max_age_days = 1 }\n",
            &["org/controls.toml:2", "has no check"],
        ),
        (
            "a setting the control's check does not take",
            "[[settings]]\ncontrol = \"EV-OPS-03\"\nparams = { repos = [\"/srv\"] }\n",
            &["org/controls.toml:3", "detect.pre_commit", "repos"],
        ),
        (
            "settings given twice",
            "[[settings]]\ncontrol = \"EV-OPS-01\"\nparams = { max_age_days = 7 }\n\n[[settings]]\ncontrol = \"EV-OPS-01\"\nparams = { max_age_days = 8 }\n",
            &["org/controls.toml:6", "given twice", "org/controls.toml:2"],
        ),
        (
            "a framework that already exists",
            "[framework]\nid = \"hipaa\"\nname = \"again\"\nrequirements = [\"1\"]\n",
            &["org/controls.toml:2", "already defined"],
        ),
    ];
    for (what, text, needles) in cases {
        let err = with_org_file(text).expect_err(what);
        for needle in *needles {
            assert!(err.contains(needle), "{what}: `{needle}` not in: {err}");
        }
    }
    assert!(with_org_file(GOOD).is_ok());
}
