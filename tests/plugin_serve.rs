//! `plugin::PreparedPlugin` in-process, with test providers: message size
//! limits, graceful shutdown with go-plugin's idle streams open, and an
//! accept loop that survives bad clients.

mod plugin_common;

use std::time::{Duration, Instant};

use plugin_common::*;
use terraform_provider_volcengine::plugin::{
    Mode, PluginEnv, PreparedPlugin, ServeError, ServeOptions,
};
use terraform_provider_volcengine::tfplugin::goplugin::grpc_broker_client::GrpcBrokerClient;
use terraform_provider_volcengine::tfplugin::goplugin::grpc_stdio_client::GrpcStdioClient;
use terraform_provider_volcengine::tfplugin::goplugin::ConnInfo;
use terraform_provider_volcengine::tfplugin::proto::provider_client::ProviderClient;
use terraform_provider_volcengine::tfplugin::proto::provider_server::Provider;
use terraform_provider_volcengine::tfplugin::proto::{
    get_provider_schema, schema, validate_provider_config, DynamicValue, Schema,
};
use tokio::io::AsyncWriteExt as _;
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;

/// More than tonic's 4 MiB default, well under the 256 MiB limit.
const BIG: usize = 5 * 1024 * 1024;

/// Answers GetProviderSchema with a 5 MiB description; everything else is
/// the generated `Unimplemented`.
struct BigSchemaProvider;

#[tonic::async_trait]
impl Provider for BigSchemaProvider {
    async fn get_provider_schema(
        &self,
        _request: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        Ok(Response::new(get_provider_schema::Response {
            provider: Some(Schema {
                version: 0,
                block: Some(schema::Block {
                    description: "x".repeat(BIG),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }))
    }
}

/// An empty provider: proves `impl Provider for X {}` is enough to serve.
struct EmptyProvider;

#[tonic::async_trait]
impl Provider for EmptyProvider {}

fn managed_env(client: &ClientIdentity) -> PluginEnv {
    PluginEnv {
        magic_cookie: Some(COOKIE.to_owned()),
        protocol_versions: Some("6".to_owned()),
        client_cert_pem: Some(client.pem.clone()),
        ..PluginEnv::default()
    }
}

/// Prepares and runs a plugin in this process; returns its handshake, the
/// options' shutdown token and the running server task.
fn start<P: Provider>(
    provider: P,
    options: ServeOptions,
) -> (
    HandshakeLine,
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<Result<(), ServeError>>,
) {
    let shutdown = options.shutdown.clone();
    let plugin = PreparedPlugin::prepare(options).expect("plugin prepares");
    let handshake = parse_handshake(&plugin.handshake().to_string());
    let task = tokio::spawn(plugin.run(provider));
    (handshake, shutdown, task)
}

async fn finished(task: tokio::task::JoinHandle<Result<(), ServeError>>) {
    tokio::time::timeout(WAIT, task)
        .await
        .expect("server stops in time")
        .expect("server task did not panic")
        .expect("server stopped cleanly");
}

#[tokio::test]
async fn messages_above_4_mib_pass_both_ways() {
    let terraform = ClientIdentity::terraform_like();
    let mut options = ServeOptions::with_env(Mode::Managed, managed_env(&terraform));
    options.force_tcp = true;
    let (handshake, shutdown, task) = start(BigSchemaProvider, options);
    assert_eq!(handshake.network, "tcp");
    let config = tls_client_config(
        handshake.server_cert.as_ref().unwrap(),
        ClientAuth::Cert(&terraform),
    );
    let channel = connect(&handshake, Some(config)).await.unwrap();
    let mut provider = ProviderClient::new(channel)
        .max_decoding_message_size(256 * 1024 * 1024)
        .max_encoding_message_size(256 * 1024 * 1024);

    let schema = tokio::time::timeout(
        WAIT,
        provider.get_provider_schema(get_provider_schema::Request {}),
    )
    .await
    .unwrap()
    .expect("a 5 MiB response is sent")
    .into_inner();
    assert_eq!(
        schema.provider.unwrap().block.unwrap().description.len(),
        BIG
    );

    // A 5 MiB request is decoded (then answered Unimplemented by the
    // default stub) instead of being refused for its size.
    let request = validate_provider_config::Request {
        config: Some(DynamicValue {
            msgpack: vec![0xc0; BIG],
            json: Vec::new(),
        }),
    };
    let status = tokio::time::timeout(WAIT, provider.validate_provider_config(request))
        .await
        .unwrap()
        .expect_err("the test provider does not implement it");
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");

    shutdown.cancel();
    finished(task).await;
}

#[tokio::test]
async fn shutdown_is_prompt_with_stdio_and_broker_streams_open() {
    let terraform = ClientIdentity::terraform_like();
    let options = ServeOptions::with_env(Mode::Managed, managed_env(&terraform));
    let (handshake, _shutdown, task) = start(EmptyProvider, options);
    let config = tls_client_config(
        handshake.server_cert.as_ref().unwrap(),
        ClientAuth::Cert(&terraform),
    );
    let channel = connect(&handshake, Some(config)).await.unwrap();

    // What go-plugin opens right after connecting.
    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .expect("stdio stream opens")
        .into_inner();
    let (_broker_tx, broker_rx) = tokio::sync::mpsc::channel::<ConnInfo>(1);
    let mut broker = GrpcBrokerClient::new(channel.clone())
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(broker_rx))
        .await
        .expect("broker stream opens")
        .into_inner();
    // Both stay open and quiet while the plugin runs.
    let quiet = tokio::time::timeout(Duration::from_millis(200), stdio.message()).await;
    assert!(
        quiet.is_err(),
        "stdio stream sent or ended early: {quiet:?}"
    );
    assert_eq!(
        health_check(channel.clone()).await,
        Ok(ServingStatus::Serving)
    );

    let asked = Instant::now();
    controller_shutdown(channel).await.unwrap();
    finished(task).await;
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}; go-plugin kills after 2 s",
        asked.elapsed()
    );
    // The idle streams ended cleanly rather than being cut.
    let end = tokio::time::timeout(WAIT, stdio.message()).await.unwrap();
    assert!(matches!(end, Ok(None)), "stdio ended with {end:?}");
    let end = tokio::time::timeout(WAIT, broker.message()).await.unwrap();
    assert!(matches!(end, Ok(None)), "broker ended with {end:?}");
}

#[tokio::test]
async fn stalled_and_garbage_clients_do_not_block_terraform() {
    let terraform = ClientIdentity::terraform_like();
    let (handshake, shutdown, task) = start(
        EmptyProvider,
        ServeOptions::with_env(Mode::Managed, managed_env(&terraform)),
    );
    // One client connects and never speaks; another sends garbage.
    let _stalled = tokio::net::UnixStream::connect(&handshake.address)
        .await
        .unwrap();
    let mut garbage = tokio::net::UnixStream::connect(&handshake.address)
        .await
        .unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();

    let config = tls_client_config(
        handshake.server_cert.as_ref().unwrap(),
        ClientAuth::Cert(&terraform),
    );
    for _ in 0..3 {
        assert_eq!(
            ping(&handshake, Some(config.clone())).await,
            Ok(ServingStatus::Serving)
        );
    }
    shutdown.cancel();
    finished(task).await;
    assert!(!std::path::Path::new(&handshake.address).exists());
}

#[tokio::test]
async fn p521_client_signatures_verify_over_tls_1_2_and_1_3() {
    let terraform = ClientIdentity::terraform_like();
    let (handshake, shutdown, task) = start(
        EmptyProvider,
        ServeOptions::with_env(Mode::Managed, managed_env(&terraform)),
    );
    let server_cert = handshake.server_cert.clone().unwrap();
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let config = tls_client_config_for(&server_cert, ClientAuth::Cert(&terraform), &[version]);
        assert_eq!(
            ping(&handshake, Some(config)).await,
            Ok(ServingStatus::Serving),
            "{version:?}"
        );
        let impostor = ClientIdentity::terraform_like();
        let config = tls_client_config_for(&server_cert, ClientAuth::Cert(&impostor), &[version]);
        assert!(ping(&handshake, Some(config)).await.is_err(), "{version:?}");
    }
    shutdown.cancel();
    finished(task).await;
}

