//! Cost of planning a share-list change: the add/remove diff and batching
//! into ModifyImageSharePermission requests.

use std::collections::BTreeSet;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use terraform_provider_volcengine::resources::share_sync::ShareDiff;

fn accounts(range: std::ops::Range<u64>) -> BTreeSet<String> {
    range.map(|i| (2_100_000_000 + i).to_string()).collect()
}

fn bench_diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("share_diff");
    for size in [120u64, 1_000, 10_000] {
        // Half the accounts replaced: size/2 adds and size/2 removes.
        let current = accounts(0..size);
        let desired = accounts(size / 2..size + size / 2);
        group.throughput(Throughput::Elements(size));
        group.bench_with_input(
            BenchmarkId::new("between", size),
            &(&current, &desired),
            |b, (c, d)| b.iter(|| black_box(ShareDiff::between(c, d))),
        );
        let diff = ShareDiff::between(&current, &desired);
        group.bench_with_input(BenchmarkId::new("batches", size), &diff, |b, diff| {
            b.iter(|| black_box(diff.batches("image-ebgy1og99tfct0gw0001")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_diff);
criterion_main!(benches);
