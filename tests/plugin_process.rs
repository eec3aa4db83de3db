//! The built binary, driven the way Terraform drives it.

mod plugin_common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use plugin_common::*;
use terraform_provider_volcengine::tfplugin::proto::get_provider_schema;
use terraform_provider_volcengine::tfplugin::proto::provider_client::ProviderClient;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tonic_health::pb::health_check_response::ServingStatus;

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-volcengine");

/// The binary with a clean go-plugin environment (nothing inherited from a
/// Terraform that might be running these tests).
fn provider_command() -> Command {
    let mut command = Command::new(BINARY);
    for key in [
        "TF_PLUGIN_MAGIC_COOKIE",
        "PLUGIN_PROTOCOL_VERSIONS",
        "PLUGIN_CLIENT_CERT",
        "TF_DISABLE_PLUGIN_TLS",
        "PLUGIN_MIN_PORT",
        "PLUGIN_MAX_PORT",
        "PLUGIN_UNIX_SOCKET_DIR",
        "TF_LOG",
        "TF_LOG_PROVIDER",
        "TF_REATTACH_PROVIDERS",
    ] {
        command.env_remove(key);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A provider started as Terraform starts it (AutoMTLS unless `tls` is false).
fn managed_command(client: Option<&ClientIdentity>) -> Command {
    let mut command = provider_command();
    command
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6");
    match client {
        Some(identity) => command.env("PLUGIN_CLIENT_CERT", &identity.pem),
        None => command.env("TF_DISABLE_PLUGIN_TLS", "1"),
    };
    command
}

async fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    tokio::time::timeout(WAIT, stdout.read_line(&mut line))
        .await
        .expect("a line on stdout in time")
        .expect("reading stdout");
    line
}

/// Starts the process and returns it with its parsed handshake line.
async fn start(mut command: Command) -> (Child, HandshakeLine, Duration) {
    let started = Instant::now();
    let mut child = command.spawn().expect("provider binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let line = read_line(&mut stdout).await;
    let elapsed = started.elapsed();
    assert!(line.ends_with('\n'), "handshake line is newline-terminated");
    (child, parse_handshake(&line), elapsed)
}

async fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("provider exits in time")
        .expect("waiting for the provider")
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn without_the_cookie_it_explains_and_exits_1() {
    let mut child = provider_command().spawn().unwrap();
    let status = wait_exit(&mut child).await;
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("This binary is a plugin"), "{stderr}");
    assert!(
        stderr.contains("not meant to be executed directly"),
        "{stderr}"
    );
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert!(
        stdout.is_empty(),
        "no handshake without the cookie: {stdout}"
    );
}

#[tokio::test]
async fn a_wrong_cookie_is_refused_too() {
    let mut command = provider_command();
    command.env("TF_PLUGIN_MAGIC_COOKIE", "not-the-cookie");
    let mut child = command.spawn().unwrap();
    assert_eq!(wait_exit(&mut child).await.code(), Some(1));
}

#[tokio::test]
async fn protocol_6_not_offered_is_an_error() {
    let identity = ClientIdentity::terraform_like();
    let mut command = managed_command(Some(&identity));
    command.env("PLUGIN_PROTOCOL_VERSIONS", "4,5");
    let mut child = command.spawn().unwrap();
    assert_eq!(wait_exit(&mut child).await.code(), Some(1));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("protocol 6"), "{stderr}");
}

#[tokio::test]
async fn automtls_serves_terraform_and_refuses_everyone_else() {
    let terraform = ClientIdentity::terraform_like();
    let (mut child, handshake, elapsed) = start(managed_command(Some(&terraform))).await;
    eprintln!("handshake line after {elapsed:?}");
    assert_eq!(handshake.network, "unix");
    let socket = Path::new(&handshake.address).to_owned();
    assert!(socket.ends_with("plugin.sock"));
    let server_cert = handshake
        .server_cert
        .clone()
        .expect("AutoMTLS puts the server certificate in the handshake");
    // The certificate decodes as X.509 for localhost.
    let server_config = tls_client_config(&server_cert, ClientAuth::Cert(&terraform));

    // Terraform's own certificate: served.
    let channel = connect(&handshake, Some(server_config.clone()))
        .await
        .expect("Terraform's client connects");
    assert_eq!(
        health_check(channel.clone()).await,
        Ok(ServingStatus::Serving)
    );

    // The tfplugin6 Provider service is served on the same connection.
    let mut provider =
        ProviderClient::new(channel.clone()).max_decoding_message_size(256 * 1024 * 1024);
    let schema = tokio::time::timeout(
        WAIT,
        provider.get_provider_schema(get_provider_schema::Request {}),
    )
    .await
    .expect("schema in time")
    .expect("GetProviderSchema answered")
    .into_inner();
    assert!(
        schema
            .resource_schemas
            .contains_key("volcengine_image_share"),
        "resources: {:?}",
        schema.resource_schemas.keys().collect::<Vec<_>>()
    );

    // No client certificate: refused.
    let anonymous = tls_client_config(&server_cert, ClientAuth::None);
    let refused = ping(&handshake, Some(anonymous)).await;
    eprintln!("no certificate: {refused:?}");
    assert!(
        refused.is_err(),
        "a client without a certificate was served"
    );

    // Another (equally Terraform-like) certificate: refused.
    let impostor = ClientIdentity::terraform_like();
    let impostor_config = tls_client_config(&server_cert, ClientAuth::Cert(&impostor));
    let refused = ping(&handshake, Some(impostor_config)).await;
    eprintln!("another certificate: {refused:?}");
    assert!(
        refused.is_err(),
        "a client with another certificate was served"
    );

    // Plain gRPC against the TLS listener: refused.
    assert!(ping(&handshake, None).await.is_err());

    // The refusals did not break the listener: Terraform still gets in.
    assert_eq!(
        ping(&handshake, Some(server_config)).await,
        Ok(ServingStatus::Serving)
    );

    // GRPCController.Shutdown: the process exits 0 and removes its socket.
    let asked = Instant::now();
    controller_shutdown(channel)
        .await
        .expect("shutdown answered");
    let status = wait_exit(&mut child).await;
    eprintln!("exited {:?} after Shutdown", asked.elapsed());
    assert!(status.success(), "exit status {status:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "go-plugin kills a plugin that takes over 2 s"
    );
    assert!(!socket.exists(), "socket removed on exit");
    assert!(!socket.parent().unwrap().exists(), "socket dir removed");
}