#[tokio::test]
async fn prepare_refuses_what_terraform_would_never_send() {
    let terraform = ClientIdentity::terraform_like();

    let mut env = managed_env(&terraform);
    env.magic_cookie = None;
    let err = PreparedPlugin::prepare(ServeOptions::with_env(Mode::Managed, env)).unwrap_err();
    assert!(matches!(err, ServeError::NotLaunchedByTerraform), "{err:?}");

    let mut env = managed_env(&terraform);
    env.client_cert_pem = None;
    let err = PreparedPlugin::prepare(ServeOptions::with_env(Mode::Managed, env)).unwrap_err();
    assert!(matches!(err, ServeError::MissingClientCert), "{err:?}");

    let mut env = managed_env(&terraform);
    env.client_cert_pem = Some("-----BEGIN CERTIFICATE-----\nnope\n".to_owned());
    let err = PreparedPlugin::prepare(ServeOptions::with_env(Mode::Managed, env)).unwrap_err();
    assert!(matches!(err, ServeError::Tls(_)), "{err:?}");

    let mut env = managed_env(&terraform);
    env.protocol_versions = Some("5".to_owned());
    let err = PreparedPlugin::prepare(ServeOptions::with_env(Mode::Managed, env)).unwrap_err();
    assert!(matches!(err, ServeError::UnsupportedProtocol(_)), "{err:?}");
}

#[tokio::test]
async fn debug_mode_needs_no_cookie_and_serves_plain_grpc() {
    let (handshake, shutdown, task) = start(
        EmptyProvider,
        ServeOptions::with_env(Mode::Debug, PluginEnv::default()),
    );
    assert!(handshake.server_cert.is_none());
    assert_eq!(ping(&handshake, None).await, Ok(ServingStatus::Serving));
    shutdown.cancel();
    finished(task).await;
}
