//! The provider driven in process through its tfplugin6 service methods (the
//! msgpack values Terraform sends), against an in-process emulator. Used by
//! the reliability tests that need many fast runs: the fault matrix and the
//! convergence property.
//!
//! Every operation returns what Terraform would record (the new state) and the
//! error diagnostics as text, never panicking on a failed operation, so tests
//! can check both the failure and the state left behind.
#![allow(dead_code)] // each test file uses a different part

pub mod cells;

use std::collections::BTreeSet;
use std::time::Duration;

use terraform_provider_volcengine::data_sources;
use terraform_provider_volcengine::emulator::{
    CallRecord, Emulator, EmulatorConfig, RunningEmulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY,
};
use terraform_provider_volcengine::provider::{provider_schema, VolcengineProvider};
use terraform_provider_volcengine::resources::image_share;
use terraform_provider_volcengine::tfplugin::proto::provider_server::Provider;
use terraform_provider_volcengine::tfplugin::{proto, schema, CtyType, Number, Value};
use tonic::Request;

pub const MODIFY: &str = "ModifyImageSharePermission";
pub const DESCRIBE: &str = "DescribeImageSharePermission";

/// `count` account IDs from `first` on: "2100000000", "2100000001", ...
pub fn accounts(range: std::ops::Range<u64>) -> BTreeSet<String> {
    range.map(|i| (2_100_000_000 + i).to_string()).collect()
}

/// Provider settings the reliability tests vary.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub max_retries: i64,
    /// `request_timeout` (a Go duration), None for the provider's default.
    pub request_timeout: Option<String>,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            max_retries: 2,
            request_timeout: Some("1s".into()),
        }
    }
}

/// What one operation left: the state Terraform would record (null = no
/// object) and the error diagnostics as "summary: detail".
#[derive(Clone, Debug)]
pub struct Outcome {
    pub state: Value,
    pub errors: Vec<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn error_text(&self) -> String {
        self.errors.join("\n---\n")
    }

    /// The recorded `account_ids`, None when there is no object.
    pub fn accounts(&self) -> Option<BTreeSet<String>> {
        state_accounts(&self.state)
    }
}

pub fn state_accounts(state: &Value) -> Option<BTreeSet<String>> {
    if state.is_null() {
        None
    } else {
        Some(
            state
                .attr("account_ids")
                .as_string_set()
                .expect("a recorded object has known account_ids"),
        )
    }
}

/// `volcengine_image_share` configuration for `image` and `accounts`, with an
/// optional `timeouts` block.
pub fn resource_config(
    image: &str,
    accounts: &BTreeSet<String>,
    timeouts: Option<&[(&str, &str)]>,
) -> Value {
    let timeouts = match timeouts {
        None => Value::Null,
        Some(pairs) => {
            let mut block: Vec<(&str, Value)> = ["create", "update", "delete", "read"]
                .into_iter()
                .map(|op| (op, Value::Null))
                .collect();
            for (op, duration) in pairs {
                block.retain(|(name, _)| name != op);
                block.push((op, Value::string(*duration)));
            }
            Value::object(block)
        }
    };
    Value::object([
        ("id", Value::Null),
        ("image_id", Value::string(image)),
        ("account_ids", Value::string_set(accounts)),
        ("timeouts", timeouts),
    ])
}

fn provider_type() -> CtyType {
    schema::implied_type(provider_schema().block.as_ref().expect("provider block"))
        .expect("provider type")
}

fn dv(value: &Value) -> Option<proto::DynamicValue> {
    Some(
        value
            .to_dynamic(image_share::state_type())
            .expect("encode resource value"),
    )
}

fn undv(dv: Option<&proto::DynamicValue>) -> Value {
    match dv {
        None => Value::Null,
        Some(_) => Value::from_dynamic(dv, image_share::state_type()).expect("decode state"),
    }
}

