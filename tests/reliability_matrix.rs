//! The fault matrix, in process: every operation (create, update, delete,
//! refresh, import, data source) against every injected fault, through the
//! provider's tfplugin6 service and the real signed client, against the
//! in-process emulator.
//!
//! For every cell:
//! - a transient fault ends in success; a persistent one ends in an error that
//!   names the image, the code and the request ID the emulator answered with
//!   (or what went wrong, for faults without a code), after exactly the
//!   attempts the retry policy allows;
//! - what Terraform would record equals what the emulator holds;
//! - a following fault-free apply converges and the plan after it is empty.
//!
//! The same cells, a representative set of them, run through real Terraform
//! in `reliability_terraform.rs`; `matrix` here is the table both use.

mod reliability_common;

use std::time::{Duration, Instant};

use futures::StreamExt;
use reliability_common::*;

use reliability_common::cells::{self, Cell, Expect, Fault, Op, IMAGE, MAX_RETRIES, SLOW_MS};
use terraform_provider_volcengine::tfplugin::Value;

/// Cells run at once (each has its own emulator and provider).
const CONCURRENCY: usize = 24;
/// Bound of one cell, setup and convergence included.
const CELL_LIMIT: Duration = Duration::from_secs(60);

fn settings() -> ProviderSettings {
    ProviderSettings {
        max_retries: MAX_RETRIES as i64,
        request_timeout: Some(format!("{}ms", cells::REQUEST_TIMEOUT_MS)),
    }
}

/// Sets up the starting point of `op`: returns the prior state.
async fn arrange(h: &ProviderHarness, cell: &Cell) -> Value {
    let scenario = cell.op.scenario();
    match cell.op {
        Op::Create => Value::Null,
        Op::Update | Op::Delete | Op::Refresh => {
            let initial = resource_config(IMAGE, &scenario.initial, None);
            let state = h.converge(&Value::Null, &initial).await;
            if let Some(drift) = &scenario.drift {
                h.set_shares(IMAGE, drift).await;
            }
            state
        }
        Op::Import | Op::DataSource => {
            h.set_shares(IMAGE, &scenario.initial).await;
            Value::Null
        }
    }
}

/// The operation under test.
async fn act(h: &ProviderHarness, op: Op, prior: &Value, config: &Value) -> Outcome {
    match op {
        Op::Create | Op::Update | Op::Delete => h.plan_apply(prior, config).await,
        Op::Refresh => h.read(prior).await,
        Op::Import => h.import(IMAGE).await,
        Op::DataSource => h.read_data_source(IMAGE).await,
    }
}

/// What Terraform records after `outcome` equals what the emulator holds.
fn check_recorded(
    h: &ProviderHarness,
    op: Op,
    prior: &Value,
    outcome: &Outcome,
) -> Result<(), String> {
    let truth = h.truth(IMAGE).ok_or("the image vanished")?;
    let recorded = outcome.accounts();
    let consistent = match op {
        // A failed read keeps the prior state untouched (Terraform records nothing new).
        Op::Refresh if !outcome.ok() => outcome.state == *prior,
        // A failed import or data source read records nothing.
        Op::Import | Op::DataSource if !outcome.ok() => outcome.state.is_null(),
        Op::DataSource => {
            let total = outcome
                .state
                .attr("total_count")
                .as_number()
                .and_then(|n| n.as_i64());
            recorded.as_ref() == Some(&truth) && total == Some(truth.len() as i64)
        }
        Op::Refresh | Op::Import => recorded.as_ref() == Some(&truth),
        // No object recorded: the emulator must hold no share either.
        Op::Create | Op::Update | Op::Delete => match &recorded {
            Some(accounts) => *accounts == truth,
            None => truth.is_empty(),
        },
    };
    if consistent {
        Ok(())
    } else {
        Err(format!(
            "recorded state {:?} accounts, emulator holds {} (ok={})",
            recorded.map(|a| a.len()),
            truth.len(),
            outcome.ok()
        ))
    }
}

/// The outcome matches the cell's expectation, the error names the code and
/// the request ID the emulator logged, and the attempts were bounded.
fn check_expectation(
    h: &ProviderHarness,
    cell: &Cell,
    outcome: &Outcome,
) -> Result<String, String> {
    if cell.fault == Fault::SlowerThanRequestTimeout {
        // request_timeout abandoned every slow attempt before it was answered
        // (a completed slow answer would be logged as a faulted call).
        let finished = h
            .calls_of(cell.op.target_action())
            .iter()
            .filter(|c| c.faulted)
            .count();
        if finished != 0 {
            return Err(format!(
                "{finished} slow answer(s) completed before the timeout"
            ));
        }
    }
    match cell.expect() {
        Expect::Success => {
            if outcome.ok() {
                Ok("success".into())
            } else {
                Err(format!("expected success, got: {}", outcome.error_text()))
            }
        }
        Expect::Failure {
            needles,
            code,
            attempts,
        } => {
            if outcome.ok() {
                return Err("expected an error, the operation succeeded".into());
            }
            if outcome.errors.len() != 1 {
                return Err(format!("expected one error, got {:?}", outcome.errors));
            }
            let text = outcome.error_text();
            for needle in needles.iter().map(String::as_str).chain([IMAGE]) {
                if !text.contains(needle) {
                    return Err(format!("error lacks {needle:?}: {text}"));
                }
            }
            let target = h.calls_of(cell.op.target_action());
            if let Some(code) = code {
                let answered = target
                    .iter()
                    .rev()
                    .find(|c| c.code.as_deref() == Some(code))
                    .ok_or_else(|| format!("no call answered {code}"))?;
                if !text.contains(&format!("request ID {}", answered.request_id)) {
                    return Err(format!(
                        "error lacks the request ID {} of the last {code} answer: {text}",
                        answered.request_id
                    ));
                }
            }
            if let Some(expected) = attempts {
                let failed = target
                    .iter()
                    .filter(|c| c.faulted || (code.is_some() && c.code.as_deref() == code))
                    .count();
                if failed != expected {
                    return Err(format!(
                        "expected {expected} failed attempt(s) at the faulted call, the emulator saw {failed}"
                    ));
                }
            }
            Ok(format!("error: {}", first_line_of_detail(&text)))
        }
    }
}

