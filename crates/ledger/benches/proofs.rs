//! Proof generation and verification at 1,000,000 entries, and tree appends, next to the cost
//! of the SHA-256 compressions they are made of. `cargo bench -p evident-ledger`.

#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark harness")]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use evident_ledger::hash::{leaf_hash, node_hash};
use evident_ledger::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use evident_ledger::tree::Tree;
use std::hint::black_box;

const SIZE: u64 = 1_000_000;

fn benches(c: &mut Criterion) {
    let tree = Tree::from_leaves((0..SIZE).map(|i| leaf_hash(&i.to_le_bytes())));
    let root = tree.root();
    let mut g = c.benchmark_group("ledger");
    g.bench_function("sha256 node hash (the unit of work)", |b| {
        b.iter(|| node_hash(black_box(&root), black_box(&root)))
    });
    let mut i = 0u64;
    g.bench_function("inclusion proof at 1M", |b| {
        b.iter(|| {
            i = (i + 7_919) % SIZE;
            inclusion_proof(&tree, black_box(i), SIZE).unwrap()
        })
    });
    let mut m = 1u64;
    g.bench_function("consistency proof at 1M", |b| {
        b.iter(|| {
            m = 1 + (m + 104_729) % (SIZE - 1);
            consistency_proof(&tree, black_box(m), SIZE).unwrap()
        })
    });
    let proof = inclusion_proof(&tree, 123_456, SIZE).unwrap();
    let leaf = tree.leaf(123_456).unwrap();
    g.bench_function("verify inclusion at 1M", |b| {
        b.iter(|| verify_inclusion(123_456, SIZE, &leaf, black_box(&proof), &root).unwrap())
    });
    let cproof = consistency_proof(&tree, 654_321, SIZE).unwrap();
    let old = tree.root_at(654_321).unwrap();
    g.bench_function("verify consistency at 1M", |b| {
        b.iter(|| verify_consistency(654_321, SIZE, &old, &root, black_box(&cproof)).unwrap())
    });
    g.throughput(Throughput::Elements(10_000));
    let mut growing = tree.clone();
    g.bench_function("append 10k leaves to a 1M tree", |b| {
        b.iter(|| {
            for i in 0..10_000u64 {
                growing.push(leaf_hash(&i.to_be_bytes()));
            }
            growing.truncate(SIZE);
        })
    });
    g.finish();
}

criterion_group!(ledger, benches);
criterion_main!(ledger);
