//! `volcengine-ecs-emulator`: serves the local ECS image-share emulator until
//! SIGTERM or Ctrl-C. See `--help` and docs/emulator.md.

use std::io::Write;
use std::process::ExitCode;

use terraform_provider_volcengine::emulator::cli::{self, Command};
use terraform_provider_volcengine::emulator::{Emulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            print!("{}", cli::usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("volcengine-ecs-emulator {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("volcengine-ecs-emulator: {message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let default_credentials = config.credentials.is_empty();
    let access_keys: Vec<String> = config
        .effective_credentials()
        .into_iter()
        .map(|c| c.access_key)
        .collect();
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("volcengine-ecs-emulator: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };

    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on {}", emulator.base_url());
    if default_credentials {
        // The default pair is public (it only opens this emulator), so printing it is fine.
        let _ = writeln!(
            stdout,
            "default credentials: access_key={DEFAULT_ACCESS_KEY} secret_key={DEFAULT_SECRET_KEY}"
        );
    } else {
        // Configured secrets are never printed.
        let _ = writeln!(
            stdout,
            "credentials: access keys {}",
            access_keys.join(", ")
        );
    }
    let _ = stdout.flush();
    drop(stdout);

    wait_for_signal().await;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(term) => term,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the emulator");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
