//! Detector throughput on mixed log-like text (the full comparison with peers is
//! `evident bench detect`), next to a same-run floor: one pass of a bare lazy DFA that never
//! matches over the same bytes. The host is shared, so the ratio of the two says more than
//! either figure; `examples/scan_profile.rs` gives load-independent instruction counts.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use evident_detect::{Detector, Fingerprinter, Scanner};
use regex_automata::{hybrid, Input};

fn mixed_text() -> Vec<u8> {
    let lines = [
        "2026-11-22T14:02:18Z INFO request id=7f3a user=42 path=/v1/orders status=200 took=12ms\n",
        "{\"event\":\"login\",\"actor\":\"u-1932\",\"ok\":true,\"mfa\":\"totp\",\"ip\":\"10.1.2.3\"}\n",
        "fn handle(req: Request) -> Result<Response> { let key = cache.get(&req.id)?; Ok(key) }\n",
        "The patient was seen on Tuesday and will return next week for a follow-up visit.\n",
        "order,sku,qty,price\n1001,AB-77,3,19.99\n",
        "contact jane.doe@example.com or call 415-555-2671 about card 4111 1111 1111 1111\n",
    ];
    let mut out = Vec::new();
    while out.len() < 8 << 20 {
        for line in lines {
            out.extend_from_slice(line.as_bytes());
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let detector = Detector::builtin().unwrap();
    let fp = Fingerprinter::new(&[1; 32]).unwrap();
    let text = mixed_text();
    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("mixed text, one core", |b| {
        b.iter(|| {
            let mut n = 0usize;
            Scanner::new(&detector, &fp).scan_bytes(&text, "bench", &mut |_| n += 1);
            n
        })
    });
    group.finish();

    // The mixed text `evident bench detect` times: the labelled corpus's contexts with 5 %
    // of records carrying a sensitive value.
    let corpus = evident_detect::corpus::generate_with_density(160_000, 1, 5);
    let mixed: Vec<u8> = corpus.files.into_iter().flat_map(|(_, c)| c).collect();
    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Bytes(mixed.len() as u64));
    group.sample_size(10);
    group.bench_function("corpus mixed text 5%, one core", |b| {
        b.iter(|| {
            let mut n = 0usize;
            Scanner::new(&detector, &fp).scan_bytes(&mixed, "bench", &mut |_| n += 1);
            n
        })
    });
    let floor = hybrid::dfa::DFA::new(r"[a-z]+@[a-z]+\.zzzq").unwrap();
    let mut cache = floor.create_cache();
    group.bench_function("floor: bare lazy DFA pass over the same text", |b| {
        b.iter(|| {
            floor
                .try_search_fwd(&mut cache, &Input::new(&mixed[..]))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
