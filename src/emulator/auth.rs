//! Verification of Volcengine V4 signatures, the way the service does it:
//! parse `Authorization`, look up the access key, check `X-Date` freshness
//! and the body hash, recompute the signature over the headers the client
//! declared signed, and compare in constant time.

use axum::http::{HeaderMap, StatusCode};
use std::collections::HashMap;
use std::time::Duration;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::response::{ApiFailure, SERVICE};
use crate::volcengine::secret::Secret;
use crate::volcengine::signer::{self, ALGORITHM};

/// One key pair the emulator accepts; with a session token for temporary (STS) credentials.
#[derive(Clone, Debug)]
pub struct EmulatorCredential {
    pub access_key: String,
    pub secret_key: Secret,
    pub session_token: Option<Secret>,
}

impl EmulatorCredential {
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<Secret>) -> Self {
        EmulatorCredential {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            session_token: None,
        }
    }
}

/// The parts of an HTTP request the verifier looks at.
pub struct IncomingRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Decoded URL query parameters (the body's form parameters are covered by the body hash).
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Who signed a verified request, and for which region.
#[derive(Clone, Debug)]
pub struct Verified {
    pub access_key: String,
    pub region: String,
}

/// The accepted key pairs.
pub struct Verifier {
    credentials: HashMap<String, EmulatorCredential>,
    max_skew: Duration,
}

/// `Authorization: HMAC-SHA256 Credential=AK/date/region/service/request, SignedHeaders=a;b, Signature=hex`.
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<String>,
    signature: &'a str,
}

/// The region named in the request's credential scope, when it parses; used
/// for the `Region` of error responses before verification succeeded.
pub fn claimed_region(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    parse_authorization(value).ok().map(|a| a.region.to_owned())
}

impl Verifier {
    pub fn new(credentials: &[EmulatorCredential], max_skew: Duration) -> Self {
        Verifier {
            credentials: credentials
                .iter()
                .map(|c| (c.access_key.clone(), c.clone()))
                .collect(),
            max_skew,
        }
    }

