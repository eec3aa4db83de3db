//! The signed HTTP client for Volcengine's OpenAPI (`GET /?Action=...`).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::Url;
use serde::Deserialize;
use time::OffsetDateTime;

use super::error::{safe_excerpt, ApiError, Error};
use super::retry::{self, Backoff, Failure, RetryPolicy};
use super::signer::{self, Credentials};

pub use super::retry::CallContext;

/// The API version every ECS action here uses.
pub const API_VERSION: &str = "2020-04-01";
/// The signing service name.
pub const SERVICE: &str = "ecs";
/// `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("terraform-provider-volcengine/", env!("CARGO_PKG_VERSION"));

/// Longest body read from a response; the real answers are a few KiB.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Longest response excerpt put in an error.
const EXCERPT_CHARS: usize = 200;

/// What the provider configuration decides about the client.
#[derive(Clone)]
pub struct ClientConfig {
    /// Already normalised base URL: "https://open.volcengineapi.com" or "http://127.0.0.1:8080".
    pub endpoint: String,
    /// e.g. "cn-beijing".
    pub region: String,
    pub credentials: Credentials,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Limit of one HTTP attempt.
    pub request_timeout: Duration,
    /// Extra trusted roots (PEM) for https endpoints.
    pub ca_bundle_pem: Option<Vec<u8>>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("max_retries", &self.max_retries)
            .field("request_timeout", &self.request_timeout)
            .field(
                "ca_bundle_pem",
                &self
                    .ca_bundle_pem
                    .as_ref()
                    .map(|pem| format!("{} bytes", pem.len())),
            )
            .finish()
    }
}

/// Tuning that the provider leaves at its defaults; tests shorten it.
#[derive(Clone, Copy, Debug)]
pub struct ClientOptions {
    pub backoff: Backoff,
    /// Limit for establishing a connection (TCP + TLS), within the request timeout.
    pub connect_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A Volcengine API client. Cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Endpoint with path "/" (or the configured path) and no query.
    base_url: Url,
    /// The `Host` header reqwest sends: host, plus port when not the default.
    host: String,
    region: String,
    credentials: Credentials,
    policy: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.base_url.as_str())
            .field("region", &self.inner.region)
            .field("access_key", &self.inner.credentials.access_key)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        Client::with_options(config, ClientOptions::default())
    }

    pub fn with_options(config: ClientConfig, options: ClientOptions) -> Result<Client, Error> {
        let invalid = |message: String| Error::InvalidRequest { message };
        let base_url = parse_endpoint(&config.endpoint).map_err(invalid)?;
        let host = host_header(&base_url);
        let loopback = is_loopback(&base_url);
        if base_url.scheme() == "http" && !loopback {
            // Signed requests and session tokens must not cross networks in clear.
            return Err(invalid(format!(
                "endpoint {:?} uses plain http; only loopback endpoints (a local emulator) may, use https",
                config.endpoint
            )));
        }

        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(options.connect_timeout.min(config.request_timeout))
            .https_only(false)
            // The API never redirects; following one would resend a signature
            // computed for another host.
            .redirect(reqwest::redirect::Policy::none());
        if loopback {
            // A proxy cannot reach this machine's loopback.
            builder = builder.no_proxy();
        }
        if let Some(pem) = &config.ca_bundle_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| invalid(format!("ca_bundle: not a PEM certificate bundle: {e}")))?;
            if certs.is_empty() {
                return Err(invalid(
                    "ca_bundle: no certificate found in the PEM data".into(),
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| invalid(format!("cannot build the HTTP client: {}", error_chain(&e))))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                host,
                region: config.region,
                credentials: config.credentials,
                policy: RetryPolicy {
                    max_retries: config.max_retries,
                    backoff: options.backoff,
                    attempt_timeout: config.request_timeout,
                },
            }),
        })
    }

    pub fn endpoint(&self) -> &str {
        self.inner.base_url.as_str()
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// One signed call with retries; returns the response's `Result` object.
    pub async fn call(
        &self,
        action: &str,
        params: &[(String, String)],
        ctx: &CallContext,
    ) -> Result<serde_json::Value, Error> {
        let mut query = Vec::with_capacity(params.len() + 2);
        query.push(("Action".to_owned(), action.to_owned()));
        query.push(("Version".to_owned(), API_VERSION.to_owned()));
        query.extend(params.iter().cloned());
        // The query string sent is the canonical one, so what the server
        // canonicalises is byte for byte what was signed.
        let mut url = self.inner.base_url.clone();
        url.set_query(Some(&signer::canonical_query(&query)));

        retry::run(&self.inner.policy, ctx, action, |attempt| {
            self.attempt(action, attempt, &url, &query)
        })
        .await
    }

    async fn attempt(
        &self,
        action: &str,
        attempt: u32,
        url: &Url,
        query: &[(String, String)],
    ) -> Result<serde_json::Value, Failure> {
        let inner = &*self.inner;
        let request = signer::Request {
            method: "GET",
            host: &inner.host,
            path: url.path(),
            query,
            content_type: None,
            body: b"",
        };
        // Signed per attempt: a retry after a long backoff needs a fresh X-Date.
        let signed = signer::sign(
            &request,
            &inner.credentials,
            &inner.region,
            SERVICE,
            OffsetDateTime::now_utc(),
        );
        let mut headers = HeaderMap::new();
        for (name, value) in signed.iter() {
            let mut value = HeaderValue::from_str(value).map_err(|_| Error::InvalidRequest {
                message: format!("{name} contains characters not allowed in an HTTP header"),
            })?;
            if matches!(name, "Authorization" | "X-Security-Token") {
                value.set_sensitive(true);
            }
            headers.insert(name, value);
        }

        let response = inner
            .http
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| transport_failure(action, &e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry::parse_retry_after);
        let header_request_id = response
            .headers()
            .get("x-tt-logid")
            .or_else(|| response.headers().get("x-request-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_body(response).await.map_err(|e| Failure {
            error: transport_failure(action, &e).error,
            retry_after,
        })?;
        let outcome = parse_response(action, status, &body, header_request_id);
        match &outcome {
            Ok(_) => tracing::debug!(action, attempt, status, "request succeeded"),
            Err(error) => tracing::debug!(
                action,
                attempt,
                status,
                code = error.code(),
                request_id = error.request_id(),
                "request failed"
            ),
        }
        outcome.map_err(|error| Failure { error, retry_after })
    }
}

