//! The add/remove diff and its batching into ModifyImageSharePermission
//! calls, at the sizes the resource supports (10,000 accounts per image).

use std::collections::BTreeSet;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use terraform_provider_volcengine::resources::share_sync::ShareDiff;

fn accounts(range: std::ops::Range<u64>) -> BTreeSet<String> {
    range.map(|i| (3_000_000_000 + i).to_string()).collect()
}

fn diff_and_batches(c: &mut Criterion) {
    let empty = BTreeSet::new();
    let all = accounts(0..10_000);
    // Half the accounts replaced: 5,000 additions and 5,000 removals.
    let shifted = accounts(5_000..15_000);

    let mut group = c.benchmark_group("diff");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("between_create_10k", |b| {
        b.iter(|| ShareDiff::between(black_box(&empty), black_box(&all)))
    });
    group.bench_function("between_no_change_10k", |b| {
        b.iter(|| ShareDiff::between(black_box(&all), black_box(&all)))
    });
    group.bench_function("between_replace_half_10k", |b| {
        b.iter(|| ShareDiff::between(black_box(&all), black_box(&shifted)))
    });

    let create = ShareDiff::between(&empty, &all);
    assert_eq!(create.batches("image-big0000001").len(), 200);
    let replace = ShareDiff::between(&all, &shifted);
    assert_eq!(replace.batches("image-big0000001").len(), 100);
    group.bench_function("batches_create_10k_200_calls", |b| {
        b.iter(|| black_box(&create).batches("image-big0000001"))
    });
    group.bench_function("batches_replace_half_10k_100_calls", |b| {
        b.iter(|| black_box(&replace).batches("image-big0000001"))
    });
    group.finish();
}

criterion_group!(benches, diff_and_batches);
criterion_main!(benches);
