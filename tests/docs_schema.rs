//! The registry docs under docs/ describe the schema Terraform actually sees: every
//! attribute and block of the provider, the resource (identity included) and the data
//! source is documented as a `- `name` (Type) ...` entry, sensitive ones say so, and no
//! entry documents something the schema does not have.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{Terraform, Workspace};

const PROVIDER_ADDRESS: &str = "registry.terraform.io/volcengine/volcengine";

fn schema() -> Value {
    let ws = Workspace::new(Terraform::V1_15);
    ws.write_main_tf("provider \"volcengine\" {}\n");
    ws.init();
    let out = ws.ok(&["providers", "schema", "-json"]);
    let all: Value = serde_json::from_str(&out.stdout).expect("schema JSON");
    let schema = all["provider_schemas"][PROVIDER_ADDRESS].clone();
    assert!(schema.is_object(), "no provider schema:\n{}", out.stdout);
    schema
}

fn doc(path: &str) -> String {
    std::fs::read_to_string(support::repo_root().join("docs").join(path))
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
fn schema_names(block: &Value, names: &mut Vec<(String, bool)>) {
    if let Some(attributes) = block["attributes"].as_object() {
        for (name, attribute) in attributes {
            let sensitive = attribute["sensitive"].as_bool().unwrap_or(false);
            names.push((name.clone(), sensitive));
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, nested) in blocks {
            names.push((name.clone(), false));
            schema_names(&nested["block"], names);
        }
    }
}

fn check(kind: &str, doc_path: &str, blocks: &[&Value]) {
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
    let schema = schema();
    check("provider", "index.md", &[&schema["provider"]["block"]]);

    let resource = &schema["resource_schemas"]["volcengine_image_share"]["block"];
    assert!(resource.is_object(), "resource schema missing");
    // The identity's attributes are documented in the resource page's Import section.
    let identity = schema["resource_identity_schemas"]["volcengine_image_share"].clone();
    let identity_block = serde_json::json!({ "attributes": identity["attributes"] });
    check(
        "resource volcengine_image_share",
        "resources/image_share.md",
        &[resource, &identity_block],
    );

    let data_source = &schema["data_source_schemas"]["volcengine_image_share"]["block"];
    assert!(data_source.is_object(), "data source schema missing");
    check(
        "data source volcengine_image_share",
        "data-sources/image_share.md",
        &[data_source],
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
