//! Serving the provider the way Terraform's go-plugin client expects: magic
//! cookie, protocol negotiation, a private listener, AutoMTLS, the handshake
//! line, and go-plugin's side services next to the tfplugin6 `Provider`.
//!
//! ```no_run
//! # use terraform_provider_volcengine::plugin::{serve, Mode, ServeOptions};
//! # async fn run<P: terraform_provider_volcengine::tfplugin::proto::provider_server::Provider>(provider: P) {
//! serve(provider, ServeOptions::from_env(Mode::Managed)).await.unwrap();
//! # }
//! ```

mod conn;
pub mod cookie;
pub mod debug;
pub mod handshake;
mod incoming;
pub mod listener;
pub mod services;
pub mod tls;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::tfplugin::goplugin::grpc_broker_server::GrpcBrokerServer;
use crate::tfplugin::goplugin::grpc_controller_server::GrpcControllerServer;
use crate::tfplugin::goplugin::grpc_stdio_server::GrpcStdioServer;
use crate::tfplugin::proto::provider_server::{Provider, ProviderServer};

pub use handshake::{Handshake, UnsupportedProtocol};
pub use listener::ListenOptions;
pub use tls::TlsSetupError;

/// Largest gRPC message accepted or sent by the Provider service; matches
/// Terraform's client limit (tonic's default is 4 MiB).
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// How long in-flight requests may take to finish after shutdown starts.
/// go-plugin kills the process 2 seconds after asking it to shut down.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How the process was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Started by Terraform: cookie required, AutoMTLS, handshake line.
    Managed,
    /// Started by a person (`--debug`): no cookie, plain gRPC, reattach
    /// instructions, runs until Ctrl-C.
    Debug,
}

/// The go-plugin environment Terraform hands a provider, read once.
#[derive(Clone, Default)]
pub struct PluginEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_CLIENT_CERT` (PEM).
    pub client_cert_pem: Option<String>,
    /// `TF_DISABLE_PLUGIN_TLS` is set (to anything).
    pub disable_tls: bool,
    /// `PLUGIN_MIN_PORT`.
    pub min_port: Option<String>,
    /// `PLUGIN_MAX_PORT`.
    pub max_port: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`.
    pub unix_socket_dir: Option<PathBuf>,
}

impl PluginEnv {
    /// Reads the variables from this process's environment.
    pub fn from_process() -> Self {
        let var = |key: &str| std::env::var(key).ok();
        Self {
            magic_cookie: var(cookie::MAGIC_COOKIE_KEY),
            protocol_versions: var(handshake::PROTOCOL_VERSIONS_KEY),
            client_cert_pem: var(tls::CLIENT_CERT_KEY),
            disable_tls: std::env::var_os(tls::DISABLE_TLS_KEY).is_some(),
            min_port: var(listener::MIN_PORT_KEY),
            max_port: var(listener::MAX_PORT_KEY),
            unix_socket_dir: std::env::var_os(listener::UNIX_SOCKET_DIR_KEY)
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from),
        }
    }
}

impl std::fmt::Debug for PluginEnv {
    // The client certificate is public, but it is long and says nothing useful.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEnv")
            .field("magic_cookie_set", &self.magic_cookie.is_some())
            .field("protocol_versions", &self.protocol_versions)
            .field("client_cert_set", &self.client_cert_pem.is_some())
            .field("disable_tls", &self.disable_tls)
            .field("min_port", &self.min_port)
            .field("max_port", &self.max_port)
            .field("unix_socket_dir", &self.unix_socket_dir)
            .finish()
    }
}

/// Everything [`serve`] needs to know.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Managed by Terraform, or debug.
    pub mode: Mode,
    /// The go-plugin environment.
    pub env: PluginEnv,
    /// Listen on TCP even where a unix socket would work.
    pub force_tcp: bool,
    /// Cancelling it shuts the server down (as GRPCController.Shutdown does).
    pub shutdown: CancellationToken,
    /// Upper bound on draining in-flight requests at shutdown.
    pub shutdown_grace: Duration,
}

impl ServeOptions {
    /// Options from the process environment.
    pub fn from_env(mode: Mode) -> Self {
        Self::with_env(mode, PluginEnv::from_process())
    }

