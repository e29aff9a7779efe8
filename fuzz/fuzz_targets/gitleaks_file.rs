//! gitleaks rule files: importing arbitrary TOML never panics, and what imports compiles.
#![no_main]
use evident_detect::{gitleaks, Detector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((set, _report)) = gitleaks::import(text, "fuzz") {
        let _ = Detector::new(&set);
    }
});
