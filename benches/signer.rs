//! Signing throughput: a typical ModifyImageSharePermission GET with 50
//! AddAccounts, the largest request this provider sends.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use terraform_provider_volcengine::volcengine::secret::Secret;
use terraform_provider_volcengine::volcengine::signer::{self, Credentials, Request};

fn modify_with_50_accounts(c: &mut Criterion) {
    let mut query = vec![
        ("Action".to_owned(), "ModifyImageSharePermission".to_owned()),
        ("Version".to_owned(), "2020-04-01".to_owned()),
        (
            "ImageId".to_owned(),
            "image-ebgy1og99tfct0gw1234".to_owned(),
        ),
    ];
    query.extend((1..=50).map(|i| (format!("AddAccounts.{i}"), format!("2100{i:06}"))));
    let credentials = Credentials {
        access_key: "AKLTEXAMPLEACCESSKEY".into(),
        secret_key: Secret::new("WmpFeE1qRXhNV0UzTlRFd05EZ3pZMkZoTlRVME1EY3lNV0l6T1RZek1qVQ=="),
        session_token: Some(Secret::new("STSeyJleGFtcGxlIjoidG9rZW4ifQ==")),
    };
    let now = time::macros::datetime!(2024-05-21 10:26:16 UTC);
    let request = Request {
        method: "GET",
        host: "open.volcengineapi.com",
        path: "/",
        query: &query,
        content_type: None,
        body: b"",
    };

    let mut group = c.benchmark_group("signer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign_modify_50_add_accounts", |b| {
        b.iter(|| {
            signer::sign(
                black_box(&request),
                black_box(&credentials),
                "cn-beijing",
                "ecs",
                now,
            )
        })
    });
    group.bench_function("canonical_query_53_params", |b| {
        b.iter(|| signer::canonical_query(black_box(&query)))
    });
    group.finish();
}

criterion_group!(benches, modify_with_50_accounts);
criterion_main!(benches);
