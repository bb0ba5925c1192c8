//! How long the bank takes to parse and check, and to hash: `bank check` runs in CI and in
//! item writers' editors, `bank import` at every server start of the demo.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use imh_exam::bank::{self, hash};

fn bank_benches(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank");
    let files = bank::read_dir(&dir).expect("sample bank readable");
    let parsed = bank::from_files(&files).expect("sample bank valid");

    c.bench_function("parse and check the sample bank", |b| {
        b.iter(|| bank::from_files(std::hint::black_box(&files)).unwrap())
    });
    c.bench_function("content hash of every item", |b| {
        b.iter(|| {
            parsed
                .items
                .iter()
                .map(hash::item_hash)
                .filter(|h| h.starts_with('0'))
                .count()
        })
    });
}

criterion_group!(benches, bank_benches);
criterion_main!(benches);
