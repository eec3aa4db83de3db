//! Cancellation and operation timeouts.
//!
//! - Ctrl-C during a long batched `terraform apply` (1,000 accounts = 20
//!   batches, 300 ms per ModifyImageSharePermission): SIGINT goes to
//!   Terraform's process group as a terminal sends it; Terraform forwards it
//!   as StopProvider, the provider stops between batches, Terraform exits
//!   promptly, the state equals what the emulator holds, and the next apply
//!   converges.
//! - `timeouts { create = "3s" }` with a persistent 503: a clear timeout
//!   error naming the setting, at the deadline (in process, measured), and
//!   through Terraform.

mod reliability_common;
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reliability_common::{accounts, resource_config, ProviderHarness, ProviderSettings, MODIFY};
use serde_json::json;
use support::{send_signal_to_group, string_set, wait_bounded, Emulator, Terraform, Workspace};
use terraform_provider_volcengine::emulator::FaultSpec;
use terraform_provider_volcengine::tfplugin::Value;

const ADDRESS: &str = "volcengine_image_share.this";

fn share_config(image: &str, accounts: &[String], extra: &str) -> String {
    format!(
        "provider \"volcengine\" {{\n  max_retries = 20\n}}\n\nresource \"volcengine_image_share\" \"this\" {{\n  image_id    = \"{image}\"\n  account_ids = {}\n{extra}}}\n",
        support::hcl_list(accounts)
    )
}

fn modify_calls(emulator: &Emulator) -> usize {
    emulator.calls_of(MODIFY).len()
}

