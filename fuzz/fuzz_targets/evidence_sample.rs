//! Auditor sample files (`evident verify FILE.sample.json`): arbitrary bytes are refused with
//! a message or read and re-derived into a list of faults, never a panic; what reads
//! re-encodes to the same sample, and naming the file's own seed adds no fault.
//!
//! The input is the sample file, optionally preceded by the log's verifier key on a line of
//! its own (`name+hex8+base64\n`), so that seeds from a real data directory verify end to
//! end; without one, the C2SP reference key checks the signatures (and refuses them).
#![no_main]
use evident_controls::bundle::{read_sample, verify_sample};
use evident_ledger::note::NoteVerifier;
use libfuzzer_sys::fuzz_target;

/// The C2SP signed-note reference verifier key.
const REFERENCE_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    let (verifier, file) = split_vkey(data);
    match read_sample(file) {
        Ok(sample) => {
            let again = serde_json::to_vec(&sample).expect("a sample encodes");
            assert_eq!(read_sample(&again).expect("a sample re-reads"), sample);
            let faults = verify_sample(&sample, &verifier, None);
            assert_eq!(
                verify_sample(&sample, &verifier, Some(&sample.seed)),
                faults,
                "the file's own seed adds no fault"
            );
        }
        Err(e) => assert!(!e.to_string().is_empty()),
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
