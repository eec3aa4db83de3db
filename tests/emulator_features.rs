//! Paging, the state file, fault injection, throttling, the call log and the
//! admin API, against an in-process emulator.

#[path = "emulator_common/mod.rs"]
mod common;

use common::{account, start, Admin, Api, IMAGE};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use terraform_provider_volcengine::emulator::EmulatorConfig;

const MODIFY: &str = "ModifyImageSharePermission";
const DESCRIBE: &str = "DescribeImageSharePermission";

async fn share(api: &Api, image: &str, accounts: impl IntoIterator<Item = String>) {
    let accounts: Vec<(String, String)> = accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| (format!("AddAccounts.{}", i + 1), a))
        .collect();
    let mut params: Vec<(&str, &str)> = accounts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    params.push(("ImageId", image));
    api.call(MODIFY, &params).await.result();
}

/// Pages through Describe with `max_results`; returns every page's accounts.
async fn pages(api: &Api, max_results: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut token = String::new();
    for _ in 0..20 {
        let mut params = vec![("ImageId", IMAGE), ("MaxResults", max_results)];
        if !token.is_empty() {
            params.push(("NextToken", &token));
        }
        let result = api.call(DESCRIBE, &params).await.result();
        assert_eq!(result["ImageId"], IMAGE);
        assert_eq!(result["TotalCount"], 45);
        pages.push(
            result["Accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["AccountId"].as_str().unwrap().to_owned())
                .collect(),
        );
        token = result["NextToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            return pages;
        }
    }
    panic!("paging did not end");
}

#[tokio::test]
async fn describe_pages_through_every_account_in_order() {
    let emulator = start(EmulatorConfig {
        page_max: 30,
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emulator.base_url());
    let all: Vec<String> = (1..=45).map(account).collect();
    share(&api, IMAGE, all.iter().rev().cloned()).await;

    let by_20 = pages(&api, "20").await;
    assert_eq!(
        by_20.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![20, 20, 5]
    );
    assert_eq!(by_20.concat(), all, "sorted, complete, no duplicates");

    // MaxResults above --page-max is lowered to it.
    let by_max = pages(&api, "1000").await;
    assert_eq!(
        by_max.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![30, 15]
    );

    // Without MaxResults a page holds 20.
    let first = api.call(DESCRIBE, &[("ImageId", IMAGE)]).await.result();
    assert_eq!(first["Accounts"].as_array().unwrap().len(), 20);

    // A token of another image is refused.
    emulator.put_image("image-other", None).await.unwrap();
    let token = first["NextToken"].as_str().unwrap();
    api.call(
        DESCRIBE,
        &[("ImageId", "image-other"), ("NextToken", token)],
    )
    .await
    .assert_error(400, "InvalidArgument");
}

#[tokio::test]
async fn paging_stays_consistent_when_accounts_change_between_pages() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    share(&api, IMAGE, (1..=10).map(account)).await;
    let first = api
        .call(DESCRIBE, &[("ImageId", IMAGE), ("MaxResults", "5")])
        .await
        .result();
    let token = first["NextToken"].as_str().unwrap().to_owned();
    // Remove an account already returned: the next page must not skip or repeat any.
    api.call(
        MODIFY,
        &[("ImageId", IMAGE), ("RemoveAccounts.1", &account(2))],
    )
    .await
    .result();
    let second = api
        .call(
            DESCRIBE,
            &[
                ("ImageId", IMAGE),
                ("MaxResults", "5"),
                ("NextToken", &token),
            ],
        )
        .await
        .result();
    let ids: Vec<&str> = second["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AccountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, (6..=10).map(account).collect::<Vec<_>>());
    assert_eq!(second["NextToken"], "");
    assert_eq!(second["TotalCount"], 9);
}

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator-state.json");
    let config = EmulatorConfig {
        state_file: Some(path.clone()),
        ..EmulatorConfig::default()
    };
    let emulator = start(config.clone()).await;
    let api = Api::new(&emulator.base_url());
    share(&api, IMAGE, [account(1), account(2)]).await;
    emulator
        .put_image("image-pending", Some("creating"))
        .await
        .unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        saved["images"],
        json!([
            {"image_id": IMAGE, "status": "available", "accounts": [account(1), account(2)]},
            {"image_id": "image-pending", "status": "creating", "accounts": []},
        ])
    );
    emulator.shutdown().await;

    // No --image this time: everything comes from the file.
    let restarted = terraform_provider_volcengine::emulator::Emulator::start(config)
        .await
        .unwrap();
    let api = Api::new(&restarted.base_url());
    assert_eq!(api.shares(IMAGE).await, vec![account(1), account(2)]);
    assert_eq!(restarted.images().len(), 2);
    api.call(
        MODIFY,
        &[("ImageId", "image-pending"), ("AddAccounts.1", &account(3))],
    )
    .await
    .assert_error(400, "InvalidImageStatus");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("emulator-state.json")],
        "no temp files left"
    );
}