    pub fn verify(
        &self,
        request: &IncomingRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Verified, ApiFailure> {
        let header = match request.headers.get("authorization") {
            None => return Err(missing_authentication_token()),
            Some(value) => value
                .to_str()
                .map_err(|_| invalid_authorization("not ASCII"))?,
        };
        let auth = parse_authorization(header)?;
        if auth.service != SERVICE {
            return Err(ApiFailure::new(
                StatusCode::NOT_FOUND,
                "ServiceNotFound",
                format!("This service[{}] not found.", auth.service),
            ));
        }
        let credential = self
            .credentials
            .get(auth.access_key)
            .ok_or_else(|| invalid_access_key(auth.access_key))?;

        let x_date =
            header_str(request.headers, "x-date")?.ok_or_else(|| missing_request_info("X-Date"))?;
        let signed_at = signer::parse_x_date(x_date).ok_or_else(invalid_timestamp)?;
        let skew = (now - signed_at).unsigned_abs();
        if skew > self.max_skew {
            return Err(invalid_timestamp());
        }
        if x_date.get(..8) != Some(auth.date) {
            return Err(invalid_credential(
                "the credential date is not the date of X-Date",
            ));
        }
        if !auth.signed_headers.iter().any(|name| name == "x-date") {
            return Err(invalid_authorization("SignedHeaders must include x-date"));
        }

        let body_hash = signer::hex_sha256(request.body);
        if let Some(declared) = header_str(request.headers, "x-content-sha256")? {
            if !declared.eq_ignore_ascii_case(&body_hash) {
                return Err(signature_does_not_match(
                    "X-Content-Sha256 does not match the SHA-256 of the request body.",
                ));
            }
        }

        let token = header_str(request.headers, "x-security-token")?;
        match (&credential.session_token, token) {
            (None, None) => {}
            (Some(expected), Some(given)) if constant_time_eq(expected.expose(), given) => {
                if !auth.signed_headers.iter().any(|n| n == "x-security-token") {
                    return Err(invalid_authorization(
                        "SignedHeaders must include x-security-token",
                    ));
                }
            }
            (Some(_), None) => return Err(invalid_secret_token("the session token is missing")),
            (None, Some(_)) => {
                return Err(invalid_secret_token(
                    "a session token was sent with long-term credentials",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(invalid_secret_token("the session token is not valid"))
            }
        }

        let mut signed_values = Vec::with_capacity(auth.signed_headers.len());
        for name in &auth.signed_headers {
            let value = header_str(request.headers, name)?.ok_or_else(|| {
                invalid_authorization(format!("signed header {name} is not in the request"))
            })?;
            signed_values.push((name.clone(), value.to_owned()));
        }
        let host = header_str(request.headers, "host")?.unwrap_or_default();
        let content_type = header_str(request.headers, "content-type")?;
        let canonical = signer::Request {
            method: request.method,
            host,
            path: request.path,
            query: request.query,
            content_type,
            body: request.body,
        };
        let (_, expected) = signer::signature_for(
            credential.secret_key.expose(),
            x_date,
            auth.region,
            auth.service,
            &canonical,
            &signed_values,
        );
        if !constant_time_eq(&expected, &auth.signature.to_ascii_lowercase()) {
            return Err(signature_does_not_match(
                "The request signature we calculated does not match the signature you provided. \
                 Check your Secret Access Key and signing method.",
            ));
        }
        Ok(Verified {
            access_key: credential.access_key.clone(),
            region: auth.region.to_owned(),
        })
    }
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiFailure> {
    let (algorithm, rest) = value.trim().split_once(' ').ok_or_else(|| {
        invalid_authorization(
            "expected '<algorithm> Credential=..., SignedHeaders=..., Signature=...'",
        )
    })?;
    if algorithm != ALGORITHM {
        return Err(invalid_authorization(format!(
            "unsupported algorithm {algorithm:?}"
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| invalid_authorization("each part must be key=value"))?;
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => return Err(invalid_authorization(format!("unknown part {key:?}"))),
        }
    }
    let credential = credential.ok_or_else(|| invalid_authorization("Credential is missing"))?;
    let signed_headers =
        signed_headers.ok_or_else(|| invalid_authorization("SignedHeaders is missing"))?;
    let signature = signature.filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiFailure::new(
            StatusCode::UNAUTHORIZED,
            "MissingSignature",
            "The request is missing signature.",
        )
    })?;

    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = scope[..] else {
        return Err(invalid_credential(
            "expected AK/YYYYMMDD/region/service/request",
        ));
    };
    if access_key.is_empty()
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
        || region.is_empty()
        || service.is_empty()
        || terminator != "request"
    {
        return Err(invalid_credential(
            "expected AK/YYYYMMDD/region/service/request",
        ));
    }
    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(invalid_authorization("SignedHeaders has an empty name"));
    }
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiFailure> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| invalid_authorization(format!("header {name} is not ASCII"))),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn missing_authentication_token() -> ApiFailure {
    ApiFailure::new(
        StatusCode::UNAUTHORIZED,
        "MissingAuthenticationToken",
        "Request is missing Authentication Token.",
    )
}

fn invalid_authorization(detail: impl AsRef<str>) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        "InvalidAuthorization",
        format!("Invalid 'Authorization' header: {}.", detail.as_ref()),
    )
}

fn invalid_credential(detail: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        "InvalidCredential",
        format!("Invalid credential in 'Authorization': {detail}."),
    )
}

fn invalid_access_key(access_key: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::UNAUTHORIZED,
        "InvalidAccessKey",
        format!("The accesskey [{access_key}] included in the request is invalid."),
    )
}

fn missing_request_info(what: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        "MissingRequestInfo",
        format!("The request is missing {what} information."),
    )
}

