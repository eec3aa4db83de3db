//! The ECS response envelope: `ResponseMetadata` plus either `Result` or
//! `ResponseMetadata.Error`, and the error codes the emulator answers with.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub const API_VERSION: &str = "2020-04-01";
pub const SERVICE: &str = "ecs";

/// An error the service answers with: HTTP status, `Code` and `Message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttling).
    pub retry_after: Option<u32>,
}

impl ApiFailure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiFailure {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    // ---- ModifyImageSharePermission / DescribeImageSharePermission (the seed's table) ----

    pub fn missing_image_id() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameter.ImageId",
            "The required parameter ImageId is not supplied.",
        )
    }

    pub fn missing_accounts() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameter.AddAccountsAndRemoveAccounts",
            "The required parameter AddAccountsAndRemoveAccounts is not supplied.",
        )
    }

    /// `InvalidArgument`; `detail` says which argument, after the seed's message.
    pub fn invalid_argument(detail: impl AsRef<str>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            format!("The specified argument is invalid. {}", detail.as_ref()),
        )
    }

    pub fn malformed_account(account: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidAccount.Malformed",
            format!("The specified Account is malformed. Account: {account:?}"),
        )
    }

    pub fn invalid_image_status(status: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidImageStatus",
            format!(
                "The specified image is not in the correct status for the request. Status: {status}"
            ),
        )
    }

    pub fn share_limit_exceeded(limit: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "LimitExceeded.MaximumShareImageAccount",
            format!(
                "You've reached the limit on the number of account that you can share. Limit: {limit}"
            ),
        )
    }

    pub fn image_not_found(image_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidImage.NotFound",
            format!("The specified image does not exist. ImageId: {image_id}"),
        )
    }

    pub fn internal_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "An internal error has occurred.",
        )
    }

    // ---- Volcengine's common (gateway) errors ----

    /// `Action` or `Version` absent.
    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            format!("The request is missing {name} parameter."),
        )
    }

    pub fn invalid_action_or_version(action: &str, version: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidActionOrVersion",
            format!("Could not find operation {action} for version {version}."),
        )
    }

    pub fn throttled() -> Self {
        ApiFailure {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "FlowLimitExceeded",
                "Request was denied due to request throttling.",
            )
        }
    }

    /// The default message for a code, for injected faults given without one.
    pub fn default_message(code: &str) -> &'static str {
        match code {
            "InternalError" => "An internal error has occurred.",
            "InvalidAccount.Malformed" => "The specified Account is malformed.",
            "InvalidArgument" => "The specified argument is invalid.",
            "InvalidImageStatus" => {
                "The specified image is not in the correct status for the request."
            }
            "LimitExceeded.MaximumShareImageAccount" => {
                "You've reached the limit on the number of account that you can share."
            }
            "MissingParameter.AddAccountsAndRemoveAccounts" => {
                "The required parameter AddAccountsAndRemoveAccounts is not supplied."
            }
            "MissingParameter.ImageId" => "The required parameter ImageId is not supplied.",
            "InvalidImage.NotFound" => "The specified image does not exist.",
            "FlowLimitExceeded" => "Request was denied due to request throttling.",
            "ServiceUnavailable" => "The service is temporarily unavailable.",
            _ => "The request failed.",
        }
    }
}

/// What every response carries besides its outcome.
#[derive(Clone, Debug)]
pub struct Metadata {
    pub request_id: String,
    pub action: String,
    pub region: String,
}

impl Metadata {
    fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        map.insert("RequestId".into(), json!(self.request_id));
        map.insert("Action".into(), json!(self.action));
        map.insert("Version".into(), json!(API_VERSION));
        map.insert("Service".into(), json!(SERVICE));
        map.insert("Region".into(), json!(self.region));
        map
    }
}

/// `{"ResponseMetadata": {...}, "Result": result}` with HTTP 200.
pub fn success(metadata: &Metadata, result: Value) -> Response {
    let body = json!({ "ResponseMetadata": metadata.to_json(), "Result": result });
    json_response(StatusCode::OK, &body)
}

/// `{"ResponseMetadata": {..., "Error": {"Code", "Message"}}}` with the failure's status.
pub fn failure(metadata: &Metadata, failure: &ApiFailure) -> Response {
    let mut meta = metadata.to_json();
    meta.insert(
        "Error".into(),
        json!({ "Code": failure.code, "Message": failure.message }),
    );
    let mut response = json_response(failure.status, &json!({ "ResponseMetadata": meta }));
    if let Some(seconds) = failure.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}