    /// Options from an explicit environment (tests, embedding).
    pub fn with_env(mode: Mode, env: PluginEnv) -> Self {
        Self {
            mode,
            env,
            force_tcp: false,
            shutdown: CancellationToken::new(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Why the plugin could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Started by hand, not by Terraform; the message is for a person.
    #[error("{}", cookie::NOT_LAUNCHED_BY_TERRAFORM)]
    NotLaunchedByTerraform,
    #[error(transparent)]
    UnsupportedProtocol(#[from] UnsupportedProtocol),
    #[error(
        "PLUGIN_CLIENT_CERT is not set; Terraform always sets it unless TF_DISABLE_PLUGIN_TLS is set"
    )]
    MissingClientCert,
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    #[error("could not listen for Terraform: {0}")]
    Listen(#[source] io::Error),
    #[error("could not install signal handlers: {0}")]
    Signals(#[source] io::Error),
    #[error("could not write the handshake to stdout: {0}")]
    Announce(#[source] io::Error),
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A plugin that is listening but not yet serving: the handshake is known,
/// so a caller can announce it before [`PreparedPlugin::run`].
#[derive(Debug)]
pub struct PreparedPlugin {
    mode: Mode,
    listener: listener::PluginListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handshake: Handshake,
    shutdown: CancellationToken,
    shutdown_grace: Duration,
}

impl PreparedPlugin {
    /// Checks the cookie and protocol, sets up TLS and binds the listener.
    /// Must run inside a Tokio runtime (the listener registers with it).
    pub fn prepare(options: ServeOptions) -> Result<Self, ServeError> {
        let env = &options.env;
        if options.mode == Mode::Managed && !cookie::is_valid(env.magic_cookie.as_deref()) {
            return Err(ServeError::NotLaunchedByTerraform);
        }
        handshake::negotiate(env.protocol_versions.as_deref())?;

        let tls = match options.mode {
            Mode::Debug => None,
            Mode::Managed if env.disable_tls => None,
            Mode::Managed => {
                let pem = env
                    .client_cert_pem
                    .as_deref()
                    .filter(|pem| !pem.trim().is_empty())
                    .ok_or(ServeError::MissingClientCert)?;
                let client_cert = tls::parse_client_cert(pem)?;
                let identity = tls::generate_server_identity()?;
                let config = tls::server_config(&identity, client_cert)?;
                Some((identity.cert, config))
            }
        };

        let listen = ListenOptions {
            unix_socket_dir: env.unix_socket_dir.clone(),
            force_tcp: options.force_tcp,
            port_range: listener::parse_port_range(
                env.min_port.as_deref(),
                env.max_port.as_deref(),
            )
            .map_err(ServeError::Listen)?,
        };
        let listener = listener::PluginListener::bind(&listen).map_err(ServeError::Listen)?;
        let (server_cert, tls) = tls.unzip();
        let handshake = Handshake {
            network: listener.network(),
            address: listener.address(),
            server_cert,
        };
        Ok(Self {
            mode: options.mode,
            listener,
            tls,
            handshake,
            shutdown: options.shutdown,
            shutdown_grace: options.shutdown_grace,
        })
    }

    /// Where and how to connect.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// What goes to stdout: the handshake line for Terraform, or the
    /// reattach instructions in debug mode. Ends with a newline.
    pub fn announcement(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}\n", self.handshake),
            Mode::Debug => debug::instructions(&debug::reattach_config(
                self.handshake.network,
                &self.handshake.address,
                std::process::id(),
            )),
        }
    }

    /// Serves until the shutdown token is cancelled (GRPCController.Shutdown,
    /// a signal, or the caller), then drains for at most the grace period.
    /// The socket directory is removed before this returns.
    pub async fn run<P: Provider>(self, provider: P) -> Result<(), ServeError> {
        let Self {
            mut listener,
            tls,
            shutdown,
            shutdown_grace,
            ..
        } = self;
        let socket_dir = listener.take_socket_dir();

        let (health_reporter, health) = tonic_health::server::health_reporter();
        health_reporter
            .set_service_status(services::HEALTH_SERVICE_NAME, ServingStatus::Serving)
            .await;
        let provider = ProviderServer::new(provider)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);

        let incoming = incoming::spawn_accept_loop(listener, tls, shutdown.clone());
        let server = Server::builder()
            .add_service(health)
            .add_service(GrpcControllerServer::new(services::Controller::new(
                shutdown.clone(),
            )))
            .add_service(GrpcStdioServer::new(services::Stdio::new(shutdown.clone())))
            .add_service(GrpcBrokerServer::new(services::Broker::new(
                shutdown.clone(),
            )))
            .add_service(provider)
            .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());

        let drain_deadline = async {
            shutdown.cancelled().await;
            tokio::time::sleep(shutdown_grace).await;
        };
        let result = tokio::select! {
            result = server => result.map_err(ServeError::from),
            () = drain_deadline => {
                tracing::warn!(
                    grace_seconds = shutdown_grace.as_secs(),
                    "requests still running after the shutdown grace period; exiting anyway"
                );
                Ok(())
            }
        };
        drop(socket_dir);
        tracing::debug!("plugin server stopped");
        result
    }
}

/// Runs the provider as a go-plugin server until Terraform (or a signal, or
/// `options.shutdown`) stops it.
///
/// SIGTERM shuts down gracefully. SIGINT is ignored in managed mode because
/// Terraform forwards Ctrl-C as StopProvider; in debug mode it stops the server.
pub async fn serve<P: Provider>(provider: P, options: ServeOptions) -> Result<(), ServeError> {
    let plugin = PreparedPlugin::prepare(options)?;
    watch_signals(plugin.mode, plugin.shutdown.clone()).map_err(ServeError::Signals)?;
    announce(&plugin.announcement()).map_err(ServeError::Announce)?;
    tracing::debug!(
        network = plugin.handshake.network,
        address = %plugin.handshake.address,
        tls = plugin.handshake.server_cert.is_some(),
        "plugin listening"
    );
    plugin.run(provider).await
}

fn announce(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

fn watch_signals(mode: Mode, shutdown: CancellationToken) -> io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Installing the handler replaces the default "terminate" action for the
    // rest of the process lifetime, even after this task ends.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(()) = terminate.recv() => {
                    tracing::info!("SIGTERM received, shutting down");
                    shutdown.cancel();
                    break;
                }
                Some(()) = interrupt.recv() => {
                    if mode == Mode::Debug {
                        tracing::info!("interrupted, shutting down");
                        shutdown.cancel();
                        break;
                    }
                    tracing::debug!("ignoring SIGINT: Terraform cancels work through StopProvider");
                }
            }
        }
    });
    Ok(())
}
