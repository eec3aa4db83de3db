//! msgpack decoding and encoding of a `volcengine_image_share` state whose
//! `account_ids` set holds 10,000 accounts: what every Plan/Apply/Read RPC
//! of the largest supported image does, several times per request.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use terraform_provider_volcengine::resources::image_share;
use terraform_provider_volcengine::tfplugin::Value;

const ACCOUNTS: usize = 10_000;

fn state_with_accounts(n: usize) -> Value {
    let accounts = (0..n).map(|i| format!("{}", 3_000_000_000u64 + i as u64));
    Value::object([
        ("id", Value::string("image-big0000001")),
        ("image_id", Value::string("image-big0000001")),
        ("account_ids", Value::string_set(accounts)),
        ("timeouts", Value::Null),
    ])
}

fn msgpack_10k_accounts(c: &mut Criterion) {
    let ty = image_share::state_type();
    let state = state_with_accounts(ACCOUNTS);
    let bytes = state.to_msgpack(ty).expect("state encodes");

    let mut group = c.benchmark_group("values");
    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    group.bench_function("decode_state_10k_accounts", |b| {
        b.iter(|| Value::from_msgpack(black_box(&bytes), ty).expect("decodes"))
    });
    group.bench_function("encode_state_10k_accounts", |b| {
        b.iter(|| black_box(&state).to_msgpack(ty).expect("encodes"))
    });
    group.bench_function("as_string_set_10k_accounts", |b| {
        b.iter(|| {
            black_box(&state)
                .attr("account_ids")
                .as_string_set()
                .expect("known strings")
        })
    });
    group.bench_function("plan_10k_accounts_no_change", |b| {
        b.iter_batched(
            || state.clone(),
            |prior| image_share::plan(black_box(&prior), black_box(&state)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("validate_10k_accounts", |b| {
        b.iter(|| image_share::validate(black_box(&state)))
    });
    group.finish();
}

criterion_group!(benches, msgpack_10k_accounts);
criterion_main!(benches);
