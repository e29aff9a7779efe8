//! Audit events as the API receives them: parsing and encoding never panic, every encoded
//! entry is within the bundle limit and is canonical JSON that re-encodes to itself.
#![no_main]
use evident::AuditEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(events) = AuditEvent::parse_many(data) else {
        return;
    };
    for event in events {
        if let Ok(entry) = event.prepare(0) {
            assert!(entry.data.len() <= evident::event::MAX_ENTRY_BYTES);
            let value: serde_json::Value =
                serde_json::from_slice(&entry.data).expect("entry is JSON");
            assert_eq!(evident::canonical::to_vec(&value), entry.data);
        }
    }
});
