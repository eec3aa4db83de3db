//! Secrets (secret key, session token) against the real emulator, at TRACE:
//! neither the client's errors nor any log line of the process (client,
//! emulator, and the `log` records of reqwest and rustls) nor the emulator's
//! call log contain them; `Secret` and `Credentials` stay masked under every
//! format flag and in panic messages.
//!
//! tests/client_secrets.rs covers Debug/Display of configs, clients and every
//! error kind against a scripted server; this file adds the emulator's real
//! signature verification, the `log` facade, formatting flags and panics.
//! Alone in its test binary: it installs a global logger and a panic hook.

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use terraform_provider_volcengine::emulator::{Emulator, EmulatorConfig, EmulatorCredential};
use terraform_provider_volcengine::volcengine::ecs::describe_image_share_permission;
use terraform_provider_volcengine::volcengine::{
    CallContext, Client, ClientConfig, Credentials, Error, Secret,
};

const ACCESS_KEY: &str = "AKSECURITYTEST";
/// Distinctive values: any appearance in captured text is a leak.
const SECRET_KEY: &str = "sk-LEAKCANARY-7f3a9c";
const SESSION_TOKEN: &str = "st-LEAKCANARY-b41e2d";
const IMAGE: &str = "image-secrets";

fn assert_no_secret(what: &str, text: &str) {
    for secret in [SECRET_KEY, SESSION_TOKEN] {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
    // A fragment long enough to identify the secret, e.g. a truncated value.
    assert!(
        !text.contains("LEAKCANARY"),
        "{what} shows a secret: {text}"
    );
}

/// Everything written through `tracing` and the `log` facade.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct CapturingLogger(Captured);

impl log::Log for CapturingLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}\n", record.level(), record.target(), record.args());
        self.0.clone().write_all(line.as_bytes()).unwrap();
    }
    fn flush(&self) {}
}

/// One capture for the whole binary: both facades are process-wide.
fn capture() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        log::set_boxed_logger(Box::new(CapturingLogger(captured.clone())))
            .expect("no other logger");
        log::set_max_level(log::LevelFilter::Trace);
        captured
    })
}

fn credentials() -> Credentials {
    Credentials {
        access_key: ACCESS_KEY.into(),
        secret_key: Secret::new(SECRET_KEY),
        session_token: Some(Secret::new(SESSION_TOKEN)),
    }
}

fn client(endpoint: &str) -> Client {
    Client::new(ClientConfig {
        endpoint: endpoint.to_owned(),
        region: "cn-beijing".into(),
        credentials: credentials(),
        max_retries: 1,
        request_timeout: Duration::from_secs(10),
        ca_bundle_pem: None,
    })
    .expect("client builds")
}

