//! Period bundles through the library, as the OSCAL writer and the HTTP API will use them: a
//! member writer's member is listed, hashed and verified like any other; a writer may not
//! replace a member; verification needs only the bytes and the verifier key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use evident::controls::bundle::format::{read_tar, OSCAL_ASSESSMENT_RESULTS, REPORT};
use evident::controls::bundle::{verify_bundle, Contents, MemberWriter, Period};
use evident::event::{now_us, system_event};
use evident::Engine;
use evident_ledger::note::NoteVerifier;
use serde_json::json;

/// Writes one member summarising the figures, as the OSCAL writer will.
struct Summary(&'static str);

impl MemberWriter for Summary {
    fn members(&self, contents: &Contents<'_>) -> evident::Result<Vec<(String, Vec<u8>)>> {
        let body = json!({
            "controls": contents.figures.controls.len(),
            "events": contents.events.len(),
            "origin": contents.origin,
        });
        Ok(vec![(self.0.to_string(), body.to_string().into_bytes())])
    }
}

#[test]
fn member_writers_add_verified_members_and_cannot_replace_one() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), true).unwrap();
    let mut run = system_event(
        "controls.check",
        "control",
        Some("EV-AC-06"),
        json!({"control": "EV-AC-06", "result": "pass"}),
    );
    run.time = Some(evident::event::format_time(now_us() - 60_000_000));
    engine.append_blocking(vec![run]).unwrap();
    let period = Period {
        from_us: now_us() - 3_600_000_000,
        to_us: now_us() + 1_000_000,
    };
    let verifier = NoteVerifier::parse(&engine.verifier_key()).unwrap();

    let built = engine
        .controls()
        .bundle(
            "soc2",
            period,
            &[&Summary(OSCAL_ASSESSMENT_RESULTS)],
            "tester",
        )
        .unwrap();
    assert!(built
        .manifest
        .members
        .iter()
        .any(|m| m.path == OSCAL_ASSESSMENT_RESULTS));
    let verdict = verify_bundle(&built.bytes, &verifier).unwrap();
    assert!(verdict.faults.is_empty(), "{:?}", verdict.faults);
    assert_eq!(verdict.proven, 1);

    // The writer's member is covered by the manifest like any other.
    let mut members = read_tar(&built.bytes).unwrap();
    let manifest = members.remove("manifest.json").unwrap();
    members.insert(OSCAL_ASSESSMENT_RESULTS.into(), b"{}".to_vec());
    let edited = evident::controls::bundle::format::write_tar(&members, &manifest).unwrap();
    let verdict = verify_bundle(&edited, &verifier).unwrap();
    assert!(
        verdict
            .faults
            .iter()
            .any(|f| f.starts_with(&format!("{OSCAL_ASSESSMENT_RESULTS}: its SHA-256"))),
        "{:?}",
        verdict.faults
    );

    // A writer may not replace what the bundle holds, and then nothing is recorded.
    let size = engine.size();
    let refused = engine
        .controls()
        .bundle("soc2", period, &[&Summary(REPORT)], "tester");
    assert!(refused.is_err());
    assert_eq!(engine.size(), size, "a refused bundle records nothing");
}
