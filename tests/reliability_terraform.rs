//! The fault matrix through real Terraform 1.15.5: one cell per operation
//! kind plus a failure at the first, middle and last batch, taken from the
//! same table as the in-process matrix (`reliability_common::cells`).
//!
//! Each cell: the operation runs against the emulator binary with the fault
//! injected; Terraform's exit status and error text match the cell (the code
//! and the request ID the emulator answered, through Terraform's line
//! wrapping); `terraform show -json` equals what the emulator holds; after
//! the faults are gone one `terraform apply` converges and
//! `terraform plan -detailed-exitcode` exits 0.

mod reliability_common;
mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Instant;

use reliability_common::cells::{
    Cell, Expect, Fault, Injection, Op, Times, IMAGE, MAX_RETRIES, REQUEST_TIMEOUT_MS,
};
use reliability_common::{DESCRIBE, MODIFY};
use support::{find_resource, string_set, unwrap_text, Emulator, Terraform, Workspace};

const ADDRESS: &str = "volcengine_image_share.this";
const DATA_ADDRESS: &str = "data.volcengine_image_share.this";
/// Terraform cells run at once (each runs Terraform processes in turn).
const WORKERS: usize = 3;

fn provider_block() -> String {
    format!(
        "provider \"volcengine\" {{\n  max_retries     = {MAX_RETRIES}\n  request_timeout = \"{REQUEST_TIMEOUT_MS}ms\"\n}}\n"
    )
}

fn resource_hcl(accounts: &BTreeSet<String>) -> String {
    let list: Vec<&String> = accounts.iter().collect();
    format!(
        "{}\nresource \"volcengine_image_share\" \"this\" {{\n  image_id    = \"{IMAGE}\"\n  account_ids = {}\n}}\n",
        provider_block(),
        support::hcl_list(&list.into_iter().cloned().collect::<Vec<_>>())
    )
}

fn data_source_hcl() -> String {
    format!(
        "{}\ndata \"volcengine_image_share\" \"this\" {{\n  image_id = \"{IMAGE}\"\n}}\n\noutput \"accounts\" {{\n  value = data.volcengine_image_share.this.account_ids\n}}\n",
        provider_block()
    )
}

/// The configuration the operation applies.
fn op_config(op: Op) -> String {
    let scenario = op.scenario();
    match op {
        Op::Delete => provider_block(),
        Op::DataSource => data_source_hcl(),
        _ => resource_hcl(&scenario.desired),
    }
}

fn truth(emulator: &Emulator) -> BTreeSet<String> {
    emulator.shares(IMAGE).into_iter().collect()
}

/// The `account_ids` Terraform recorded for `address`, None when absent.
fn recorded(ws: &Workspace, address: &str) -> Option<BTreeSet<String>> {
    let state = ws.state_json();
    find_resource(&state, address).map(|r| {
        string_set(&r["values"]["account_ids"])
            .into_iter()
            .collect()
    })
}

fn inject(emulator: &Emulator, cell: &Cell) {
    match cell.injection() {
        Injection::Faults(specs) => specs.iter().for_each(|s| emulator.add_fault_spec(s)),
        Injection::ImageStatus(status) => emulator.set_image_status(IMAGE, status),
    }
}

/// Runs the operation itself; returns (succeeded, all output).
fn act(ws: &Workspace, op: Op) -> (bool, String) {
    let out = match op {
        Op::Refresh => ws.run(&["apply", "-refresh-only", "-auto-approve", "-input=false"]),
        Op::Import => ws.run(&["import", "-input=false", ADDRESS, IMAGE]),
        _ => ws.run(&["apply", "-auto-approve", "-input=false"]),
    };
    (out.success(), out.combined())
}

