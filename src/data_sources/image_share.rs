//! `volcengine_image_share` data source: the accounts an image is shared with.

use crate::tfplugin::proto;
use crate::tfplugin::schema::{attribute, block};
use crate::tfplugin::CtyType;

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
