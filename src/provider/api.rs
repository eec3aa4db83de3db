//! The two ECS calls resources and data sources make, behind a trait so the
//! share logic can be exercised against an in-memory double in unit tests.
//! Production uses [`ClientShareApi`] over the real signed client.

use async_trait::async_trait;

use crate::volcengine::ecs::{self, ImageShares, ModifyImageSharePermission};
use crate::volcengine::{CallContext, Client, Error};

#[async_trait]
pub trait ShareApi: Send + Sync {
    /// Every account the image is shared with (all pages).
    async fn describe(&self, ctx: &CallContext, image_id: &str) -> Result<ImageShares, Error>;
    /// One ModifyImageSharePermission call (at most 50 accounts per list).
    async fn modify(
        &self,
        ctx: &CallContext,
        request: &ModifyImageSharePermission,
    ) -> Result<(), Error>;
}

/// [`ShareApi`] over the real Volcengine client.
#[derive(Clone, Debug)]
pub struct ClientShareApi(pub Client);

#[async_trait]
impl ShareApi for ClientShareApi {
    async fn describe(&self, ctx: &CallContext, image_id: &str) -> Result<ImageShares, Error> {
        ecs::describe_image_share_permission(&self.0, ctx, image_id).await
    }

    async fn modify(
        &self,
        ctx: &CallContext,
        request: &ModifyImageSharePermission,
    ) -> Result<(), Error> {
        ecs::modify_image_share_permission(&self.0, ctx, request).await
    }
}
