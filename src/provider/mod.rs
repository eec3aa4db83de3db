//! The tfplugin6 `Provider` service: provider configuration and routing of
//! each RPC to the resource or data source it names. Values are decoded and
//! encoded here; resources and data sources work on [`Value`]s.

pub mod api;
pub mod api_errors;
pub mod config;
mod schema;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::data_sources;
use crate::resources::image_share;
use crate::tfplugin::proto::provider_server::Provider;
use crate::tfplugin::{diagnostics, proto, CtyType, Diagnostics, Value};
use crate::volcengine::Client;
use api::{ClientShareApi, ShareApi};
use config::Configured;

pub use schema::provider_schema;

/// The Volcengine provider. Cheap to clone; clones share configuration and
/// cancellation.
#[derive(Clone, Default)]
pub struct VolcengineProvider {
    state: Arc<ProviderState>,
}

#[derive(Default)]
struct ProviderState {
    /// Set by ConfigureProvider.
    configured: RwLock<Option<Configured>>,
    /// The API built from the configuration on first use (or injected).
    api: Mutex<Option<Arc<dyn ShareApi>>>,
    /// Injected API for tests: used whatever the configuration says.
    injected: Option<Arc<dyn ShareApi>>,
    /// Observed by every in-flight operation; StopProvider cancels it and
    /// installs a fresh one for later calls.
    stop: Mutex<CancellationToken>,
}

impl VolcengineProvider {
    pub fn new() -> Self {
        Self::default()
    }

    /// A provider that uses `api` instead of a client built from its
    /// configuration (tests with an in-memory or instrumented API).
    pub fn with_api(api: Arc<dyn ShareApi>) -> Self {
        VolcengineProvider {
            state: Arc::new(ProviderState {
                injected: Some(api),
                ..Default::default()
            }),
        }
    }