/// Runs one describe against an emulator that knows `ACCESS_KEY` with the
/// given secret key and session token; returns the error it must end with.
async fn refused_by(emulator_secret: &str, emulator_token: Option<&str>) -> Error {
    let emulator = Emulator::start(EmulatorConfig {
        credentials: vec![EmulatorCredential {
            access_key: ACCESS_KEY.into(),
            secret_key: Secret::new(emulator_secret),
            session_token: emulator_token.map(Secret::new),
        }],
        images: vec![IMAGE.into()],
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let ctx = CallContext::with_timeout(Duration::from_secs(20));
    let outcome = describe_image_share_permission(&client(&emulator.base_url()), &ctx, IMAGE).await;
    for call in emulator.calls() {
        assert_no_secret("emulator call log", &format!("{call:?}"));
    }
    emulator.shutdown().await;
    outcome.expect_err("the emulator refuses the call")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_wrong_token_and_unexpected_token_leak_nothing() {
    let captured = capture();
    // The emulator holds the same token but another secret key.
    let wrong_secret = refused_by("sk-the-emulators-own", Some(SESSION_TOKEN)).await;
    assert_eq!(
        wrong_secret.code(),
        Some("SignatureDoesNotMatch"),
        "{wrong_secret}"
    );
    // The right secret key, another session token.
    let wrong_token = refused_by(SECRET_KEY, Some("st-the-emulators-own")).await;
    assert_eq!(
        wrong_token.code(),
        Some("InvalidSecretToken"),
        "{wrong_token}"
    );
    // Long-term credentials on the emulator's side: the token is unexpected.
    let unexpected_token = refused_by(SECRET_KEY, None).await;
    assert_eq!(unexpected_token.code(), Some("InvalidSecretToken"));
    // And the right pair works, so the refusals above are about the secrets.
    let ctx = CallContext::with_timeout(Duration::from_secs(20));
    let emulator = Emulator::start(EmulatorConfig {
        credentials: vec![EmulatorCredential {
            access_key: ACCESS_KEY.into(),
            secret_key: Secret::new(SECRET_KEY),
            session_token: Some(Secret::new(SESSION_TOKEN)),
        }],
        images: vec![IMAGE.into()],
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    describe_image_share_permission(&client(&emulator.base_url()), &ctx, IMAGE)
        .await
        .expect("the right secrets are accepted");
    emulator.shutdown().await;

    for error in [&wrong_secret, &wrong_token, &unexpected_token] {
        assert_no_secret("error Display", &error.to_string());
        assert_no_secret("error Debug", &format!("{error:?} {error:#?}"));
    }
    let logs = captured.text();
    // The capture works: the client's and the emulator's events are in it.
    assert!(logs.contains("SignatureDoesNotMatch"), "{logs}");
    assert!(
        logs.contains("ecs call"),
        "emulator events are captured: {logs}"
    );
    assert!(
        logs.contains("TRACE hyper_util"),
        "dependencies' TRACE events too"
    );
    assert!(logs.contains("rustls"), "`log` records too: {logs}");
    assert_no_secret("tracing and log output", &logs);
}

#[test]
fn secret_and_credentials_are_masked_under_every_format_flag() {
    let secret = Secret::new(SECRET_KEY);
    let credentials = credentials();
    let shown = [
        format!("{secret}"),
        format!("{secret:?}"),
        format!("{secret:#?}"),
        format!("{secret:>60}"),
        format!("{secret:<60.40}"),
        format!("{:?}", Some(&secret)),
        format!("{:?}", vec![secret.clone()]),
        format!("{credentials:?}"),
        format!("{credentials:#?}"),
        format!("{:?}", Arc::new(Mutex::new(credentials.clone()))),
    ];
    for text in &shown {
        assert_no_secret("formatting", text);
    }
    assert!(shown[7].contains(ACCESS_KEY), "{}", shown[7]);
    assert!(shown[0].contains("***"));
}

#[test]
fn panics_formatting_credentials_do_not_show_secrets() {
    let messages = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = messages.clone();
    let previous = panic::take_hook();
    // Catches what the default hook would print: location and message.
    let this_test = std::thread::current().id();
    panic::set_hook(Box::new(move |info| {
        // Other tests of this binary may run (and fail) meanwhile.
        if std::thread::current().id() == this_test {
            sink.lock().unwrap().push(info.to_string());
        }
    }));
    let credentials = credentials();
    let attempts: Vec<Box<dyn FnOnce()>> = vec![
        Box::new({
            let c = credentials.clone();
            move || panic!("bad credentials: {c:?}")
        }),
        Box::new({
            let c = credentials.clone();
            move || {
                Err::<(), _>(c).unwrap();
            }
        }),
        Box::new({
            let c = credentials.clone();
            move || {
                Some(c).filter(|_| false).expect("no credentials");
            }
        }),
        Box::new({
            let c = credentials.clone();
            move || assert!(c.access_key.is_empty(), "{c:#?}")
        }),
        Box::new({
            let s = credentials.secret_key.clone();
            move || assert_eq!(s, Secret::new("other"))
        }),
    ];
    let count = attempts.len();
    for attempt in attempts {
        assert!(panic::catch_unwind(AssertUnwindSafe(attempt)).is_err());
    }
    panic::set_hook(previous);
    let messages = messages.lock().unwrap().clone();
    assert_eq!(
        messages.len(),
        count,
        "every panic was captured: {messages:?}"
    );
    for message in &messages {
        assert_no_secret("panic message", message);
    }
    assert!(
        messages[0].contains(ACCESS_KEY),
        "the capture sees the Debug output: {}",
        messages[0]
    );
}
