//! Volcengine V4 request signing (HMAC-SHA256).
//!
//! The functions here are pure: the caller supplies the clock, so the same
//! inputs always give the same signature. The client signs with [`sign`]; the
//! emulator verifies by recomputing with [`signature_for`] over the headers the
//! client declared signed.

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use time::{format_description::FormatItem, macros::format_description, OffsetDateTime};

use super::secret::Secret;

pub const ALGORITHM: &str = "HMAC-SHA256";

/// RFC 3986 unreserved characters stay as they are; everything else is `%XX`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

const X_DATE_FORMAT: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Credentials for one Volcengine identity. Long-term keys have no session
/// token; temporary (STS) credentials do.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: Secret,
    pub session_token: Option<Secret>,
}

/// The parts of an HTTP request the signature covers.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The `Host` header as sent: `host` or `host:port`.
    pub host: &'a str,
    pub path: &'a str,
    /// Decoded query parameters, in any order.
    pub query: &'a [(String, String)],
    /// The `Content-Type` header, when one is sent (POST).
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The headers a signed request must carry, besides `Host` and `Content-Type`.
#[derive(Clone)]
pub struct SignedHeaders {
    pub x_date: String,
    pub x_content_sha256: String,
    pub x_security_token: Option<Secret>,
    pub authorization: String,
}

impl fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("x_date", &self.x_date)
            .field("x_content_sha256", &self.x_content_sha256)
            .field("x_security_token", &self.x_security_token)
            .field("authorization", &self.authorization)
            .finish()
    }
}

impl SignedHeaders {
    /// Header name/value pairs to add to the HTTP request.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("X-Date", Some(self.x_date.as_str())),
            ("X-Content-Sha256", Some(self.x_content_sha256.as_str())),
            (
                "X-Security-Token",
                self.x_security_token.as_ref().map(Secret::expose),
            ),
            ("Authorization", Some(self.authorization.as_str())),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
    }
}

/// Formats a time as `X-Date` wants it: `YYYYMMDDTHHMMSSZ` in UTC.
pub fn format_x_date(now: OffsetDateTime) -> String {
    now.to_offset(time::UtcOffset::UTC)
        .format(X_DATE_FORMAT)
        .expect("a UTC date always formats")
}

/// Parses an `X-Date` value back into a time.
pub fn parse_x_date(value: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(value, X_DATE_FORMAT)
        .ok()
        .map(|t| t.assume_utc())
}

/// Signs `request` at time `now` for `region` and `service`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    now: OffsetDateTime,
) -> SignedHeaders {
    let x_date = format_x_date(now);
    let body_hash = hex_sha256(request.body);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), request.host.to_owned()),
        ("x-date".into(), x_date.clone()),
        ("x-content-sha256".into(), body_hash.clone()),
    ];
    if let Some(content_type) = request.content_type {
        headers.push(("content-type".into(), content_type.to_owned()));
    }
    if let Some(token) = &credentials.session_token {
        headers.push(("x-security-token".into(), token.expose().to_owned()));
    }
    let (signed_names, signature) = signature_for(
        credentials.secret_key.expose(),
        &x_date,
        region,
        service,
        request,
        &headers,
    );
    let authorization = format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={signed_names}, Signature={signature}",
        credentials.access_key,
        credential_scope(&x_date, region, service),
    );
    SignedHeaders {
        x_date,
        x_content_sha256: body_hash,
        x_security_token: credentials.session_token.clone(),
        authorization,
    }
}

/// Computes the signature of `request` over the given signed headers
/// (`name`, `value`; names in any case and order). Returns the signed header
/// names as they appear in `Authorization` and the hex signature.
pub fn signature_for(
    secret_key: &str,
    x_date: &str,
    region: &str,
    service: &str,
    request: &Request<'_>,
    signed_headers: &[(String, String)],
) -> (String, String) {
    let mut headers: Vec<(String, String)> = signed_headers
        .iter()
        .map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let value = if name == "host" {
                strip_default_port(value.trim()).to_owned()
            } else {
                value.trim().to_owned()
            };
            (name, value)
        })
        .collect();
    headers.sort();
    let names = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = canonical_request(request, &headers, &names);
    let scope = credential_scope(x_date, region, service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{x_date}\n{scope}\n{}",
        hex_sha256(canonical.as_bytes())
    );
    let key = signing_key(secret_key, date_of(x_date), region, service);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    (names, signature)
}

/// The canonical request: method, path, canonical query, header lines, the
/// signed header names and the body hash, joined by newlines.
fn canonical_request(
    request: &Request<'_>,
    sorted_headers: &[(String, String)],
    names: &str,
) -> String {
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    let mut header_lines = String::new();
    for (name, value) in sorted_headers {
        header_lines.push_str(name);
        header_lines.push(':');
        header_lines.push_str(value);
        header_lines.push('\n');
    }
    format!(
        "{}\n{path}\n{}\n{header_lines}\n{names}\n{}",
        request.method,
        canonical_query(request.query),
        hex_sha256(request.body)
    )
}

/// Percent-encodes keys and values per RFC 3986 (space as `%20`, never `+`),
/// sorts the pairs and joins them with `&`.
pub fn canonical_query(params: &[(String, String)]) -> String {
    // Borrowed when nothing needs escaping, which is most keys and values.
    let mut encoded: Vec<(Cow<'_, str>, Cow<'_, str>)> = params
        .iter()
        .map(|(k, v)| (encode_cow(k), encode_cow(v)))
        .collect();
    encoded.sort_unstable();
    let len = encoded.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut query = String::with_capacity(len);
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            query.push('&');
        }
        query.push_str(k);
        query.push('=');
        query.push_str(v);
    }
    query
}

/// RFC 3986 percent-encoding of one key or value.
pub fn encode(value: &str) -> String {
    encode_cow(value).into_owned()
}

fn encode_cow(value: &str) -> Cow<'_, str> {
    utf8_percent_encode(value, RFC3986).into()
}

/// `YYYYMMDD/<region>/<service>/request`.
pub fn credential_scope(x_date: &str, region: &str, service: &str) -> String {
    format!("{}/{region}/{service}/request", date_of(x_date))
}

fn date_of(x_date: &str) -> &str {
    x_date.get(..8).unwrap_or(x_date)
}

/// The host value signed: a default port (80, 443) is dropped.
fn strip_default_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, "80" | "443")) => name,
        _ => host,
    }
}

fn signing_key(secret_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(secret_key.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"request")
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Lowercase hex SHA-256.
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_per_rfc3986() {
        assert_eq!(encode("a b+c*d~e/f=g"), "a%20b%2Bc%2Ad~e%2Ff%3Dg");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn sorts_indexed_keys_as_text() {
        let params: Vec<(String, String)> = (1..=11)
            .map(|i| (format!("AddAccounts.{i}"), i.to_string()))
            .collect();
        let q = canonical_query(&params);
        assert!(
            q.starts_with("AddAccounts.1=1&AddAccounts.10=10&AddAccounts.11=11&AddAccounts.2=2")
        );
    }

    #[test]
    fn strips_only_default_ports() {
        assert_eq!(strip_default_port("a.com:443"), "a.com");
        assert_eq!(strip_default_port("a.com:80"), "a.com");
        assert_eq!(strip_default_port("a.com:8443"), "a.com:8443");
    }

    #[test]
    fn x_date_round_trips() {
        let t = time::macros::datetime!(2024-05-21 10:26:16 UTC);
        assert_eq!(format_x_date(t), "20240521T102616Z");
        assert_eq!(parse_x_date("20240521T102616Z"), Some(t));
    }
}
