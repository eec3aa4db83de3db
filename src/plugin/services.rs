//! go-plugin's side services: controller (shutdown), stdio and broker (kept
//! open and idle), and the gRPC health check go-plugin pings.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::tfplugin::goplugin::grpc_broker_server::GrpcBroker;
use crate::tfplugin::goplugin::grpc_controller_server::GrpcController;
use crate::tfplugin::goplugin::grpc_stdio_server::GrpcStdio;
use crate::tfplugin::goplugin::{ConnInfo, Empty, StdioData};

/// The service name go-plugin's health check asks about.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

/// A response stream (tonic's `BoxStream`) that sends nothing and ends when the plugin shuts down,
/// so graceful shutdown is never held up by it.
pub type IdleStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn idle_until_shutdown<T: Send + 'static>(shutdown: &CancellationToken) -> IdleStream<T> {
    let shutdown = shutdown.clone();
    futures::stream::once(async move { shutdown.cancelled().await })
        .filter_map(|()| async { None })
        .boxed()
}

/// `plugin.GRPCController`: Terraform calls Shutdown when it is done.
#[derive(Debug, Clone)]
pub struct Controller {
    shutdown: CancellationToken,
}

impl Controller {
    /// Shutdown cancels `shutdown`; the server then drains and exits.
    pub fn new(shutdown: CancellationToken) -> Self {
        Self { shutdown }
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the plugin client");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: logs go to stderr directly (go-plugin reads it), so
/// this stream carries nothing; it stays open because the client expects it.
#[derive(Debug, Clone)]
pub struct Stdio {
    shutdown: CancellationToken,
}

impl Stdio {
    /// The stream ends when `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        Self { shutdown }
    }
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<IdleStream<StdioData>>, Status> {
        Ok(Response::new(idle_until_shutdown(&self.shutdown)))
    }
}

/// `plugin.GRPCBroker`: this provider never brokers extra connections, so the
/// stream is accepted and left idle.
#[derive(Debug, Clone)]
pub struct Broker {
    shutdown: CancellationToken,
}

impl Broker {
    /// The stream ends when `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        Self { shutdown }
    }
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<IdleStream<ConnInfo>>, Status> {
        Ok(Response::new(idle_until_shutdown(&self.shutdown)))
    }
}
