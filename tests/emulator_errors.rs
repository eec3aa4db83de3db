//! Every error code of the seed's ModifyImageSharePermission table, and the
//! gateway's authentication errors, each produced by the request that should
//! produce it, from a client signing with the crate's signer.

#[path = "emulator_common/mod.rs"]
mod common;

use common::{account, start, Api, IMAGE};
use terraform_provider_volcengine::emulator::{EmulatorConfig, EmulatorCredential, FaultSpec};
use terraform_provider_volcengine::volcengine::secret::Secret;
use time::OffsetDateTime;

const MODIFY: &str = "ModifyImageSharePermission";
const DESCRIBE: &str = "DescribeImageSharePermission";

#[tokio::test]
async fn missing_image_id() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    api.call(MODIFY, &[("AddAccounts.1", "2100051234")])
        .await
        .assert_error(400, "MissingParameter.ImageId");
    api.call(MODIFY, &[("ImageId", ""), ("AddAccounts.1", "2100051234")])
        .await
        .assert_error(400, "MissingParameter.ImageId");
    api.call(DESCRIBE, &[])
        .await
        .assert_error(400, "MissingParameter.ImageId");
}

#[tokio::test]
async fn missing_both_account_lists() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    api.call(MODIFY, &[("ImageId", IMAGE)])
        .await
        .assert_error(400, "MissingParameter.AddAccountsAndRemoveAccounts");
}

#[tokio::test]
async fn unknown_image_is_not_found() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    let answer = api
        .call(
            MODIFY,
            &[
                ("ImageId", "image-doesnotexist"),
                ("AddAccounts.1", "2100051234"),
            ],
        )
        .await;
    answer.assert_error(404, "InvalidImage.NotFound");
    assert_eq!(answer.json()["ResponseMetadata"]["Action"], MODIFY);
    assert_eq!(answer.json()["ResponseMetadata"]["Region"], "cn-beijing");
    api.call(DESCRIBE, &[("ImageId", "image-doesnotexist")])
        .await
        .assert_error(404, "InvalidImage.NotFound");

    // Images live in the emulator's region: signed for another region, there are none.
    let mut elsewhere = api.clone();
    elsewhere.region = "cn-shanghai".into();
    let answer = elsewhere.call(DESCRIBE, &[("ImageId", IMAGE)]).await;
    answer.assert_error(404, "InvalidImage.NotFound");
    assert_eq!(answer.json()["ResponseMetadata"]["Region"], "cn-shanghai");
}

#[tokio::test]
async fn more_than_fifty_accounts_in_a_list_is_invalid() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    let accounts: Vec<(String, String)> = (1..=51)
        .map(|i| (format!("AddAccounts.{i}"), account(i)))
        .collect();
    let mut params: Vec<(&str, &str)> = accounts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    params.push(("ImageId", IMAGE));
    api.call(MODIFY, &params)
        .await
        .assert_error(400, "InvalidArgument");
    let removes: Vec<(String, String)> = (1..=51)
        .map(|i| (format!("RemoveAccounts.{i}"), account(i)))
        .collect();
    let mut params: Vec<(&str, &str)> = removes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    params.push(("ImageId", IMAGE));
    api.call(MODIFY, &params)
        .await
        .assert_error(400, "InvalidArgument");
    assert_eq!(emulator.shares(IMAGE).unwrap(), Vec::<String>::new());

    // Exactly fifty is fine.
    let mut params: Vec<(&str, &str)> = accounts[..50]
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    params.push(("ImageId", IMAGE));
    api.call(MODIFY, &params).await.result();
    assert_eq!(emulator.shares(IMAGE).unwrap().len(), 50);
}

#[tokio::test]
async fn other_invalid_arguments() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    for params in [
        vec![("ImageId", IMAGE), ("AddAccounts.0", "2100051234")],
        vec![("ImageId", IMAGE), ("AddAccounts.x", "2100051234")],
        vec![
            ("ImageId", IMAGE),
            ("AddAccounts.1", "2100051234"),
            ("RemoveAccounts.1", "2100051234"),
        ],
    ] {
        api.call(MODIFY, &params)
            .await
            .assert_error(400, "InvalidArgument");
    }
    for params in [
        vec![("ImageId", IMAGE), ("MaxResults", "0")],
        vec![("ImageId", IMAGE), ("MaxResults", "ten")],
        vec![("ImageId", IMAGE), ("NextToken", "not-a-token")],
    ] {
        api.call(DESCRIBE, &params)
            .await
            .assert_error(400, "InvalidArgument");
    }
}

#[tokio::test]
async fn non_numeric_account_is_malformed() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    for bad in ["21000a1234", "", "-1", "2100 51234"] {
        api.call(
            MODIFY,
            &[
                ("ImageId", IMAGE),
                ("AddAccounts.1", "2100051234"),
                ("AddAccounts.2", bad),
            ],
        )
        .await
        .assert_error(400, "InvalidAccount.Malformed");
    }
    api.call(MODIFY, &[("ImageId", IMAGE), ("RemoveAccounts.1", "abc")])
        .await
        .assert_error(400, "InvalidAccount.Malformed");
    assert_eq!(
        emulator.shares(IMAGE).unwrap(),
        Vec::<String>::new(),
        "nothing applied"
    );
}

