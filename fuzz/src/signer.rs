//! Target `signer`: the V4 signer's canonicaliser and signature on arbitrary
//! request parts, checked against the emulator's verifier.
//!
//! Input: fields separated by NUL bytes, each read as lossy UTF-8:
//! `method, host, path, content type ("" = none), body, secret key, region,
//! session token ("" = none)`, then query keys and values alternating
//! (a missing last value is "").
//!
//! Properties:
//! - `canonical_query` writes only unreserved characters, `%XX` with
//!   uppercase hex, `=` and `&`; it does not depend on the parameters' order;
//!   and decoding it the way a server decodes a query string
//!   (`application/x-www-form-urlencoded`) gives back exactly the parameters.
//! - `signature_for` ignores header-name case and order, and a default port
//!   on the host.
//! - A request signed by `signer::sign` passes the emulator's `Verifier` (when
//!   every header is one an HTTP client can send), and fails it once the body,
//!   a query value or the secret key differs.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;
use terraform_provider_volcengine::emulator::auth::{
    EmulatorCredential, IncomingRequest, Verifier,
};
use terraform_provider_volcengine::volcengine::signer::{self, Credentials, Request};
use terraform_provider_volcengine::volcengine::Secret;
use time::macros::datetime;
use time::OffsetDateTime;

const ACCESS_KEY: &str = "AKFUZZSIGNER";
const SERVICE: &str = "ecs";
const SIGNED_AT: OffsetDateTime = datetime!(2024-05-21 10:26:16 UTC);

struct Parts {
    method: String,
    host: String,
    path: String,
    content_type: Option<String>,
    body: Vec<u8>,
    secret_key: String,
    region: String,
    session_token: Option<String>,
    query: Vec<(String, String)>,
}

fn parse(data: &[u8]) -> Parts {
    let mut fields = data.split(|b| *b == 0);
    let mut text = || String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let method = text();
    let host = text();
    let path = text();
    let content_type = Some(text()).filter(|s| !s.is_empty());
    let body = text().into_bytes();
    let secret_key = text();
    let region = text();
    let session_token = Some(text()).filter(|s| !s.is_empty());
    let rest: Vec<String> = fields
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let query = rest
        .chunks(2)
        .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
        .collect();
    Parts {
        method,
        host,
        path,
        content_type,
        body,
        secret_key,
        region,
        session_token,
        query,
    }
}

pub fn check(data: &[u8]) {
    let parts = parse(data);
    check_canonical_query(&parts.query);
    check_signature_invariants(&parts);
    check_verifier_agrees(&parts);
}

fn check_canonical_query(query: &[(String, String)]) {
    let canonical = signer::canonical_query(query);
    let bytes = canonical.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let allowed = b.is_ascii_alphanumeric() || b"-_.~%=&".contains(&b);
        assert!(allowed, "byte {b:#x} in canonical query {canonical:?}");
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            assert!(
                hex.is_some_and(|h| h
                    .iter()
                    .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c))),
                "bad escape at {i} in {canonical:?}"
            );
        }
    }

    let mut reversed = query.to_vec();
    reversed.reverse();
    assert_eq!(
        signer::canonical_query(&reversed),
        canonical,
        "canonical query depends on parameter order"
    );

    let mut decoded: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    let mut expected = query.to_vec();
    decoded.sort();
    expected.sort();
    assert_eq!(
        decoded, expected,
        "canonical query {canonical:?} does not decode to its parameters"
    );
}

fn request(parts: &Parts) -> Request<'_> {
    Request {
        method: &parts.method,
        host: &parts.host,
        path: &parts.path,
        query: &parts.query,
        content_type: parts.content_type.as_deref(),
        body: &parts.body,
    }
}