    /// The token the operation starting now observes.
    fn cancel_token(&self) -> CancellationToken {
        self.state
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The API, built from the provider configuration on first use. Missing
    /// credentials are reported here, by the first operation that needs them.
    fn api(&self) -> Result<Arc<dyn ShareApi>, Diagnostics> {
        if let Some(api) = &self.state.injected {
            return Ok(api.clone());
        }
        let mut cached = self
            .state
            .api
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(api) = cached.as_ref() {
            return Ok(api.clone());
        }
        let configured = self
            .state
            .configured
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let settings = match configured.as_ref() {
            None => {
                return Err(diagnostics::error(
                    "Provider not configured",
                    "Terraform did not configure the volcengine provider before using it.",
                )
                .into())
            }
            Some(Configured::Unknown { attributes }) => {
                return Err(diagnostics::error(
                    "Provider configuration not known yet",
                    format!(
                    "The provider arguments {} depend on values that are only known after apply, \
                         so the API cannot be called yet. Apply the resources they depend on first \
                         (e.g. with -target), or use values known at plan time.",
                    attributes.join(", ")
                ),
                )
                .into())
            }
            Some(Configured::Known(settings)) => settings,
        };
        let client_config = settings.client_config()?;
        let client = Client::new(client_config).map_err(|e| {
            Diagnostics::from(diagnostics::error(
                "Cannot create the Volcengine API client",
                e.to_string(),
            ))
        })?;
        let api: Arc<dyn ShareApi> = Arc::new(ClientShareApi(client));
        *cached = Some(api.clone());
        Ok(api)
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

fn decode(
    dv: Option<&proto::DynamicValue>,
    ty: &CtyType,
    what: &str,
) -> Result<Value, Diagnostics> {
    Value::from_dynamic(dv, ty).map_err(|e| {
        Diagnostics::from(diagnostics::error(
            format!("Invalid {what} from Terraform"),
            format!("The provider could not decode the {what}: {e}"),
        ))
    })
}

fn encode(value: &Value, ty: &CtyType, diags: &mut Diagnostics) -> Option<proto::DynamicValue> {
    match value.to_dynamic(ty) {
        Ok(dv) => Some(dv),
        Err(e) => {
            diags.error(
                "Provider produced an invalid value",
                format!("Encoding failed: {e}. This is a provider bug."),
            );
            None
        }
    }
}

fn identity_data(
    identity: Option<Value>,
    diags: &mut Diagnostics,
) -> Option<proto::ResourceIdentityData> {
    let identity = identity?;
    encode(&identity, image_share::identity_type(), diags).map(|dv| proto::ResourceIdentityData {
        identity_data: Some(dv),
    })
}

fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    diagnostics::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {type_name:?}."),
    )
    .into()
}

/// Unwraps a `Result<T, Diagnostics>` or returns the response built from the
/// diagnostics.
macro_rules! try_diags {
    ($expr:expr, $diags:ident => $response:expr) => {
        match $expr {
            Ok(value) => value,
            Err($diags) => return Ok(Response::new($response)),
        }
    };
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
                type_name: image_share::TYPE_NAME.into(),
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
                image_share::TYPE_NAME.to_owned(),
                image_share::schema(),
            )]),
            data_source_schemas: HashMap::from([(
                data_sources::image_share::TYPE_NAME.to_owned(),
                data_sources::image_share::schema(),
            )]),
            server_capabilities: Some(server_capabilities()),
            ..Default::default()
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<proto::get_resource_identity_schemas::Request>,
    ) -> Result<Response<proto::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(
            proto::get_resource_identity_schemas::Response {
                identity_schemas: HashMap::from([(
                    image_share::TYPE_NAME.to_owned(),
                    image_share::identity_schema(),
                )]),
                diagnostics: Vec::new(),
            },
        ))
    }

    async fn validate_provider_config(
        &self,
        request: Request<proto::validate_provider_config::Request>,
    ) -> Result<Response<proto::validate_provider_config::Response>, Status> {
        use proto::validate_provider_config::Response as R;
        let ty = provider_type();
        let config = try_diags!(decode(request.get_ref().config.as_ref(), &ty, "provider configuration"),
            d => R { diagnostics: d.into_vec() });
        Ok(Response::new(R {
            diagnostics: config::validate(&config).into_vec(),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<proto::configure_provider::Request>,
    ) -> Result<Response<proto::configure_provider::Response>, Status> {
        use proto::configure_provider::Response as R;
        let ty = provider_type();
        let value = try_diags!(decode(request.get_ref().config.as_ref(), &ty, "provider configuration"),
            d => R { diagnostics: d.into_vec() });
        let configured = try_diags!(config::resolve(&value, |name| std::env::var(name).ok()),
            d => R { diagnostics: d.into_vec() });
        match &configured {
            Configured::Known(settings) => tracing::debug!(
                endpoint = %settings.endpoint,
                region = settings.region.as_deref().unwrap_or("-"),
                max_retries = settings.max_retries,
                has_credentials = settings.access_key.is_some() && settings.secret_key.is_some(),
                terraform_version = %request.get_ref().terraform_version,
                "provider configured"
            ),
            Configured::Unknown { attributes } => {
                tracing::debug!(
                    ?attributes,
                    "provider configured with values unknown until apply"
                )
            }
        }
        *self
            .state
            .configured
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(configured);
        *self
            .state
            .api
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        Ok(Response::new(R {
            diagnostics: Vec::new(),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<proto::stop_provider::Request>,
    ) -> Result<Response<proto::stop_provider::Response>, Status> {
        let mut token = self
            .state
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tracing::debug!("StopProvider: cancelling in-flight operations");
        token.cancel();
        *token = CancellationToken::new();
        Ok(Response::new(proto::stop_provider::Response {
            error: String::new(),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<proto::validate_resource_config::Request>,
    ) -> Result<Response<proto::validate_resource_config::Response>, Status> {
        use proto::validate_resource_config::Response as R;
        let req = request.get_ref();
        if req.type_name != image_share::TYPE_NAME {
            return Ok(Response::new(R {
                diagnostics: unknown_type("resource", &req.type_name).into_vec(),
            }));
        }
        let config = try_diags!(decode(req.config.as_ref(), image_share::state_type(), "configuration"),
            d => R { diagnostics: d.into_vec() });
        Ok(Response::new(R {
            diagnostics: image_share::validate(&config).into_vec(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<proto::upgrade_resource_state::Request>,
    ) -> Result<Response<proto::upgrade_resource_state::Response>, Status> {
        use proto::upgrade_resource_state::Response as R;
        let req = request.get_ref();
        let respond = |d: Diagnostics| R {
            upgraded_state: None,
            diagnostics: d.into_vec(),
        };
        if req.type_name != image_share::TYPE_NAME {
            return Ok(Response::new(respond(unknown_type(
                "resource",
                &req.type_name,
            ))));
        }
        let raw = req.raw_state.clone().unwrap_or_default();
        let state = try_diags!(image_share::upgrade(req.version, &raw), d => respond(d));
        let mut diags = Diagnostics::new();
        let upgraded_state = encode(&state, image_share::state_type(), &mut diags);
        Ok(Response::new(R {
            upgraded_state,
            diagnostics: diags.into_vec(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<proto::upgrade_resource_identity::Request>,
    ) -> Result<Response<proto::upgrade_resource_identity::Response>, Status> {
        use proto::upgrade_resource_identity::Response as R;
        let req = request.get_ref();
        let respond = |d: Diagnostics| R {
            upgraded_identity: None,
            diagnostics: d.into_vec(),
        };
        if req.type_name != image_share::TYPE_NAME {
            return Ok(Response::new(respond(unknown_type(
                "resource",
                &req.type_name,
            ))));
        }
        if req.version != image_share::IDENTITY_VERSION {
            return Ok(Response::new(respond(
                diagnostics::error(
                    "Unsupported identity version",
                    format!(
                        "Identity version {} of {} is not known to this provider.",
                        req.version, req.type_name
                    ),
                )
                .into(),
            )));
        }
        let raw = req.raw_identity.clone().unwrap_or_default();
        let identity = try_diags!(image_share::decode_lenient(&raw.json, image_share::identity_type()), d => respond(d));
        let mut diags = Diagnostics::new();
        let upgraded_identity = identity_data(Some(identity), &mut diags);
        Ok(Response::new(R {
            upgraded_identity,
            diagnostics: diags.into_vec(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<proto::read_resource::Request>,
    ) -> Result<Response<proto::read_resource::Response>, Status> {
        use proto::read_resource::Response as R;
        let req = request.get_ref();
        let respond = |d: Diagnostics| R {
            new_state: req.current_state.clone(),
            diagnostics: d.into_vec(),
            private: req.private.clone(),
            deferred: None,
            new_identity: req.current_identity.clone(),
        };
        if req.type_name != image_share::TYPE_NAME {
            return Ok(Response::new(respond(unknown_type(
                "resource",
                &req.type_name,
            ))));
        }
        let ty = image_share::state_type();
        let current =
            try_diags!(decode(req.current_state.as_ref(), ty, "current state"), d => respond(d));
        let api = try_diags!(self.api(), d => respond(d));
        let outcome = image_share::read(api.as_ref(), &self.cancel_token(), &current).await;
        let mut diags = outcome.diagnostics;
        let new_state = encode(&outcome.state, ty, &mut diags);
        let new_identity = identity_data(image_share::identity_of(&outcome.state), &mut diags);
        Ok(Response::new(R {
            new_state,
            diagnostics: diags.into_vec(),
            private: req.private.clone(),
            deferred: None,
            new_identity,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<proto::plan_resource_change::Request>,
    ) -> Result<Response<proto::plan_resource_change::Response>, Status> {
        use proto::plan_resource_change::Response as R;
        let req = request.get_ref();
        let respond = |d: Diagnostics| R {
            diagnostics: d.into_vec(),
            ..Default::default()
        };
        if req.type_name != image_share::TYPE_NAME {
            return Ok(Response::new(respond(unknown_type(
                "resource",
                &req.type_name,
            ))));
        }
        let ty = image_share::state_type();
        let prior =
            try_diags!(decode(req.prior_state.as_ref(), ty, "prior state"), d => respond(d));
        let proposed = try_diags!(decode(req.proposed_new_state.as_ref(), ty, "proposed state"), d => respond(d));
        let planned = image_share::plan(&prior, &proposed);
        let mut diags = Diagnostics::new();
        let planned_state = encode(&planned.state, ty, &mut diags);
        let planned_identity = if planned.state.is_null() {
            req.prior_identity.clone()
        } else {
            identity_data(image_share::identity_of(&planned.state), &mut diags)
        };
        Ok(Response::new(R {
            planned_state,
            requires_replace: planned
                .requires_replace
                .iter()
                .map(|p| p.to_proto())
                .collect(),
            planned_private: req.prior_private.clone(),
            diagnostics: diags.into_vec(),
            legacy_type_system: false,
            deferred: None,
            planned_identity,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<proto::apply_resource_change::Request>,
    ) -> Result<Response<proto::apply_resource_change::Response>, Status> {
        use proto::apply_resource_change::Response as R;
        let req = request.get_ref();
        let respond = |d: Diagnostics| R {
            new_state: req.prior_state.clone(),
            diagnostics: d.into_vec(),
            ..Default::default()
        };
        if req.type_name != image_share::TYPE_NAME {
            return Ok(Response::new(respond(unknown_type(
                "resource",
                &req.type_name,
            ))));
        }
        let ty = image_share::state_type();
        let prior =
            try_diags!(decode(req.prior_state.as_ref(), ty, "prior state"), d => respond(d));
        let planned =
            try_diags!(decode(req.planned_state.as_ref(), ty, "planned state"), d => respond(d));
        let api = try_diags!(self.api(), d => respond(d));
        let outcome =
            image_share::apply(api.as_ref(), &self.cancel_token(), &prior, &planned).await;
        let mut diags = outcome.diagnostics;
        let new_state = encode(&outcome.state, ty, &mut diags);
        let new_identity = identity_data(image_share::identity_of(&outcome.state), &mut diags);
        Ok(Response::new(R {
            new_state,
            private: req.planned_private.clone(),
            diagnostics: diags.into_vec(),
            legacy_type_system: false,
            new_identity,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<proto::import_resource_state::Request>,
    ) -> Result<Response<proto::import_resource_state::Response>, Status> {
        use proto::import_resource_state::{ImportedResource, Response as R};
        let req = request.get_ref();
        let respond = |d: Diagnostics| R {
            diagnostics: d.into_vec(),
            ..Default::default()
        };
        if req.type_name != image_share::TYPE_NAME {
            return Ok(Response::new(respond(unknown_type(
                "resource",
                &req.type_name,
            ))));
        }
        let identity_value = req.identity.as_ref().and_then(|i| i.identity_data.as_ref());
        let state = if req.id.is_empty() && identity_value.is_some() {
            let identity = try_diags!(decode(identity_value, image_share::identity_type(), "import identity"),
                d => respond(d));
            try_diags!(image_share::import_identity(&identity), d => respond(d))
        } else {
            try_diags!(image_share::import(&req.id), d => respond(d))
        };
        let mut diags = Diagnostics::new();
        let encoded = encode(&state, image_share::state_type(), &mut diags);
        let identity = identity_data(image_share::identity_of(&state), &mut diags);
        Ok(Response::new(R {
            imported_resources: vec![ImportedResource {
                type_name: req.type_name.clone(),
                state: encoded,
                private: Vec::new(),
                identity,
            }],
            diagnostics: diags.into_vec(),
            deferred: None,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<proto::validate_data_resource_config::Request>,
    ) -> Result<Response<proto::validate_data_resource_config::Response>, Status> {
        use proto::validate_data_resource_config::Response as R;
        let req = request.get_ref();
        if req.type_name != data_sources::image_share::TYPE_NAME {
            return Ok(Response::new(R {
                diagnostics: unknown_type("data source", &req.type_name).into_vec(),
            }));
        }
        let config = try_diags!(decode(req.config.as_ref(), data_sources::image_share::state_type(), "configuration"),
            d => R { diagnostics: d.into_vec() });
        Ok(Response::new(R {
            diagnostics: data_sources::image_share::validate(&config).into_vec(),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<proto::read_data_source::Request>,
    ) -> Result<Response<proto::read_data_source::Response>, Status> {
        use proto::read_data_source::Response as R;
        let req = request.get_ref();
        let respond = |d: Diagnostics| R {
            state: None,
            diagnostics: d.into_vec(),
            deferred: None,
        };
        if req.type_name != data_sources::image_share::TYPE_NAME {
            return Ok(Response::new(respond(unknown_type(
                "data source",
                &req.type_name,
            ))));
        }
        let ty = data_sources::image_share::state_type();
        let config = try_diags!(decode(req.config.as_ref(), ty, "configuration"), d => respond(d));
        let api = try_diags!(self.api(), d => respond(d));
        let (state, mut diags) =
            data_sources::image_share::read(api.as_ref(), &self.cancel_token(), &config).await;
        let state = encode(&state, ty, &mut diags);
        Ok(Response::new(R {
            state,
            diagnostics: diags.into_vec(),
            deferred: None,
        }))
    }
}

/// The object type of the provider block.
fn provider_type() -> CtyType {
    crate::tfplugin::schema::implied_type(
        provider_schema()
            .block
            .as_ref()
            .expect("schema has a block"),
    )
    .expect("provider schema types are valid")
}
