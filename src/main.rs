//! `terraform-provider-volcengine`: started by Terraform as a go-plugin, or by
//! a person with `--debug`, `--version` or `--help`.

use std::process::ExitCode;

use terraform_provider_volcengine::plugin::{self, Mode, ServeError, ServeOptions};
use terraform_provider_volcengine::{logging, provider};

const USAGE: &str = "\
Usage: terraform-provider-volcengine [--debug | --version | --help]

Terraform starts this provider itself; it is not meant to be run by hand.

  --debug     serve without Terraform starting the process, and print the
              TF_REATTACH_PROVIDERS value that attaches Terraform to it
  --version   print the version and exit
  --help      print this help and exit";

enum Command {
    Serve(Mode),
    Version,
    Help,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut command = Command::Serve(Mode::Managed);
    for arg in args {
        command = match arg.as_str() {
            "--debug" | "-debug" => Command::Serve(Mode::Debug),
            "--version" | "-version" | "-v" => return Ok(Command::Version),
            "--help" | "-help" | "-h" => return Ok(Command::Help),
            other => return Err(format!("unknown argument {other:?}")),
        };
    }
    Ok(command)
}

fn main() -> ExitCode {
    let mode = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve(mode)) => mode,
        Ok(Command::Version) => {
            println!(
                "terraform-provider-volcengine {}",
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    logging::init();
    // Two workers: Terraform runs a handful of RPCs at once and the work is
    // I/O-bound; more threads would only add start-up cost and memory.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(plugin::serve(
        provider::VolcengineProvider::new(),
        ServeOptions::from_env(mode),
    ));
    // Do not wait for stray tasks (e.g. a request stuck past the grace period).
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err @ ServeError::NotLaunchedByTerraform) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("terraform-provider-volcengine: {err}");
            ExitCode::FAILURE
        }
    }
}
