//! AuthZEN requests: any bytes either fail to parse or get a decision (or a clean error)
//! from the interop pack; nothing panics, and a batch answers at most one decision per item.
#![no_main]
use std::sync::{Arc, OnceLock};

use evident::access::authzen::EvaluationsRequest;
use evident::access::pack::{compile, CompiledPack, PackFiles};
use evident::access::{decide_offline, Answer};
use libfuzzer_sys::fuzz_target;

fn pack() -> &'static Arc<CompiledPack> {
    static PACK: OnceLock<Arc<CompiledPack>> = OnceLock::new();
    PACK.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/interop");
        Arc::new(
            compile(PackFiles::load_dir(&dir).expect("the interop pack")).expect("it compiles"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(batch) = serde_json::from_slice::<EvaluationsRequest>(data) else {
        return;
    };
    let items = batch.items().len();
    if let Ok(Answer::Many(m)) = decide_offline(pack(), &batch, 1_700_000_000) {
        assert!(m.evaluations.len() <= items);
    }
});
