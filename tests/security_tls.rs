//! https verification: the real client refuses a server whose certificate it
//! cannot verify, says why and how to fix it (`ca_bundle_file`), and trusts
//! the same server once its certificate is given as the CA bundle.
//!
//! The server is a real TLS (rustls) + HTTP/1 (hyper) server on 127.0.0.1
//! with a fresh self-signed certificate; it answers every request with a
//! successful API envelope and counts the requests that got through TLS.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use terraform_provider_volcengine::volcengine::{
    CallContext, Client, ClientConfig, Credentials, Error, Secret,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

const ACTION: &str = "DescribeImageSharePermission";

struct TlsServer {
    /// `https://127.0.0.1:PORT`
    endpoint: String,
    /// The server certificate, PEM: what a user would put in `ca_bundle_file`.
    cert_pem: String,
    /// Requests that completed the TLS handshake and reached HTTP.
    served: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a server whose self-signed certificate names `names` (DNS names or IPs).
async fn tls_server(names: &[&str]) -> TlsServer {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names).expect("self-signed certificate");
    let cert_pem = certified.cert.pem();
    let cert_der = CertificateDer::from(certified.cert.der().to_vec());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key_der)
        .expect("server TLS config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("https://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let task = tokio::spawn(async move {
        // Bounded: no test here opens more connections than this.
        for _ in 0..100 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate aborts the handshake.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |_: hyper::Request<Incoming>| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    async {
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(
                                    r#"{"ResponseMetadata":{"RequestId":"tls-1"},"Result":{"Accounts":[],"TotalCount":0}}"#
                                        .to_owned(),
                                )
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    TlsServer {
        endpoint,
        cert_pem,
        served,
        task,
    }
}

fn config(endpoint: &str, ca_bundle_pem: Option<Vec<u8>>) -> ClientConfig {
    ClientConfig {
        endpoint: endpoint.to_owned(),
        region: "cn-beijing".into(),
        credentials: Credentials {
            access_key: "AKTLSTEST".into(),
            secret_key: Secret::new("tls-test-secret"),
            session_token: None,
        },
        // A certificate problem is not transient; one attempt shows it.
        max_retries: 0,
        request_timeout: Duration::from_secs(10),
        ca_bundle_pem,
    }
}

async fn call(config: ClientConfig) -> Result<serde_json::Value, Error> {
    let client = Client::new(config).expect("client builds");
    client
        .call(
            ACTION,
            &[("ImageId".into(), "image-1".into())],
            &CallContext::with_timeout(Duration::from_secs(20)),
        )
        .await
}

fn assert_explains_untrusted_certificate(error: &Error) {
    let text = error.to_string();
    eprintln!("refused: {text}");
    assert!(
        matches!(error, Error::Transport { .. }),
        "a TLS failure is a transport error: {error:?}"
    );
    assert!(text.contains(ACTION), "names the action: {text}");
    assert!(
        text.contains("certificate"),
        "says the problem is the certificate: {text}"
    );
    assert!(
        text.contains("ca_bundle_file"),
        "says how to trust a private CA: {text}"
    );
}

#[tokio::test]
async fn self_signed_certificate_is_refused_with_a_clear_message() {
    let server = tls_server(&["127.0.0.1"]).await;
    let error = call(config(&server.endpoint, None))
        .await
        .expect_err("an unknown issuer must not be trusted");
    assert_explains_untrusted_certificate(&error);
    assert_eq!(
        server.served.load(Ordering::SeqCst),
        0,
        "no request may be sent over an unverified connection"
    );
}

#[tokio::test]
async fn the_certificate_as_ca_bundle_is_trusted() {
    let server = tls_server(&["127.0.0.1"]).await;
    let result = call(config(
        &server.endpoint,
        Some(server.cert_pem.clone().into_bytes()),
    ))
    .await
    .expect("a call to a server whose certificate is in ca_bundle succeeds");
    assert_eq!(result["TotalCount"], 0);
    assert_eq!(server.served.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_trusted_certificate_for_another_name_is_refused() {
    // Trusted issuer, but the certificate names only "localhost", not 127.0.0.1.
    let server = tls_server(&["localhost"]).await;
    let error = call(config(
        &server.endpoint,
        Some(server.cert_pem.clone().into_bytes()),
    ))
    .await
    .expect_err("a certificate for another name must be refused");
    let text = error.to_string();
    eprintln!("refused: {text}");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(text.contains("certificate"), "{text}");
    assert!(
        text.contains("127.0.0.1"),
        "names the host the certificate does not cover: {text}"
    );
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn another_ca_in_the_bundle_does_not_make_the_server_trusted() {
    let server = tls_server(&["127.0.0.1"]).await;
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let error = call(config(
        &server.endpoint,
        Some(other.cert.pem().into_bytes()),
    ))
    .await
    .expect_err("a bundle without the server's issuer must not help");
    assert_explains_untrusted_certificate(&error);
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}
