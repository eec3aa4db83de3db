//! The tfplugin6 `Provider` service: provider configuration and routing of
//! each RPC to the resource or data source it names.

mod schema;

use std::collections::HashMap;

use tonic::{Request, Response, Status};

use crate::data_sources;
use crate::resources;
use crate::tfplugin::proto;
use crate::tfplugin::proto::provider_server::Provider;

pub use schema::provider_schema;

/// The Volcengine provider.
#[derive(Default)]
pub struct VolcengineProvider {}

impl VolcengineProvider {
    pub fn new() -> Self {
        Self::default()
    }
}

fn server_capabilities() -> proto::ServerCapabilities {
    proto::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

#[tonic::async_trait]
impl Provider for VolcengineProvider {
    async fn get_metadata(
        &self,
        _request: Request<proto::get_metadata::Request>,
    ) -> Result<Response<proto::get_metadata::Response>, Status> {
        use proto::get_metadata::{DataSourceMetadata, ResourceMetadata};
        Ok(Response::new(proto::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            resources: vec![ResourceMetadata {
                type_name: resources::image_share::TYPE_NAME.into(),
            }],
            data_sources: vec![DataSourceMetadata {
                type_name: data_sources::image_share::TYPE_NAME.into(),
            }],
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<proto::get_provider_schema::Request>,
    ) -> Result<Response<proto::get_provider_schema::Response>, Status> {
        Ok(Response::new(proto::get_provider_schema::Response {
            provider: Some(provider_schema()),
            resource_schemas: HashMap::from([(
                resources::image_share::TYPE_NAME.to_owned(),
                resources::image_share::schema(),
            )]),
            data_source_schemas: HashMap::from([(
                data_sources::image_share::TYPE_NAME.to_owned(),
                data_sources::image_share::schema(),
            )]),
            server_capabilities: Some(server_capabilities()),
            ..Default::default()
        }))
    }
}
