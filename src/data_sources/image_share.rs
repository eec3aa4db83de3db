//! `volcengine_image_share` data source: the accounts an image is shared with.

use std::sync::OnceLock;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::provider::api::ShareApi;
use crate::provider::api_errors;
use crate::resources::timeouts;
use crate::resources::validate;
use crate::tfplugin::proto;
use crate::tfplugin::schema::{attribute, block, implied_type};
use crate::tfplugin::{CtyType, Diagnostics, Number, Value};
use crate::volcengine::CallContext;

pub const TYPE_NAME: &str = "volcengine_image_share";

pub fn schema() -> proto::Schema {
    block("Reads the set of accounts a Volcengine ECS custom image is shared with.")
        .attribute(attribute("id", &CtyType::String, "The image ID.").computed())
        .attribute(
            attribute(
                "image_id",
                &CtyType::String,
                "ID of the custom image, e.g. `image-ebgy1og99tfct0gw1234`.",
            )
            .required(),
        )
        .attribute(
            attribute(
                "account_ids",
                &CtyType::set(CtyType::String),
                "IDs of the accounts the image is shared with.",
            )
            .computed(),
        )
        .attribute(
            attribute(
                "total_count",
                &CtyType::Number,
                "Number of accounts the image is shared with, as reported by the API.",
            )
            .computed(),
        )
        .build(0)
}

pub fn state_type() -> &'static CtyType {
    static TYPE: OnceLock<CtyType> = OnceLock::new();
    TYPE.get_or_init(|| {
        implied_type(schema().block.as_ref().expect("schema has a block"))
            .expect("valid schema types")
    })
}

pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    validate::validate_image_id(config, &mut diags);
    diags
}

/// ReadDataSource. Unlike the resource, a missing image is an error here:
/// the configuration asked about an image that does not exist.
pub async fn read(
    api: &dyn ShareApi,
    cancel: &CancellationToken,
    config: &Value,
) -> (Value, Diagnostics) {
    let Some(image_id) = config.attr("image_id").as_str() else {
        // Not known yet (Terraform normally defers such reads to apply).
        let state = Value::object([
            ("id", Value::Unknown),
            ("image_id", config.attr("image_id").clone()),
            ("account_ids", Value::Unknown),
            ("total_count", Value::Unknown),
        ]);
        return (state, Diagnostics::new());
    };
    let ctx = CallContext::new(Instant::now() + timeouts::DEFAULT_READ, cancel.clone());
    match api.describe(&ctx, image_id).await {
        Ok(shares) => {
            // Trust the listed accounts when TotalCount is absent or smaller.
            let total = shares.total_count.max(shares.accounts.len() as u64);
            let state = Value::object([
                ("id", Value::string(image_id)),
                ("image_id", Value::string(image_id)),
                ("account_ids", Value::string_set(&shares.accounts)),
                (
                    "total_count",
                    Value::Number(Number::Int(i64::try_from(total).unwrap_or(i64::MAX))),
                ),
            ]);
            (state, Diagnostics::new())
        }
        Err(error) => (
            config.clone(),
            api_errors::api_error(
                format!("Failed to read the shares of image {image_id}"),
                &error,
                None,
            )
            .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::share_sync::fake::FakeApi;

    fn config(image_id: &str) -> Value {
        Value::object([("image_id", Value::string(image_id))])
    }

    #[tokio::test]
    async fn reads_accounts_and_count() {
        let api = FakeApi::with_image("image-a", ["2".to_string(), "1".to_string()]);
        let (state, diags) = read(&api, &CancellationToken::new(), &config("image-a")).await;
        assert!(diags.is_empty());
        assert_eq!(state.attr("account_ids"), &Value::string_set(["1", "2"]));
        assert_eq!(state.attr("total_count"), &Value::Number(Number::Int(2)));
        assert_eq!(state.attr("id").as_str(), Some("image-a"));
        state.to_msgpack(state_type()).unwrap();
    }

    #[tokio::test]
    async fn missing_image_is_an_error() {
        let api = FakeApi::default();
        let (_, diags) = read(&api, &CancellationToken::new(), &config("image-b")).await;
        assert!(diags.has_errors());
        assert!(diags
            .iter()
            .any(|d| d.detail.contains("InvalidImage.NotFound")));
    }

    #[test]
    fn validates_image_id() {
        assert!(validate(&config("nope")).has_errors());
        assert!(!validate(&config("image-abc")).has_errors());
        assert!(!validate(&Value::object([("image_id", Value::Unknown)])).has_errors());
    }
}
