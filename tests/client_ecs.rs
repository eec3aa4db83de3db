//! Typed ECS actions: Modify's limits and wire format, Describe's pagination.

mod client_support;

use std::collections::BTreeSet;
use std::time::Duration;

use client_support::*;
use serde_json::json;
use terraform_provider_volcengine::volcengine::ecs::{
    describe_image_share_permission, modify_image_share_permission, ModifyImageSharePermission,
    MAX_ACCOUNTS_PER_CALL, MAX_DESCRIBE_PAGES,
};
use terraform_provider_volcengine::volcengine::Error;

fn accounts(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i:04}")).collect()
}

fn page(accounts: &[String], next_token: Option<&str>, total: usize) -> Reply {
    let mut result = json!({
        "ImageId": "image-1",
        "Accounts": accounts.iter().map(|a| json!({"AccountId": a})).collect::<Vec<_>>(),
        "TotalCount": total,
    });
    if let Some(token) = next_token {
        result["NextToken"] = json!(token);
    }
    Reply::ok(result)
}

#[tokio::test]
async fn modify_sends_one_based_account_lists() {
    let server = TestServer::always(Reply::ok(json!({}))).await;
    let client = client(&server.base_url, 0);
    let req = ModifyImageSharePermission {
        image_id: "image-1".into(),
        add: accounts("21", 12),
        remove: accounts("22", 2),
    };
    modify_image_share_permission(&client, &ctx(Duration::from_secs(10)), &req)
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert!(r.signature_valid);
    assert_eq!(r.param("Action"), Some("ModifyImageSharePermission"));
    assert_eq!(r.param("ImageId"), Some("image-1"));
    assert_eq!(r.param("AddAccounts.1"), Some("210001"));
    assert_eq!(r.param("AddAccounts.12"), Some("210012"));
    assert_eq!(r.param("AddAccounts.13"), None);
    assert_eq!(r.param("RemoveAccounts.2"), Some("220002"));
    assert_eq!(r.query.len(), 2 + 1 + 12 + 2);
}

#[tokio::test]
async fn modify_refuses_over_limit_and_empty_before_sending() {
    let server = TestServer::always(Reply::ok(json!({}))).await;
    let client = client(&server.base_url, 0);
    let ctx = ctx(Duration::from_secs(10));
    let over = MAX_ACCOUNTS_PER_CALL + 1;
    for req in [
        ModifyImageSharePermission {
            image_id: "image-1".into(),
            add: accounts("21", over),
            remove: vec![],
        },
        ModifyImageSharePermission {
            image_id: "image-1".into(),
            add: vec![],
            remove: accounts("22", over),
        },
        ModifyImageSharePermission {
            image_id: "image-1".into(),
            add: vec![],
            remove: vec![],
        },
    ] {
        let err = modify_image_share_permission(&client, &ctx, &req)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
        assert!(err.is_user_error());
    }
    assert_eq!(server.count(), 0, "nothing was sent");

    // Exactly 50 in each list is fine.
    let full = ModifyImageSharePermission {
        image_id: "image-1".into(),
        add: accounts("21", MAX_ACCOUNTS_PER_CALL),
        remove: accounts("22", MAX_ACCOUNTS_PER_CALL),
    };
    modify_image_share_permission(&client, &ctx, &full)
        .await
        .unwrap();
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn describe_follows_next_token_across_pages() {
    let all = accounts("21", 7);
    let pages = all.clone();
    // Pages of 3: tokens "p2", "p3"; the last page has an empty token.
    let server = TestServer::start(move |_, request| {
        let (from, next) = match request.param("NextToken") {
            None => (0, Some("p2")),
            Some("p2") => (3, Some("p3")),
            Some("p3") => (6, Some("")),
            Some(other) => panic!("unexpected token {other}"),
        };
        let to = (from + 3).min(pages.len());
        page(&pages[from..to], next, pages.len())
    })
    .await;
    let client = client(&server.base_url, 0);
    let shares = describe_image_share_permission(&client, &ctx(Duration::from_secs(10)), "image-1")
        .await
        .unwrap();
    assert_eq!(shares.image_id, "image-1");
    assert_eq!(
        shares.accounts,
        all.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(shares.total_count, 7);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.param("ImageId"), Some("image-1"));
        assert!(r
            .param("MaxResults")
            .is_some_and(|m| m.parse::<u32>().unwrap() > 0));
        assert!(r.signature_valid);
    }
    assert_eq!(requests[0].param("NextToken"), None);
    assert_eq!(requests[2].param("NextToken"), Some("p3"));
}

#[tokio::test]
async fn describe_ends_on_an_absent_token_and_accepts_no_accounts() {
    let server =
        TestServer::always(Reply::ok(json!({"ImageId": "image-1", "TotalCount": 0}))).await;
    let shares = describe_image_share_permission(
        &client(&server.base_url, 0),
        &ctx(Duration::from_secs(10)),
        "image-1",
    )
    .await
    .unwrap();
    assert!(shares.accounts.is_empty());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn describe_refuses_a_repeated_token() {
    // p1 -> p2 -> p1 again: a loop.
    let server = TestServer::start(|n, _| {
        let token = if n % 2 == 0 { "p1" } else { "p2" };
        page(&[format!("21{n:04}")], Some(token), 100)
    })
    .await;
    let err = describe_image_share_permission(
        &client(&server.base_url, 0),
        &ctx(Duration::from_secs(10)),
        "image-1",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::MalformedResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("twice"), "{err}");
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn describe_stops_at_the_page_cap() {
    let server = TestServer::start(|n, _| page(&[], Some(&format!("t{n}")), 0)).await;
    let err = describe_image_share_permission(
        &client(&server.base_url, 0),
        &ctx(Duration::from_secs(60)),
        "image-1",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::MalformedResponse { .. }), "{err:?}");
    assert_eq!(server.count(), MAX_DESCRIBE_PAGES);
}

#[tokio::test]
async fn describe_reports_not_found_exactly() {
    let server = TestServer::always(Reply::error(404, "InvalidImage.NotFound", "gone")).await;
    let err = describe_image_share_permission(
        &client(&server.base_url, 3),
        &ctx(Duration::from_secs(10)),
        "image-1",
    )
    .await
    .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn describe_rejects_a_result_of_the_wrong_shape() {
    let server = TestServer::always(Reply::ok(json!({"Accounts": "nope"}))).await;
    let err = describe_image_share_permission(
        &client(&server.base_url, 0),
        &ctx(Duration::from_secs(10)),
        "image-1",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::MalformedResponse { .. }), "{err:?}");
}

#[tokio::test]
async fn describe_retries_a_throttled_page() {
    let server = TestServer::start(|n, request| match (n, request.param("NextToken")) {
        (0, None) => page(&["210001".to_owned()], Some("p2"), 2),
        (1, Some("p2")) => Reply::error(429, "FlowLimitExceeded", "slow"),
        (2, Some("p2")) => page(&["210002".to_owned()], None, 2),
        other => panic!("unexpected {other:?}"),
    })
    .await;
    let shares = describe_image_share_permission(
        &client(&server.base_url, 2),
        &ctx(Duration::from_secs(10)),
        "image-1",
    )
    .await
    .unwrap();
    assert_eq!(shares.accounts.len(), 2);
}
