//! `volcengine_image_share` with real Terraform against the emulator: lifecycle and
//! batching, drift, out-of-band deletion, import, unknown values, partial failures,
//! retries, credentials, the data source and many resources in one apply.
//!
//! Terraform 1.15.5 runs everything; Terraform 1.0.3 runs the lifecycle and import.
//! Each test has its own emulator and working directory, so the tests run in parallel.

mod support;

use serde_json::json;
use support::{accounts, hcl_list, string_set, Emulator, Terraform, Workspace};

const MODIFY: &str = "ModifyImageSharePermission";
const DESCRIBE: &str = "DescribeImageSharePermission";
const ADDRESS: &str = "volcengine_image_share.this";
const PER_CALL: usize = 50;

fn share_config(image: &str, account_ids: &[String]) -> String {
    format!(
        r#"
resource "volcengine_image_share" "this" {{
  image_id    = "{image}"
  account_ids = {list}
}}
"#,
        list = hcl_list(account_ids)
    )
}

/// An emulator with `image` and an initialised workspace pointed at it.
fn setup(terraform: Terraform, image: &str) -> (Emulator, Workspace) {
    let emulator = Emulator::start(&[image]);
    let ws = Workspace::with_emulator(terraform, &emulator);
    ws.write_main_tf("");
    ws.init();
    (emulator, ws)
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

fn state_accounts(ws: &Workspace) -> Vec<String> {
    let values = ws
        .resource_values(ADDRESS)
        .unwrap_or_else(|| panic!("{ADDRESS} is not in state"));
    string_set(&values["account_ids"])
}

/// Every Modify call stays within the per-call limit for both lists.
fn assert_batches_within_limit(emulator: &Emulator) {
    for call in emulator.calls_of(MODIFY) {
        let add = call.list_param("AddAccounts").len();
        let remove = call.list_param("RemoveAccounts").len();
        assert!(
            add <= PER_CALL && remove <= PER_CALL && add + remove > 0,
            "call {} has {add} accounts to add and {remove} to remove",
            call.seq
        );
    }
}

/// Create, no-op plan, update (add and remove at once), destroy.
fn lifecycle(terraform: Terraform) {
    let image = "image-lifecycle000001";
    let (emulator, ws) = setup(terraform, image);

    // Create with more accounts than two calls can carry.
    let initial = accounts(2_100_000_001, 120);
    ws.write_main_tf(&share_config(image, &initial));
    emulator.clear_calls();
    ws.apply();
    assert_eq!(emulator.shares(image), sorted(initial.clone()));
    assert_eq!(state_accounts(&ws), sorted(initial.clone()));
    let creates = emulator.calls_of(MODIFY);
    assert_eq!(
        creates.len(),
        120usize.div_ceil(PER_CALL),
        "create with 120 accounts: {creates:?}"
    );
    assert_batches_within_limit(&emulator);
    let values = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(values["id"], image);
    assert_eq!(values["image_id"], image);

    // Nothing changed: an empty plan, and refresh makes no writes.
    emulator.clear_calls();
    ws.assert_no_changes();
    assert!(
        emulator.calls_of(MODIFY).is_empty(),
        "a plan must not write"
    );

    // Update: drop 30, keep 90, add 70 in the same apply.
    let mut desired: Vec<String> = initial[30..].to_vec();
    desired.extend(accounts(2_100_001_001, 70));
    ws.write_main_tf(&share_config(image, &desired));
    let plan = ws.assert_changes();
    assert!(
        plan.stdout.contains("update in-place"),
        "an account change is an in-place update:\n{}",
        plan.describe()
    );
    emulator.clear_calls();
    ws.apply();
    assert_eq!(emulator.shares(image), sorted(desired.clone()));
    assert_eq!(state_accounts(&ws), sorted(desired.clone()));
    let updates = emulator.calls_of(MODIFY);
    let added: Vec<String> = updates
        .iter()
        .flat_map(|c| c.list_param("AddAccounts"))
        .collect();
    let removed: Vec<String> = updates
        .iter()
        .flat_map(|c| c.list_param("RemoveAccounts"))
        .collect();
    assert_eq!(
        sorted(added),
        sorted(accounts(2_100_001_001, 70)),
        "only new accounts are added"
    );
    assert_eq!(
        sorted(removed),
        sorted(initial[..30].to_vec()),
        "only dropped accounts are removed"
    );
    // 70 to add and 30 to remove: two calls when both lists share a call, three at most.
    assert!(
        (2..=3).contains(&updates.len()),
        "update made {} Modify calls: {updates:?}",
        updates.len()
    );
    assert_batches_within_limit(&emulator);
    ws.assert_no_changes();

    // Destroy removes every share in batches.
    emulator.clear_calls();
    ws.destroy();
    assert!(emulator.shares(image).is_empty());
    assert_eq!(emulator.calls_of(MODIFY).len(), 160usize.div_ceil(PER_CALL));
    assert_batches_within_limit(&emulator);
    assert!(ws.resource_values(ADDRESS).is_none());
}

#[test]
fn lifecycle_terraform_1_15() {
    lifecycle(Terraform::V1_15);
}

#[test]
fn lifecycle_terraform_1_0() {
    lifecycle(Terraform::V1_0);
}

/// Accounts added and removed behind Terraform's back show up in the plan and are repaired.
fn drift(terraform: Terraform) {
    let image = "image-drift0000000001";
    let (emulator, ws) = setup(terraform, image);
    let desired = accounts(2_100_000_001, 5);
    ws.write_main_tf(&share_config(image, &desired));
    ws.apply();

    let intruder = "2100009999".to_string();
    let mut drifted = desired[1..].to_vec();
    drifted.push(intruder.clone());
    emulator.set_shares(image, &drifted);

    let plan = ws.assert_changes();
    assert!(
        plan.stdout.contains(&intruder) && plan.stdout.contains(&desired[0]),
        "the plan should name the account shared out of band and the one removed:\n{}",
        plan.describe()
    );
    emulator.clear_calls();
    ws.apply();
    assert_eq!(emulator.shares(image), sorted(desired.clone()));
    let calls = emulator.calls_of(MODIFY);
    assert_eq!(
        calls.len(),
        1,
        "one call repairs both directions: {calls:?}"
    );
    ws.assert_no_changes();
}

#[test]
fn drift_terraform_1_15() {
    drift(Terraform::V1_15);
}

#[test]
fn drift_terraform_1_0() {
    drift(Terraform::V1_0);
}

#[test]
fn image_deleted_out_of_band_plans_create() {
    let image = "image-deleted00000001";
    let (emulator, ws) = setup(Terraform::V1_15, image);
    let desired = accounts(2_100_000_001, 3);
    ws.write_main_tf(&share_config(image, &desired));
    ws.apply();

    emulator.delete_image(image);
    let plan = ws.assert_changes();
    assert!(
        plan.stdout.contains("will be created"),
        "a vanished image is planned for re-creation, not an error:\n{}",
        plan.describe()
    );
    // The refresh dropped it from state.
    ws.ok(&["apply", "-refresh-only", "-auto-approve"]);
    assert!(ws.resource_values(ADDRESS).is_none());

    // The image comes back (e.g. restored): the next apply shares it again.
    emulator.put_image(image);
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    ws.assert_no_changes();
}

#[test]
fn missing_image_fails_create_with_api_error() {
    let (_emulator, ws) = setup(Terraform::V1_15, "image-present00000001");
    ws.write_main_tf(&share_config(
        "image-absent000000001",
        &accounts(2_100_000_001, 2),
    ));
    let out = ws.run(&["apply", "-auto-approve", "-input=false"]);
    out.assert_failure();
    let text = out.combined();
    assert!(
        text.contains("InvalidImage.NotFound") && text.contains("request ID"),
        "the error names the code and the request ID:\n{}",
        out.describe()
    );
}

/// `terraform import` by image ID adopts the existing shares.
fn import_cli(terraform: Terraform) {
    let image = "image-importcli000001";
    let (emulator, ws) = setup(terraform, image);
    let existing = accounts(2_100_000_001, 60);
    emulator.set_shares(image, &existing);

    ws.write_main_tf(&share_config(image, &existing));
    ws.ok(&["import", "-input=false", ADDRESS, image]);
    assert_eq!(state_accounts(&ws), existing);
    ws.assert_no_changes();

    // The resource is authoritative: dropping an account from the configuration
    // after import removes that share.
    ws.write_main_tf(&share_config(image, &existing[1..]));
    ws.assert_changes();
    ws.apply();
    assert_eq!(emulator.shares(image), existing[1..].to_vec());
}

#[test]
fn import_cli_terraform_1_15() {
    import_cli(Terraform::V1_15);
}

#[test]
fn import_cli_terraform_1_0() {
    import_cli(Terraform::V1_0);
}

#[test]
fn import_cli_of_missing_image_fails() {
    let (_emulator, ws) = setup(Terraform::V1_15, "image-present00000001");
    ws.write_main_tf(&share_config("image-absent000000001", &[]));
    let out = ws.run(&["import", "-input=false", ADDRESS, "image-absent000000001"]);
    out.assert_failure();
    assert!(
        out.combined().contains("image-absent000000001"),
        "{}",
        out.describe()
    );
}

fn import_block(target: &str) {
    let image = "image-importblock0001";
    let (emulator, ws) = setup(Terraform::V1_15, image);
    let existing = accounts(2_100_000_001, 4);
    emulator.set_shares(image, &existing);
    let target = target.replace("IMAGE", image);
    ws.write_main_tf(&format!(
        "import {{\n  to = {ADDRESS}\n  {target}\n}}\n{}",
        share_config(image, &existing)
    ));
    let plan = ws.assert_changes();
    assert!(
        plan.stdout.contains("1 to import"),
        "the plan imports the share:\n{}",
        plan.describe()
    );
    emulator.clear_calls();
    ws.apply();
    assert!(
        emulator.calls_of(MODIFY).is_empty(),
        "import changes nothing"
    );
    assert_eq!(state_accounts(&ws), existing);
    ws.assert_no_changes();
}

#[test]
fn import_block_by_id() {
    import_block(r#"id = "IMAGE""#);
}

#[test]
fn import_block_by_identity() {
    import_block(r#"identity = { image_id = "IMAGE" }"#);
}

#[test]
fn unknown_account_ids_at_plan() {
    let image = "image-unknown00000001";
    let (emulator, ws) = setup(Terraform::V1_15, image);
    let desired = accounts(2_100_000_001, 3);
    ws.write_main_tf(&format!(
        r#"
resource "terraform_data" "accounts" {{
  input = {list}
}}

resource "volcengine_image_share" "this" {{
  image_id    = "{image}"
  account_ids = terraform_data.accounts.output
}}
"#,
        list = hcl_list(&desired)
    ));
    let plan = ws.assert_changes();
    assert!(
        plan.stdout.contains("known after apply"),
        "account_ids are unknown at plan time:\n{}",
        plan.describe()
    );
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    ws.assert_no_changes();
}

#[test]
fn partial_failure_mid_batch_then_converges() {
    let image = "image-partial00000001";
    let (emulator, ws) = setup(Terraform::V1_15, image);
    let desired = accounts(2_100_000_001, 120);
    ws.write_main_tf(&share_config(image, &desired));

    // The second Modify call fails with a non-retryable error.
    emulator.add_fault(json!({
        "action": MODIFY, "after": 1, "count": 1,
        "status": 400, "code": "InvalidArgument",
        "message": "The specified argument is invalid."
    }));
    let out = ws.run(&["apply", "-auto-approve", "-input=false"]);
    out.assert_failure();
    assert!(
        out.combined().contains("InvalidArgument"),
        "the API error code reaches the user:\n{}",
        out.describe()
    );
    let partial = emulator.shares(image);
    assert!(
        !partial.is_empty() && partial.len() < desired.len(),
        "the first batch landed before the failure: {} shares",
        partial.len()
    );

    // The state records exactly what the image holds, and the error says how
    // to continue without replacing (Terraform taints a failed create).
    let recorded = ws
        .resource_values("volcengine_image_share.this")
        .expect("the failed create is recorded");
    assert_eq!(string_set(&recorded["account_ids"]), partial);
    assert!(
        out.combined().contains("terraform untaint"),
        "{}",
        out.describe()
    );

    // Untainted, the next apply is an in-place update that sends only the rest.
    ws.ok(&["untaint", "volcengine_image_share.this"]);
    let plan = ws.assert_changes();
    assert!(
        plan.combined().contains("update in-place"),
        "{}",
        plan.describe()
    );
    emulator.clear_calls();
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    let remaining = desired.len() - partial.len();
    assert_eq!(
        emulator.calls_of(MODIFY).len(),
        remaining.div_ceil(PER_CALL)
    );
    ws.assert_no_changes();
}

#[test]
fn partial_failure_during_update_keeps_progress() {
    let image = "image-partialupdate01";
    let (emulator, ws) = setup(Terraform::V1_15, image);
    ws.write_main_tf(&share_config(image, &accounts(2_100_000_001, 1)));
    ws.apply();

    let desired = accounts(2_100_000_001, 151);
    ws.write_main_tf(&share_config(image, &desired));
    emulator.add_fault(json!({
        "action": MODIFY, "after": 1, "count": 1,
        "status": 400, "code": "InvalidArgument",
        "message": "The specified argument is invalid."
    }));
    ws.run(&["apply", "-auto-approve", "-input=false"])
        .assert_failure();
    let held = emulator.shares(image);
    assert_eq!(held.len(), 51, "the first batch of 50 landed");
    // State records what the image holds now: the plan finishes the update in place.
    assert_eq!(state_accounts(&ws), held);
    let plan = ws.assert_changes();
    assert!(
        plan.stdout.contains("update in-place") && !plan.stdout.contains("replace"),
        "a failed update is finished in place:\n{}",
        plan.describe()
    );
    emulator.clear_calls();
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    let modifies = emulator.calls_of(MODIFY);
    assert_eq!(
        modifies.len(),
        2,
        "only the remaining 100 accounts: {modifies:?}"
    );
    assert!(modifies
        .iter()
        .all(|c| c.list_param("RemoveAccounts").is_empty()));
    ws.assert_no_changes();
}

#[test]
fn per_image_share_cap_is_reported() {
    let image = "image-sharecap000001";
    let emulator = Emulator::start_with_args(&[
        "--image".into(),
        image.into(),
        "--share-limit".into(),
        "10".into(),
    ]);
    let ws = Workspace::with_emulator(Terraform::V1_15, &emulator);
    ws.write_main_tf(&share_config(image, &accounts(2_100_000_001, 12)));
    ws.init();
    let out = ws.run(&["apply", "-auto-approve", "-input=false"]);
    out.assert_failure();
    assert!(
        out.combined()
            .contains("LimitExceeded.MaximumShareImageAccount"),
        "the cap error reaches the user:\n{}",
        out.describe()
    );
    // Not retried: a validation error answers once.
    assert_eq!(emulator.calls_of(MODIFY).len(), 1);
}

#[test]
fn transient_errors_are_retried() {
    let image = "image-transient000001";
    let (emulator, ws) = setup(Terraform::V1_15, image);
    let desired = accounts(2_100_000_001, 3);
    ws.write_main_tf(&format!(
        "provider \"volcengine\" {{\n  max_retries = 5\n}}\n{}",
        share_config(image, &desired)
    ));
    emulator.add_fault(json!({
        "action": "*", "count": 2, "status": 500, "code": "InternalError",
        "message": "An internal error has occurred."
    }));
    emulator.add_fault(json!({
        "action": MODIFY, "count": 1, "status": 503, "code": "ServiceUnavailable",
        "message": "try later"
    }));
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    let faulted = emulator.calls().iter().filter(|c| c.faulted).count();
    assert_eq!(faulted, 3, "every fault was hit and retried");
}

#[test]
fn throttling_is_retried() {
    let image = "image-throttle0000001";
    let (emulator, ws) = setup(Terraform::V1_15, image);
    let desired = accounts(2_100_000_001, 250);
    ws.write_main_tf(&format!(
        "provider \"volcengine\" {{\n  max_retries = 10\n}}\n{}",
        share_config(image, &desired)
    ));
    emulator.throttle(2);
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    let throttled = emulator
        .calls()
        .iter()
        .filter(|c| c.code.as_deref() == Some("FlowLimitExceeded"))
        .count();
    assert!(
        throttled > 0,
        "the throttle should have answered 429 at least once"
    );
}

#[test]
fn wrong_secret_key_is_a_clear_error() {
    let image = "image-wrongsecret0001";
    let (emulator, mut ws) = setup(Terraform::V1_15, image);
    let wrong = "not-the-secret-0b9e1f";
    ws.set_env("VOLCENGINE_SECRET_KEY", wrong);
    ws.write_main_tf(&share_config(image, &accounts(2_100_000_001, 2)));
    let out = ws.run(&["apply", "-auto-approve", "-input=false"]);
    out.assert_failure();
    let text = out.combined();
    assert!(
        text.contains("SignatureDoesNotMatch"),
        "the error names the signature failure:\n{}",
        out.describe()
    );
    assert!(
        !text.contains(wrong),
        "the secret key appears in the output"
    );
    assert!(emulator.shares(image).is_empty());
}

#[test]
fn provider_block_settings_take_precedence_over_env() {
    let image = "image-providerblock01";
    let (emulator, mut ws) = setup(Terraform::V1_15, image);
    // The environment has wrong credentials and no endpoint; the block has the right ones.
    ws.set_env("VOLCENGINE_SECRET_KEY", "wrong-secret");
    ws.remove_env("VOLCENGINE_ENDPOINT");
    let desired = accounts(2_100_000_001, 2);
    ws.write_main_tf(&format!(
        r#"
provider "volcengine" {{
  endpoint   = "{endpoint}"
  access_key = "{ak}"
  secret_key = "{sk}"
  region     = "cn-beijing"
}}
{resource}"#,
        endpoint = emulator.base_url(),
        ak = support::ACCESS_KEY,
        sk = support::SECRET_KEY,
        resource = share_config(image, &desired)
    ));
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
}

fn data_source(terraform: Terraform) {
    let image = "image-datasource00001";
    let (emulator, ws) = setup(terraform, image);
    // More than one page of results.
    let existing = accounts(2_100_000_001, 130);
    emulator.set_shares(image, &existing);
    ws.write_main_tf(&format!(
        r#"
data "volcengine_image_share" "current" {{
  image_id = "{image}"
}}

output "accounts" {{
  value = data.volcengine_image_share.current.account_ids
}}
"#
    ));
    ws.apply();
    assert_eq!(string_set(&ws.output_json("accounts")), existing);
    assert!(emulator.calls_of(MODIFY).is_empty());
    assert!(!emulator.calls_of(DESCRIBE).is_empty());
}

#[test]
fn data_source_terraform_1_15() {
    data_source(Terraform::V1_15);
}

#[test]
fn data_source_terraform_1_0() {
    data_source(Terraform::V1_0);
}

#[test]
fn many_resources_in_one_apply() {
    const IMAGES: usize = 30;
    let images: Vec<String> = (1..=IMAGES).map(|n| format!("image-many{n:012}")).collect();
    let image_refs: Vec<&str> = images.iter().map(String::as_str).collect();
    let emulator = Emulator::start(&image_refs);
    let ws = Workspace::with_emulator(Terraform::V1_15, &emulator);
    ws.write_main_tf(&format!(
        r#"
variable "images" {{
  type    = list(string)
  default = {list}
}}

resource "volcengine_image_share" "many" {{
  for_each    = toset(var.images)
  image_id    = each.value
  account_ids = ["2100000001", "2100000002", "2100000003"]
}}
"#,
        list = hcl_list(&images)
    ));
    ws.init();
    ws.apply();
    for image in &images {
        assert_eq!(
            emulator.shares(image),
            accounts(2_100_000_001, 3),
            "{image}"
        );
    }
    assert_eq!(emulator.calls_of(MODIFY).len(), IMAGES);
    ws.assert_no_changes();
    ws.destroy();
    for image in &images {
        assert!(emulator.shares(image).is_empty(), "{image}");
    }
}