fn invalid_timestamp() -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        "InvalidTimestamp",
        "The Signature of the request is expired: X-Date must be a UTC time YYYYMMDD'T'HHMMSS'Z' \
         within 15 minutes of the server's clock.",
    )
}

fn invalid_secret_token(detail: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::UNAUTHORIZED,
        "InvalidSecretToken",
        format!("Invalid secret token, msg: {detail}."),
    )
}

fn signature_does_not_match(message: &str) -> ApiFailure {
    ApiFailure::new(StatusCode::UNAUTHORIZED, "SignatureDoesNotMatch", message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volcengine::signer::{sign, Credentials};
    use axum::http::HeaderValue;

    const NOW: OffsetDateTime = time::macros::datetime!(2024-05-21 10:26:16 UTC);

    fn verifier() -> Verifier {
        Verifier::new(
            &[EmulatorCredential::new("AKTEST", "secret")],
            Duration::from_secs(900),
        )
    }

    fn signed(secret: &str, at: OffsetDateTime, query: &[(String, String)]) -> HeaderMap {
        let request = signer::Request {
            method: "GET",
            host: "127.0.0.1:8080",
            path: "/",
            query,
            content_type: None,
            body: b"",
        };
        let credentials = Credentials {
            access_key: "AKTEST".into(),
            secret_key: Secret::new(secret),
            session_token: None,
        };
        let signed = sign(&request, &credentials, "cn-beijing", "ecs", at);
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        for (name, value) in signed.iter() {
            headers.insert(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn check(headers: &HeaderMap, query: &[(String, String)]) -> Result<Verified, ApiFailure> {
        verifier().verify(
            &IncomingRequest {
                method: "GET",
                path: "/",
                query,
                headers,
                body: b"",
            },
            NOW,
        )
    }

    fn query() -> Vec<(String, String)> {
        vec![("Action".into(), "DescribeImageSharePermission".into())]
    }

    #[test]
    fn accepts_a_good_signature() {
        let verified = check(&signed("secret", NOW, &query()), &query()).unwrap();
        assert_eq!(verified.access_key, "AKTEST");
        assert_eq!(verified.region, "cn-beijing");
    }

    #[test]
    fn rejects_wrong_secret_and_tampered_query() {
        assert_eq!(
            check(&signed("other", NOW, &query()), &query())
                .unwrap_err()
                .code,
            "SignatureDoesNotMatch"
        );
        let tampered = vec![("Action".into(), "ModifyImageSharePermission".into())];
        assert_eq!(
            check(&signed("secret", NOW, &query()), &tampered)
                .unwrap_err()
                .code,
            "SignatureDoesNotMatch"
        );
    }

    #[test]
    fn rejects_skew_beyond_fifteen_minutes() {
        let old = NOW - time::Duration::minutes(16);
        assert_eq!(
            check(&signed("secret", old, &query()), &query())
                .unwrap_err()
                .code,
            "InvalidTimestamp"
        );
        let recent = NOW - time::Duration::minutes(14);
        assert!(check(&signed("secret", recent, &query()), &query()).is_ok());
    }

    #[test]
    fn classifies_header_problems() {
        assert_eq!(
            check(&HeaderMap::new(), &query()).unwrap_err().code,
            "MissingAuthenticationToken"
        );
        let mut headers = signed("secret", NOW, &query());
        headers.insert("authorization", HeaderValue::from_static("Bearer x"));
        assert_eq!(
            check(&headers, &query()).unwrap_err().code,
            "InvalidAuthorization"
        );
        let mut headers = signed("secret", NOW, &query());
        let auth = headers["authorization"]
            .to_str()
            .unwrap()
            .replace("AKTEST", "AKNOPE");
        headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        assert_eq!(
            check(&headers, &query()).unwrap_err().code,
            "InvalidAccessKey"
        );
    }
}
