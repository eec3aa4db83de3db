//! Target `client_response`: the client's response parser
//! (`volcengine::client::parse_response`) on arbitrary statuses, bodies and
//! request-ID headers, plus the helpers that shape what users see.
//!
//! Input: a first line `STATUS[ REQUEST-ID]` (STATUS: decimal, taken modulo
//! 1000; a missing or unparsable status is 200), then the body.
//!
//! Properties: parsing never panics; success only for a 2xx JSON envelope
//! without `Error`; an API error carries the body's exact `Code` and is "not
//! found" exactly for `InvalidImage.NotFound`; a malformed-response excerpt is
//! at most 200 characters with no control characters; the error's Display
//! keeps the request ID and status; `Retry-After` parsing never panics.

use serde_json::Value;
use terraform_provider_volcengine::volcengine::client::parse_response;
use terraform_provider_volcengine::volcengine::error::{safe_excerpt, CODE_IMAGE_NOT_FOUND};
use terraform_provider_volcengine::volcengine::retry::parse_retry_after;
use terraform_provider_volcengine::volcengine::Error;

const ACTION: &str = "DescribeImageSharePermission";
const EXCERPT_CHARS: usize = 200;

pub fn check(data: &[u8]) {
    let (head, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut words = head.splitn(2, ' ');
    let status = words
        .next()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(200, |s| (s % 1000) as u16);
    let header_request_id = words.next().map(str::to_owned);
    let _ = parse_retry_after(&head);

    let outcome = parse_response(ACTION, status, body, header_request_id.clone());
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let body_error_code = json
        .as_ref()
        .and_then(|j| j.pointer("/ResponseMetadata/Error/Code"))
        .and_then(Value::as_str);
    match &outcome {
        Ok(result) => {
            assert!(
                (200..300).contains(&status),
                "HTTP {status} parsed as success"
            );
            // serde skips fields the envelope ignores without checking their
            // UTF-8, so a success body need not be valid JSON as a whole
            // (tests/fuzz_regressions.rs); when it is, it must agree.
            if let Some(json) = &json {
                assert!(json.pointer("/ResponseMetadata").is_some());
                assert!(json.pointer("/ResponseMetadata/Error").is_none());
                if let Some(expected) = json.get("Result").filter(|r| !r.is_null()) {
                    assert_eq!(result, expected);
                }
            }
        }
        Err(Error::Api(api)) => {
            // (Unless ignored fields made the body invalid JSON, see above.)
            if json.is_some() {
                assert_eq!(Some(api.code.as_str()), body_error_code);
            }
            assert_eq!(api.status, status);
            assert_eq!(api.action, ACTION);
            assert_eq!(
                outcome.as_ref().unwrap_err().is_not_found(),
                api.code == CODE_IMAGE_NOT_FOUND
            );
        }
        Err(Error::MalformedResponse {
            status: got,
            excerpt,
            ..
        }) => {
            assert_eq!(*got, status);
            assert!(excerpt.chars().count() <= EXCERPT_CHARS, "long excerpt");
            assert!(
                !excerpt.chars().any(char::is_control),
                "control character in excerpt {excerpt:?}"
            );
        }
        Err(other) => panic!("a response parsed into {other:?}"),
    }
    if let Err(error) = &outcome {
        let shown = error.to_string();
        assert!(
            shown.contains(&status.to_string()),
            "{shown:?} lacks HTTP {status}"
        );
        if let Some(id) = error.request_id().filter(|id| !id.is_empty()) {
            assert!(shown.contains(id), "{shown:?} lacks request ID {id:?}");
        }
    }

    let limit = usize::from(body.first().copied().unwrap_or(0));
    let excerpt = safe_excerpt(body, limit);
    // One character at least: an ellipsis stands for a cut body.
    assert!(
        excerpt.chars().count() <= limit.max(1),
        "excerpt over {limit} chars"
    );
}
