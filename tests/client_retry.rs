//! The HTTP client against a scripted local server: request shape and
//! signature, retry classes, backoff, Retry-After, deadline, cancellation.

mod client_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use client_support::*;
use terraform_provider_volcengine::volcengine::client::USER_AGENT;
use terraform_provider_volcengine::volcengine::retry::Backoff;
use terraform_provider_volcengine::volcengine::signer;
use terraform_provider_volcengine::volcengine::Error;

const ACTION: &str = "DescribeImageSharePermission";

fn params() -> Vec<(String, String)> {
    vec![
        ("ImageId".into(), "image-1".into()),
        ("NextToken".into(), "a b+c*d~e/f=g".into()),
        ("Note".into(), "共享 ✓".into()),
    ]
}

#[tokio::test]
async fn sends_a_signed_get_with_the_canonical_query() {
    let server = TestServer::always(Reply::ok(serde_json::json!({"Answer": 42}))).await;
    let client = client(&server.base_url, 0);
    let result = client
        .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(result["Answer"], 42);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/");
    assert_eq!(r.param("Action"), Some(ACTION));
    assert_eq!(r.param("Version"), Some("2020-04-01"));
    assert_eq!(r.param("NextToken"), Some("a b+c*d~e/f=g"));
    assert_eq!(r.param("Note"), Some("共享 ✓"));
    assert_eq!(
        r.raw_query,
        signer::canonical_query(&r.query),
        "sent query is the canonical one"
    );
    assert!(
        r.signature_valid,
        "server-side signature check failed: {:?}",
        r.header("authorization")
    );
    assert_eq!(r.header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("terraform-provider-volcengine/"));
    assert_eq!(r.header("x-security-token"), Some(SESSION_TOKEN));
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.contains("SignedHeaders=host;x-content-sha256;x-date;x-security-token,"),
        "{auth}"
    );
    assert!(auth.contains(&format!("/{REGION}/ecs/request")), "{auth}");
}

#[tokio::test]
async fn retries_each_transient_class_until_retries_run_out() {
    let transient = [
        (429, "TooManyRequests"),
        (500, "Whatever"),
        (502, "BadGateway"),
        (503, "Whatever"),
        (504, "GatewayTimeout"),
        (400, "FlowLimitExceeded"),
        (400, "AccountFlowLimitExceeded"),
        (400, "RequestLimitExceeded"),
        (400, "Throttling"),
        (400, "ServiceUnavailable"),
        (400, "InternalError"),
    ];
    for (status, code) in transient {
        let server = TestServer::always(Reply::error(status, code, "transient")).await;
        let err = client(&server.base_url, 2)
            .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
            .await
            .unwrap_err();
        assert_eq!(server.count(), 3, "{status} {code}: 1 attempt + 2 retries");
        assert_eq!(err.code(), Some(code), "{status} {code}");
        assert_eq!(err.request_id(), Some(format!("req-{code}").as_str()));
        assert!(err.is_retryable());

        // And a transient failure followed by success succeeds.
        let server = TestServer::failing_then(
            2,
            Reply::error(status, code, "transient"),
            Reply::ok(serde_json::json!({})),
        )
        .await;
        client(&server.base_url, 2)
            .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
            .await
            .unwrap_or_else(|e| panic!("{status} {code}: {e}"));
        assert_eq!(server.count(), 3);
    }
}

#[tokio::test]
async fn never_retries_other_client_errors() {
    let final_errors = [
        (400, "InvalidArgument"),
        (400, "InvalidAccount.Malformed"),
        (400, "MissingParameter.AddAccountsAndRemoveAccounts"),
        (400, "LimitExceeded.MaximumShareImageAccount"),
        (400, "InvalidImageStatus"),
        (401, "InvalidAccessKey"),
        (403, "SignatureDoesNotMatch"),
        (404, "InvalidImage.NotFound"),
        // Near-misses of retryable codes are not retryable: exact matching.
        (400, "FlowLimitExceeded.Extra"),
        (400, "throttling"),
    ];
    for (status, code) in final_errors {
        let server = TestServer::always(Reply::error(status, code, "final")).await;
        let err = client(&server.base_url, 5)
            .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
            .await
            .unwrap_err();
        assert_eq!(server.count(), 1, "{status} {code} must not be retried");
        assert_eq!(err.code(), Some(code));
        assert!(!err.is_retryable());
        assert!(err.is_user_error(), "{status} {code}");
        assert_eq!(err.is_not_found(), code == "InvalidImage.NotFound");
    }
}

#[tokio::test]
async fn api_error_display_names_action_code_message_request_id_status() {
    let server = TestServer::always(Reply::error(
        404,
        "InvalidImage.NotFound",
        "The specified image does not exist.",
    ))
    .await;
    let err = client(&server.base_url, 3)
        .call(
            "ModifyImageSharePermission",
            &params(),
            &ctx(Duration::from_secs(10)),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ModifyImageSharePermission failed: InvalidImage.NotFound: The specified image does not exist. \
         (request ID req-InvalidImage.NotFound, HTTP 404)"
    );
    assert!(err.is_not_found());
}

