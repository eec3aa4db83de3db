//! Real Terraform (1.15.5 and 1.0.3) loads the provider through dev_overrides:
//! validate, the schema Terraform sees, and what reaches Terraform's trace log.

mod support;

use serde_json::Value;
use support::{Emulator, Terraform, Workspace};

const PROVIDER_ADDRESS: &str = "registry.terraform.io/volcengine/volcengine";
const PROVIDER_ATTRIBUTES: [&str; 7] = [
    "access_key",
    "secret_key",
    "session_token",
    "region",
    "endpoint",
    "max_retries",
    "ca_bundle_file",
];
const SENSITIVE_ATTRIBUTES: [&str; 2] = ["secret_key", "session_token"];

/// A configuration that uses the provider block, the resource and the data source.
const FULL_CONFIG: &str = r#"
provider "volcengine" {
  region      = "cn-beijing"
  max_retries = 3
}

variable "accounts" {
  type    = list(string)
  default = ["2100000001", "2100000002"]
}

resource "volcengine_image_share" "this" {
  image_id    = "image-schema000000001"
  account_ids = var.accounts
}

data "volcengine_image_share" "current" {
  image_id = volcengine_image_share.this.image_id
}

output "shared_with" {
  value = data.volcengine_image_share.current.account_ids
}
"#;

fn validate(terraform: Terraform) {
    let ws = Workspace::new(terraform);
    ws.write_main_tf(FULL_CONFIG);
    ws.init();
    let out = ws.ok(&["validate"]);
    assert!(
        out.stdout.contains("The configuration is valid"),
        "{}",
        out.describe()
    );

    // The provider's own validation reaches the user: account IDs are numeric strings.
    ws.write_main_tf(
        r#"
resource "volcengine_image_share" "bad" {
  image_id    = "image-schema000000001"
  account_ids = ["not-an-account"]
}
"#,
    );
    let out = ws.run(&["validate"]);
    out.assert_failure();
    assert!(
        out.combined().contains("not-an-account"),
        "the error should name the bad account ID:\n{}",
        out.describe()
    );
}

fn provider_schema(terraform: Terraform) -> Value {
    let ws = Workspace::new(terraform);
    ws.write_main_tf(FULL_CONFIG);
    ws.init();
    let out = ws.ok(&["providers", "schema", "-json"]);
    let all: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("schema is not JSON ({e}):\n{}", out.describe()));
    let schema = all["provider_schemas"][PROVIDER_ADDRESS].clone();
    assert!(
        schema.is_object(),
        "no schema for {PROVIDER_ADDRESS} in:\n{}",
        out.stdout
    );
    schema
}

/// Every attribute has a description, so the registry docs and editors have text to show.
fn assert_described(kind: &str, block: &Value) {
    let attributes = block["attributes"]
        .as_object()
        .unwrap_or_else(|| panic!("{kind} has no attributes: {block}"));
    for (name, attribute) in attributes {
        let description = attribute["description"].as_str().unwrap_or_default();
        assert!(
            !description.trim().is_empty(),
            "{kind}.{name} has no description"
        );
    }
}

fn check_schema(terraform: Terraform) {
    let schema = provider_schema(terraform);

    let provider = &schema["provider"]["block"];
    for name in PROVIDER_ATTRIBUTES {
        let attribute = &provider["attributes"][name];
        assert!(attribute.is_object(), "provider attribute {name} missing");
        assert_eq!(
            attribute["optional"], true,
            "provider attribute {name} should be optional (env fallback)"
        );
        let sensitive = attribute["sensitive"].as_bool().unwrap_or(false);
        assert_eq!(
            sensitive,
            SENSITIVE_ATTRIBUTES.contains(&name),
            "sensitive flag of provider attribute {name}"
        );
    }
    assert_described("provider", provider);

    let resource = &schema["resource_schemas"]["volcengine_image_share"]["block"];
    assert!(resource.is_object(), "resource schema missing: {schema}");
    assert_eq!(resource["attributes"]["image_id"]["required"], true);
    assert_eq!(resource["attributes"]["account_ids"]["required"], true);
    assert_eq!(
        resource["attributes"]["account_ids"]["type"],
        serde_json::json!(["set", "string"])
    );
    assert_eq!(resource["attributes"]["id"]["computed"], true);
    assert_described("volcengine_image_share", resource);

    let data_source = &schema["data_source_schemas"]["volcengine_image_share"]["block"];
    assert!(data_source.is_object(), "data source schema missing");
    assert_eq!(data_source["attributes"]["image_id"]["required"], true);
    assert_eq!(data_source["attributes"]["account_ids"]["computed"], true);
    assert_described("data.volcengine_image_share", data_source);
}

