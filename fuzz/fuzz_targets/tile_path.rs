//! Tile paths: only canonical encodings parse, and they print back unchanged.
#![no_main]
use evident_ledger::tiles::TilePath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = TilePath::parse(text) {
        assert_eq!(path.to_path(), format!("tile/{text}"));
    }
});