#[tokio::test]
async fn retries_network_errors() {
    let (url, accepted, task) = dropping_server().await;
    let err = client(&url, 2)
        .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
        .await
        .unwrap_err();
    task.abort();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().starts_with(ACTION), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn retries_connection_refused() {
    // Bind and drop: nothing listens on the port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = client(&format!("http://127.0.0.1:{port}"), 1)
        .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with(ACTION), "{message}");
    assert!(message.contains("onnect"), "names the failure: {message}");
    assert!(!message.contains("Action="), "no request URL: {message}");
    eprintln!("{message}");
}

#[tokio::test]
async fn retries_per_attempt_timeouts() {
    let server =
        TestServer::always(Reply::ok(serde_json::json!({})).delayed(Duration::from_secs(5))).await;
    let mut config = config(&server.base_url, 1);
    config.request_timeout = Duration::from_millis(200);
    let started = Instant::now();
    let err = client_with(config, fast_backoff())
        .call(ACTION, &params(), &ctx(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(server.count(), 2);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn backoff_stays_within_its_bounds() {
    let backoff = Backoff {
        base: Duration::from_millis(40),
        cap: Duration::from_millis(100),
    };
    let server = TestServer::always(Reply::error(503, "ServiceUnavailable", "busy")).await;
    client_with(config(&server.base_url, 4), backoff)
        .call(ACTION, &params(), &ctx(Duration::from_secs(30)))
        .await
        .unwrap_err();
    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    // Ceilings 40, 80, 100, 100 ms; allow generous scheduling slack.
    let slack = Duration::from_millis(150);
    for (retry, pair) in (1u32..).zip(requests.windows(2)) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap <= backoff.ceiling(retry) + slack,
            "retry {retry}: waited {gap:?}, ceiling {:?}",
            backoff.ceiling(retry)
        );
    }
}

#[tokio::test]
async fn honours_retry_after_seconds() {
    let server = TestServer::failing_then(
        1,
        Reply::error(429, "FlowLimitExceeded", "slow down").header("retry-after", "1"),
        Reply::ok(serde_json::json!({})),
    )
    .await;
    // The backoff alone would wait at most 40 ms.
    client(&server.base_url, 3)
        .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After ignored: {gap:?}"
    );
    assert!(gap < Duration::from_secs(3), "{gap:?}");
}

#[tokio::test]
async fn retry_after_past_the_deadline_is_a_timeout_at_once() {
    let server = TestServer::always(
        Reply::error(503, "ServiceUnavailable", "later").header("retry-after", "60"),
    )
    .await;
    let started = Instant::now();
    let err = client(&server.base_url, 5)
        .call(ACTION, &params(), &ctx(Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn deadline_reached_mid_retry_is_a_timeout() {
    let server = TestServer::always(Reply::error(500, "InternalError", "boom")).await;
    let backoff = Backoff {
        base: Duration::from_millis(100),
        cap: Duration::from_millis(100),
    };
    let started = Instant::now();
    let err = client_with(config(&server.base_url, 1000), backoff)
        .call(ACTION, &params(), &ctx(Duration::from_millis(600)))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(server.count() >= 2, "retried before the deadline");
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
}

#[tokio::test]
async fn deadline_cuts_a_slow_attempt() {
    let server =
        TestServer::always(Reply::ok(serde_json::json!({})).delayed(Duration::from_secs(10))).await;
    let started = Instant::now();
    let err = client(&server.base_url, 3)
        .call(ACTION, &params(), &ctx(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn cancellation_stops_a_backoff_sleep_at_once() {
    let server = TestServer::always(
        Reply::error(503, "ServiceUnavailable", "later").header("retry-after", "30"),
    )
    .await;
    let ctx = ctx(Duration::from_secs(120));
    let cancel = ctx.cancel.clone();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let at = Instant::now();
        cancel.cancel();
        at
    });
    let err = client(&server.base_url, 5)
        .call(ACTION, &params(), &ctx)
        .await
        .unwrap_err();
    let returned = Instant::now();
    let cancelled_at = canceller.await.unwrap();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(
        server.count(),
        1,
        "cancelled during the 30 s Retry-After sleep"
    );
    let reaction = returned - cancelled_at;
    assert!(
        reaction < Duration::from_millis(100),
        "took {reaction:?} to stop"
    );
}

#[tokio::test]
async fn cancellation_stops_an_in_flight_request() {
    let server =
        TestServer::always(Reply::ok(serde_json::json!({})).delayed(Duration::from_secs(30))).await;
    let ctx = ctx(Duration::from_secs(120));
    let cancel = ctx.cancel.clone();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let at = Instant::now();
        cancel.cancel();
        at
    });
    let err = client(&server.base_url, 5)
        .call(ACTION, &params(), &ctx)
        .await
        .unwrap_err();
    let returned = Instant::now();
    let cancelled_at = canceller.await.unwrap();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert!(returned - cancelled_at < Duration::from_millis(100));

    // Already cancelled: nothing is sent.
    let before = server.count();
    let err = client(&server.base_url, 5)
        .call(ACTION, &params(), &ctx)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }));
    assert_eq!(server.count(), before);
}
