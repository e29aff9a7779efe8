//! Entry bundles: decoding never panics and re-encodes to the same bytes.
#![no_main]
use evident_ledger::tiles::{decode_bundle, encode_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = decode_bundle(data) {
        assert_eq!(encode_bundle(entries).expect("re-encode"), data);
    }
});
