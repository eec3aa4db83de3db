//! Convergence property: random sequences of configuration changes,
//! out-of-band changes (drift), image deletions and re-creations, and
//! injected faults. After every step what the provider recorded equals what
//! the emulator holds (nothing when the image is gone); after a final
//! fault-free apply the emulator holds exactly the configured set and the
//! plan is empty.
//!
//! Many cases run in process (the provider's tfplugin6 service, the real
//! client with a short backoff, the in-process emulator); a few fixed-seed
//! sequences from the same strategy run through real Terraform.

mod reliability_common;
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
use reliability_common::{
    accounts, resource_config, state_accounts, ProviderHarness, DESCRIBE, MODIFY,
};
use terraform_provider_volcengine::emulator::FaultSpec;
use terraform_provider_volcengine::tfplugin::Value;

const IMAGE: &str = "image-property00000001";
const MAX_ACCOUNTS: u32 = 120;
const MAX_STEPS: usize = 8;
const MAX_RETRIES: u32 = 2;
const CASES: u32 = 64;

// ----- the model -----

/// A change made behind the provider's back before the step's command.
#[derive(Clone, Debug)]
enum OutOfBand {
    Nothing,
    Drift(BTreeSet<String>),
    DeleteImage,
    RecreateImage,
}

/// What Terraform is asked to do in a step.
#[derive(Clone, Debug)]
enum Command {
    /// `terraform apply` of this account set; None removes the resource.
    Apply(Option<BTreeSet<String>>),
    /// `terraform apply -refresh-only`.
    Refresh,
}

#[derive(Clone, Copy, Debug)]
enum FaultKind {
    Internal500,
    Unavailable503,
    TooMany429,
    FlowLimit400,
    Dropped,
    InvalidArgument400,
}

#[derive(Clone, Debug)]
struct StepFault {
    action: &'static str,
    kind: FaultKind,
    /// Consecutive calls struck; beyond `MAX_RETRIES` it outlasts one call's retries.
    count: u32,
    /// Matching calls let through first.
    after: u32,
}

impl StepFault {
    fn spec(&self) -> FaultSpec {
        let (status, code, drop) = match self.kind {
            FaultKind::Internal500 => (Some(500), Some("InternalError"), false),
            FaultKind::Unavailable503 => (Some(503), Some("ServiceUnavailable"), false),
            FaultKind::TooMany429 => (Some(429), Some("TooManyRequests"), false),
            FaultKind::FlowLimit400 => (Some(400), Some("FlowLimitExceeded"), false),
            FaultKind::Dropped => (None, None, true),
            FaultKind::InvalidArgument400 => (Some(400), Some("InvalidArgument"), false),
        };
        FaultSpec {
            action: self.action.into(),
            count: self.count,
            after: self.after,
            status,
            code: code.map(str::to_owned),
            drop_connection: drop,
            ..FaultSpec::default()
        }
    }
}

#[derive(Clone, Debug)]
struct Step {
    out_of_band: OutOfBand,
    fault: Option<StepFault>,
    command: Command,
}

fn account_set() -> impl Strategy<Value = BTreeSet<String>> {
    let all = (1u128 << MAX_ACCOUNTS) - 1;
    let to_set = |bits: u128| -> BTreeSet<String> {
        (0..MAX_ACCOUNTS as u64)
            .filter(|i| bits >> i & 1 == 1)
            .flat_map(|i| accounts(i..i + 1))
            .collect()
    };
    prop_oneof![
        1 => Just(0u128),
        1 => Just(all),
        4 => prop::bits::u128::masked(all),
        4 => (0..MAX_ACCOUNTS, 0..=MAX_ACCOUNTS).prop_map(|(a, b)| {
            let (lo, hi) = (a.min(b), a.max(b));
            (lo..hi).fold(0u128, |bits, i| bits | 1 << i)
        }),
    ]
    .prop_map(to_set)
}

