//! The provider's full resource logic (through the tfplugin6 service, with
//! msgpack values as Terraform sends them) against the in-process emulator
//! and the real signed client: call counts, drift, NotFound, partial failure
//! and convergence, cancellation, missing credentials.

use std::collections::BTreeSet;
use std::time::Duration;

use terraform_provider_volcengine::emulator::{
    CallRecord, Emulator, EmulatorConfig, FaultSpec, RunningEmulator, DEFAULT_ACCESS_KEY,
    DEFAULT_SECRET_KEY,
};
use terraform_provider_volcengine::provider::VolcengineProvider;
use terraform_provider_volcengine::resources::image_share;
use terraform_provider_volcengine::tfplugin::proto::provider_server::Provider;
use terraform_provider_volcengine::tfplugin::{proto, Number, Value};
use tonic::Request;

const IMAGE: &str = "image-ebgy1og99tfct0gw0001";
const TEST_LIMIT: Duration = Duration::from_secs(90);

fn accounts(range: std::ops::Range<u64>) -> BTreeSet<String> {
    range.map(|i| (2_100_000_000 + i).to_string()).collect()
}

struct Harness {
    emulator: RunningEmulator,
    provider: VolcengineProvider,
}

fn provider_config(endpoint: &str, credentials: bool, max_retries: i64) -> Value {
    let key = |v: &str| {
        if credentials {
            Value::string(v)
        } else {
            Value::Null
        }
    };
    Value::object([
        ("access_key", key(DEFAULT_ACCESS_KEY)),
        ("secret_key", key(DEFAULT_SECRET_KEY)),
        ("session_token", Value::Null),
        ("region", Value::string("cn-beijing")),
        ("endpoint", Value::string(endpoint)),
        ("max_retries", Value::Number(Number::Int(max_retries))),
        ("ca_bundle_file", Value::Null),
    ])
}

fn provider_type() -> terraform_provider_volcengine::tfplugin::CtyType {
    let schema = terraform_provider_volcengine::provider::provider_schema();
    terraform_provider_volcengine::tfplugin::schema::implied_type(schema.block.as_ref().unwrap())
        .unwrap()
}

fn dv(value: &Value) -> Option<proto::DynamicValue> {
    Some(value.to_dynamic(image_share::state_type()).unwrap())
}

fn undv(dv: Option<&proto::DynamicValue>) -> Value {
    Value::from_dynamic(dv, image_share::state_type()).unwrap()
}

fn resource_config(accounts: &BTreeSet<String>) -> Value {
    Value::object([
        ("id", Value::Null),
        ("image_id", Value::string(IMAGE)),
        ("account_ids", Value::string_set(accounts)),
        ("timeouts", Value::Null),
    ])
}