fn check_expectation(
    emulator: &Emulator,
    cell: &Cell,
    ok: bool,
    output: &str,
) -> Result<String, String> {
    let text = unwrap_text(output);
    if cell.fault == Fault::SlowerThanRequestTimeout {
        // The provider's request_timeout abandoned the slow attempt: the
        // emulator never finished answering it (a completed slow answer
        // would be logged as a faulted call).
        let finished = emulator
            .raw_calls()
            .iter()
            .filter(|c| c["action"] == cell.op.target_action() && c["faulted"] == true)
            .count();
        if finished != 0 {
            return Err(format!(
                "{finished} slow answer(s) completed: request_timeout did not cut them"
            ));
        }
    }
    match cell.expect() {
        Expect::Success if ok => Ok("success".into()),
        Expect::Success => Err(format!("expected success, Terraform failed:\n{output}")),
        Expect::Failure { .. } if ok => Err(format!(
            "expected a failure, Terraform succeeded:\n{output}"
        )),
        Expect::Failure {
            needles,
            code,
            attempts,
        } => {
            for needle in needles.iter().map(String::as_str).chain([IMAGE]) {
                if !text.contains(&unwrap_text(needle)) {
                    return Err(format!("Terraform's error lacks {needle:?}:\n{output}"));
                }
            }
            let action = cell.op.target_action();
            if let Some(code) = code {
                let ids = emulator.request_ids_with_code(action, code);
                let last = ids
                    .last()
                    .ok_or_else(|| format!("no {code} answer logged"))?;
                if !text.contains(&format!("request ID {last}")) {
                    return Err(format!(
                        "Terraform's error lacks request ID {last}:\n{output}"
                    ));
                }
            }
            if let Some(expected) = attempts {
                let failed = emulator
                    .raw_calls()
                    .iter()
                    .filter(|c| c["action"] == action)
                    .filter(|c| {
                        c["faulted"] == true || (code.is_some() && c["code"].as_str() == code)
                    })
                    .count();
                if failed != expected {
                    return Err(format!(
                        "expected {expected} failed attempts, the emulator saw {failed}"
                    ));
                }
            }
            Ok(format!(
                "Terraform failed as expected ({})",
                code.unwrap_or("no code")
            ))
        }
    }
}

/// `terraform show -json` equals what the emulator holds.
fn check_recorded(
    emulator: &Emulator,
    ws: &Workspace,
    op: Op,
    ok: bool,
    prior: &Option<BTreeSet<String>>,
) -> Result<(), String> {
    let truth = truth(emulator);
    let consistent = match op {
        Op::DataSource if ok => {
            string_set(&ws.output_json("accounts"))
                .into_iter()
                .collect::<BTreeSet<_>>()
                == truth
        }
        Op::DataSource => find_resource(&ws.state_json(), DATA_ADDRESS).is_none(),
        Op::Refresh if !ok => recorded(ws, ADDRESS) == *prior,
        Op::Import if !ok => recorded(ws, ADDRESS).is_none(),
        Op::Refresh | Op::Import => recorded(ws, ADDRESS) == Some(truth.clone()),
        Op::Create | Op::Update | Op::Delete => match recorded(ws, ADDRESS) {
            Some(accounts) => accounts == truth,
            None => truth.is_empty(),
        },
    };
    if consistent {
        Ok(())
    } else {
        Err(format!(
            "terraform show -json has {:?} accounts, the emulator {} (operation ok={ok})",
            recorded(ws, ADDRESS).map(|a| a.len()),
            truth.len()
        ))
    }
}

