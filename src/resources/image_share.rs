//! `volcengine_image_share`: the complete set of accounts one custom image is
//! shared with (authoritative: accounts not listed are unshared).

use crate::tfplugin::proto;
use crate::tfplugin::proto::schema::nested_block::NestingMode;
use crate::tfplugin::schema::{attribute, block};
use crate::tfplugin::CtyType;

pub const TYPE_NAME: &str = "volcengine_image_share";
pub const SCHEMA_VERSION: i64 = 0;

pub fn schema() -> proto::Schema {
    block(
        "Shares one Volcengine ECS custom image with a set of accounts. The resource is \
         **authoritative**: it manages the whole share list of the image, so accounts that are not \
         in `account_ids` lose access on the next apply. Changes are sent with \
         `ModifyImageSharePermission` in batches of at most 50 accounts added and 50 removed per call.",
    )
    .attribute(
        attribute("id", &CtyType::String, "The image ID (same as `image_id`).").computed(),
    )
    .attribute(
        attribute(
            "image_id",
            &CtyType::String,
            "ID of the custom image to share, e.g. `image-ebgy1og99tfct0gw1234`. The image must be \
             in status `available` and owned by the caller. Changing it replaces the resource.",
        )
        .required(),
    )
    .attribute(
        attribute(
            "account_ids",
            &CtyType::set(CtyType::String),
            "IDs of the Volcengine accounts (digits only) the image is shared with. An empty set \
             means the image is shared with nobody.",
        )
        .required(),
    )
    .nested_block("timeouts", NestingMode::Single, timeouts_block())
    .build(SCHEMA_VERSION)
}

fn timeouts_block() -> crate::tfplugin::schema::BlockBuilder {
    block(
        "Time limits for each operation, as durations such as `30s`, `10m` or `1h30m`. Retries and \
         batches stop when the limit is reached.",
    )
    .attribute(attribute("create", &CtyType::String, "Time limit for creating the share list. Default `20m`.").optional())
    .attribute(attribute("update", &CtyType::String, "Time limit for updating the share list. Default `20m`.").optional())
    .attribute(attribute("delete", &CtyType::String, "Time limit for removing all shares. Default `20m`.").optional())
    .attribute(attribute("read", &CtyType::String, "Time limit for reading the share list. Default `5m`.").optional())
}