#[tokio::test]
async fn image_not_available_cannot_be_shared() {
    let emulator = start(EmulatorConfig::default()).await;
    emulator.put_image(IMAGE, Some("creating")).await.unwrap();
    let api = Api::new(&emulator.base_url());
    api.call(
        MODIFY,
        &[("ImageId", IMAGE), ("AddAccounts.1", "2100051234")],
    )
    .await
    .assert_error(400, "InvalidImageStatus");
    emulator.put_image(IMAGE, Some("available")).await.unwrap();
    api.call(
        MODIFY,
        &[("ImageId", IMAGE), ("AddAccounts.1", "2100051234")],
    )
    .await
    .result();
}

#[tokio::test]
async fn share_limit_is_enforced_atomically() {
    let emulator = start(EmulatorConfig {
        share_limit: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emulator.base_url());
    let (a1, a2, a3, a4) = (account(1), account(2), account(3), account(4));
    api.call(
        MODIFY,
        &[
            ("ImageId", IMAGE),
            ("AddAccounts.1", &a1),
            ("AddAccounts.2", &a2),
        ],
    )
    .await
    .result();
    // Removing a1 while adding a3 and a4 would end at 3 accounts: allowed.
    api.call(
        MODIFY,
        &[
            ("ImageId", IMAGE),
            ("AddAccounts.1", &a3),
            ("AddAccounts.2", &a4),
            ("RemoveAccounts.1", &a1),
        ],
    )
    .await
    .result();
    assert_eq!(
        emulator.shares(IMAGE).unwrap(),
        vec![a2.clone(), a3.clone(), a4.clone()]
    );
    // One more is over the limit, and the removal in the same call is not applied either.
    api.call(
        MODIFY,
        &[
            ("ImageId", IMAGE),
            ("AddAccounts.1", &account(5)),
            ("AddAccounts.2", &account(6)),
            ("RemoveAccounts.1", &a2),
        ],
    )
    .await
    .assert_error(400, "LimitExceeded.MaximumShareImageAccount");
    assert_eq!(emulator.shares(IMAGE).unwrap(), vec![a2, a3, a4]);
}

#[tokio::test]
async fn internal_error_through_fault_injection() {
    let emulator = start(EmulatorConfig::default()).await;
    emulator
        .add_fault(FaultSpec {
            action: MODIFY.into(),
            ..FaultSpec::default()
        })
        .unwrap();
    let api = Api::new(&emulator.base_url());
    api.call(
        MODIFY,
        &[("ImageId", IMAGE), ("AddAccounts.1", "2100051234")],
    )
    .await
    .assert_error(500, "InternalError");
    assert_eq!(emulator.shares(IMAGE).unwrap(), Vec::<String>::new());
    api.call(
        MODIFY,
        &[("ImageId", IMAGE), ("AddAccounts.1", "2100051234")],
    )
    .await
    .result();
    assert_eq!(
        emulator.shares(IMAGE).unwrap(),
        vec!["2100051234".to_owned()]
    );
}

#[tokio::test]
async fn adds_and_removes_are_idempotent() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    for _ in 0..2 {
        api.call(
            MODIFY,
            &[
                ("ImageId", IMAGE),
                ("AddAccounts.1", "2100051234"),
                ("AddAccounts.2", "2100051234"),
            ],
        )
        .await
        .result();
    }
    assert_eq!(api.shares(IMAGE).await, vec!["2100051234".to_owned()]);
    for _ in 0..2 {
        api.call(
            MODIFY,
            &[("ImageId", IMAGE), ("RemoveAccounts.1", "2100051234")],
        )
        .await
        .result();
    }
    assert_eq!(api.shares(IMAGE).await, Vec::<String>::new());
}

#[tokio::test]
async fn post_form_body_is_accepted() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    let query = vec![
        ("Action".to_owned(), MODIFY.to_owned()),
        ("Version".to_owned(), "2020-04-01".to_owned()),
    ];
    let body = format!("ImageId={IMAGE}&AddAccounts.1=2100051234").into_bytes();
    let answer = api
        .send("POST", query, Some(body), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        emulator.shares(IMAGE).unwrap(),
        vec!["2100051234".to_owned()]
    );
}

#[tokio::test]
async fn gateway_parameter_errors() {
    let emulator = start(EmulatorConfig::default()).await;
    let api = Api::new(&emulator.base_url());
    let now = OffsetDateTime::now_utc();
    let version_only = vec![("Version".to_owned(), "2020-04-01".to_owned())];
    api.send("GET", version_only, None, now)
        .await
        .unwrap()
        .assert_error(400, "MissingParameter");
    let action_only = vec![("Action".to_owned(), DESCRIBE.to_owned())];
    api.send("GET", action_only, None, now)
        .await
        .unwrap()
        .assert_error(400, "MissingParameter");
    api.call("DeleteImages", &[("ImageId", IMAGE)])
        .await
        .assert_error(404, "InvalidActionOrVersion");
    let old_version = vec![
        ("Action".to_owned(), DESCRIBE.to_owned()),
        ("Version".to_owned(), "2019-01-01".to_owned()),
    ];
    api.send("GET", old_version, None, now)
        .await
        .unwrap()
        .assert_error(404, "InvalidActionOrVersion");
}

