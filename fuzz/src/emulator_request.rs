//! Target `emulator_request`: the emulator's API endpoint (parameter parsing,
//! signature verification, action dispatch) over real HTTP on loopback, one
//! in-process emulator per fuzzing process.
//!
//! Input (text, lines split on `\n`):
//! ```text
//! signed            <- "signed": the harness adds a valid signature; anything else: sent as is
//! POST              <- method: GET, POST, PUT or DELETE (others become GET)
//! Action=...&...    <- the raw query string (bytes a URL cannot carry are escaped)
//! Name: value       <- zero or more headers (invalid ones are skipped)
//!                   <- an empty line
//! body...           <- the rest
//! ```
//!
//! Properties: every answer to `/` is the service's JSON envelope, which the
//! real client parses as a result or an API error (never "malformed"), with a
//! request ID; an unsigned request never succeeds and never changes shares.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use terraform_provider_volcengine::emulator::{
    Emulator, EmulatorConfig, RunningEmulator, DEFAULT_ACCESS_KEY, DEFAULT_REGION,
    DEFAULT_SECRET_KEY,
};
use terraform_provider_volcengine::volcengine::client::parse_response;
use terraform_provider_volcengine::volcengine::signer::{self, Credentials, Request};
use terraform_provider_volcengine::volcengine::{Error, Secret};
use time::OffsetDateTime;

/// Images the emulator starts with; `image-creating` is not shareable.
pub const IMAGES: [&str; 2] = ["image-fuzz", "image-creating"];

struct Harness {
    runtime: tokio::runtime::Runtime,
    emulator: RunningEmulator,
    http: reqwest::Client,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let emulator = runtime.block_on(async {
            let emulator = Emulator::start(EmulatorConfig {
                images: vec![IMAGES[0].to_owned()],
                ..EmulatorConfig::default()
            })
            .await
            .expect("emulator starts on loopback");
            emulator
                .put_image(IMAGES[1], Some("creating"))
                .await
                .expect("second image");
            emulator
        });
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Harness {
            runtime,
            emulator,
            http,
        }
    })
}

struct Input {
    signed: bool,
    method: Method,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn parse(data: &[u8]) -> Input {
    let mut rest = data;
    let mut line = || -> &[u8] {
        let (line, tail) = match rest.iter().position(|b| *b == b'\n') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &[][..]),
        };
        rest = tail;
        line.strip_suffix(b"\r").unwrap_or(line)
    };
    let signed = line() == b"signed";
    let method = match line() {
        b"POST" => Method::POST,
        b"PUT" => Method::PUT,
        b"DELETE" => Method::DELETE,
        _ => Method::GET,
    };
    let query = escape_query(line());
    let mut headers = HeaderMap::new();
    loop {
        let header = line();
        if header.is_empty() {
            break;
        }
        let Some(colon) = header.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header[..colon].trim_ascii()),
            HeaderValue::from_bytes(header[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        // The transport's own headers stay the HTTP client's business.
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection" | "expect" | "upgrade"
        ) {
            headers.append(name, value);
        }
    }
    Input {
        signed,
        method,
        query,
        headers,
        body: rest.to_vec(),
    }
}

/// Keeps the characters a query may carry as they are (`%` included, so
/// broken escapes reach the server) and escapes the rest.
fn escape_query(raw: &[u8]) -> String {
    let mut out = String::new();
    for &b in raw {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The share lists of [`IMAGES`], in that order.
pub fn shares() -> Vec<Option<Vec<String>>> {
    IMAGES
        .iter()
        .map(|id| harness().emulator.shares(id))
        .collect()
}

/// One exchange (or check) at a time: a check compares shares before and
/// after its own request, and `cargo test` runs tests in parallel.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A failed check (caught by the corpus replay) leaves nothing half-done.
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sends the request an input describes to the shared emulator; the HTTP
/// status and body, or `None` when the HTTP client refused to build it.
pub fn exchange(data: &[u8]) -> Option<(u16, Vec<u8>)> {
    let _only_me = exclusive();
    send_input(data)
}

fn send_input(data: &[u8]) -> Option<(u16, Vec<u8>)> {
    let harness = harness();
    let answer = harness.runtime.block_on(send(harness, parse(data)));
    // The call log is bounded, but a fuzzing process sends millions of calls.
    harness.emulator.clear_calls();
    answer
}

pub fn check(data: &[u8]) {
    let _only_me = exclusive();
    let signed = parse(data).signed;
    let before = shares();
    let Some((status, body)) = send_input(data) else {
        return;
    };

    let outcome = parse_response("Fuzz", status, &body, None);
    match &outcome {
        Ok(_) => assert!(signed, "an unsigned request succeeded (HTTP {status})"),
        Err(Error::Api(api)) => {
            assert!(!api.code.is_empty());
            assert!(!api.request_id.is_empty(), "no request ID: {api}");
        }
        Err(other) => panic!(
            "the emulator's answer is not the service envelope: {other} (body {:?})",
            String::from_utf8_lossy(&body)
        ),
    }
    if !signed {
        assert_eq!(before, shares(), "an unsigned request changed shares");
    }
    for accounts in shares().into_iter().flatten() {
        assert!(
            accounts
                .iter()
                .all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit())),
            "a non-account was shared: {accounts:?}"
        );
    }
}

/// `None` when the HTTP client refuses to build the request (nothing sent).
async fn send(harness: &Harness, input: Input) -> Option<(u16, Vec<u8>)> {
    let base = harness.emulator.base_url();
    let url = Url::parse(&format!("{base}/?{}", input.query)).expect("a URL of escaped parts");
    let mut headers = input.headers;
    if input.signed {
        sign(&url, &input.method, &mut headers, &input.body);
    }
    let response = match harness
        .http
        .request(input.method, url)
        .headers(headers)
        .body(input.body)
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) if error.is_builder() => return None,
        Err(error) => panic!("the emulator did not answer: {error:?}"),
    };
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("response body").to_vec();
    Some((status, body))
}

/// Signs the request as the emulator will see it: the query as it decodes
/// the URL's query string, the `Host` header the HTTP client sends.
fn sign(url: &Url, method: &Method, headers: &mut HeaderMap, body: &[u8]) {
    let query: Vec<(String, String)> = form_urlencoded::parse(url.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let host = format!(
        "{}:{}",
        url.host_str().expect("loopback host"),
        url.port().expect("explicit port")
    );
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let credentials = Credentials {
        access_key: DEFAULT_ACCESS_KEY.to_owned(),
        secret_key: Secret::new(DEFAULT_SECRET_KEY),
        session_token: None,
    };
    let request = Request {
        method: method.as_str(),
        host: &host,
        path: url.path(),
        query: &query,
        content_type: content_type.as_deref(),
        body,
    };
    let signed = signer::sign(
        &request,
        &credentials,
        DEFAULT_REGION,
        "ecs",
        OffsetDateTime::now_utc(),
    );
    for (name, value) in signed.iter() {
        headers.insert(
            HeaderName::from_static(match name {
                "X-Date" => "x-date",
                "X-Content-Sha256" => "x-content-sha256",
                "X-Security-Token" => "x-security-token",
                _ => "authorization",
            }),
            HeaderValue::from_str(value).expect("signed headers are ASCII"),
        );
    }
}