fn errors(diags: &[proto::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == proto::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

/// One emulator and one configured provider talking to it.
pub struct ProviderHarness {
    pub emulator: RunningEmulator,
    pub provider: VolcengineProvider,
}

impl ProviderHarness {
    /// An emulator holding `images` (status available) and a provider
    /// configured for it with `settings`.
    pub async fn start(images: &[&str], settings: &ProviderSettings) -> ProviderHarness {
        ProviderHarness::start_with(
            EmulatorConfig {
                images: images.iter().map(|i| i.to_string()).collect(),
                ..EmulatorConfig::default()
            },
            settings,
        )
        .await
    }

    pub async fn start_with(
        config: EmulatorConfig,
        settings: &ProviderSettings,
    ) -> ProviderHarness {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let provider = VolcengineProvider::new();
        let config = Value::object([
            ("access_key", Value::string(DEFAULT_ACCESS_KEY)),
            ("secret_key", Value::string(DEFAULT_SECRET_KEY)),
            ("session_token", Value::Null),
            ("region", Value::string("cn-beijing")),
            ("endpoint", Value::string(emulator.base_url())),
            (
                "max_retries",
                Value::Number(Number::Int(settings.max_retries)),
            ),
            ("ca_bundle_file", Value::Null),
            (
                "request_timeout",
                settings
                    .request_timeout
                    .as_deref()
                    .map_or(Value::Null, Value::string),
            ),
        ]);
        let resp = provider
            .configure_provider(Request::new(proto::configure_provider::Request {
                config: Some(
                    config
                        .to_dynamic(&provider_type())
                        .expect("provider config"),
                ),
                ..Default::default()
            }))
            .await
            .expect("ConfigureProvider")
            .into_inner();
        assert!(
            errors(&resp.diagnostics).is_empty(),
            "ConfigureProvider: {:?}",
            resp.diagnostics
        );
        ProviderHarness { emulator, provider }
    }

    /// PlanResourceChange with the proposed state built like Terraform does
    /// (the configuration plus the prior computed `id`). Returns the planned
    /// state and whether the plan is a no-op (planned == prior, nothing to replace).
    pub async fn plan(&self, prior: &Value, config: &Value) -> (Value, bool) {
        let mut proposed = config.clone();
        if !prior.is_null() && !config.is_null() {
            proposed.set_attr("id", prior.attr("id").clone());
        }
        let resp = self
            .provider
            .plan_resource_change(Request::new(proto::plan_resource_change::Request {
                type_name: image_share::TYPE_NAME.into(),
                prior_state: dv(prior),
                proposed_new_state: dv(&proposed),
                config: dv(config),
                ..Default::default()
            }))
            .await
            .expect("PlanResourceChange")
            .into_inner();
        let errs = errors(&resp.diagnostics);
        assert!(errs.is_empty(), "plan failed: {errs:?}");
        let planned = undv(resp.planned_state.as_ref());
        let no_op = planned == *prior && resp.requires_replace.is_empty();
        (planned, no_op)
    }

    /// ApplyResourceChange (create, update or delete as prior/planned say).
    pub async fn apply(&self, prior: &Value, planned: &Value, config: &Value) -> Outcome {
        let resp = self
            .provider
            .apply_resource_change(Request::new(proto::apply_resource_change::Request {
                type_name: image_share::TYPE_NAME.into(),
                prior_state: dv(prior),
                planned_state: dv(planned),
                config: dv(config),
                ..Default::default()
            }))
            .await
            .expect("ApplyResourceChange")
            .into_inner();
        Outcome {
            state: undv(resp.new_state.as_ref()),
            errors: errors(&resp.diagnostics),
        }
    }

    /// Plan then apply `config` (null = destroy) from `prior`, as one
    /// `terraform apply` does after its refresh.
    pub async fn plan_apply(&self, prior: &Value, config: &Value) -> Outcome {
        let (planned, no_op) = self.plan(prior, config).await;
        if no_op {
            return Outcome {
                state: prior.clone(),
                errors: Vec::new(),
            };
        }
        self.apply(prior, &planned, config).await
    }

    /// ReadResource (a refresh).
    pub async fn read(&self, state: &Value) -> Outcome {
        if state.is_null() {
            return Outcome {
                state: Value::Null,
                errors: Vec::new(),
            };
        }
        let resp = self
            .provider
            .read_resource(Request::new(proto::read_resource::Request {
                type_name: image_share::TYPE_NAME.into(),
                current_state: dv(state),
                ..Default::default()
            }))
            .await
            .expect("ReadResource")
            .into_inner();
        Outcome {
            state: undv(resp.new_state.as_ref()),
            errors: errors(&resp.diagnostics),
        }
    }

    /// `terraform import`: ImportResourceState by ID, then ReadResource. A
    /// failure records nothing (state null).
    pub async fn import(&self, id: &str) -> Outcome {
        let resp = self
            .provider
            .import_resource_state(Request::new(proto::import_resource_state::Request {
                type_name: image_share::TYPE_NAME.into(),
                id: id.into(),
                ..Default::default()
            }))
            .await
            .expect("ImportResourceState")
            .into_inner();
        let errs = errors(&resp.diagnostics);
        if !errs.is_empty() {
            return Outcome {
                state: Value::Null,
                errors: errs,
            };
        }
        let imported = resp
            .imported_resources
            .first()
            .expect("one imported resource");
        let state = undv(imported.state.as_ref());
        let read = self.read(&state).await;
        if read.ok() {
            read
        } else {
            Outcome {
                state: Value::Null,
                errors: read.errors,
            }
        }
    }

    /// ReadDataSource for `image`. The state is the data source's object
    /// (null on failure: Terraform records nothing).
    pub async fn read_data_source(&self, image: &str) -> Outcome {
        let ty = data_sources::image_share::state_type();
        let config = Value::object([
            ("id", Value::Null),
            ("image_id", Value::string(image)),
            ("account_ids", Value::Null),
            ("total_count", Value::Null),
        ]);
        let resp = self
            .provider
            .read_data_source(Request::new(proto::read_data_source::Request {
                type_name: data_sources::image_share::TYPE_NAME.into(),
                config: Some(config.to_dynamic(ty).expect("encode data config")),
                ..Default::default()
            }))
            .await
            .expect("ReadDataSource")
            .into_inner();
        let errs = errors(&resp.diagnostics);
        let state = if errs.is_empty() {
            Value::from_dynamic(resp.state.as_ref(), ty).expect("decode data state")
        } else {
            Value::Null
        };
        Outcome {
            state,
            errors: errs,
        }
    }

    /// What a fault-free `terraform apply` does from `state`: refresh, plan,
    /// apply. Panics unless it succeeds.
    pub async fn converge(&self, state: &Value, config: &Value) -> Value {
        let refreshed = self.read(state).await;
        assert!(refreshed.ok(), "refresh failed: {}", refreshed.error_text());
        let applied = self.plan_apply(&refreshed.state, config).await;
        assert!(applied.ok(), "apply failed: {}", applied.error_text());
        applied.state
    }

    /// Err unless a refresh of `state` changes nothing and the plan of
    /// `config` from it is empty (what `plan -detailed-exitcode` = 0 means).
    pub async fn check_empty_plan(&self, state: &Value, config: &Value) -> Result<(), String> {
        let refreshed = self.read(state).await;
        if !refreshed.ok() {
            return Err(format!("refresh failed: {}", refreshed.error_text()));
        }
        if refreshed.state != *state {
            return Err(format!(
                "refresh changed the state: {:?} -> {:?}",
                state_accounts(state).map(|a| a.len()),
                refreshed.accounts().map(|a| a.len())
            ));
        }
        if config.is_null() && state.is_null() {
            return Ok(());
        }
        let (_, no_op) = self.plan(state, config).await;
        if no_op {
            Ok(())
        } else {
            Err("the plan after the converging apply is not empty".into())
        }
    }

    /// The accounts the emulator says `image` is shared with (None: no image).
    pub fn truth(&self, image: &str) -> Option<BTreeSet<String>> {
        self.emulator
            .shares(image)
            .map(|accounts| accounts.into_iter().collect())
    }

    /// Replaces the shares of `image` behind the provider's back.
    pub async fn set_shares(&self, image: &str, accounts: &BTreeSet<String>) {
        let refs: Vec<&str> = accounts.iter().map(String::as_str).collect();
        self.emulator
            .set_shares(image, &refs)
            .await
            .expect("set_shares");
    }

    /// Calls of `action` in the emulator's log.
    pub fn calls_of(&self, action: &str) -> Vec<CallRecord> {
        self.emulator
            .calls()
            .into_iter()
            .filter(|c| c.action == action)
            .collect()
    }
}

/// Bounds a test's async body; a hang is a failure with a clear message.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    body: impl std::future::Future<Output = T>,
) -> T {
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
}

impl ProviderHarness {
    /// Like [`start`](Self::start), but the provider uses a client with a
    /// short backoff (5 ms base, 50 ms cap) instead of the production one
    /// (200 ms, 5 s): the same request, retry and resource code, for tests
    /// that run hundreds of operations with faults.
    pub async fn start_fast(images: &[&str], max_retries: u32) -> ProviderHarness {
        use std::sync::Arc;
        use terraform_provider_volcengine::provider::api::ClientShareApi;
        use terraform_provider_volcengine::volcengine::retry::Backoff;
        use terraform_provider_volcengine::volcengine::{
            Client, ClientConfig, ClientOptions, Credentials, Secret,
        };
        let emulator = Emulator::start(EmulatorConfig {
            images: images.iter().map(|i| i.to_string()).collect(),
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator starts");
        let client = Client::with_options(
            ClientConfig {
                endpoint: emulator.base_url(),
                region: "cn-beijing".into(),
                credentials: Credentials {
                    access_key: DEFAULT_ACCESS_KEY.into(),
                    secret_key: Secret::new(DEFAULT_SECRET_KEY),
                    session_token: None,
                },
                max_retries,
                request_timeout: Duration::from_millis(2500),
                ca_bundle_pem: None,
            },
            ClientOptions {
                backoff: Backoff {
                    base: Duration::from_millis(5),
                    cap: Duration::from_millis(50),
                },
                ..ClientOptions::default()
            },
        )
        .expect("client");
        let provider = VolcengineProvider::with_api(Arc::new(ClientShareApi(client)));
        ProviderHarness { emulator, provider }
    }
}
