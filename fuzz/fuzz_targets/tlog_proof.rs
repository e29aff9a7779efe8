//! tlog-proof files: parsing never panics; whatever parses renders back to the same text.
#![no_main]
use evident_ledger::tlog_proof::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(proof) = TlogProof::parse(text) {
        assert_eq!(TlogProof::parse(&proof.to_text()).expect("re-parse"), proof);
    }
});
