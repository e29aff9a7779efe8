//! The detector on arbitrary bytes: scanning and redacting never panic, findings lie inside
//! the input in order without overlap, and redaction leaves no found value behind.
#![no_main]
use std::sync::{Arc, OnceLock};

use evident_detect::{Detector, Fingerprinter, RedactMode, Redactor, Scanner};
use libfuzzer_sys::fuzz_target;

fn detector() -> &'static Arc<Detector> {
    static D: OnceLock<Arc<Detector>> = OnceLock::new();
    D.get_or_init(|| Arc::new(Detector::builtin().expect("built-in rules compile")))
}

fuzz_target!(|data: &[u8]| {
    let fp = Fingerprinter::new(&[7; 32]).expect("key");
    let mut findings = Vec::new();
    Scanner::new(detector(), &fp)
        .skip_binary(false)
        .scan_bytes(data, "fuzz", &mut |f| findings.push(f));
    let mut last_end = 0;
    for f in &findings {
        assert!(f.start >= last_end && f.start < f.end && f.end as usize <= data.len());
        last_end = f.end;
    }
    let redactor = Redactor::new(detector().clone(), fp, RedactMode::Remove);
    let (out, _) = redactor.redact_bytes(data);
    let (_, again) = redactor.redact_bytes(&out);
    // Redacting twice finds nothing new that the first pass left (markers are inert).
    assert!(again.len() <= findings.len());
});
