//! Load-independent measures of the detector's speed on the mixed text `evident bench detect`
//! times (the labelled corpus's contexts, 5 % of records sensitive).
//!
//! `cargo run --release -p evident-detect --example scan_profile -- time` prints MB/s per
//! second of this thread's CPU time (Linux's `/proc/thread-self/schedstat`, so time spent
//! waiting for a core on a loaded host is not counted; best of seven) next to a same-run
//! floor, a bare lazy-DFA pass over the same bytes that never matches.
//! `... -- once` scans the text twice (the first run builds the automaton's states) and runs
//! the second inside `measured_scan`, for
//! `valgrind --tool=callgrind --toggle-collect=*measured_scan* --cache-sim=yes`.
//! A third argument, `lines`, takes the bench's short repeated log lines instead.
//! `... -- digest` prints a digest of every finding on that text and on the dense labelled
//! corpus, to compare two builds' output.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use evident_detect::{Detector, Fingerprinter, Scanner};
use regex_automata::{hybrid, Input};

/// The short repeated log lines of `benches/scan.rs`, about `bytes` long.
fn log_lines(bytes: usize) -> Vec<u8> {
    let lines = [
        "2026-11-22T14:02:18Z INFO request id=7f3a user=42 path=/v1/orders status=200 took=12ms\n",
        "{\"event\":\"login\",\"actor\":\"u-1932\",\"ok\":true,\"mfa\":\"totp\",\"ip\":\"10.1.2.3\"}\n",
        "fn handle(req: Request) -> Result<Response> { let key = cache.get(&req.id)?; Ok(key) }\n",
        "The patient was seen on Tuesday and will return next week for a follow-up visit.\n",
        "order,sku,qty,price\n1001,AB-77,3,19.99\n",
        "contact jane.doe@example.com or call 415-555-2671 about card 4111 1111 1111 1111\n",
    ];
    let mut out = Vec::new();
    while out.len() < bytes {
        for line in lines {
            out.extend_from_slice(line.as_bytes());
        }
    }
    out
}

fn mixed_text(records: usize) -> Vec<u8> {
    let corpus = evident_detect::corpus::generate_with_density(records, 1, 5);
    corpus.files.into_iter().flat_map(|(_, c)| c).collect()
}

fn scan(detector: &Detector, fp: &Fingerprinter, text: &[u8]) -> usize {
    let mut n = 0usize;
    Scanner::new(detector, fp).scan_bytes(text, "bench", &mut |_| n += 1);
    n
}

#[inline(never)]
fn measured_scan(detector: &Detector, fp: &Fingerprinter, text: &[u8]) -> usize {
    scan(detector, fp, text)
}

/// Seconds this thread has run on a core.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let ns: u64 = stat.split_whitespace().next().unwrap().parse().unwrap();
    ns as f64 / 1e9
}

fn best_seconds(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = cpu_seconds();
            f();
            cpu_seconds() - t
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "time".into());
    let records: usize = std::env::args()
        .nth(2)
        .map_or(160_000, |r| r.parse().unwrap());
    let build = Instant::now();
    let detector = Detector::builtin().unwrap();
    let build = build.elapsed();
    let fp = Fingerprinter::new(&[1; 32]).unwrap();
    // A third argument `lines` scans the bench's short repeated log lines instead (as many
    // bytes as the mixed text of that many records).
    let text = match std::env::args().nth(3).as_deref() {
        Some("lines") => log_lines(records * 83),
        _ => mixed_text(records),
    };
    let mb = text.len() as f64 / 1e6;
    match mode.as_str() {
        "digest" => {
            use std::hash::{Hash, Hasher};
            let dense = evident_detect::corpus::generate(records / 4, 1);
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            let mut count = 0;
            for chunk in
                std::iter::once(text.clone()).chain(dense.files.into_iter().map(|(_, c)| c))
            {
                for f in detector.find(&chunk) {
                    (f.rule, f.start, f.end, f.score.to_bits()).hash(&mut hasher);
                    count += 1;
                }
            }
            println!("{count} findings, digest {:016x}", hasher.finish());
        }
        "once" => {
            let warm = scan(&detector, &fp, &text);
            let n = measured_scan(&detector, &fp, &text);
            assert_eq!(warm, n);
            println!("{mb:.1} MB, {n} findings");
        }
        _ => {
            let floor_dfa = hybrid::dfa::DFA::new(r"[a-z]+@[a-z]+\.zzzq").unwrap();
            let mut cache = floor_dfa.create_cache();
            let first = cpu_seconds();
            let n = scan(&detector, &fp, &text);
            let first = cpu_seconds() - first;
            let mut scan_s = f64::INFINITY;
            let mut floor_s = f64::INFINITY;
            for _ in 0..7 {
                scan_s = scan_s.min(best_seconds(1, || {
                    black_box(scan(&detector, &fp, black_box(&text)));
                }));
                floor_s = floor_s.min(best_seconds(1, || {
                    black_box(
                        floor_dfa
                            .try_search_fwd(&mut cache, &Input::new(black_box(&text[..])))
                            .unwrap(),
                    );
                }));
            }
            println!(
                "{mb:.1} MB, {n} findings; build {:.0} ms, first scan {:.0} MB/s; scan {:.0} MB/s; \
                 floor (bare lazy DFA) {:.0} MB/s; scan/floor {:.3}",
                build.as_secs_f64() * 1e3,
                mb / first,
                mb / scan_s,
                mb / floor_s,
                floor_s / scan_s
            );
        }
    }
}
