//! Ciphertext strings: parsing arbitrary text never panics, and what parses names a valid key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((version, name, _body)) = evident::crypto::keyring::parse_ciphertext(text) {
        assert!(!name.is_empty() && name.len() <= 64);
        let _ = version;
    }
});
