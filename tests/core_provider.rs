//! The tfplugin6 service surface of the provider: schemas, capabilities,
//! validation diagnostics, configuration with unknowns, import, upgrades and
//! the data source (against the in-process emulator).

use std::time::Duration;

use terraform_provider_volcengine::data_sources;
use terraform_provider_volcengine::emulator::{
    Emulator, EmulatorConfig, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY,
};
use terraform_provider_volcengine::provider::VolcengineProvider;
use terraform_provider_volcengine::resources::image_share;
use terraform_provider_volcengine::tfplugin::proto::attribute_path::step::Selector;
use terraform_provider_volcengine::tfplugin::proto::provider_server::Provider;
use terraform_provider_volcengine::tfplugin::schema::implied_type;
use terraform_provider_volcengine::tfplugin::{proto, CtyType, Number, Value};
use tonic::Request;

const TEST_LIMIT: Duration = Duration::from_secs(60);

fn provider_type() -> CtyType {
    implied_type(
        terraform_provider_volcengine::provider::provider_schema()
            .block
            .as_ref()
            .unwrap(),
    )
    .unwrap()
}

fn provider_config(pairs: &[(&str, Value)]) -> proto::DynamicValue {
    let CtyType::Object(attrs) = provider_type() else {
        panic!()
    };
    let mut value = Value::object(attrs.keys().map(|k| (k.clone(), Value::Null)));
    for (k, v) in pairs {
        value.set_attr(k, v.clone());
    }
    value.to_dynamic(&provider_type()).unwrap()
}

fn errors(diags: &[proto::Diagnostic]) -> Vec<&proto::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == proto::diagnostic::Severity::Error as i32)
        .collect()
}

