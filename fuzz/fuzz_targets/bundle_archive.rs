//! Period evidence bundles (`evident verify FILE` on a ustar file an auditor received):
//! arbitrary bytes are refused with a message or read into a verdict, never a panic; a
//! verdict with no integrity fault has proven every event its manifest lists.
//!
//! The input is the bundle file, optionally preceded by the log's verifier key on a line of
//! its own (`name+hex8+base64\n`), so that seeds from a real data directory verify end to
//! end; without one, the C2SP reference key checks the signatures (and refuses them).
#![no_main]
use evident_controls::bundle::format::read_tar;
use evident_controls::bundle::verify_bundle;
use evident_ledger::note::NoteVerifier;
use libfuzzer_sys::fuzz_target;

/// The C2SP signed-note reference verifier key.
const REFERENCE_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    let (verifier, bundle) = split_vkey(data);
    match verify_bundle(bundle, &verifier) {
        Ok(verdict) => {
            if verdict.faults.is_empty() {
                let manifest = verdict
                    .manifest
                    .as_ref()
                    .expect("a verdict without faults read its manifest");
                assert_eq!(
                    verdict.proven,
                    manifest.events.len(),
                    "a verdict without faults proved every listed event"
                );
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if let Ok(members) = read_tar(bundle) {
        assert!(!members.is_empty(), "a readable bundle has members");
    }
});

/// The verifier key on the input's first line when there is one, and the rest.
fn split_vkey(data: &[u8]) -> (NoteVerifier, &[u8]) {
    let reference = || NoteVerifier::parse(REFERENCE_VKEY).expect("the reference key parses");
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
