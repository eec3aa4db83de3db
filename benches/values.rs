//! Cost of the value layer on a large share list: msgpack encode/decode of a
//! resource state with many accounts, and JSON raw-state decoding.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use terraform_provider_volcengine::resources::image_share;
use terraform_provider_volcengine::tfplugin::Value;

fn state(accounts: usize) -> Value {
    let ids: Vec<String> = (0..accounts)
        .map(|i| (2_100_000_000 + i as u64).to_string())
        .collect();
    Value::object([
        ("id", Value::string("image-ebgy1og99tfct0gw0001")),
        ("image_id", Value::string("image-ebgy1og99tfct0gw0001")),
        ("account_ids", Value::string_set(&ids)),
        (
            "timeouts",
            Value::object([("create", Value::string("20m"))]),
        ),
    ])
}

fn bench_values(c: &mut Criterion) {
    let ty = image_share::state_type();
    let mut group = c.benchmark_group("state_msgpack");
    for accounts in [10usize, 1_000, 10_000] {
        let value = state(accounts);
        let bytes = value.to_msgpack(ty).unwrap();
        group.throughput(Throughput::Elements(accounts as u64));
        group.bench_with_input(BenchmarkId::new("encode", accounts), &value, |b, v| {
            b.iter(|| black_box(v.to_msgpack(ty).unwrap()))
        });
        group.bench_with_input(BenchmarkId::new("decode", accounts), &bytes, |b, bytes| {
            b.iter(|| black_box(Value::from_msgpack(bytes, ty).unwrap()))
        });
        let json = serde_json::json!({
            "id": "image-a", "image_id": "image-a", "timeouts": null,
            "account_ids": (0..accounts).map(|i| (2_100_000_000 + i as u64).to_string()).collect::<Vec<_>>(),
        })
        .to_string();
        group.bench_with_input(
            BenchmarkId::new("decode_json", accounts),
            &json,
            |b, json| b.iter(|| black_box(Value::from_json(json.as_bytes(), ty).unwrap())),
        );
    }
    group.finish();
}

criterion_group!(benches, bench_values);
criterion_main!(benches);