fn check_block(block: &proto::schema::Block, context: &str) {
    assert!(
        !block.description.is_empty(),
        "{context}: block description"
    );
    for attr in &block.attributes {
        assert!(
            !attr.description.is_empty(),
            "{context}.{}: description",
            attr.name
        );
        assert_eq!(
            attr.description_kind,
            proto::StringKind::Markdown as i32,
            "{context}.{}",
            attr.name
        );
        assert!(
            attr.required || attr.optional || attr.computed,
            "{context}.{}",
            attr.name
        );
        CtyType::from_json_bytes(&attr.r#type).unwrap();
    }
    for nested in &block.block_types {
        check_block(
            nested.block.as_ref().unwrap(),
            &format!("{context}.{}", nested.type_name),
        );
    }
}

#[tokio::test]
async fn schemas_are_fully_described() {
    let p = VolcengineProvider::new();
    let resp = p
        .get_provider_schema(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    let caps = resp.server_capabilities.unwrap();
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    let provider = resp.provider.unwrap().block.unwrap();
    check_block(&provider, "provider");
    let names: Vec<_> = provider
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    for name in [
        "access_key",
        "secret_key",
        "session_token",
        "region",
        "endpoint",
        "max_retries",
        "ca_bundle_file",
    ] {
        let attr = provider
            .attributes
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} in {names:?}"));
        assert!(attr.optional && !attr.required);
        assert_eq!(
            attr.sensitive,
            name == "secret_key" || name == "session_token",
            "{name}"
        );
    }
    for (name, env) in [
        ("access_key", "VOLCENGINE_ACCESS_KEY"),
        ("endpoint", "VOLCENGINE_ENDPOINT"),
        ("region", "VOLCENGINE_REGION"),
    ] {
        assert!(provider
            .attributes
            .iter()
            .find(|a| a.name == name)
            .unwrap()
            .description
            .contains(env));
    }
    let resource = &resp.resource_schemas[image_share::TYPE_NAME];
    assert_eq!(resource.version, 0);
    check_block(resource.block.as_ref().unwrap(), "resource");
    let timeouts = resource
        .block
        .as_ref()
        .unwrap()
        .block_types
        .iter()
        .find(|b| b.type_name == "timeouts")
        .unwrap();
    assert_eq!(
        timeouts.nesting,
        proto::schema::nested_block::NestingMode::Single as i32
    );
    check_block(
        resp.data_source_schemas[data_sources::image_share::TYPE_NAME]
            .block
            .as_ref()
            .unwrap(),
        "data",
    );

    let meta = p
        .get_metadata(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(meta.resources[0].type_name, image_share::TYPE_NAME);
    assert_eq!(
        meta.data_sources[0].type_name,
        data_sources::image_share::TYPE_NAME
    );

    let ids = p
        .get_resource_identity_schemas(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    let identity = &ids.identity_schemas[image_share::TYPE_NAME];
    assert_eq!(identity.identity_attributes.len(), 1);
    assert_eq!(identity.identity_attributes[0].name, "image_id");
    assert!(identity.identity_attributes[0].required_for_import);
}

#[tokio::test]
async fn validation_points_at_the_offending_element() {
    let p = VolcengineProvider::new();
    let config = Value::object([
        ("id", Value::Null),
        ("image_id", Value::string("image-abc123")),
        (
            "account_ids",
            Value::Set(vec![Value::string("2100051234"), Value::string("abc")]),
        ),
        ("timeouts", Value::Null),
    ]);
    let resp = p
        .validate_resource_config(Request::new(proto::validate_resource_config::Request {
            type_name: image_share::TYPE_NAME.into(),
            config: Some(config.to_dynamic(image_share::state_type()).unwrap()),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].detail.contains("\"abc\""));
    let steps = &errs[0].attribute.as_ref().unwrap().steps;
    assert_eq!(
        steps[0].selector,
        Some(Selector::AttributeName("account_ids".into()))
    );
    assert_eq!(
        steps[1].selector,
        Some(Selector::ElementKeyString("abc".into()))
    );

    // Provider config: shapes are checked, missing credentials are not.
    let bad = p
        .validate_provider_config(Request::new(proto::validate_provider_config::Request {
            config: Some(provider_config(&[
                ("endpoint", Value::string("ftp://x")),
                ("max_retries", Value::Number(Number::Int(-1))),
            ])),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&bad.diagnostics).len(), 2);
    let empty = p
        .validate_provider_config(Request::new(proto::validate_provider_config::Request {
            config: Some(provider_config(&[])),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(empty.diagnostics.is_empty());

    let unknown_type = p
        .validate_resource_config(Request::new(proto::validate_resource_config::Request {
            type_name: "volcengine_nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&unknown_type.diagnostics).len(), 1);
}

#[tokio::test]
async fn unknown_provider_config_is_reported_when_the_api_is_needed() {
    let p = VolcengineProvider::new();
    let resp = p
        .configure_provider(Request::new(proto::configure_provider::Request {
            config: Some(provider_config(&[
                ("access_key", Value::Unknown),
                ("endpoint", Value::Unknown),
            ])),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    let state = image_share_state("image-abc");
    let read = p
        .read_resource(Request::new(proto::read_resource::Request {
            type_name: image_share::TYPE_NAME.into(),
            current_state: Some(state.to_dynamic(image_share::state_type()).unwrap()),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let errs = errors(&read.diagnostics);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].detail.contains("access_key"), "{}", errs[0].detail);
}

fn image_share_state(image_id: &str) -> Value {
    Value::object([
        ("id", Value::string(image_id)),
        ("image_id", Value::string(image_id)),
        ("account_ids", Value::string_set(["1"])),
        ("timeouts", Value::Null),
    ])
}

#[tokio::test]
async fn import_by_id_and_identity_and_upgrades() {
    let p = VolcengineProvider::new();
    let by_id = p
        .import_resource_state(Request::new(proto::import_resource_state::Request {
            type_name: image_share::TYPE_NAME.into(),
            id: "image-abc".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(by_id.diagnostics.is_empty());
    let imported = &by_id.imported_resources[0];
    let state = Value::from_dynamic(imported.state.as_ref(), image_share::state_type()).unwrap();
    assert_eq!(state.attr("image_id").as_str(), Some("image-abc"));
    assert!(state.attr("account_ids").is_null());
    assert!(imported.identity.is_some());

    let identity = Value::object([("image_id", Value::string("image-def"))]);
    let by_identity = p
        .import_resource_state(Request::new(proto::import_resource_state::Request {
            type_name: image_share::TYPE_NAME.into(),
            identity: Some(proto::ResourceIdentityData {
                identity_data: Some(identity.to_dynamic(image_share::identity_type()).unwrap()),
            }),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let state = Value::from_dynamic(
        by_identity.imported_resources[0].state.as_ref(),
        image_share::state_type(),
    )
    .unwrap();
    assert_eq!(state.attr("id").as_str(), Some("image-def"));

    let bad = p
        .import_resource_state(Request::new(proto::import_resource_state::Request {
            type_name: image_share::TYPE_NAME.into(),
            id: "i-not-an-image".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&bad.diagnostics).len(), 1);
    assert!(bad.imported_resources.is_empty());

    let upgraded = p
        .upgrade_resource_state(Request::new(proto::upgrade_resource_state::Request {
            type_name: image_share::TYPE_NAME.into(),
            version: 0,
            raw_state: Some(proto::RawState {
                json: br#"{"id":"image-a","image_id":"image-a","account_ids":["2","1"],"timeouts":{"create":"5m"}}"#.to_vec(),
                ..Default::default()
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(upgraded.diagnostics.is_empty());
    let state =
        Value::from_dynamic(upgraded.upgraded_state.as_ref(), image_share::state_type()).unwrap();
    assert_eq!(state.attr("account_ids").as_string_set().unwrap().len(), 2);
    assert_eq!(state.attr("timeouts").attr("create").as_str(), Some("5m"));

    let identity = p
        .upgrade_resource_identity(Request::new(proto::upgrade_resource_identity::Request {
            type_name: image_share::TYPE_NAME.into(),
            version: 0,
            raw_identity: Some(proto::RawState {
                json: br#"{"image_id":"image-a"}"#.to_vec(),
                ..Default::default()
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(identity.diagnostics.is_empty());
    assert!(identity.upgraded_identity.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_source_reads_all_pages() {
    tokio::time::timeout(TEST_LIMIT, async {
        let image = "image-datasource01";
        let emulator = Emulator::start(EmulatorConfig {
            images: vec![image.into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let accounts: Vec<String> = (0..130)
            .map(|i| (3_000_000_000u64 + i).to_string())
            .collect();
        let refs: Vec<&str> = accounts.iter().map(String::as_str).collect();
        emulator.set_shares(image, &refs).await.unwrap();
        let p = VolcengineProvider::new();
        let configured = p
            .configure_provider(Request::new(proto::configure_provider::Request {
                config: Some(provider_config(&[
                    ("access_key", Value::string(DEFAULT_ACCESS_KEY)),
                    ("secret_key", Value::string(DEFAULT_SECRET_KEY)),
                    ("region", Value::string("cn-beijing")),
                    ("endpoint", Value::string(emulator.base_url())),
                ])),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(configured.diagnostics.is_empty());
        let ty = data_sources::image_share::state_type();
        let read = |image_id: &str| {
            let config = Value::object([
                ("id", Value::Null),
                ("image_id", Value::string(image_id)),
                ("account_ids", Value::Null),
                ("total_count", Value::Null),
            ]);
            p.read_data_source(Request::new(proto::read_data_source::Request {
                type_name: data_sources::image_share::TYPE_NAME.into(),
                config: Some(config.to_dynamic(ty).unwrap()),
                ..Default::default()
            }))
        };
        let resp = read(image).await.unwrap().into_inner();
        assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
        let state = Value::from_dynamic(resp.state.as_ref(), ty).unwrap();
        assert_eq!(
            state.attr("account_ids").as_string_set().unwrap().len(),
            130
        );
        assert_eq!(state.attr("total_count"), &Value::Number(Number::Int(130)));
        let describes = emulator
            .calls()
            .iter()
            .filter(|c| c.action == "DescribeImageSharePermission")
            .count();
        assert_eq!(describes, 2, "130 accounts = 2 pages");

        let missing = read("image-missing").await.unwrap().into_inner();
        let errs = errors(&missing.diagnostics);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].detail.contains("InvalidImage.NotFound"));
    })
    .await
    .expect("test finished in time");
}
