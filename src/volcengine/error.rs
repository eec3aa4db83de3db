//! Errors of Volcengine calls, classified by exact API error code.
//!
//! Classification never looks at messages or substrings: Volcengine codes
//! such as `InvalidImage.NotFound` are matched whole, so a new code the
//! service introduces is a plain (non-retryable, non-not-found) API error.

use std::fmt;

/// The one code that means "the image is gone" (HTTP 404).
pub const CODE_IMAGE_NOT_FOUND: &str = "InvalidImage.NotFound";

/// Codes that mean "slow down": the request was not executed.
pub const THROTTLING_CODES: &[&str] = &[
    "FlowLimitExceeded",
    "AccountFlowLimitExceeded",
    "RequestLimitExceeded",
    "Throttling",
];

/// Codes for transient server-side failures, worth another attempt.
pub const TRANSIENT_CODES: &[&str] = &["ServiceUnavailable", "InternalError"];

/// HTTP statuses that are transient whatever the body says.
pub const RETRYABLE_STATUSES: &[u16] = &[429, 500, 502, 503, 504];

/// An error the service answered with (`ResponseMetadata.Error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: String,
    pub action: String,
}

impl ApiError {
    pub fn is_not_found(&self) -> bool {
        self.code == CODE_IMAGE_NOT_FOUND
    }

    /// Rate limiting: HTTP 429 or one of the throttling codes.
    pub fn is_throttled(&self) -> bool {
        self.status == 429 || THROTTLING_CODES.contains(&self.code.as_str())
    }

    /// Worth retrying: throttling, transient codes or a transient HTTP status.
    pub fn is_retryable(&self) -> bool {
        self.is_throttled()
            || TRANSIENT_CODES.contains(&self.code.as_str())
            || RETRYABLE_STATUSES.contains(&self.status)
    }

    /// The caller's fault (validation, authentication, missing image...):
    /// a 4xx that is not throttling. Retrying cannot help.
    pub fn is_user_error(&self) -> bool {
        (400..500).contains(&self.status) && !self.is_retryable()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {}: {} (request ID {}, HTTP {})",
            self.action, self.code, self.message, self.request_id, self.status
        )
    }
}

impl std::error::Error for ApiError {}

/// Everything a Volcengine call can end with. No variant ever carries a
/// secret: messages are built from codes, statuses and response excerpts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The service answered with an error body.
    #[error("{0}")]
    Api(ApiError),
    /// Connect/reset/TLS failures (or per-attempt timeouts) after retries ran out.
    #[error("{message}")]
    Transport { message: String },
    /// The operation's deadline was reached (also between attempts).
    #[error("{action} timed out: the deadline was reached after {attempts} attempt(s)")]
    Timeout { action: String, attempts: u32 },
    /// Terraform asked the provider to stop.
    #[error("{action} was cancelled")]
    Cancelled { action: String },
    /// The response was not the JSON envelope the API promises.
    #[error("{}", malformed_message(*status, request_id.as_deref(), excerpt))]
    MalformedResponse {
        status: u16,
        request_id: Option<String>,
        excerpt: String,
    },
    /// Refused locally, before anything was sent.
    #[error("invalid request: {message}")]
    InvalidRequest { message: String },
}

fn malformed_message(status: u16, request_id: Option<&str>, excerpt: &str) -> String {
    let request_id = request_id.unwrap_or("unknown");
    if excerpt.is_empty() {
        format!("malformed response: empty body (request ID {request_id}, HTTP {status})")
    } else {
        format!("malformed response (request ID {request_id}, HTTP {status}): {excerpt}")
    }
}

impl Error {
    /// The API error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The request ID the service gave, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.request_id),
            Error::MalformedResponse { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the response, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::MalformedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Exactly `InvalidImage.NotFound`: the image no longer exists.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(e) if e.is_not_found())
    }

    /// Rate limited by the service.
    pub fn is_throttled(&self) -> bool {
        matches!(self, Error::Api(e) if e.is_throttled())
    }

    /// Whether another attempt could succeed. Timeouts of the whole
    /// operation and cancellations are final; transport failures and
    /// transient statuses are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.is_retryable(),
            Error::Transport { .. } => true,
            // An HTML page from a failing proxy (502/503) is transient. A
            // garbled 2xx (a body cut off in transit) leaves the outcome
            // unknown: the call may have landed. Both actions are idempotent,
            // so asking again is how the recorded state learns the truth.
            Error::MalformedResponse { status, .. } => {
                (200..300).contains(status) || RETRYABLE_STATUSES.contains(status)
            }
            Error::Timeout { .. } | Error::Cancelled { .. } | Error::InvalidRequest { .. } => false,
        }
    }

    /// The user must change something (input, credentials, permissions).
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::Api(e) => e.is_user_error(),
            Error::InvalidRequest { .. } => true,
            _ => false,
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

/// A short excerpt of a response body that is safe to show: at most
/// `max_chars` characters, control characters replaced, invalid UTF-8 lossy.
pub fn safe_excerpt(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut chars = text.trim().chars();
    for c in chars.by_ref().take(max_chars) {
        out.push(if c.is_control() { ' ' } else { c });
    }
    if chars.next().is_some() {
        // Keep the total within max_chars including the ellipsis.
        out.pop();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> Error {
        Error::Api(ApiError {
            status,
            code: code.into(),
            message: "m".into(),
            request_id: "rid".into(),
            action: "ModifyImageSharePermission".into(),
        })
    }

    #[test]
    fn classifies_by_exact_code() {
        assert!(api(404, "InvalidImage.NotFound").is_not_found());
        assert!(!api(404, "InvalidImage.NotFound.Extra").is_not_found());
        assert!(!api(400, "invalidimage.notfound").is_not_found());
        assert!(api(400, "FlowLimitExceeded").is_retryable());
        assert!(api(400, "FlowLimitExceeded").is_throttled());
        assert!(!api(400, "FlowLimitExceededX").is_retryable());
        assert!(api(500, "InternalError").is_retryable());
        assert!(api(503, "Whatever").is_retryable());
        assert!(!api(400, "InvalidArgument").is_retryable());
        assert!(api(400, "InvalidArgument").is_user_error());
        assert!(!api(429, "TooMany").is_user_error());
    }

    #[test]
    fn displays_action_code_message_request_id_status() {
        assert_eq!(
            api(404, "InvalidImage.NotFound").to_string(),
            "ModifyImageSharePermission failed: InvalidImage.NotFound: m (request ID rid, HTTP 404)"
        );
    }

    #[test]
    fn excerpt_is_short_and_clean() {
        let body = format!("<html>\n\t{}</html>", "x".repeat(500));
        let e = safe_excerpt(body.as_bytes(), 200);
        assert_eq!(e.chars().count(), 200);
        assert!(!e.chars().any(char::is_control));
        assert_eq!(safe_excerpt(b"", 200), "");
        assert_eq!(safe_excerpt(b"\xff{", 200), "\u{fffd}{");
    }
}
