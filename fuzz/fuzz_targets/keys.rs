//! Key strings: verifier and signing keys parse strictly and round-trip.
#![no_main]
use evident_ledger::note::{NoteVerifier, Signer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = NoteVerifier::parse(text) {
        assert_eq!(
            NoteVerifier::parse(&v.to_key_string()).expect("re-parse"),
            v
        );
    }
    if let Ok(s) = Signer::from_key_string(text) {
        assert_eq!(
            Signer::from_key_string(&s.to_key_string())
                .expect("re-parse")
                .key_id(),
            s.key_id()
        );
    }
});
