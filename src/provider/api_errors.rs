//! Turns API errors into diagnostics a user can act on: the code, message and
//! request ID, plus a hint when there is an obvious next step.

use crate::tfplugin::diagnostics;
use crate::tfplugin::proto;
use crate::tfplugin::AttrPath;
use crate::volcengine::Error;

/// Codes meaning the credentials were rejected or lack permission.
const AUTH_CODES: &[&str] = &[
    "SignatureDoesNotMatch",
    "InvalidAccessKey",
    "InvalidAccessKeyId",
    "InvalidAccessKeyId.NotFound",
    "InvalidCredential",
    "InvalidSecurityToken",
    "InvalidSecurityToken.Expired",
    "MissingAuthenticationToken",
    "AuthFailure",
    "AccessDenied",
    "Forbidden",
    "InvalidAuthorization",
];

/// What the user can do about `error`, when something specific helps.
pub fn hint(error: &Error, timeout_attribute: Option<&str>) -> Option<String> {
    match error {
        Error::Api(api) => match api.code.as_str() {
            "InvalidImageStatus" => Some(
                "Only images in status \"available\" can be shared. Wait until the image has finished \
                 creating or copying, then apply again."
                    .into(),
            ),
            "LimitExceeded.MaximumShareImageAccount" => Some(
                "The image would be shared with more accounts than Volcengine allows for one image. \
                 Share it with fewer accounts (or ask Volcengine support to raise the quota)."
                    .into(),
            ),
            "InvalidImage.NotFound" => Some(
                "Check `image_id` and the provider's `region`: the image does not exist there, or it \
                 is not owned by this account (images shared with you cannot be re-shared)."
                    .into(),
            ),
            "InvalidAccount.Malformed" => Some(
                "Check `account_ids`: every entry must be an existing Volcengine account ID (digits only)."
                    .into(),
            ),
            code if AUTH_CODES.contains(&code) || api.status == 401 || api.status == 403 => Some(
                "Check the credentials (`access_key`/`secret_key`/`session_token` or the \
                 VOLCENGINE_ACCESS_KEY / VOLCENGINE_SECRET_KEY / VOLCENGINE_SESSION_TOKEN variables), \
                 the `region`, and that the key may call the ECS image APIs."
                    .into(),
            ),
            _ if api.is_throttled() => Some(
                "The API kept rate-limiting the requests after all retries. Try again later or raise \
                 `max_retries`."
                    .into(),
            ),
            _ => None,
        },
        Error::Timeout { .. } => Some(match timeout_attribute {
            Some(name) => format!("The operation's time limit was reached. Raise `timeouts.{name}` if it needs longer."),
            None => "The operation's time limit was reached.".into(),
        }),
        Error::Cancelled { .. } => Some("Terraform asked the provider to stop (e.g. Ctrl-C).".into()),
        Error::Transport { .. } => Some(
            "Check the `endpoint` setting, the network and any proxy between here and the API.".into(),
        ),
        Error::MalformedResponse { .. } => Some(
            "The endpoint did not answer like the Volcengine API. Check the `endpoint` setting.".into(),
        ),
        Error::InvalidRequest { .. } => None,
    }
}

/// The attribute an error is about, when it is about one.
pub fn attribute_for(error: &Error) -> Option<AttrPath> {
    match error.code()? {
        "InvalidImage.NotFound" | "InvalidImageStatus" | "MissingParameter.ImageId" => {
            Some(AttrPath::attr("image_id"))
        }
        "InvalidAccount.Malformed" | "LimitExceeded.MaximumShareImageAccount" => {
            Some(AttrPath::attr("account_ids"))
        }
        _ => None,
    }
}

/// An error diagnostic for a failed API call. `error`'s Display already has
/// the action, code, message, request ID and HTTP status; it never holds a secret.
pub fn api_error(
    summary: impl Into<String>,
    error: &Error,
    timeout_attribute: Option<&str>,
) -> proto::Diagnostic {
    let mut detail = error.to_string();
    if let Some(hint) = hint(error, timeout_attribute) {
        detail.push_str("\n\n");
        detail.push_str(&hint);
    }
    match attribute_for(error) {
        Some(path) => diagnostics::error_at(&path, summary, detail),
        None => diagnostics::error(summary, detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volcengine::ApiError;

    fn api(status: u16, code: &str) -> Error {
        Error::Api(ApiError {
            status,
            code: code.into(),
            message: "msg".into(),
            request_id: "req-1".into(),
            action: "ModifyImageSharePermission".into(),
        })
    }

    #[test]
    fn detail_has_code_message_request_id_and_hint() {
        let d = api_error(
            "Failed to share image image-a",
            &api(400, "InvalidImageStatus"),
            Some("create"),
        );
        assert!(d.detail.contains("InvalidImageStatus"));
        assert!(d.detail.contains("msg"));
        assert!(d.detail.contains("req-1"));
        assert!(d.detail.contains("available"));
        assert!(d.attribute.is_some());
        let auth = api_error("x", &api(401, "SignatureDoesNotMatch"), None);
        assert!(auth.detail.contains("credentials"));
        let limit = api_error(
            "x",
            &api(400, "LimitExceeded.MaximumShareImageAccount"),
            None,
        );
        assert!(limit.detail.contains("fewer accounts"));
        let t = api_error(
            "x",
            &Error::Timeout {
                action: "A".into(),
                attempts: 2,
            },
            Some("update"),
        );
        assert!(t.detail.contains("timeouts.update"));
    }
}