#[test]
fn ctrl_c_stops_a_long_batched_apply_between_batches() {
    const ACCOUNTS: u64 = 1000;
    const LATENCY_MS: u64 = 300;
    let image = "image-cancel000000001";
    let emulator = Emulator::start_with_args(&[
        "--image".into(),
        image.into(),
        "--share-limit".into(),
        "5000".into(),
    ]);
    let ws = Workspace::with_emulator(Terraform::V1_15, &emulator);
    let desired = support::accounts(2_100_000_000, ACCOUNTS);
    ws.write_main_tf(&share_config(image, &desired, ""));
    emulator.add_fault(json!({
        "action": MODIFY, "count": 10000, "latency_ms": LATENCY_MS
    }));

    let mut child = ws.spawn(&["apply", "-auto-approve", "-input=false"], "apply");
    // Interrupt once three batches are done (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(90);
    while modify_calls(&emulator) < 3 {
        assert!(
            child.try_wait().expect("poll terraform").is_none(),
            "terraform ended before the interrupt: {:?}",
            ws.spawned_output("apply")
        );
        assert!(Instant::now() < deadline, "no batches within 90s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let at_signal = modify_calls(&emulator);
    let signalled = Instant::now();
    // Ctrl-C in a terminal: the whole foreground process group (Terraform and
    // the provider, which ignores SIGINT and stops through StopProvider).
    send_signal_to_group(child.id(), "INT");
    let status = wait_bounded(
        &mut child,
        "interrupted terraform apply",
        Duration::from_secs(30),
    );
    let exit_after = signalled.elapsed();
    let after_exit = modify_calls(&emulator);
    let (stdout, stderr) = ws.spawned_output("apply");
    let output = support::unwrap_text(&format!("{stdout}\n{stderr}"));

    assert!(
        !status.success(),
        "an interrupted apply must fail:\n{output}"
    );
    assert!(
        output.contains("Interrupt received"),
        "Terraform saw the interrupt:\n{output}"
    );
    assert!(
        output.contains("ModifyImageSharePermission was cancelled"),
        "the provider reports the cancellation:\n{output}"
    );
    // At most the batch in flight at the signal was answered after it.
    assert!(
        after_exit <= at_signal + 1,
        "batches kept going after the interrupt: {at_signal} at the signal, {after_exit} at exit"
    );
    // The provider stops between batches well within a second or two.
    assert!(
        exit_after < Duration::from_secs(5),
        "Terraform took {exit_after:?} to exit after the interrupt"
    );
    // An abandoned in-flight batch must not land later behind the state's back.
    std::thread::sleep(Duration::from_millis(LATENCY_MS + 200));
    let held = emulator.shares(image);
    let recorded = ws
        .resource_values(ADDRESS)
        .map(|v| string_set(&v["account_ids"]))
        .unwrap_or_default();
    assert_eq!(recorded, held, "the state equals what the emulator holds");
    assert!(
        !held.is_empty() && held.len() < desired.len(),
        "stopped part-way: {} of {} shared",
        held.len(),
        desired.len()
    );
    let batches_total = ACCOUNTS.div_ceil(50);
    println!(
        "cancellation: SIGINT after {at_signal} of {batches_total} batches; Terraform exited {:.2}s later; \
         {after_exit} batches answered in all; state = emulator = {} accounts",
        exit_after.as_secs_f64(),
        held.len()
    );

    // The next apply converges.
    emulator.clear_faults();
    let started = Instant::now();
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    ws.assert_no_changes();
    println!(
        "cancellation: converging apply took {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_timeout_expiring_mid_retry_is_a_clear_error() {
    let image = "image-timeout0000001";
    let h = ProviderHarness::start(
        &[image],
        &ProviderSettings {
            max_retries: 20,
            request_timeout: None,
        },
    )
    .await;
    h.emulator
        .add_fault(FaultSpec {
            action: MODIFY.into(),
            count: 10000,
            status: Some(503),
            code: Some("ServiceUnavailable".into()),
            ..FaultSpec::default()
        })
        .unwrap();
    let config = resource_config(image, &accounts(0..10), Some(&[("create", "3s")]));
    let started = Instant::now();
    let outcome = reliability_common::within(Duration::from_secs(30), "create", async {
        h.plan_apply(&Value::Null, &config).await
    })
    .await;
    let elapsed = started.elapsed();
    let text = outcome.error_text();
    assert_eq!(outcome.errors.len(), 1, "{text}");
    assert!(
        text.contains("ModifyImageSharePermission timed out") && text.contains("timeouts.create"),
        "a timeout error that names the setting: {text}"
    );
    // The client never sleeps past the deadline: it gives up when the next
    // backoff would end beyond it, so the error comes at (or just before) 3s.
    assert!(
        elapsed < Duration::from_millis(3500),
        "the create ran {elapsed:?} with a 3s timeout"
    );
    let attempts = h.calls_of(MODIFY).len();
    assert!(
        attempts >= 2,
        "retried until the deadline: {attempts} attempts"
    );
    assert!(
        outcome.state.is_null(),
        "nothing was shared, nothing recorded"
    );
    assert_eq!(h.truth(image), Some(BTreeSet::new()));
    println!(
        "timeout: create = \"3s\" with a persistent 503 ended after {:.2}s and {attempts} attempts: {}",
        elapsed.as_secs_f64(),
        text.lines().next().unwrap_or_default()
    );
}

#[test]
fn create_timeout_through_terraform() {
    let image = "image-timeout0000002";
    let emulator = Emulator::start(&[image]);
    let ws = Workspace::with_emulator(Terraform::V1_15, &emulator);
    let desired = support::accounts(2_100_000_000, 10);
    ws.write_main_tf(&share_config(
        image,
        &desired,
        "  timeouts {\n    create = \"3s\"\n  }\n",
    ));
    emulator.add_fault(json!({
        "action": MODIFY, "count": 10000, "status": 503, "code": "ServiceUnavailable"
    }));
    let out = ws.run(&["apply", "-auto-approve", "-input=false"]);
    out.assert_failure();
    let text = support::unwrap_text(&out.combined());
    assert!(
        text.contains("ModifyImageSharePermission timed out") && text.contains("timeouts.create"),
        "{}",
        out.describe()
    );
    assert!(ws.resource_values(ADDRESS).is_none());
    assert!(emulator.shares(image).is_empty());
    emulator.clear_faults();
    ws.apply();
    assert_eq!(emulator.shares(image), desired);
    ws.assert_no_changes();
}
