//! Evident rule files: parsing and compiling arbitrary TOML never panics.
#![no_main]
use evident_detect::{Detector, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = RuleSet::from_toml(text, "fuzz") {
        let _ = Detector::new(&set);
    }
});
