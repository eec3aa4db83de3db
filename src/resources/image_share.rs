//! `volcengine_image_share`: the complete set of accounts one custom image is
//! shared with (authoritative: accounts not listed are unshared).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::share_sync::{self, SyncFailure};
use super::timeouts::{self, Operation};
use super::validate;
use crate::provider::api::ShareApi;
use crate::provider::api_errors;
use crate::tfplugin::diagnostics;
use crate::tfplugin::proto;
use crate::tfplugin::proto::schema::nested_block::NestingMode;
use crate::tfplugin::schema::{attribute, block, identity_type as identity_type_of, implied_type};
use crate::tfplugin::{AttrPath, CtyType, Diagnostics, Value};
use crate::volcengine::CallContext;

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

// ----- types -----

/// The object type of this resource's state (implied by the schema).
pub fn state_type() -> &'static CtyType {
    static TYPE: OnceLock<CtyType> = OnceLock::new();
    TYPE.get_or_init(|| {
        implied_type(schema().block.as_ref().expect("schema has a block"))
            .expect("schema types are valid")
    })
}

/// Identity (protocol 6.9): the image ID alone identifies a share list.
pub fn identity_schema() -> proto::ResourceIdentitySchema {
    proto::ResourceIdentitySchema {
        version: IDENTITY_VERSION,
        identity_attributes: vec![proto::resource_identity_schema::IdentityAttribute {
            name: "image_id".into(),
            r#type: CtyType::String.to_json_bytes(),
            required_for_import: true,
            optional_for_import: false,
            description: "ID of the shared custom image, e.g. `image-ebgy1og99tfct0gw1234`.".into(),
        }],
    }
}

pub const IDENTITY_VERSION: i64 = 0;

pub fn identity_type() -> &'static CtyType {
    static TYPE: OnceLock<CtyType> = OnceLock::new();
    TYPE.get_or_init(|| identity_type_of(&identity_schema()).expect("identity types are valid"))
}

/// The identity of a resource value, when its image ID is known.
pub fn identity_of(state: &Value) -> Option<Value> {
    let image_id = state.attr("image_id").as_str()?;
    Some(Value::object([("image_id", Value::string(image_id))]))
}

/// A complete state value.
fn state_value(image_id: &str, accounts: Option<&BTreeSet<String>>, timeouts: Value) -> Value {
    Value::object([
        ("id", Value::string(image_id)),
        ("image_id", Value::string(image_id)),
        (
            "account_ids",
            accounts.map_or(Value::Null, Value::string_set),
        ),
        ("timeouts", timeouts),
    ])
}

// ----- validate / plan -----

pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    validate::validate_image_id(config, &mut diags);
    validate::validate_account_ids(config, &mut diags);
    timeouts::validate(config, &mut diags);
    diags
}

/// The result of planning.
#[derive(Debug, Default)]
pub struct Planned {
    pub state: Value,
    pub requires_replace: Vec<AttrPath>,
}

/// Plans a change. No API call: `id` is the image ID, `account_ids` is what
/// the configuration says (unknown stays unknown), and a different image
/// replaces the resource.
pub fn plan(prior: &Value, proposed: &Value) -> Planned {
    if proposed.is_null() {
        return Planned::default(); // destroy
    }
    let mut state = proposed.clone();
    let image_id = proposed.attr("image_id");
    state.set_attr(
        "id",
        match image_id {
            Value::String(s) => Value::string(s.clone()),
            _ => Value::Unknown,
        },
    );
    let mut requires_replace = Vec::new();
    if !prior.is_null() && prior.attr("image_id") != image_id {
        requires_replace.push(AttrPath::attr("image_id"));
    }
    Planned {
        state,
        requires_replace,
    }
}

// ----- apply / read -----