#[tokio::test]
async fn faults_skip_after_then_answer_count_errors() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = Admin::new(&emulator.base_url());
    let api = Api::new(&emulator.base_url());
    let (status, _) = admin
        .post(
            "faults",
            json!({"action": DESCRIBE, "after": 1, "count": 2, "status": 503,
                   "code": "ServiceUnavailable", "message": "try later"}),
        )
        .await;
    assert_eq!(status, 201);
    let describe = [("ImageId", IMAGE)];
    api.call(DESCRIBE, &describe).await.result();
    // Other actions neither consume nor trigger the fault.
    api.call(
        MODIFY,
        &[("ImageId", IMAGE), ("AddAccounts.1", &account(1))],
    )
    .await
    .result();
    for _ in 0..2 {
        let answer = api.call(DESCRIBE, &describe).await;
        answer.assert_error(503, "ServiceUnavailable");
        assert_eq!(
            answer.json()["ResponseMetadata"]["Error"]["Message"],
            "try later"
        );
    }
    api.call(DESCRIBE, &describe).await.result();
    assert_eq!(admin.get("faults").await, json!([]));

    let faulted: Vec<(String, u16, bool)> = emulator
        .calls()
        .into_iter()
        .map(|c| (c.action, c.status, c.faulted))
        .collect();
    assert_eq!(
        faulted,
        vec![
            (DESCRIBE.into(), 200, false),
            (MODIFY.into(), 200, false),
            (DESCRIBE.into(), 503, true),
            (DESCRIBE.into(), 503, true),
            (DESCRIBE.into(), 200, false),
        ]
    );

    // Bad specs are refused.
    for bad in [
        json!({"action": "Nope"}),
        json!({"count": 0}),
        json!({"status": 42}),
        json!({"typo": 1}),
    ] {
        assert_eq!(admin.post("faults", bad).await.0, 400);
    }
}

#[tokio::test]
async fn dropped_connection_gets_no_response() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = Admin::new(&emulator.base_url());
    admin
        .post("faults", json!({"action": MODIFY, "drop_connection": true}))
        .await;
    let api = Api::new(&emulator.base_url());
    let query = vec![
        ("Action".to_owned(), MODIFY.to_owned()),
        ("Version".to_owned(), "2020-04-01".to_owned()),
        ("ImageId".to_owned(), IMAGE.to_owned()),
        ("AddAccounts.1".to_owned(), account(1)),
    ];
    let error = api
        .send("GET", query.clone(), None, time::OffsetDateTime::now_utc())
        .await
        .expect_err("the connection is closed without a response");
    assert!(!error.is_timeout(), "{error:?}");
    assert_eq!(
        emulator.shares(IMAGE).unwrap(),
        Vec::<String>::new(),
        "the dropped call did nothing"
    );
    let answer = api
        .send("GET", query, None, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let calls = emulator.calls();
    assert_eq!((calls[0].status, calls[0].faulted), (0, true));
}

#[tokio::test]
async fn latency_delays_then_answers_normally() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = Admin::new(&emulator.base_url());
    admin
        .post("faults", json!({"action": "*", "latency_ms": 300}))
        .await;
    let api = Api::new(&emulator.base_url());
    let started = Instant::now();
    api.call(DESCRIBE, &[("ImageId", IMAGE)]).await.result();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    api.call(DESCRIBE, &[("ImageId", IMAGE)]).await.result();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "only one call is delayed"
    );
    assert!(emulator.calls()[0].faulted);
}

#[tokio::test]
async fn raw_bodies_are_sent_verbatim() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = Admin::new(&emulator.base_url());
    let html = "<html><body>502 Bad Gateway</body></html>";
    admin
        .post("faults", json!({"raw_body": html, "status": 502}))
        .await;
    admin
        .post(
            "faults",
            json!({"raw_body": "{\"ResponseMetadata\": {\"Req", "status": 200}),
        )
        .await;
    let api = Api::new(&emulator.base_url());
    let answer = api.call(DESCRIBE, &[("ImageId", IMAGE)]).await;
    assert_eq!((answer.status, answer.text.as_str()), (502, html));
    assert!(answer.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let answer = api.call(DESCRIBE, &[("ImageId", IMAGE)]).await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (200, "{\"ResponseMetadata\": {\"Req")
    );
    api.call(DESCRIBE, &[("ImageId", IMAGE)]).await.result();
}