/// Under TF_LOG=TRACE the provider's hclog JSON lines come out of Terraform as
/// `provider.terraform-provider-volcengine: ...` log lines, and the secret key given
/// and session token given through the environment appear nowhere, even though they
/// signed real requests.
fn trace_log(terraform: Terraform) {
    let secret = "trace-secret-9f1c2b7e5d";
    let token = "trace-session-token-4a8c1d";
    let image = "image-tracelog00000001";
    // Temporary credentials: the emulator demands the session token, signed.
    let emulator = Emulator::start_with_args(&[
        "--image".into(),
        image.into(),
        "--credentials".into(),
        format!("{}:{secret}:{token}", support::ACCESS_KEY),
    ]);
    let mut ws = Workspace::with_emulator(terraform, &emulator);
    ws.set_env("VOLCENGINE_SECRET_KEY", secret);
    ws.set_env("VOLCENGINE_SESSION_TOKEN", token);
    ws.write_main_tf(&format!(
        r#"
data "volcengine_image_share" "current" {{
  image_id = "{image}"
}}
"#
    ));
    ws.init();
    let out = ws.run_with_env(&["plan", "-input=false"], &[("TF_LOG", "TRACE")]);
    out.assert_success();
    assert!(
        !emulator.calls_of("DescribeImageSharePermission").is_empty(),
        "the plan should have read the image's shares (a signed call)"
    );

    let log = out.combined();
    let provider_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("provider.terraform-provider-volcengine"))
        .collect();
    assert!(
        !provider_lines.is_empty(),
        "no provider log lines in the trace log:\n{log}"
    );
    // hclog JSON is parsed by go-plugin; a raw JSON line would mean the format is off.
    assert!(
        !provider_lines
            .iter()
            .any(|line| line.contains("\"@level\"")),
        "provider log lines were not parsed as hclog JSON:\n{}",
        provider_lines.join("\n")
    );
    assert!(
        !log.contains(secret),
        "the secret key appears in Terraform's trace log"
    );
    assert!(
        !log.contains(token),
        "the session token appears in Terraform's trace log"
    );
}

#[test]
fn validate_terraform_1_15() {
    validate(Terraform::V1_15);
}

#[test]
fn validate_terraform_1_0() {
    validate(Terraform::V1_0);
}

#[test]
fn schema_terraform_1_15() {
    check_schema(Terraform::V1_15);
}

#[test]
fn schema_terraform_1_0() {
    check_schema(Terraform::V1_0);
}

#[test]
fn trace_log_terraform_1_15() {
    trace_log(Terraform::V1_15);
}

#[test]
fn trace_log_terraform_1_0() {
    trace_log(Terraform::V1_0);
}

/// The examples under examples/ (what docs and the demo show) are valid configurations.
fn examples_validate(terraform: Terraform) {
    let read = |path: &str| {
        std::fs::read_to_string(support::repo_root().join("examples").join(path))
            .unwrap_or_else(|e| panic!("examples/{path}: {e}"))
    };

    let quickstart = Workspace::new(terraform);
    quickstart.write_file("main.tf", &read("quickstart/main.tf"));
    quickstart.init();
    quickstart.ok(&["validate"]);

    let registry = Workspace::new(terraform);
    registry.write_main_tf(
        &[
            read("provider/provider.tf"),
            read("resources/volcengine_image_share/resource.tf"),
            read("data-sources/volcengine_image_share/data-source.tf"),
        ]
        .join("\n"),
    );
    registry.init();
    registry.ok(&["validate"]);
}

#[test]
fn examples_validate_terraform_1_15() {
    examples_validate(Terraform::V1_15);
}

#[test]
fn examples_validate_terraform_1_0() {
    examples_validate(Terraform::V1_0);
}
