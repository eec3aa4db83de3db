//! Responses that are not the promised JSON, and secrets staying out of
//! every Debug/Display/log line.

mod client_support;

use std::time::Duration;

use client_support::*;
use terraform_provider_volcengine::volcengine::{Client, Error};

const ACTION: &str = "DescribeImageSharePermission";

fn params() -> Vec<(String, String)> {
    vec![("ImageId".into(), "image-1".into())]
}

async fn call(server: &TestServer, max_retries: u32) -> Error {
    client(&server.base_url, max_retries)
        .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
        .await
        .unwrap_err()
}

fn assert_safe_excerpt(err: &Error) {
    let Error::MalformedResponse { excerpt, .. } = err else {
        panic!("expected MalformedResponse, got {err:?}");
    };
    assert!(
        excerpt.chars().count() <= 200,
        "{} chars",
        excerpt.chars().count()
    );
    assert!(!excerpt.chars().any(char::is_control), "{excerpt:?}");
}

#[tokio::test]
async fn html_from_a_proxy_is_malformed_with_a_short_clean_excerpt() {
    let html = format!(
        "<html>\r\n<head><title>Login required</title></head>\n<body>\t{}</body></html>",
        "proxy says no. ".repeat(100)
    );
    let server = TestServer::always(Reply::raw(200, html)).await;
    let err = call(&server, 3).await;
    assert_safe_excerpt(&err);
    // The outcome of a garbled 200 is unknown: asked again, within max_retries.
    assert_eq!(server.count(), 4);
    assert_eq!(err.status(), Some(200));
    assert!(err.to_string().contains("<html>"), "{err}");
    assert!(err.to_string().contains("HTTP 200"), "{err}");
}

#[tokio::test]
async fn html_bad_gateway_is_retried_then_reported() {
    let server =
        TestServer::always(Reply::raw(502, "<html><body>502 Bad Gateway</body></html>")).await;
    let err = call(&server, 2).await;
    assert_safe_excerpt(&err);
    assert_eq!(server.count(), 3);
    assert_eq!(err.status(), Some(502));
}

#[tokio::test]
async fn empty_body_is_malformed() {
    let server = TestServer::always(Reply::raw(200, "")).await;
    let err = call(&server, 3).await;
    assert_safe_excerpt(&err);
    assert!(matches!(&err, Error::MalformedResponse { excerpt, .. } if excerpt.is_empty()));
    assert!(err.to_string().contains("empty body"), "{err}");
}

#[tokio::test]
async fn truncated_json_is_malformed() {
    let server = TestServer::always(Reply::raw(
        200,
        r#"{"ResponseMetadata":{"RequestId":"r1"},"Result":{"Accou"#,
    ))
    .await;
    let err = call(&server, 3).await;
    assert_safe_excerpt(&err);
    // The outcome of a garbled 200 is unknown, so it is asked again.
    assert_eq!(server.count(), 4);
}

#[tokio::test]
async fn json_without_the_envelope_is_malformed() {
    for body in ["{}", "[]", "null", r#"{"Result":{}}"#] {
        let server = TestServer::always(Reply::raw(200, body)).await;
        let err = call(&server, 0).await;
        assert_safe_excerpt(&err);
    }
}

#[tokio::test]
async fn error_status_without_an_error_object_is_malformed() {
    let server = TestServer::always(Reply::raw(
        403,
        r#"{"ResponseMetadata":{"RequestId":"r403"}}"#,
    ))
    .await;
    let err = call(&server, 3).await;
    assert_safe_excerpt(&err);
    assert_eq!(err.request_id(), Some("r403"));
    assert_eq!(server.count(), 1);
}

#[test]
fn refuses_plain_http_beyond_loopback_and_bad_ca_bundles() {
    let mut c = config("http://open.volcengineapi.com", 0);
    assert!(matches!(
        Client::new(c.clone()),
        Err(Error::InvalidRequest { .. })
    ));
    c.endpoint = "https://open.volcengineapi.com".into();
    assert!(Client::new(c.clone()).is_ok());
    c.endpoint = "http://localhost:8080".into();
    assert!(Client::new(c.clone()).is_ok());
    c.endpoint = "http://[::1]:8080".into();
    assert!(Client::new(c.clone()).is_ok());
    c.ca_bundle_pem = Some(b"not a pem".to_vec());
    assert!(matches!(
        Client::new(c.clone()),
        Err(Error::InvalidRequest { .. })
    ));
}

#[test]
fn accepts_a_pem_ca_bundle() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let mut c = config("https://localhost:8443", 0);
    c.ca_bundle_pem = Some(cert.pem().into_bytes());
    assert!(Client::new(c).is_ok());
}