fn errors(diags: &[proto::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == proto::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

impl Harness {
    async fn start(credentials: bool, max_retries: i64) -> Harness {
        let emulator = Emulator::start(EmulatorConfig {
            images: vec![IMAGE.into()],
            ..Default::default()
        })
        .await
        .expect("emulator starts");
        let provider = VolcengineProvider::new();
        let config = provider_config(&emulator.base_url(), credentials, max_retries);
        let resp = provider
            .configure_provider(Request::new(proto::configure_provider::Request {
                config: Some(config.to_dynamic(&provider_type()).unwrap()),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(
            errors(&resp.diagnostics).is_empty(),
            "{:?}",
            resp.diagnostics
        );
        Harness { emulator, provider }
    }

    /// PlanResourceChange with a proposed state built like Terraform does
    /// (configuration plus the prior computed `id`).
    async fn plan(&self, prior: &Value, config: &Value) -> (Value, usize) {
        let mut proposed = config.clone();
        if !prior.is_null() {
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
            .unwrap()
            .into_inner();
        assert!(
            errors(&resp.diagnostics).is_empty(),
            "{:?}",
            resp.diagnostics
        );
        (
            undv(resp.planned_state.as_ref()),
            resp.requires_replace.len(),
        )
    }

    async fn apply(&self, prior: &Value, planned: &Value, config: &Value) -> (Value, Vec<String>) {
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
            .unwrap()
            .into_inner();
        (undv(resp.new_state.as_ref()), errors(&resp.diagnostics))
    }

    async fn read(&self, state: &Value) -> (Value, Vec<String>) {
        let resp = self
            .provider
            .read_resource(Request::new(proto::read_resource::Request {
                type_name: image_share::TYPE_NAME.into(),
                current_state: dv(state),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        (undv(resp.new_state.as_ref()), errors(&resp.diagnostics))
    }

    /// plan + apply of `config` from `prior`, returning the new state.
    async fn converge(&self, prior: &Value, config: &Value) -> Value {
        let (planned, _) = self.plan(prior, config).await;
        let (state, errs) = self.apply(prior, &planned, config).await;
        assert!(errs.is_empty(), "{errs:?}");
        state
    }

    fn cloud(&self) -> BTreeSet<String> {
        self.emulator
            .shares(IMAGE)
            .expect("image exists")
            .into_iter()
            .collect()
    }

    /// (Describe calls, Modify calls) since the last clear; checks every
    /// Modify call carries at most 50 accounts per list.
    fn take_counts(&self) -> (usize, usize) {
        let calls: Vec<CallRecord> = self.emulator.calls();
        self.emulator.clear_calls();
        let list_len = |c: &CallRecord, prefix: &str| {
            c.params.keys().filter(|k| k.starts_with(prefix)).count()
        };
        for call in calls
            .iter()
            .filter(|c| c.action == "ModifyImageSharePermission")
        {
            assert!(
                list_len(call, "AddAccounts.") <= 50 && list_len(call, "RemoveAccounts.") <= 50
            );
            assert!(list_len(call, "AddAccounts.") + list_len(call, "RemoveAccounts.") > 0);
        }
        let count = |action: &str| calls.iter().filter(|c| c.action == action).count();
        (
            count("DescribeImageSharePermission"),
            count("ModifyImageSharePermission"),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_call_counts_drift_and_not_found() {
    tokio::time::timeout(TEST_LIMIT, async {
        let h = Harness::start(true, 3).await;

        // Create 120 accounts: 1 Describe (cloud truth) + ceil(120/50) = 3 Modify.
        let desired = accounts(0..120);
        let config = resource_config(&desired);
        let state = h.converge(&Value::Null, &config).await;
        assert_eq!(h.cloud(), desired);
        assert_eq!(state.attr("account_ids").as_string_set().unwrap(), desired);
        assert_eq!(state.attr("id").as_str(), Some(IMAGE));
        let create = h.take_counts();
        println!("create 120: describe={} modify={}", create.0, create.1);
        assert_eq!(create, (1, 3));

        // Refresh + plan is a no-op.
        let (refreshed, errs) = h.read(&state).await;
        assert!(errs.is_empty());
        assert_eq!(refreshed, state);
        let (planned, replace) = h.plan(&refreshed, &config).await;
        assert_eq!((planned, replace), (state.clone(), 0));
        let refresh = h.take_counts();
        println!("refresh 120: describe={} modify={}", refresh.0, refresh.1);
        assert_eq!(refresh, (2, 0), "120 accounts = 2 pages of 100");

        // Update: add 110, remove 60 → max(ceil(110/50), ceil(60/50)) = 3 Modify, no Describe.
        let desired = accounts(60..230);
        let config = resource_config(&desired);
        let state = h.converge(&state, &config).await;
        assert_eq!(h.cloud(), desired);
        let update = h.take_counts();
        println!("update +110/-60: describe={} modify={}", update.0, update.1);
        assert_eq!(update, (0, 3));

        // Drift: an account added and one removed out of band shows up on read
        // and the next apply puts the cloud back (1 Modify with both lists).
        let mut drifted: Vec<String> = desired.iter().skip(1).cloned().collect();
        drifted.push("2199999999".into());
        let drifted_refs: Vec<&str> = drifted.iter().map(String::as_str).collect();
        h.emulator.set_shares(IMAGE, &drifted_refs).await.unwrap();
        let (refreshed, _) = h.read(&state).await;
        assert_eq!(
            refreshed.attr("account_ids").as_string_set().unwrap(),
            drifted.iter().cloned().collect()
        );
        h.take_counts();
        let state = h.converge(&refreshed, &config).await;
        assert_eq!(h.cloud(), desired);
        assert_eq!(h.take_counts(), (0, 1));

        // Destroy 170: Describe (2 pages) + ceil(170/50) = 4 Modify.
        let (planned, _) = h.plan(&state, &Value::Null).await;
        assert!(planned.is_null());
        let (after, errs) = h.apply(&state, &Value::Null, &Value::Null).await;
        assert!(errs.is_empty() && after.is_null(), "{errs:?}");
        assert!(h.cloud().is_empty());
        let destroy = h.take_counts();
        println!("destroy 170: describe={} modify={}", destroy.0, destroy.1);
        assert_eq!(destroy, (2, 4));

        // NotFound: the image disappears → read removes the resource from state.
        let state = h
            .converge(&Value::Null, &resource_config(&accounts(0..3)))
            .await;
        h.emulator.delete_image(IMAGE).await.unwrap();
        let (gone, errs) = h.read(&state).await;
        assert!(errs.is_empty(), "{errs:?}");
        assert!(gone.is_null());
        // ... and destroying it anyway succeeds.
        let (after, errs) = h.apply(&state, &Value::Null, &Value::Null).await;
        assert!(errs.is_empty() && after.is_null());
    })
    .await
    .expect("test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_destroy_120_counts() {
    tokio::time::timeout(TEST_LIMIT, async {
        let h = Harness::start(true, 3).await;
        let config = resource_config(&accounts(0..120));
        let state = h.converge(&Value::Null, &config).await;
        assert_eq!(h.take_counts(), (1, 3));
        let (after, errs) = h.apply(&state, &Value::Null, &Value::Null).await;
        assert!(errs.is_empty() && after.is_null());
        let destroy = h.take_counts();
        println!("destroy 120: describe={} modify={}", destroy.0, destroy.1);
        assert_eq!(destroy, (2, 3));
    })
    .await
    .expect("test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_failure_then_convergence() {
    tokio::time::timeout(TEST_LIMIT, async {
        // No retries so the injected 500 fails the batch at once.
        let h = Harness::start(true, 0).await;
        let state = h
            .converge(&Value::Null, &resource_config(&accounts(0..60)))
            .await;
        h.take_counts();

        // Update to 60..260: add 200, remove 60 → 4 batches; batch 3 fails.
        let desired = accounts(60..260);
        let config = resource_config(&desired);
        h.emulator
            .add_fault(FaultSpec {
                action: "ModifyImageSharePermission".into(),
                after: 2,
                count: 1,
                status: Some(500),
                code: Some("InternalError".into()),
                ..Default::default()
            })
            .unwrap();
        let (planned, _) = h.plan(&state, &config).await;
        let (partial, errs) = h.apply(&state, &planned, &config).await;
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("Failed to update the shares of image"),
            "{}",
            errs[0]
        );
        assert!(
            errs[0].contains("InternalError") && errs[0].contains("request ID"),
            "{}",
            errs[0]
        );
        assert!(errs[0].contains("2 of 4"), "{}", errs[0]);
        let held = partial.attr("account_ids").as_string_set().unwrap();
        assert_eq!(
            held,
            h.cloud(),
            "state records exactly what the cloud holds"
        );
        assert_eq!(h.take_counts(), (0, 3));

        // Refresh, plan, apply: only the remaining 2 batches are sent.
        let (refreshed, _) = h.read(&partial).await;
        assert_eq!(refreshed, partial);
        h.take_counts();
        let state = h.converge(&refreshed, &config).await;
        assert_eq!(h.cloud(), desired);
        assert_eq!(state.attr("account_ids").as_string_set().unwrap(), desired);
        assert_eq!(h.take_counts(), (0, 2));
    })
    .await
    .expect("test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_actionable() {
    tokio::time::timeout(TEST_LIMIT, async {
        let h = Harness::start(true, 0).await;
        h.emulator.put_image(IMAGE, Some("creating")).await.unwrap();
        let config = resource_config(&accounts(0..3));
        let (planned, _) = h.plan(&Value::Null, &config).await;
        let (state, errs) = h.apply(&Value::Null, &planned, &config).await;
        assert!(state.is_null());
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with(&format!("Failed to share image {IMAGE}")),
            "{}",
            errs[0]
        );
        assert!(
            errs[0].contains("InvalidImageStatus") && errs[0].contains("available"),
            "{}",
            errs[0]
        );
        assert!(!errs[0].contains(DEFAULT_SECRET_KEY));
    })
    .await
    .expect("test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_only_fail_operations_that_call_the_api() {
    tokio::time::timeout(TEST_LIMIT, async {
        let h = Harness::start(false, 0).await;
        let config = resource_config(&accounts(0..3));
        // Planning a create needs no API.
        let (planned, _) = h.plan(&Value::Null, &config).await;
        let (state, errs) = h.apply(&Value::Null, &planned, &config).await;
        assert!(state.is_null());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("Missing Volcengine credentials")
                && errs[0].contains("VOLCENGINE_ACCESS_KEY")
        );
        assert!(h.emulator.calls().is_empty());
    })
    .await
    .expect("test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_cancels_in_flight_apply_only() {
    tokio::time::timeout(TEST_LIMIT, async {
        let h = Harness::start(true, 0).await;
        // Every Modify is answered 300 ms late; 200 accounts = 4 batches.
        h.emulator
            .add_fault(FaultSpec {
                action: "ModifyImageSharePermission".into(),
                count: 100,
                latency_ms: 300,
                ..Default::default()
            })
            .unwrap();
        let desired = accounts(0..200);
        let config = resource_config(&desired);
        let (planned, _) = h.plan(&Value::Null, &config).await;
        let provider = h.provider.clone();
        let (p2, c2) = (planned.clone(), config.clone());
        let apply = tokio::spawn(async move {
            let resp = provider
                .apply_resource_change(Request::new(proto::apply_resource_change::Request {
                    type_name: image_share::TYPE_NAME.into(),
                    prior_state: dv(&Value::Null),
                    planned_state: dv(&p2),
                    config: dv(&c2),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner();
            (undv(resp.new_state.as_ref()), errors(&resp.diagnostics))
        });
        // Stop once the second batch has been answered (bounded wait).
        for _ in 0..200 {
            let done = h
                .emulator
                .calls()
                .iter()
                .filter(|c| c.action == "ModifyImageSharePermission")
                .count();
            if done >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        h.provider
            .stop_provider(Request::new(proto::stop_provider::Request {}))
            .await
            .unwrap();
        let (state, errs) = apply.await.unwrap();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("cancelled"), "{errs:?}");
        let held = state.attr("account_ids").as_string_set().unwrap();
        // The emulator logs a call before its answer reaches the provider, so
        // the second batch may still be in flight (and recorded as not
        // applied) when the stop arrives.
        assert!(
            held.len() >= 50 && held.len() < 200,
            "stopped part-way: {}",
            held.len()
        );
        let modify_calls = h.take_counts().1;
        assert!(
            modify_calls < 4,
            "no batch starts after the stop ({modify_calls} calls)"
        );
        // The cloud holds at least what the state says (a batch in flight at
        // the stop may still land); refresh + apply converges.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(held.is_subset(&h.cloud()));
        h.emulator.clear_faults();
        // Later operations use a fresh token and are not affected.
        let (refreshed, errs) = h.read(&state).await;
        assert!(errs.is_empty());
        let state = h.converge(&refreshed, &config).await;
        assert_eq!(state.attr("account_ids").as_string_set().unwrap(), desired);
        assert_eq!(h.cloud(), desired);
    })
    .await
    .expect("test finished in time");
}