fn parse_endpoint(endpoint: &str) -> Result<Url, String> {
    let mut url = Url::parse(endpoint.trim())
        .map_err(|e| format!("endpoint {endpoint:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "endpoint {endpoint:?} must use https (or http on loopback)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("endpoint {endpoint:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "endpoint {endpoint:?} must not contain credentials"
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// The `Host` header as hyper sends it for this URL.
fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// Reads the body, refusing more than [`MAX_BODY_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_BODY_BYTES {
            // Enough to report it as malformed; the rest is not needed.
            break;
        }
    }
    Ok(body)
}

fn transport_failure(action: &str, error: &reqwest::Error) -> Failure {
    let error = if error.is_builder() {
        Error::InvalidRequest {
            message: format!("{action}: {}", error_chain(error)),
        }
    } else {
        Error::Transport {
            message: format!("{action}: {}{}", error_chain(error), tls_hint(error)),
        }
    };
    Failure::from(error)
}

/// What to do about a server certificate the client could not verify
/// (empty for other failures): the TLS library's words alone do not say it.
fn tls_hint(error: &reqwest::Error) -> &'static str {
    use rustls::CertificateError as C;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        match rustls_error(cause) {
            Some(rustls::Error::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. },
            )) => {
                return " (the server's TLS certificate is not valid for the endpoint's host name: \
                        check `endpoint`)";
            }
            Some(rustls::Error::InvalidCertificate(_)) => {
                return " (the server's TLS certificate could not be verified against the trusted \
                        CA certificates: if the endpoint uses a private or self-signed CA, set \
                        `ca_bundle_file` in the provider configuration to a PEM file of that CA)";
            }
            _ => source = cause.source(),
        }
    }
    ""
}

/// The rustls error inside `error`, which hyper wraps in nested `io::Error`s
/// (whose `source()` skips the wrapped error).
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut current = error;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// "outer: inner: root cause", without the request URL.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        // reqwest appends " for url (...)"; the URL adds nothing useful.
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "ResponseMetadata")]
    metadata: Option<Metadata>,
    #[serde(rename = "Result")]
    result: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
    #[serde(rename = "Error")]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

/// Turns one HTTP answer into the `Result` object or a typed error.
/// Public only for the fuzz targets (`fuzz/src/client_response.rs`).
#[doc(hidden)]
pub fn parse_response(
    action: &str,
    status: u16,
    body: &[u8],
    header_request_id: Option<String>,
) -> Result<serde_json::Value, Error> {
    let malformed = |request_id: Option<String>| Error::MalformedResponse {
        status,
        request_id,
        excerpt: safe_excerpt(body, EXCERPT_CHARS),
    };
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return Err(malformed(header_request_id));
    };
    let Some(metadata) = envelope.metadata else {
        return Err(malformed(header_request_id));
    };
    let request_id = metadata
        .request_id
        .filter(|id| !id.is_empty())
        .or(header_request_id);
    if let Some(error) = metadata.error {
        return Err(Error::Api(ApiError {
            status,
            code: error.code,
            message: error.message,
            request_id: request_id.unwrap_or_default(),
            action: action.to_owned(),
        }));
    }
    if !(200..300).contains(&status) {
        return Err(malformed(request_id));
    }
    // Actions without output may omit `Result`; an empty object says the same.
    Ok(envelope
        .result
        .unwrap_or_else(|| serde_json::Value::Object(Default::default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rules() {
        assert!(parse_endpoint("https://open.volcengineapi.com").is_ok());
        assert!(parse_endpoint("ftp://x").is_err());
        assert!(parse_endpoint("https://user:pw@x").is_err());
        let url = parse_endpoint("http://127.0.0.1:8080").unwrap();
        assert_eq!(url.path(), "/");
        assert_eq!(host_header(&url), "127.0.0.1:8080");
        assert!(is_loopback(&url));
        let url = parse_endpoint("https://open.volcengineapi.com:443/").unwrap();
        assert_eq!(host_header(&url), "open.volcengineapi.com");
        assert!(!is_loopback(&url));
    }

    #[test]
    fn parses_success_and_error_envelopes() {
        let ok = br#"{"ResponseMetadata":{"RequestId":"r1"},"Result":{"A":1}}"#;
        assert_eq!(parse_response("X", 200, ok, None).unwrap()["A"], 1);
        let err = br#"{"ResponseMetadata":{"RequestId":"r2","Error":{"Code":"InvalidImage.NotFound","Message":"gone"}}}"#;
        let e = parse_response("X", 404, err, None).unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(e.request_id(), Some("r2"));
        let e =
            parse_response("X", 502, b"<html>bad gateway</html>", Some("h".into())).unwrap_err();
        assert!(matches!(e, Error::MalformedResponse { status: 502, .. }));
        assert_eq!(e.request_id(), Some("h"));
        assert!(e.is_retryable());
        assert!(parse_response("X", 200, br#"{"ResponseMetadata":{"#, None).is_err());
        assert!(parse_response("X", 200, b"{}", None).is_err());
    }
}