fn step() -> impl Strategy<Value = Step> {
    let out_of_band = prop_oneof![
        6 => Just(OutOfBand::Nothing),
        3 => account_set().prop_map(OutOfBand::Drift),
        1 => Just(OutOfBand::DeleteImage),
        1 => Just(OutOfBand::RecreateImage),
    ];
    let kind = prop_oneof![
        Just(FaultKind::Internal500),
        Just(FaultKind::Unavailable503),
        Just(FaultKind::TooMany429),
        Just(FaultKind::FlowLimit400),
        Just(FaultKind::Dropped),
        Just(FaultKind::InvalidArgument400),
    ];
    let fault = prop::option::weighted(
        0.5,
        (
            prop_oneof![Just(MODIFY), Just(DESCRIBE), Just("*")],
            kind,
            1u32..=4,
            0u32..=2,
        )
            .prop_map(|(action, kind, count, after)| StepFault {
                action,
                kind,
                count,
                after,
            }),
    );
    let command = prop_oneof![
        6 => account_set().prop_map(|s| Command::Apply(Some(s))),
        1 => Just(Command::Apply(None)),
        2 => Just(Command::Refresh),
    ];
    (out_of_band, fault, command).prop_map(|(out_of_band, fault, command)| Step {
        out_of_band,
        fault,
        command,
    })
}

fn sequence(max_steps: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 1..=max_steps)
}

/// The last configuration applied (None: no resource configured).
fn final_config(steps: &[Step]) -> Option<BTreeSet<String>> {
    steps
        .iter()
        .rev()
        .find_map(|s| match &s.command {
            Command::Apply(config) => Some(config.clone()),
            Command::Refresh => None,
        })
        .flatten()
}

fn config_value(config: &Option<BTreeSet<String>>) -> Value {
    match config {
        Some(accounts) => resource_config(IMAGE, accounts, None),
        None => Value::Null,
    }
}

// ----- the invariant -----

/// After a step: what is recorded equals what the emulator holds, nothing is
/// recorded for a vanished image, and a successful command did what it said.
/// A command that failed in its refresh keeps the prior state untouched.
fn check_step(
    before: &Value,
    recorded: &Value,
    truth: Option<&BTreeSet<String>>,
    command: &Command,
    outcome: &StepOutcome,
) -> Result<(), String> {
    if *outcome == StepOutcome::RefreshFailed {
        return if recorded == before {
            Ok(())
        } else {
            Err("a failed refresh changed the state".into())
        };
    }
    match (state_accounts(recorded), truth) {
        (Some(_), None) => return Err("state records shares of an image that is gone".into()),
        (Some(held), Some(truth)) if held != *truth => {
            return Err(format!(
                "state records {} accounts, the emulator holds {} ({} missing, {} extra)",
                held.len(),
                truth.len(),
                truth.difference(&held).count(),
                held.difference(truth).count()
            ))
        }
        _ => {}
    }
    if *outcome == StepOutcome::Succeeded {
        match (command, truth) {
            (Command::Apply(Some(config)), Some(truth)) if truth != config => {
                return Err("a successful apply left the emulator off the configuration".into())
            }
            (Command::Apply(Some(_)), Some(_)) if recorded.is_null() => {
                return Err("a successful apply recorded nothing".into())
            }
            // Without a configured resource nothing is recorded; shares are
            // removed only if the resource was in state (otherwise they are
            // not Terraform's).
            (Command::Apply(None), _) if !recorded.is_null() => {
                return Err("a successful destroy left the resource in state".into())
            }
            (Command::Apply(None), Some(truth)) if !before.is_null() && !truth.is_empty() => {
                return Err("a successful destroy left shares behind".into())
            }
            _ => {}
        }
    }
    Ok(())
}