#[tokio::test]
async fn authentication_errors() {
    let emulator = start(EmulatorConfig::default()).await;
    let base = emulator.base_url();
    let describe = [("ImageId", IMAGE)];

    let unsigned = common::http()
        .get(format!(
            "{base}/?Action={DESCRIBE}&Version=2020-04-01&ImageId={IMAGE}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    assert!(unsigned
        .text()
        .await
        .unwrap()
        .contains("MissingAuthenticationToken"));

    Api::with_keys(&base, "AKUNKNOWN", "whatever")
        .call(DESCRIBE, &describe)
        .await
        .assert_error(401, "InvalidAccessKey");
    Api::with_keys(&base, "AKLOCALEMULATOR", "wrong-secret")
        .call(DESCRIBE, &describe)
        .await
        .assert_error(401, "SignatureDoesNotMatch");

    let api = Api::new(&base);
    let stale = OffsetDateTime::now_utc() - time::Duration::minutes(16);
    api.call_at(DESCRIBE, &describe, stale)
        .await
        .assert_error(400, "InvalidTimestamp");
    let future = OffsetDateTime::now_utc() + time::Duration::minutes(16);
    api.call_at(DESCRIBE, &describe, future)
        .await
        .assert_error(400, "InvalidTimestamp");
    let slightly_off = OffsetDateTime::now_utc() - time::Duration::minutes(10);
    api.call_at(DESCRIBE, &describe, slightly_off)
        .await
        .result();

    let mut malformed = common::http()
        .get(format!(
            "{base}/?Action={DESCRIBE}&Version=2020-04-01&ImageId={IMAGE}"
        ))
        .header(
            "Authorization",
            "HMAC-SHA256 Credential=AKLOCALEMULATOR, SignedHeaders=x-date, Signature=00",
        )
        .header("X-Date", time_now())
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    assert!(malformed
        .text()
        .await
        .unwrap()
        .contains("InvalidCredential"));
    malformed = common::http()
        .get(format!(
            "{base}/?Action={DESCRIBE}&Version=2020-04-01&ImageId={IMAGE}"
        ))
        .header("Authorization", "Basic QUs6U0s=")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    assert!(malformed
        .text()
        .await
        .unwrap()
        .contains("InvalidAuthorization"));
}

fn time_now() -> String {
    terraform_provider_volcengine::volcengine::signer::format_x_date(OffsetDateTime::now_utc())
}

#[tokio::test]
async fn tampered_request_does_not_match() {
    let emulator = start(EmulatorConfig::default()).await;
    let base = emulator.base_url();
    let api = Api::new(&base);
    // Sign one query, send another.
    let query = vec![
        ("Action".to_owned(), DESCRIBE.to_owned()),
        ("Version".to_owned(), "2020-04-01".to_owned()),
        ("ImageId".to_owned(), IMAGE.to_owned()),
    ];
    let host = base.trim_start_matches("http://").to_owned();
    let request = terraform_provider_volcengine::volcengine::signer::Request {
        method: "GET",
        host: &host,
        path: "/",
        query: &query,
        content_type: None,
        body: b"",
    };
    let signed = terraform_provider_volcengine::volcengine::signer::sign(
        &request,
        &api.credentials,
        "cn-beijing",
        "ecs",
        OffsetDateTime::now_utc(),
    );
    let mut builder = common::http().get(format!(
        "{base}/?Action={DESCRIBE}&Version=2020-04-01&ImageId=image-other"
    ));
    for (name, value) in signed.iter() {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("SignatureDoesNotMatch"));

    // A body that is not the one hashed in X-Content-Sha256.
    let mut builder = common::http()
        .post(format!(
            "{base}/?Action={DESCRIBE}&Version=2020-04-01&ImageId={IMAGE}"
        ))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("MaxResults=5");
    for (name, value) in signed.iter() {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.text().await.unwrap().contains("X-Content-Sha256"));
}

#[tokio::test]
async fn session_tokens_are_checked() {
    let credential = EmulatorCredential {
        access_key: "AKSTS".into(),
        secret_key: Secret::new("sts-secret"),
        session_token: Some(Secret::new("sts-token")),
    };
    let emulator = start(EmulatorConfig {
        credentials: vec![credential],
        ..EmulatorConfig::default()
    })
    .await;
    let mut api = Api::with_keys(&emulator.base_url(), "AKSTS", "sts-secret");
    api.call(DESCRIBE, &[("ImageId", IMAGE)])
        .await
        .assert_error(401, "InvalidSecretToken");
    api.credentials.session_token = Some(Secret::new("wrong-token"));
    api.call(DESCRIBE, &[("ImageId", IMAGE)])
        .await
        .assert_error(401, "InvalidSecretToken");
    api.credentials.session_token = Some(Secret::new("sts-token"));
    api.call(DESCRIBE, &[("ImageId", IMAGE)]).await.result();
}