/// The detail's first line (the API error), for the per-cell report.
fn first_line_of_detail(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, detail)| detail)
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(110)
        .collect()
}

/// A fault-free apply after the cell converges, and the plan after it is empty.
async fn check_convergence(
    h: &ProviderHarness,
    cell: &Cell,
    outcome: &Outcome,
) -> Result<(), String> {
    h.emulator.clear_faults();
    h.emulator
        .put_image(IMAGE, Some("available"))
        .await
        .map_err(|e| e.to_string())?;
    let scenario = cell.op.scenario();
    if cell.op == Op::DataSource {
        let again = h.read_data_source(IMAGE).await;
        return check_recorded(h, cell.op, &Value::Null, &again)
            .and_then(|_| again.ok().then_some(()).ok_or_else(|| again.error_text()));
    }
    let start = if cell.op == Op::Import && outcome.state.is_null() {
        // The import is retried (an `import` block does so on the next apply).
        let imported = h.import(IMAGE).await;
        if !imported.ok() {
            return Err(format!(
                "fault-free import failed: {}",
                imported.error_text()
            ));
        }
        imported.state
    } else {
        outcome.state.clone()
    };
    let config = scenario.config();
    let last = h.converge(&start, &config).await;
    let truth = h.truth(IMAGE).ok_or("the image vanished")?;
    if truth != scenario.desired {
        return Err(format!(
            "after the converging apply the emulator holds {} accounts, the configuration {}",
            truth.len(),
            scenario.desired.len()
        ));
    }
    h.check_empty_plan(&last, &config).await
}

async fn run_cell(cell: Cell) -> Result<String, String> {
    let h = ProviderHarness::start(&[IMAGE], &settings()).await;
    let prior = arrange(&h, &cell).await;
    h.emulator.clear_calls();
    cell.inject(&h.emulator).await;
    let outcome = act(&h, cell.op, &prior, &cell.op.scenario().config()).await;
    if std::env::var_os("RELIABILITY_TRACE").is_some() {
        for call in h.emulator.calls() {
            println!(
                "  {} seq={} status={} code={:?} faulted={}",
                cell.name(),
                call.seq,
                call.status,
                call.code,
                call.faulted
            );
        }
        println!(
            "  {} outcome ok={} errors={:?}",
            cell.name(),
            outcome.ok(),
            outcome.errors
        );
    }
    let summary = check_expectation(&h, &cell, &outcome)?;
    check_recorded(&h, cell.op, &prior, &outcome).map_err(|e| format!("right after: {e}"))?;
    if cell.fault == Fault::SlowerThanRequestTimeout {
        // An abandoned slow attempt must not land later behind the state's back.
        tokio::time::sleep(Duration::from_millis(SLOW_MS + 300)).await;
        check_recorded(&h, cell.op, &prior, &outcome)
            .map_err(|e| format!("after the slow answers were due: {e}"))?;
    }
    check_convergence(&h, &cell, &outcome).await?;
    Ok(summary)
}

fn panic_text(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into()),
        Err(error) => error.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix_in_process() {
    // RELIABILITY_CELLS=text runs only the cells whose name contains it (debugging).
    let filter = std::env::var("RELIABILITY_CELLS").unwrap_or_default();
    let cells: Vec<Cell> = cells::matrix()
        .into_iter()
        .filter(|c| c.name().contains(&filter))
        .collect();
    let whole = filter.is_empty();
    let started = Instant::now();
    let results: Vec<(Cell, Result<String, String>)> = futures::stream::iter(cells)
        .map(|cell| async move {
            let task = tokio::spawn(tokio::time::timeout(CELL_LIMIT, run_cell(cell)));
            let result = match task.await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(format!("did not finish within {CELL_LIMIT:?}")),
                Err(error) => Err(format!("panicked: {}", panic_text(error))),
            };
            (cell, result)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut results = results;
    results.sort_by_key(|(cell, _)| cell.name());
    let mut failures = Vec::new();
    for (cell, result) in &results {
        match result {
            Ok(summary) => println!("ok   {:<58} {summary}", cell.name()),
            Err(error) => {
                println!("FAIL {:<58} {error}", cell.name());
                failures.push(format!("{}: {error}", cell.name()));
            }
        }
    }
    let passed = results.len() - failures.len();
    println!(
        "fault matrix (in-process): {} cells run, {passed} passed, in {:.1}s",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "failed cells:\n{}",
        failures.join("\n")
    );
    // The table covers every operation with every fault kind.
    for op in Op::ALL.into_iter().filter(|_| whole) {
        assert!(
            results.iter().filter(|(c, _)| c.op == op).count() >= 24,
            "{op:?}"
        );
    }
}
