//! Policy packs: arbitrary schema, policy, entity and settings text is accepted or refused
//! with a message, never a panic; an accepted pack decides a request without panicking.
#![no_main]
use evident::access::authzen::EvaluationsRequest;
use evident::access::pack::{compile, PackFiles};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // four files separated by NUL: schema, policies, entities, pack.toml
    let mut parts = text.split('\0');
    let mut files = PackFiles::default();
    for name in [
        "schema.cedarschema",
        "p.cedar",
        "entities.json",
        "pack.toml",
    ] {
        if let Some(part) = parts.next() {
            files.0.insert(name.to_string(), part.to_string());
        }
    }
    match compile(files) {
        Ok(pack) => {
            let request: EvaluationsRequest = serde_json::from_str(
                r#"{"subject":{"type":"User","id":"a"},"action":{"name":"read"},"resource":{"type":"Doc","id":"d"}}"#,
            )
            .expect("a fixed request");
            let _ = evident::access::decide_offline(&std::sync::Arc::new(pack), &request, 0);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