#[tokio::test]
async fn throttling_answers_429_beyond_the_rate() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = Admin::new(&emulator.base_url());
    let (status, body) = admin.post("throttle", json!({"max_per_second": 2})).await;
    assert_eq!((status, body), (200, json!({"max_per_second": 2})));
    let api = Api::new(&emulator.base_url());
    // Four calls at once: two fit in the one-second window, two are refused.
    let answers =
        futures::future::join_all((0..4).map(|_| api.call(DESCRIBE, &[("ImageId", IMAGE)]))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 200, 429, 429]);
    for answer in answers.iter().filter(|a| a.status == 429) {
        answer.assert_error(429, "FlowLimitExceeded");
        assert_eq!(answer.headers["retry-after"], "1");
    }
    admin.post("throttle", json!({"max_per_second": 0})).await;
    api.call(DESCRIBE, &[("ImageId", IMAGE)]).await.result();
}

#[tokio::test]
async fn call_log_records_every_api_call() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = Admin::new(&emulator.base_url());
    let api = Api::new(&emulator.base_url());
    let ok = api
        .call(
            MODIFY,
            &[("ImageId", IMAGE), ("AddAccounts.1", &account(7))],
        )
        .await;
    api.call(DESCRIBE, &[("ImageId", "image-missing")]).await;
    let calls = admin.get("calls").await;
    assert_eq!(
        calls[0],
        json!({
            "seq": 1, "action": MODIFY, "status": 200, "code": null, "faulted": false,
            "request_id": ok.request_id(),
            "params": {"Action": MODIFY, "Version": "2020-04-01", "ImageId": IMAGE, "AddAccounts.1": account(7)},
        })
    );
    assert_eq!(calls[1]["seq"], 2);
    assert_eq!(calls[1]["code"], "InvalidImage.NotFound");
    assert_eq!(calls[1]["status"], 404);
    assert_ne!(
        calls[0]["request_id"], calls[1]["request_id"],
        "request IDs are unique"
    );
    assert_eq!(admin.delete("calls").await, 204);
    assert_eq!(admin.get("calls").await, json!([]));
    api.call(DESCRIBE, &[("ImageId", IMAGE)]).await;
    assert_eq!(emulator.calls()[0].seq, 3, "sequence numbers keep counting");
}

#[tokio::test]
async fn admin_api_manages_images_and_drift() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = Admin::new(&emulator.base_url());
    let api = Api::new(&emulator.base_url());

    let (status, image) = admin.put("images/image-new", json!({})).await;
    assert_eq!(
        (status, image),
        (
            201,
            json!({"image_id": "image-new", "status": "available", "accounts": []})
        )
    );
    let (status, _) = admin.request("PUT", "images/image-bare", None).await;
    assert_eq!(status, 201, "the body is optional");
    let (status, image) = admin
        .put("images/image-new", json!({"status": "error"}))
        .await;
    assert_eq!((status, image["status"].clone()), (200, json!("error")));
    let images = admin.get("images").await;
    let ids: BTreeSet<&str> = images
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from([IMAGE, "image-new", "image-bare"]));

    // Out-of-band changes are what Describe then shows.
    let (status, shares) = admin
        .put(
            &format!("images/{IMAGE}/shares"),
            json!({"accounts": [account(9), account(3)]}),
        )
        .await;
    assert_eq!(
        (status, shares),
        (200, json!({"accounts": [account(3), account(9)]}))
    );
    assert_eq!(api.shares(IMAGE).await, vec![account(3), account(9)]);
    assert_eq!(
        admin.get(&format!("images/{IMAGE}/shares")).await,
        json!({"accounts": [account(3), account(9)]})
    );
    assert_eq!(
        admin
            .put(
                &format!("images/{IMAGE}/shares"),
                json!({"accounts": ["x1"]})
            )
            .await
            .0,
        400
    );
    assert_eq!(
        admin
            .put("images/image-none/shares", json!({"accounts": []}))
            .await
            .0,
        404
    );

    // Deleting an image works even with shares; the API then reports it gone.
    assert_eq!(admin.delete(&format!("images/{IMAGE}")).await, 204);
    api.call(DESCRIBE, &[("ImageId", IMAGE)])
        .await
        .assert_error(404, "InvalidImage.NotFound");
    assert_eq!(admin.delete(&format!("images/{IMAGE}")).await, 404);
    assert_eq!(admin.request("GET", "images/image-none", None).await.0, 404);
    let (status, body) = admin.request("GET", "no-such-endpoint", None).await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("/_emulator/"));
}
