//! Secrets (secret key, session token) never reach Debug/Display of configs,
//! clients or errors, nor the log lines of attempts and retries. Alone in its
//! test binary: the tracing subscriber it installs must see every callsite.

mod client_support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::*;
use terraform_provider_volcengine::volcengine::{Client, ClientConfig, Error};

const ACTION: &str = "DescribeImageSharePermission";

fn params() -> Vec<(String, String)> {
    vec![("ImageId".into(), "image-1".into())]
}

async fn call(server: &TestServer, max_retries: u32) -> Error {
    client(&server.base_url, max_retries)
        .call(ACTION, &params(), &ctx(Duration::from_secs(10)))
        .await
        .unwrap_err()
}

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_KEY),
        "{what} shows the secret key: {text}"
    );
    assert!(
        !text.contains(SESSION_TOKEN),
        "{what} shows the session token: {text}"
    );
}

#[test]
fn secrets_never_reach_debug_display_errors_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config: ClientConfig = config("http://127.0.0.1:1", 1);
        assert_no_secret("ClientConfig Debug", &format!("{config:?}"));
        assert_no_secret("Credentials Debug", &format!("{:?}", config.credentials));

        // Errors of every kind, with the secrets in play.
        let mut errors: Vec<Error> = Vec::new();
        let server =
            TestServer::always(Reply::error(403, "SignatureDoesNotMatch", "bad signature")).await;
        errors.push(call(&server, 1).await);
        let server = TestServer::always(Reply::error(503, "ServiceUnavailable", "busy")).await;
        errors.push(call(&server, 1).await);
        let server = TestServer::always(Reply::raw(502, "<html>gateway</html>")).await;
        errors.push(call(&server, 1).await);
        let client = Client::new(config.clone()).unwrap();
        assert_no_secret("Client Debug", &format!("{client:?}"));
        errors.push(
            client
                .call(ACTION, &params(), &ctx(Duration::from_secs(5)))
                .await
                .unwrap_err(),
        );
        let mut bad = config.clone();
        bad.endpoint = "http://example.com".into();
        errors.push(Client::new(bad).unwrap_err());
        for err in &errors {
            assert_no_secret("Error Display", &err.to_string());
            assert_no_secret("Error Debug", &format!("{err:?}"));
        }
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying"),
        "retries are logged at warn: {logs}"
    );
    assert!(
        logs.contains("SignatureDoesNotMatch"),
        "codes are logged: {logs}"
    );
    assert!(
        logs.contains("req-ServiceUnavailable"),
        "request IDs are logged: {logs}"
    );
    assert_no_secret("logs", &logs);
    assert!(
        !logs.contains("Signature="),
        "no Authorization header in logs"
    );
}
