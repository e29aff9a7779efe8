//! Backup files: reading the magic line and header of arbitrary bytes never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evident::backup::inspect_header(data);
});
