//! Signed notes: parsing and verification never panic, and whatever verifies re-signs the same.
#![no_main]
use evident_ledger::note::{Note, Signer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let single = Note::parse(text).is_ok_and(|n| n.signatures.len() == 1);
    let signer = Signer::from_key_string(
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    )
    .expect("reference key");
    if let (Ok(body), true) = (signer.verifier().verify(text), single) {
        assert_eq!(signer.sign(&body).expect("verified text signs"), text);
    }
    if let Ok(signed) = signer.sign(text) {
        assert_eq!(
            signer.verifier().verify(&signed).expect("own signature"),
            text
        );
    }
});