fn check_signature_invariants(parts: &Parts) {
    let x_date = signer::format_x_date(SIGNED_AT);
    let request = request(parts);
    let headers = vec![
        ("host".to_owned(), parts.host.clone()),
        ("x-date".to_owned(), x_date.clone()),
        (
            "x-content-sha256".to_owned(),
            signer::hex_sha256(&parts.body),
        ),
    ];
    let sign = |headers: &[(String, String)], request: &Request<'_>| {
        signer::signature_for(
            &parts.secret_key,
            &x_date,
            &parts.region,
            SERVICE,
            request,
            headers,
        )
    };
    let (names, signature) = sign(&headers, &request);
    assert_eq!(names, "host;x-content-sha256;x-date");
    assert!(
        signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()),
        "signature {signature:?} is not 64 hex digits"
    );

    let mut shuffled: Vec<(String, String)> = headers
        .iter()
        .rev()
        .map(|(name, value)| (name.to_ascii_uppercase(), value.clone()))
        .collect();
    assert_eq!(
        sign(&shuffled, &request).1,
        signature,
        "header case or order changed the signature"
    );

    // Only one default port is dropped: "h:443:443" signs as "h:443".
    let has_default_port = parts.host.ends_with(":443") || parts.host.ends_with(":80");
    if parts.host == parts.host.trim() && !has_default_port {
        let with_port = format!("{}:443", parts.host);
        shuffled[2].1 = with_port.clone();
        let request = Request {
            host: &with_port,
            ..request
        };
        assert_eq!(
            sign(&shuffled, &request).1,
            signature,
            "the default port changed the signature"
        );
    }
}

/// This value as a header the emulator can read: `HeaderValue` also takes
/// bytes beyond ASCII (obs-text), which servers, the emulator included, refuse
/// to read as text. The real client only sends ASCII values.
fn header_value(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value)
        .ok()
        .filter(|v| v.to_str().is_ok())
}

fn check_verifier_agrees(parts: &Parts) {
    // The emulator reads the region out of `Credential=AK/date/region/...`.
    if parts.region.is_empty() || parts.region.contains([',', '/']) {
        return;
    }
    let credentials = Credentials {
        access_key: ACCESS_KEY.to_owned(),
        secret_key: Secret::new(parts.secret_key.clone()),
        session_token: parts.session_token.clone().map(Secret::new),
    };
    let signed = signer::sign(
        &request(parts),
        &credentials,
        &parts.region,
        SERVICE,
        SIGNED_AT,
    );

    let mut headers = HeaderMap::new();
    let mut add = |name: &'static str, value: &str| -> bool {
        match header_value(value) {
            Some(value) => {
                headers.insert(HeaderName::from_static(name), value);
                true
            }
            None => false,
        }
    };
    let mut sendable = add("host", &parts.host);
    if let Some(content_type) = &parts.content_type {
        sendable &= add("content-type", content_type);
    }
    for (name, value) in signed.iter() {
        let name: &'static str = match name {
            "X-Date" => "x-date",
            "X-Content-Sha256" => "x-content-sha256",
            "X-Security-Token" => "x-security-token",
            "Authorization" => "authorization",
            other => panic!("unexpected signed header {other}"),
        };
        sendable &= add(name, value);
    }
    if !sendable {
        return;
    }

    // The server sees the query as it decodes the canonical query string.
    let canonical = signer::canonical_query(&parts.query);
    let query: Vec<(String, String)> = form_urlencoded::parse(canonical.as_bytes())
        .into_owned()
        .collect();
    let path = if parts.path.is_empty() {
        "/"
    } else {
        &parts.path
    };
    let verifier = |secret_key: &str| {
        Verifier::new(
            &[EmulatorCredential {
                access_key: ACCESS_KEY.to_owned(),
                secret_key: Secret::new(secret_key),
                session_token: parts.session_token.clone().map(Secret::new),
            }],
            Duration::from_secs(900),
        )
    };
    let right = verifier(&parts.secret_key);
    let incoming = |query: &'_ [(String, String)], body: &'_ [u8]| -> bool {
        let request = IncomingRequest {
            method: &parts.method,
            path,
            query,
            headers: &headers,
            body,
        };
        right.verify(&request, SIGNED_AT).is_ok()
    };
    if let Err(failure) = right.verify(
        &IncomingRequest {
            method: &parts.method,
            path,
            query: &query,
            headers: &headers,
            body: &parts.body,
        },
        SIGNED_AT,
    ) {
        panic!(
            "the emulator rejects a request signed by the client: {} {}",
            failure.code, failure.message
        );
    }

    let mut tampered_body = parts.body.clone();
    tampered_body.push(b'x');
    assert!(!incoming(&query, &tampered_body), "a changed body verifies");
    if let Some(first) = query.first() {
        let mut tampered = query.clone();
        tampered[0].1 = format!("{}1", first.1);
        assert!(
            !incoming(&tampered, &parts.body),
            "a changed query verifies"
        );
    }
    let wrong = verifier(&format!("{}x", parts.secret_key));
    let request = IncomingRequest {
        method: &parts.method,
        path,
        query: &query,
        headers: &headers,
        body: &parts.body,
    };
    assert!(
        wrong.verify(&request, SIGNED_AT).is_err(),
        "another secret key verifies"
    );
}
