//! Checkpoint bodies: parsing never panics and round-trips exactly.
#![no_main]
use evident_ledger::checkpoint::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cp) = Checkpoint::parse(text) {
        assert_eq!(cp.to_body(), text);
    }
});