/// Step outcomes seen in process: succeeded, refresh failed, apply failed.
static OUTCOMES: [std::sync::atomic::AtomicUsize; 3] = [
    std::sync::atomic::AtomicUsize::new(0),
    std::sync::atomic::AtomicUsize::new(0),
    std::sync::atomic::AtomicUsize::new(0),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepOutcome {
    Succeeded,
    RefreshFailed,
    ApplyFailed,
}

// ----- in process -----

/// One `terraform apply` (refresh, plan, apply) or `apply -refresh-only`.
async fn run_command(
    h: &ProviderHarness,
    state: &Value,
    command: &Command,
) -> (Value, StepOutcome) {
    let refreshed = h.read(state).await;
    if !refreshed.ok() {
        return (state.clone(), StepOutcome::RefreshFailed);
    }
    match command {
        Command::Refresh => (refreshed.state, StepOutcome::Succeeded),
        Command::Apply(config) => {
            let applied = h.plan_apply(&refreshed.state, &config_value(config)).await;
            let outcome = if applied.ok() {
                StepOutcome::Succeeded
            } else {
                StepOutcome::ApplyFailed
            };
            (applied.state, outcome)
        }
    }
}

async fn out_of_band_in_process(h: &ProviderHarness, change: &OutOfBand) {
    let exists = h.truth(IMAGE).is_some();
    match change {
        OutOfBand::Nothing => {}
        OutOfBand::Drift(accounts) if exists => h.set_shares(IMAGE, accounts).await,
        OutOfBand::DeleteImage if exists => h.emulator.delete_image(IMAGE).await.unwrap(),
        OutOfBand::RecreateImage if !exists => {
            h.emulator.put_image(IMAGE, None).await.unwrap();
        }
        _ => {}
    }
}

async fn run_sequence_in_process(steps: &[Step]) -> Result<(), String> {
    let h = ProviderHarness::start_fast(&[IMAGE], MAX_RETRIES).await;
    let mut state = Value::Null;
    for (n, step) in steps.iter().enumerate() {
        out_of_band_in_process(&h, &step.out_of_band).await;
        if let Some(fault) = &step.fault {
            h.emulator.add_fault(fault.spec()).unwrap();
        }
        let (recorded, outcome) = run_command(&h, &state, &step.command).await;
        OUTCOMES[outcome as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        h.emulator.clear_faults();
        check_step(
            &state,
            &recorded,
            h.truth(IMAGE).as_ref(),
            &step.command,
            &outcome,
        )
        .map_err(|e| format!("step {} ({step:?}, {outcome:?}): {e}", n + 1))?;
        state = recorded;
    }
    // Fault-free: the image is back, one apply converges, the plan is empty.
    if h.truth(IMAGE).is_none() {
        h.emulator.put_image(IMAGE, None).await.unwrap();
    }
    let config = final_config(steps);
    let command = Command::Apply(config.clone());
    let (last, outcome) = run_command(&h, &state, &command).await;
    if outcome != StepOutcome::Succeeded {
        return Err(format!("the fault-free apply failed ({outcome:?})"));
    }
    check_step(&state, &last, h.truth(IMAGE).as_ref(), &command, &outcome)
        .map_err(|e| format!("final apply: {e}"))?;
    let truth = h.truth(IMAGE).unwrap_or_default();
    if config.as_ref().is_some_and(|config| truth != *config) {
        return Err(format!(
            "after the final apply the emulator holds {} accounts, the configuration {:?}",
            truth.len(),
            config.map(|c| c.len())
        ));
    }
    h.check_empty_plan(&last, &config_value(&config)).await
}

#[test]
fn convergence_property_in_process() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let steps_run = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        // Shrinking re-runs sequences; keep it bounded.
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&sequence(MAX_STEPS), |steps| {
        steps_run.fetch_add(steps.len(), std::sync::atomic::Ordering::Relaxed);
        let outcome = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), run_sequence_in_process(&steps)).await
        });
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(TestCaseError::fail(e)),
            Err(_) => Err(TestCaseError::fail("sequence did not finish within 60s")),
        }
    });
    println!(
        "convergence property (in-process): {CASES} cases, {} steps (shrinking included), in {:.1}s",
        steps_run.into_inner(),
        started.elapsed().as_secs_f64()
    );
    let seen = |i: usize| OUTCOMES[i].load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "  step outcomes: {} succeeded, {} failed in the refresh, {} failed in the apply",
        seen(0),
        seen(1),
        seen(2)
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

// ----- through Terraform -----

/// Fixed seeds: the same strategy, so the same kind of sequences, reproducibly.
const TERRAFORM_SEEDS: [u8; 3] = [7, 21, 42];
/// Terraform is slow here: shorter sequences.
const TERRAFORM_MAX_STEPS: usize = 4;

fn seeded_sequence(seed: u8) -> Vec<Step> {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    sequence(TERRAFORM_MAX_STEPS)
        .new_tree(&mut runner)
        .expect("a sequence")
        .current()
}

fn hcl(config: &Option<BTreeSet<String>>) -> String {
    let provider = format!(
        "provider \"volcengine\" {{\n  max_retries     = {MAX_RETRIES}\n  request_timeout = \"2500ms\"\n}}\n"
    );
    match config {
        None => provider,
        Some(accounts) => format!(
            "{provider}\nresource \"volcengine_image_share\" \"this\" {{\n  image_id    = \"{IMAGE}\"\n  account_ids = {}\n}}\n",
            support::hcl_list(&accounts.iter().cloned().collect::<Vec<_>>())
        ),
    }
}

fn terraform_recorded(ws: &support::Workspace) -> Value {
    match ws.resource_values("volcengine_image_share.this") {
        None => Value::Null,
        Some(values) => {
            let accounts = support::string_set(&values["account_ids"]);
            resource_config(IMAGE, &accounts.into_iter().collect(), None)
        }
    }
}

