//! Catalog files and mapping files as `evident` loads them from a data directory
//! (`DIR/controls/*.toml`, with `[[control]]`, `[[disposition]]`, `[framework]` and
//! `[[settings]]`; `DIR/controls/mappings/*.toml`): arbitrary text is refused with a message
//! naming the file, or put together with the shipped catalog, never a panic. An
//! organisation's file adds to the shipped catalog; it never removes a shipped control.
//!
//! The input is the catalog file's text, then optionally a NUL and a mapping file's text,
//! which is checked against the catalog the first built (or the shipped one).
#![no_main]
use std::sync::LazyLock;

use evident_controls::catalog::{self, Catalog, Source};
use evident_controls::evidence::mappings::RuleMap;
use libfuzzer_sys::fuzz_target;

static SHIPPED: LazyLock<Catalog> =
    LazyLock::new(|| catalog::load(None).expect("the shipped catalog loads"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (catalog_text, mapping_text) = text.split_once('\0').unwrap_or((text, ""));
    let mut sources = catalog::builtin_sources();
    sources.push(Source {
        name: "org.toml".into(),
        text: catalog_text.into(),
        shipped: false,
    });
    let built = catalog::build(sources, Vec::new());
    let against = match &built {
        Ok(built) => {
            for shipped in &SHIPPED.controls {
                assert!(
                    built.control(&shipped.id).is_some(),
                    "{} stays in the catalog",
                    shipped.id
                );
            }
            built
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            &*SHIPPED
        }
    };
    if let Err(e) =
        RuleMap::from_files(against, vec![("mappings.toml".into(), mapping_text.into())])
    {
        let message = e.to_string();
        assert!(
            message.contains("mappings.toml"),
            "the error names the file: {message}"
        );
    }
});
