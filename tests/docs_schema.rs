//! The registry docs under docs/ describe the provider's schema: every attribute and
//! block of the provider, the resource (identity included) and the data source is
//! documented as a `- `name` (Type) ...` entry, sensitive ones say so, and no entry
//! documents something the schema does not have.
//!
//! The schema comes from the provider's own GetProviderSchema and
//! GetResourceIdentitySchemas (in process), the same answers Terraform receives.

use std::collections::BTreeSet;

use terraform_provider_volcengine::provider::VolcengineProvider;
use terraform_provider_volcengine::tfplugin::proto;
use terraform_provider_volcengine::tfplugin::proto::provider_server::Provider;
use tonic::Request;

const TYPE_NAME: &str = "volcengine_image_share";

struct Schemas {
    provider: proto::get_provider_schema::Response,
    identity: proto::get_resource_identity_schemas::Response,
}

fn schemas() -> Schemas {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let provider = VolcengineProvider::new();
        let schema = provider
            .get_provider_schema(Request::new(Default::default()))
            .await
            .expect("GetProviderSchema")
            .into_inner();
        let identity = provider
            .get_resource_identity_schemas(Request::new(Default::default()))
            .await
            .expect("GetResourceIdentitySchemas")
            .into_inner();
        Schemas {
            provider: schema,
            identity,
        }
    })
}

fn doc(path: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(path),
    )
    .unwrap_or_else(|e| panic!("docs/{path}: {e}"))
}

/// The `- `name` (...) description` entries of a doc page.
fn documented_entries(doc: &str) -> Vec<(String, String)> {
    doc.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("- `")?;
            let (name, tail) = rest.split_once('`')?;
            tail.starts_with(" (")
                .then(|| (name.to_string(), line.to_string()))
        })
        .collect()
}

/// Attribute and block names of a schema block, nested blocks included, with whether
/// each is sensitive.
fn schema_names(block: &proto::schema::Block, names: &mut Vec<(String, bool)>) {
    for attribute in &block.attributes {
        names.push((attribute.name.clone(), attribute.sensitive));
    }
    for nested in &block.block_types {
        names.push((nested.type_name.clone(), false));
        if let Some(inner) = &nested.block {
            schema_names(inner, names);
        }
    }
}

fn block_of(schema: Option<&proto::Schema>, what: &str) -> proto::schema::Block {
    schema
        .and_then(|s| s.block.clone())
        .unwrap_or_else(|| panic!("{what}: no schema"))
}

fn check(kind: &str, doc_path: &str, blocks: &[&proto::schema::Block]) {
    let text = doc(doc_path);
    let entries = documented_entries(&text);
    let mut names = Vec::new();
    for block in blocks {
        schema_names(block, &mut names);
    }
    assert!(!names.is_empty(), "{kind}: empty schema");

    for (name, sensitive) in &names {
        let entry = entries
            .iter()
            .find(|(documented, _)| documented == name)
            .unwrap_or_else(|| panic!("{kind}: `{name}` is not documented in docs/{doc_path}"));
        if *sensitive {
            assert!(
                entry.1.contains("Sensitive"),
                "{kind}: `{name}` is sensitive but docs/{doc_path} does not say so"
            );
        }
    }
    let known: BTreeSet<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    for (documented, line) in &entries {
        assert!(
            known.contains(documented.as_str()),
            "{kind}: docs/{doc_path} documents `{documented}`, which is not in the schema: {line}"
        );
    }
}

#[test]
fn docs_match_schema() {
    let Schemas { provider, identity } = schemas();
    let provider_block = block_of(provider.provider.as_ref(), "provider");
    check("provider", "index.md", &[&provider_block]);

    let resource = block_of(provider.resource_schemas.get(TYPE_NAME), "resource");
    // The identity's attributes are documented in the resource page's Import section.
    let identity_block = proto::schema::Block {
        attributes: identity
            .identity_schemas
            .get(TYPE_NAME)
            .map(|schema| {
                schema
                    .identity_attributes
                    .iter()
                    .map(|a| proto::schema::Attribute {
                        name: a.name.clone(),
                        ..Default::default()
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ..Default::default()
    };
    check(
        "resource volcengine_image_share",
        "resources/image_share.md",
        &[&resource, &identity_block],
    );

    let data_source = block_of(provider.data_source_schemas.get(TYPE_NAME), "data source");
    check(
        "data source volcengine_image_share",
        "data-sources/image_share.md",
        &[&data_source],
    );
}

#[test]
fn resource_doc_explains_import_and_authority() {
    let text = doc("resources/image_share.md");
    for needle in [
        "## Import",
        "terraform import volcengine_image_share.",
        "identity = {",
        "removed by the next apply",
        "50 accounts",
        "LimitExceeded.MaximumShareImageAccount",
    ] {
        assert!(
            text.contains(needle),
            "docs/resources/image_share.md lacks {needle:?}"
        );
    }
}