fn run_sequence_with_terraform(steps: &[Step]) -> Result<(), String> {
    use support::{Emulator, Terraform, Workspace};
    let emulator = Emulator::start(&[IMAGE]);
    let ws = Workspace::with_emulator(Terraform::V1_15, &emulator);
    let exists = |e: &Emulator| e.raw_images().iter().any(|i| i["image_id"] == IMAGE);
    let truth =
        |e: &Emulator| exists(e).then(|| e.shares(IMAGE).into_iter().collect::<BTreeSet<_>>());
    let mut config: Option<BTreeSet<String>> = None;
    let mut state = Value::Null;
    for (n, step) in steps.iter().enumerate() {
        match &step.out_of_band {
            OutOfBand::Drift(accounts) if exists(&emulator) => {
                emulator.set_shares(IMAGE, &accounts.iter().cloned().collect::<Vec<_>>())
            }
            OutOfBand::DeleteImage if exists(&emulator) => emulator.delete_image(IMAGE),
            OutOfBand::RecreateImage if !exists(&emulator) => emulator.put_image(IMAGE),
            _ => {}
        }
        if let Command::Apply(c) = &step.command {
            config = c.clone();
        }
        ws.write_main_tf(&hcl(&config));
        if let Some(fault) = &step.fault {
            emulator.add_fault_spec(&fault.spec());
        }
        let out = match step.command {
            Command::Refresh => {
                ws.run(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
            }
            Command::Apply(_) => ws.run(&["apply", "-auto-approve", "-input=false"]),
        };
        emulator.clear_faults();
        let recorded = terraform_recorded(&ws);
        // Terraform does not say which phase failed; a state left exactly as
        // before a failed command is what a failed refresh leaves.
        let outcome = if out.success() {
            StepOutcome::Succeeded
        } else if recorded == state {
            StepOutcome::RefreshFailed
        } else {
            StepOutcome::ApplyFailed
        };
        let normalised_command = match &step.command {
            Command::Apply(_) => Command::Apply(config.clone()),
            Command::Refresh => Command::Refresh,
        };
        // A failed command that left the state exactly as it was (a failed
        // refresh, or nothing written) keeps the prior state: accepted as is.
        let check = if outcome == StepOutcome::RefreshFailed {
            Ok(())
        } else {
            check_step(
                &state,
                &recorded,
                truth(&emulator).as_ref(),
                &normalised_command,
                &outcome,
            )
        };
        check.map_err(|e| format!("step {} ({step:?}): {e}\n{}", n + 1, out.describe()))?;
        state = recorded;
    }
    if !exists(&emulator) {
        emulator.put_image(IMAGE);
    }
    ws.write_main_tf(&hcl(&config));
    ws.apply();
    let held = truth(&emulator).unwrap_or_default();
    let before = state.clone();
    let after = terraform_recorded(&ws);
    let command = Command::Apply(config.clone());
    check_step(
        &before,
        &after,
        Some(&held),
        &command,
        &StepOutcome::Succeeded,
    )
    .map_err(|e| format!("final apply: {e}"))?;
    if config.as_ref().is_some_and(|config| held != *config) {
        return Err(format!(
            "after the final apply the emulator holds {} accounts",
            held.len()
        ));
    }
    let (code, out) = ws.plan();
    if code != 0 {
        return Err(format!(
            "plan after the final apply is not empty:\n{}",
            out.describe()
        ));
    }
    Ok(())
}

#[test]
fn convergence_property_through_terraform() {
    let started = Instant::now();
    let results: Vec<(u8, usize, Result<(), String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = TERRAFORM_SEEDS
            .iter()
            .map(|&seed| {
                scope.spawn(move || {
                    let steps = seeded_sequence(seed);
                    let n = steps.len();
                    (seed, n, run_sequence_with_terraform(&steps))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sequence thread"))
            .collect()
    });
    for (seed, steps, result) in &results {
        println!("seed {seed}: {steps} steps: {result:?}");
    }
    println!(
        "convergence property (Terraform 1.15.5): {} sequences, {} passed, in {:.1}s",
        results.len(),
        results.iter().filter(|(_, _, r)| r.is_ok()).count(),
        started.elapsed().as_secs_f64()
    );
    for (seed, _, result) in results {
        if let Err(e) = result {
            panic!("seed {seed}: {e}");
        }
    }
}