/// The outcome of an operation that talks to the API: the state to record
/// (null = no object) and diagnostics.
#[derive(Debug)]
pub struct Outcome {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

fn context(resource: &Value, op: Operation, cancel: &CancellationToken) -> CallContext {
    CallContext::new(
        Instant::now() + timeouts::timeout_for(resource, op),
        cancel.clone(),
    )
}

/// ApplyResourceChange: create, update or delete.
pub async fn apply(
    api: &dyn ShareApi,
    cancel: &CancellationToken,
    prior: &Value,
    planned: &Value,
) -> Outcome {
    match (prior.is_null(), planned.is_null()) {
        (false, true) => delete(api, cancel, prior).await,
        (true, false) => create(api, cancel, planned).await,
        (false, false) => update(api, cancel, prior, planned).await,
        (true, true) => Outcome {
            state: Value::Null,
            diagnostics: Diagnostics::new(),
        },
    }
}

/// The desired accounts from a planned value, or an error diagnostic.
fn desired_accounts(planned: &Value) -> Result<BTreeSet<String>, Diagnostics> {
    planned.attr("account_ids").as_string_set().ok_or_else(|| {
        diagnostics::error_at(
            &AttrPath::attr("account_ids"),
            "account_ids is not known at apply time",
            "Terraform passed an unknown or null `account_ids` to apply; this is a bug in the provider or Terraform.",
        )
        .into()
    })
}

fn known_image_id(value: &Value) -> Result<String, Diagnostics> {
    value.attr("image_id").as_str().map(str::to_owned).ok_or_else(|| {
        diagnostics::error_at(
            &AttrPath::attr("image_id"),
            "image_id is not known",
            "Terraform passed an unknown or null `image_id`; this is a bug in the provider or Terraform.",
        )
        .into()
    })
}

fn failed(state: Value, diagnostics: Diagnostics) -> Outcome {
    Outcome { state, diagnostics }
}

/// Explains a batch failure and what it means for state.
fn partial_failure_diagnostic(
    summary: String,
    failure: &SyncFailure,
    op: Operation,
) -> proto::Diagnostic {
    let mut diagnostic = api_errors::api_error(summary, &failure.error, Some(op.attribute()));
    if failure.total > 0 {
        diagnostic.detail.push_str(&format!(
            "\n\n{} of {} ModifyImageSharePermission batches completed before this failure. The state \
             records the accounts the image is shared with now",
            failure.completed, failure.total
        ));
        // Terraform taints any object whose create returned an error, and a
        // tainted object is replaced: every share removed, then added again.
        // Untainting keeps the shares already made and sends only the rest.
        diagnostic.detail.push_str(match op {
            Operation::Create => {
                ". Terraform marks a resource whose create failed as tainted and plans to replace \
                 it, which removes every share before adding them again; to keep the shares \
                 already made and send only the remaining changes, run `terraform untaint` on \
                 this resource before the next apply."
            }
            _ => ", so the next plan shows only the remaining changes.",
        });
    }
    diagnostic
}

async fn create(api: &dyn ShareApi, cancel: &CancellationToken, planned: &Value) -> Outcome {
    let (image_id, desired) = match (known_image_id(planned), desired_accounts(planned)) {
        (Ok(i), Ok(d)) => (i, d),
        (Err(d), _) | (_, Err(d)) => return failed(Value::Null, d),
    };
    let ctx = context(planned, Operation::Create, cancel);
    let summary = format!("Failed to share image {image_id}");
    // The resource is authoritative: shares made outside Terraform before the
    // create are removed, so the cloud must be read first.
    let current = match api.describe(&ctx, &image_id).await {
        Ok(shares) => shares.accounts,
        Err(error) => {
            return failed(
                Value::Null,
                api_errors::api_error(summary, &error, Some("create")).into(),
            )
        }
    };
    if !current.is_empty() {
        tracing::debug!(
            image_id,
            existing = current.len(),
            "image already has shares; the resource takes them over"
        );
    }
    let timeouts = planned.attr("timeouts").clone();
    match share_sync::converge(api, &ctx, &image_id, &current, &desired).await {
        Ok(_) => Outcome {
            state: state_value(&image_id, Some(&desired), timeouts),
            diagnostics: Diagnostics::new(),
        },
        Err(failure) => {
            let diagnostic = partial_failure_diagnostic(summary, &failure, Operation::Create);
            // Nothing changed: record no object, so no taint and a clean retry.
            let state = if failure.completed == 0 {
                Value::Null
            } else {
                state_value(&image_id, Some(&failure.held), timeouts)
            };
            failed(state, diagnostic.into())
        }
    }
}

async fn update(
    api: &dyn ShareApi,
    cancel: &CancellationToken,
    prior: &Value,
    planned: &Value,
) -> Outcome {
    let (image_id, desired) = match (known_image_id(planned), desired_accounts(planned)) {
        (Ok(i), Ok(d)) => (i, d),
        (Err(d), _) | (_, Err(d)) => return failed(prior.clone(), d),
    };
    let ctx = context(planned, Operation::Update, cancel);
    let summary = format!("Failed to update the shares of image {image_id}");
    // The prior state is what the refresh before this plan read from the
    // cloud, and what the plan's diff was computed from: sending exactly that
    // diff makes the calls match the plan (max(ceil(adds/50), ceil(removes/50)))
    // with no extra read. Drift after the refresh shows up in the next plan.
    let current = match prior.attr("account_ids").as_string_set() {
        Some(accounts) => accounts,
        None => match api.describe(&ctx, &image_id).await {
            Ok(shares) => shares.accounts,
            Err(error) => {
                return failed(
                    prior.clone(),
                    api_errors::api_error(summary, &error, Some("update")).into(),
                )
            }
        },
    };
    let timeouts = planned.attr("timeouts").clone();
    match share_sync::converge(api, &ctx, &image_id, &current, &desired).await {
        Ok(_) => Outcome {
            state: state_value(&image_id, Some(&desired), timeouts),
            diagnostics: Diagnostics::new(),
        },
        Err(failure) => {
            let diagnostic = partial_failure_diagnostic(summary, &failure, Operation::Update);
            failed(
                state_value(&image_id, Some(&failure.held), timeouts),
                diagnostic.into(),
            )
        }
    }
}

async fn delete(api: &dyn ShareApi, cancel: &CancellationToken, prior: &Value) -> Outcome {
    let image_id = match known_image_id(prior) {
        Ok(i) => i,
        Err(d) => return failed(prior.clone(), d),
    };
    let ctx = context(prior, Operation::Delete, cancel);
    let summary = format!("Failed to unshare image {image_id}");
    // Read what the cloud holds: destroying must leave no share behind, even
    // one added outside Terraform since the last refresh.
    let current = match api.describe(&ctx, &image_id).await {
        Ok(shares) => shares.accounts,
        Err(error) if error.is_not_found() => {
            tracing::debug!(image_id, "image is gone; nothing to unshare");
            return Outcome {
                state: Value::Null,
                diagnostics: Diagnostics::new(),
            };
        }
        Err(error) => {
            return failed(
                prior.clone(),
                api_errors::api_error(summary, &error, Some("delete")).into(),
            )
        }
    };
    match share_sync::converge(api, &ctx, &image_id, &current, &BTreeSet::new()).await {
        Ok(_) => Outcome {
            state: Value::Null,
            diagnostics: Diagnostics::new(),
        },
        Err(failure) if failure.error.is_not_found() => {
            tracing::debug!(image_id, "image disappeared while unsharing");
            Outcome {
                state: Value::Null,
                diagnostics: Diagnostics::new(),
            }
        }
        Err(failure) => {
            let diagnostic = partial_failure_diagnostic(summary, &failure, Operation::Delete);
            let state = state_value(
                &image_id,
                Some(&failure.held),
                prior.attr("timeouts").clone(),
            );
            failed(state, diagnostic.into())
        }
    }
}

/// ReadResource: the share list as the cloud has it; null when the image is gone.
pub async fn read(api: &dyn ShareApi, cancel: &CancellationToken, current: &Value) -> Outcome {
    if current.is_null() {
        return Outcome {
            state: Value::Null,
            diagnostics: Diagnostics::new(),
        };
    }
    let image_id = match known_image_id(current) {
        Ok(i) => i,
        Err(d) => return failed(current.clone(), d),
    };
    let ctx = context(current, Operation::Read, cancel);
    match api.describe(&ctx, &image_id).await {
        Ok(shares) => {
            tracing::debug!(
                image_id,
                accounts = shares.accounts.len(),
                "read image shares"
            );
            Outcome {
                state: state_value(
                    &image_id,
                    Some(&shares.accounts),
                    current.attr("timeouts").clone(),
                ),
                diagnostics: Diagnostics::new(),
            }
        }
        Err(error) if error.is_not_found() => {
            tracing::debug!(
                image_id,
                request_id = error.request_id().unwrap_or("-"),
                "image not found; removing from state"
            );
            Outcome {
                state: Value::Null,
                diagnostics: Diagnostics::new(),
            }
        }
        Err(error) => failed(
            current.clone(),
            api_errors::api_error(
                format!("Failed to read the shares of image {image_id}"),
                &error,
                Some("read"),
            )
            .into(),
        ),
    }
}

// ----- import / upgrade -----

/// ImportResourceState by image ID; Terraform then calls ReadResource to fill
/// `account_ids`.
pub fn import(image_id: &str) -> Result<Value, Diagnostics> {
    let image_id = image_id.trim();
    validate::check_image_id(image_id).map_err(|message| {
        Diagnostics::from(diagnostics::error(
            "Invalid import ID",
            format!("{message} Import with the image ID: terraform import volcengine_image_share.NAME image-..."),
        ))
    })?;
    Ok(state_value(image_id, None, Value::Null))
}

/// ImportResourceState by identity (`import { identity = { image_id = ... } }`).
pub fn import_identity(identity: &Value) -> Result<Value, Diagnostics> {
    match identity.attr("image_id").as_str() {
        Some(image_id) => import(image_id),
        None => Err(diagnostics::error_at(
            &AttrPath::attr("image_id"),
            "Missing image_id in the import identity",
            "The identity must set `image_id` to a known image ID.",
        )
        .into()),
    }
}

/// UpgradeResourceState: raw JSON state of any known schema version to the
/// current value. Each future version adds a step `vN → vN+1` below.
pub fn upgrade(version: i64, raw: &proto::RawState) -> Result<Value, Diagnostics> {
    if version > SCHEMA_VERSION {
        return Err(diagnostics::error(
            "State from a newer provider",
            format!(
                "This state was written with schema version {version} of {TYPE_NAME}, but this provider \
                 knows versions up to {SCHEMA_VERSION}. Use a provider version at least as new as the \
                 one that wrote the state."
            ),
        )
        .into());
    }
    if raw.json.is_empty() {
        return Err(diagnostics::error(
            "Unsupported state format",
            "The state has no JSON form (legacy flatmap state is not supported by this resource).",
        )
        .into());
    }
    let state = match version {
        0 => decode_lenient(&raw.json, state_type())?,
        // 1 => v0_to_v1(decode_lenient(&raw.json, &v0_type())?), when version 1 exists.
        other => {
            return Err(diagnostics::error(
                "Unsupported state version",
                format!("Version {other} is not known."),
            )
            .into())
        }
    };
    Ok(state)
}

/// Decodes JSON state, dropping attributes the type does not have (written by
/// a development build, or removed since) instead of failing the whole plan.
pub fn decode_lenient(json: &[u8], ty: &CtyType) -> Result<Value, Diagnostics> {
    let bad = |e: String| Diagnostics::from(diagnostics::error("Unreadable state", e));
    let mut parsed: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    if let (Some(object), CtyType::Object(attrs)) = (parsed.as_object_mut(), ty) {
        object.retain(|name, _| {
            let keep = attrs.contains_key(name);
            if !keep {
                tracing::warn!(attribute = %name, "dropping unknown attribute from stored state");
            }
            keep
        });
    }
    let cleaned = serde_json::to_vec(&parsed).map_err(|e| bad(e.to_string()))?;
    Value::from_json(&cleaned, ty).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::share_sync::fake::FakeApi;

    fn accounts(range: std::ops::Range<u64>) -> BTreeSet<String> {
        range.map(|i| (2_100_000_000 + i).to_string()).collect()
    }

    fn config(image_id: &str, accounts: &BTreeSet<String>) -> Value {
        Value::object([
            ("id", Value::Null),
            ("image_id", Value::string(image_id)),
            ("account_ids", Value::string_set(accounts)),
            ("timeouts", Value::Null),
        ])
    }

    fn token() -> CancellationToken {
        CancellationToken::new()
    }

    #[test]
    fn validation_paths_and_unknowns() {
        let bad = Value::object([
            ("image_id", Value::string("img-1")),
            (
                "account_ids",
                Value::Set(vec![Value::string("12"), Value::string("x1")]),
            ),
            (
                "timeouts",
                Value::object([("create", Value::string("soon"))]),
            ),
        ]);
        let diags = validate(&bad).into_vec();
        assert_eq!(diags.len(), 3);
        assert!(diags.iter().all(|d| d.attribute.is_some()));
        let unknown = Value::object([
            ("image_id", Value::Unknown),
            ("account_ids", Value::Unknown),
        ]);
        assert!(validate(&unknown).is_empty());
    }

    #[test]
    fn plan_sets_id_and_replaces_on_image_change() {
        let proposed = config("image-a", &accounts(0..3));
        let planned = plan(&Value::Null, &proposed);
        assert_eq!(planned.state.attr("id").as_str(), Some("image-a"));
        assert!(planned.requires_replace.is_empty());
        planned.state.to_msgpack(state_type()).unwrap();

        let mut unknown = proposed.clone();
        unknown.set_attr("image_id", Value::Unknown);
        unknown.set_attr("account_ids", Value::Unknown);
        let planned = plan(&Value::Null, &unknown);
        assert!(planned.state.attr("id").is_unknown());
        assert!(planned.state.attr("account_ids").is_unknown());

        let prior = state_value("image-a", Some(&accounts(0..3)), Value::Null);
        let moved = config("image-b", &accounts(0..3));
        assert_eq!(
            plan(&prior, &moved).requires_replace,
            vec![AttrPath::attr("image_id")]
        );
        assert!(plan(&prior, &Value::Null).state.is_null());
        // Stable: planning the applied state against the same config changes nothing.
        let mut same = config("image-a", &accounts(0..3));
        same.set_attr("id", Value::string("image-a"));
        assert_eq!(plan(&prior, &same).state, prior);
    }

    #[tokio::test]
    async fn create_takes_over_existing_shares() {
        // 10 shared out of band; desired 120 including 5 of them.
        let api = FakeApi::with_image("image-a", accounts(115..125));
        let desired = accounts(0..120);
        let out = apply(
            &api,
            &token(),
            &Value::Null,
            &plan(&Value::Null, &config("image-a", &desired)).state,
        )
        .await;
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(api.shares("image-a").unwrap(), desired);
        assert_eq!(*api.describe_calls.lock().unwrap(), 1);
        assert_eq!(api.modify_count(), 3); // add 115 → 3 batches, remove 5 rides in batch 1
        assert_eq!(
            out.state.attr("account_ids").as_string_set().unwrap(),
            desired
        );
    }

    #[tokio::test]
    async fn update_uses_prior_state_and_partial_failure_records_truth() {
        let api = FakeApi::with_image("image-a", accounts(0..120));
        let prior = state_value("image-a", Some(&accounts(0..120)), Value::Null);
        let desired = accounts(60..250); // add 130, remove 60 → 3 batches
        let planned = plan(&prior, &config("image-a", &desired)).state;
        *api.fail_modify_at.lock().unwrap() = Some((2, "InternalError".into()));
        let out = apply(&api, &token(), &prior, &planned).await;
        assert!(out.diagnostics.has_errors());
        let d = &out.diagnostics.iter().next().unwrap().detail;
        assert!(
            d.contains("2 of 3") && d.contains("InternalError") && d.contains("fake-request-id"),
            "{d}"
        );
        assert_eq!(*api.describe_calls.lock().unwrap(), 0);
        let held = out.state.attr("account_ids").as_string_set().unwrap();
        assert_eq!(held, api.shares("image-a").unwrap());
        // Next round from the recorded state sends only the remainder (1 call).
        *api.fail_modify_at.lock().unwrap() = None;
        let planned = plan(&out.state, &config("image-a", &desired)).state;
        let out = apply(&api, &token(), &out.state, &planned).await;
        assert!(out.diagnostics.is_empty());
        assert_eq!(api.modify_count(), 3 + 1);
        assert_eq!(api.shares("image-a").unwrap(), desired);
    }

    #[tokio::test]
    async fn create_failing_at_first_batch_records_nothing() {
        let api = FakeApi::with_image("image-a", []);
        *api.fail_modify_at.lock().unwrap() = Some((0, "InvalidImageStatus".into()));
        let out = apply(
            &api,
            &token(),
            &Value::Null,
            &plan(&Value::Null, &config("image-a", &accounts(0..3))).state,
        )
        .await;
        assert!(out.state.is_null());
        let d = out.diagnostics.iter().next().unwrap();
        assert_eq!(d.summary, "Failed to share image image-a");
        assert!(d.detail.contains("available"));
    }

    #[tokio::test]
    async fn delete_removes_everything_and_tolerates_missing_image() {
        let api = FakeApi::with_image("image-a", accounts(0..120));
        let prior = state_value("image-a", Some(&accounts(0..100)), Value::Null);
        let out = apply(&api, &token(), &prior, &Value::Null).await;
        assert!(out.state.is_null() && out.diagnostics.is_empty());
        assert!(api.shares("image-a").unwrap().is_empty());
        assert_eq!(api.modify_count(), 3);
        let gone = FakeApi::default();
        let out = apply(&gone, &token(), &prior, &Value::Null).await;
        assert!(out.state.is_null() && out.diagnostics.is_empty());
    }

    #[tokio::test]
    async fn read_reports_drift_and_removes_missing_images() {
        let api = FakeApi::with_image("image-a", accounts(0..2));
        let current = state_value(
            "image-a",
            Some(&accounts(0..5)),
            Value::object([("read", Value::string("1m"))]),
        );
        let out = read(&api, &token(), &current).await;
        assert_eq!(
            out.state.attr("account_ids").as_string_set().unwrap(),
            accounts(0..2)
        );
        assert_eq!(out.state.attr("timeouts"), current.attr("timeouts"));
        let gone = read(&FakeApi::default(), &token(), &current).await;
        assert!(gone.state.is_null() && gone.diagnostics.is_empty());
    }

    #[tokio::test]
    async fn cancelled_update_stops_before_sending() {
        let api = FakeApi::with_image("image-a", []);
        let prior = state_value("image-a", Some(&BTreeSet::new()), Value::Null);
        let cancel = token();
        cancel.cancel();
        let out = apply(
            &api,
            &cancel,
            &prior,
            &plan(&prior, &config("image-a", &accounts(0..3))).state,
        )
        .await;
        assert!(out.diagnostics.has_errors());
        assert_eq!(api.modify_count(), 0);
        assert_eq!(
            out.state.attr("account_ids").as_string_set().unwrap(),
            BTreeSet::new()
        );
    }

    #[test]
    fn import_and_upgrade() {
        let state = import("image-abc").unwrap();
        assert_eq!(state.attr("id").as_str(), Some("image-abc"));
        assert!(state.attr("account_ids").is_null());
        assert!(import("bogus").is_err());
        let identity = Value::object([("image_id", Value::string("image-abc"))]);
        assert_eq!(import_identity(&identity).unwrap(), state);

        let raw = proto::RawState {
            json: br#"{"id":"image-a","image_id":"image-a","account_ids":["1"],"timeouts":null,"legacy":1}"#.to_vec(),
            ..Default::default()
        };
        let upgraded = upgrade(0, &raw).unwrap();
        assert_eq!(upgraded.attr("account_ids"), &Value::string_set(["1"]));
        assert!(upgrade(1, &raw).is_err());
    }
}
