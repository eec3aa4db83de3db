//! The provider block's schema.

use crate::tfplugin::proto;
use crate::tfplugin::schema::{attribute, block};
use crate::tfplugin::CtyType;

pub fn provider_schema() -> proto::Schema {
    block(
        "The Volcengine provider manages which accounts Volcengine ECS custom images are shared \
         with. Every argument may instead come from an environment variable; an argument set in \
         the configuration wins over its variable.",
    )
    .attribute(
        attribute(
            "access_key",
            &CtyType::String,
            "Access key ID of the Volcengine account or IAM user. Falls back to the \
             `VOLCENGINE_ACCESS_KEY` environment variable.",
        )
        .optional(),
    )
    .attribute(
        attribute(
            "secret_key",
            &CtyType::String,
            "Secret access key paired with `access_key`. Falls back to `VOLCENGINE_SECRET_KEY`.",
        )
        .optional()
        .sensitive(),
    )
    .attribute(
        attribute(
            "session_token",
            &CtyType::String,
            "Session token for temporary (STS) credentials. Falls back to `VOLCENGINE_SESSION_TOKEN`.",
        )
        .optional()
        .sensitive(),
    )
    .attribute(
        attribute(
            "region",
            &CtyType::String,
            "Region of the images, e.g. `cn-beijing`. Falls back to `VOLCENGINE_REGION`. Required \
             (here or in the environment) before any API call: image IDs are regional.",
        )
        .optional(),
    )
    .attribute(
        attribute(
            "endpoint",
            &CtyType::String,
            "API endpoint: a host name (HTTPS is used) or a URL such as `https://open.volcengineapi.com` \
             or `http://127.0.0.1:8080` (a local emulator). Falls back to `VOLCENGINE_ENDPOINT`, then \
             to `open.volcengineapi.com`.",
        )
        .optional(),
    )
    .attribute(
        attribute(
            "max_retries",
            &CtyType::Number,
            "How many times a request is retried after a throttling error, a 5xx answer or a \
             network error (0 to 20). Falls back to `VOLCENGINE_MAX_RETRIES`, then to 3.",
        )
        .optional(),
    )
    .attribute(
        attribute(
            "ca_bundle_file",
            &CtyType::String,
            "Path of a PEM file with extra certificate authorities to trust for an HTTPS endpoint \
             (e.g. behind a TLS-inspecting proxy). Falls back to `VOLCENGINE_CA_BUNDLE_FILE`.",
        )
        .optional(),
    )
    .attribute(
        attribute(
            "request_timeout",
            &CtyType::String,
            "Time limit of one HTTP attempt, as a duration such as `30s` or `500ms` (100ms to 10m). \
             An attempt that takes longer is abandoned and counts as a network error (retried up to \
             `max_retries`). Falls back to `VOLCENGINE_REQUEST_TIMEOUT`, then to `30s`. The resource \
             `timeouts` bound a whole operation, retries included.",
        )
        .optional(),
    )
    .build(0)
}