fn run_cell(cell: Cell) -> Result<String, String> {
    let emulator = Emulator::start(&[IMAGE]);
    // dev_overrides: Terraform 1.15 needs no `init` for an overridden provider.
    let ws = Workspace::with_emulator(Terraform::V1_15, &emulator);
    let scenario = cell.op.scenario();
    match cell.op {
        Op::Create => {}
        Op::Update | Op::Delete | Op::Refresh => {
            ws.write_main_tf(&resource_hcl(&scenario.initial));
            ws.apply();
            if let Some(drift) = &scenario.drift {
                emulator.set_shares(IMAGE, &drift.iter().cloned().collect::<Vec<_>>());
            }
        }
        Op::Import | Op::DataSource => {
            emulator.set_shares(IMAGE, &scenario.initial.iter().cloned().collect::<Vec<_>>())
        }
    }
    // Only a failed refresh is compared with the state before it.
    let prior = match cell.op {
        Op::Refresh => recorded(&ws, ADDRESS),
        _ => None,
    };
    ws.write_main_tf(&op_config(cell.op));
    emulator.clear_calls();
    inject(&emulator, &cell);

    let (ok, output) = act(&ws, cell.op);
    let summary = check_expectation(&emulator, &cell, ok, &output)?;
    check_recorded(&emulator, &ws, cell.op, ok, &prior)?;

    // Fault-free: one apply converges and the plan after it is empty.
    emulator.clear_faults();
    emulator.set_image_status(IMAGE, "available");
    if cell.op == Op::Import && !ok {
        ws.ok(&["import", "-input=false", ADDRESS, IMAGE]);
    }
    ws.apply();
    if truth(&emulator) != scenario.desired {
        return Err(format!(
            "after the converging apply the emulator holds {} accounts, the configuration {}",
            truth(&emulator).len(),
            scenario.desired.len()
        ));
    }
    // An empty plan (its refresh included) proves the state matches too.
    let (code, out) = ws.plan();
    if code != 0 {
        return Err(format!(
            "plan -detailed-exitcode = {code} after converging:\n{}",
            out.describe()
        ));
    }
    Ok(summary)
}

/// One cell per operation kind, and a batch failure first / middle / last.
fn terraform_cells() -> Vec<Cell> {
    let api = |status, code| Fault::Api { status, code };
    let cell = |op, fault, times| Cell { op, fault, times };
    vec![
        cell(Op::Create, api(500, "InternalError"), Times::Twice),
        cell(Op::Update, Fault::DroppedConnection, Times::Once),
        cell(Op::Delete, api(503, "ServiceUnavailable"), Times::Always),
        cell(Op::Refresh, Fault::SlowerThanRequestTimeout, Times::Once),
        cell(
            Op::Import,
            api(400, "AccountFlowLimitExceeded"),
            Times::Always,
        ),
        cell(Op::DataSource, Fault::HtmlPage, Times::Once),
        cell(Op::Create, Fault::BatchFailure { k: 1 }, Times::Always),
        cell(Op::Update, Fault::BatchFailure { k: 2 }, Times::Always),
        cell(Op::Delete, Fault::BatchFailure { k: 3 }, Times::Always),
    ]
}

#[test]
fn fault_matrix_through_terraform() {
    let cells = terraform_cells();
    // Every cell is one of the in-process matrix's cells.
    let all = reliability_common::cells::matrix();
    assert!(cells.iter().all(|c| all.contains(c)));
    let started = Instant::now();
    let queue = Mutex::new(cells.clone());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let Some(cell) = queue.lock().unwrap().pop() else {
                    break;
                };
                let cell_started = Instant::now();
                let result = std::panic::catch_unwind(|| run_cell(cell)).unwrap_or_else(|panic| {
                    Err(panic
                        .downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| "panicked".into()))
                });
                results
                    .lock()
                    .unwrap()
                    .push((cell, result, cell_started.elapsed()));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(cell, _, _)| *cell);
    let mut failures = Vec::new();
    for (cell, result, elapsed) in &results {
        match result {
            Ok(summary) => println!(
                "ok   {:<48} {summary} [{:.1}s]",
                cell.name(),
                elapsed.as_secs_f64()
            ),
            Err(error) => {
                println!("FAIL {:<48} {error}", cell.name());
                failures.push(format!("{}: {error}", cell.name()));
            }
        }
    }
    println!(
        "fault matrix (Terraform 1.15.5): {} cells run, {} passed, in {:.1}s",
        results.len(),
        results.len() - failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "failed cells:\n{}",
        failures.join("\n")
    );
    let ops: BTreeSet<Op> = results.iter().map(|(c, _, _)| c.op).collect();
    assert_eq!(
        ops.len(),
        Op::ALL.len(),
        "one cell per operation kind at least"
    );
    let _ = (MODIFY, DESCRIBE);
}
