//! Helpers for the plugin tests: acting as Terraform's go-plugin client.
#![allow(dead_code)] // each test file uses a different subset

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use terraform_provider_volcengine::tfplugin::goplugin::grpc_controller_client::GrpcControllerClient;
use terraform_provider_volcengine::tfplugin::goplugin::Empty;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Upper bound for any single wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// A client certificate made the way go-plugin's AutoMTLS makes Terraform's:
/// ECDSA P-521, self-signed, CA flag set, client+server auth, SAN localhost.
pub struct ClientIdentity {
    pub pem: String,
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ClientIdentity {
    pub fn terraform_like() -> Self {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// The parsed handshake line.
#[derive(Debug, Clone)]
pub struct HandshakeLine {
    pub network: String,
    pub address: String,
    pub server_cert: Option<CertificateDer<'static>>,
}

/// Parses `1|6|unix|/path|grpc|<cert>` strictly, as go-plugin does.
pub fn parse_handshake(line: &str) -> HandshakeLine {
    let line = line.trim_end_matches('\n');
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    assert_eq!(parts[0], "1", "core protocol version");
    assert_eq!(parts[1], "6", "plugin protocol version");
    assert!(
        parts[2] == "unix" || parts[2] == "tcp",
        "network {:?}",
        parts[2]
    );
    assert_eq!(parts[4], "grpc");
    let server_cert = if parts[5].is_empty() {
        None
    } else {
        assert!(!parts[5].ends_with('='), "certificate must be unpadded");
        let der = STANDARD_NO_PAD
            .decode(parts[5])
            .expect("certificate is standard base64 without padding");
        Some(CertificateDer::from(der))
    };
    HandshakeLine {
        network: parts[2].to_owned(),
        address: parts[3].to_owned(),
        server_cert,
    }
}

/// Which certificate (if any) the client presents.
pub enum ClientAuth<'a> {
    None,
    Cert(&'a ClientIdentity),
}

/// A TLS client trusting exactly the server certificate from the handshake.
pub fn tls_client_config(
    server_cert: &CertificateDer<'static>,
    auth: ClientAuth<'_>,
) -> Arc<rustls::ClientConfig> {
    tls_client_config_for(server_cert, auth, rustls::DEFAULT_VERSIONS)
}

/// Like [`tls_client_config`], limited to the given TLS versions.
pub fn tls_client_config_for(
    server_cert: &CertificateDer<'static>,
    auth: ClientAuth<'_>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_cert.clone()).expect("server cert as root");
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Cert(identity) => builder
            .with_client_auth_cert(vec![identity.cert.clone()], identity.key())
            .unwrap(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// Connects to the plugin (unix or tcp), with TLS when `tls` is given.
pub async fn connect(
    handshake: &HandshakeLine,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Channel, String> {
    let network = handshake.network.clone();
    let address = handshake.address.clone();
    let connector = tower::service_fn(move |_uri| {
        let network = network.clone();
        let address = address.clone();
        let tls = tls.clone();
        async move {
            let stream: Box<dyn IoStream> = match network.as_str() {
                "unix" => Box::new(tokio::net::UnixStream::connect(PathBuf::from(&address)).await?),
                _ => Box::new(tokio::net::TcpStream::connect(&address).await?),
            };
            let stream: Box<dyn IoStream> = match tls {
                None => stream,
                Some(config) => {
                    let name = ServerName::try_from("localhost").unwrap();
                    Box::new(
                        tokio_rustls::TlsConnector::from(config)
                            .connect(name, stream)
                            .await?,
                    )
                }
            };
            Ok::<_, io::Error>(TokioIo::new(stream))
        }
    });
    let endpoint = Endpoint::from_static("http://localhost");
    let connect = endpoint.connect_with_connector(connector);
    match tokio::time::timeout(WAIT, connect).await {
        Ok(Ok(channel)) => Ok(channel),
        Ok(Err(err)) => Err(format!("connect: {err:?}")),
        Err(_) => Err("connect timed out".to_owned()),
    }
}

pub trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> IoStream for T {}

/// go-plugin's ping: the health check for service "plugin".
pub async fn health_check(channel: Channel) -> Result<ServingStatus, String> {
    let request = HealthCheckRequest {
        service: "plugin".to_owned(),
    };
    let mut client = HealthClient::new(channel);
    let call = client.check(request);
    match tokio::time::timeout(WAIT, call).await {
        Ok(Ok(response)) => Ok(response.into_inner().status()),
        Ok(Err(status)) => Err(format!("health check: {status:?}")),
        Err(_) => Err("health check timed out".to_owned()),
    }
}

/// Connect and ping in one step (a refused client fails in either).
pub async fn ping(
    handshake: &HandshakeLine,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<ServingStatus, String> {
    health_check(connect(handshake, tls).await?).await
}

/// What Terraform does when it is done with the plugin.
pub async fn controller_shutdown(channel: Channel) -> Result<(), String> {
    let mut client = GrpcControllerClient::new(channel);
    let call = client.shutdown(Empty {});
    match tokio::time::timeout(WAIT, call).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(status)) => Err(format!("shutdown: {status:?}")),
        Err(_) => Err("shutdown timed out".to_owned()),
    }
}