#[tokio::test]
async fn tls_disabled_serves_plain_grpc() {
    let (mut child, handshake, _) = start(managed_command(None)).await;
    assert!(
        handshake.server_cert.is_none(),
        "no certificate without TLS"
    );
    let channel = connect(&handshake, None).await.expect("plain connect");
    assert_eq!(
        health_check(channel.clone()).await,
        Ok(ServingStatus::Serving)
    );
    controller_shutdown(channel).await.unwrap();
    assert!(wait_exit(&mut child).await.success());
}

#[tokio::test]
async fn tcp_fallback_respects_the_port_range() {
    // A socket directory whose path is too long for a unix socket forces TCP.
    let base = tempfile::tempdir().unwrap();
    let deep = base.path().join("d".repeat(110));
    std::fs::create_dir_all(&deep).unwrap();
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let mut command = managed_command(None);
    command
        .env("PLUGIN_UNIX_SOCKET_DIR", &deep)
        .env("PLUGIN_MIN_PORT", port.to_string())
        .env("PLUGIN_MAX_PORT", port.to_string());
    let (mut child, handshake, _) = start(command).await;
    assert_eq!(handshake.network, "tcp");
    assert_eq!(handshake.address, format!("127.0.0.1:{port}"));
    assert_eq!(ping(&handshake, None).await, Ok(ServingStatus::Serving));
    signal(&child, "TERM");
    assert!(wait_exit(&mut child).await.success());
}

#[tokio::test]
async fn sigint_is_ignored_and_sigterm_stops_gracefully() {
    let terraform = ClientIdentity::terraform_like();
    let (mut child, handshake, _) = start(managed_command(Some(&terraform))).await;
    let config = tls_client_config(
        handshake.server_cert.as_ref().unwrap(),
        ClientAuth::Cert(&terraform),
    );
    signal(&child, "INT");
    // Still serving after Ctrl-C (Terraform sends StopProvider instead).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGINT stopped the plugin"
    );
    assert_eq!(
        ping(&handshake, Some(config)).await,
        Ok(ServingStatus::Serving)
    );
    signal(&child, "TERM");
    assert!(wait_exit(&mut child).await.success());
    assert!(!Path::new(&handshake.address).exists());
}

#[tokio::test]
async fn version_flag() {
    let output = tokio::time::timeout(WAIT, provider_command().arg("--version").output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "terraform-provider-volcengine {}\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[tokio::test]
async fn help_and_unknown_flags() {
    let help = tokio::time::timeout(WAIT, provider_command().arg("--help").output())
        .await
        .unwrap()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--debug"));
    let unknown = tokio::time::timeout(WAIT, provider_command().arg("--frobnicate").output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("--frobnicate"));
}

#[tokio::test]
async fn debug_mode_prints_reattach_config_and_serves_until_ctrl_c() {
    let mut child = provider_command().arg("--debug").spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..20 {
        let line = read_line(&mut stdout).await;
        assert!(!line.is_empty(), "stdout closed before the reattach line");
        if let Some(start) = line.find("TF_REATTACH_PROVIDERS='") {
            let json = &line[start + "TF_REATTACH_PROVIDERS='".len()..];
            let json = json.trim_end().strip_suffix('\'').expect("closing quote");
            reattach = Some(serde_json::from_str::<serde_json::Value>(json).unwrap());
            break;
        }
    }
    let reattach = reattach.expect("a TF_REATTACH_PROVIDERS line");
    let entry = &reattach["registry.terraform.io/volcengine/volcengine"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], child.id().unwrap());
    assert_eq!(entry["Addr"]["Network"], "unix");
    let handshake = HandshakeLine {
        network: "unix".into(),
        address: entry["Addr"]["String"].as_str().unwrap().to_owned(),
        server_cert: None,
    };
    // Reattached Terraform speaks plain gRPC to it.
    assert_eq!(ping(&handshake, None).await, Ok(ServingStatus::Serving));
    signal(&child, "INT");
    assert!(wait_exit(&mut child).await.success());
    assert!(!Path::new(&handshake.address).exists());
}
