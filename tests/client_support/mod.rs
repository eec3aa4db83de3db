//! A scripted Volcengine-like HTTP server on 127.0.0.1 for the client tests.
//! It records every request, checks its signature with our signer's
//! `signature_for` (so a query the client sends differently from what it
//! signed is caught), and answers what the test's responder says.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request as HttpRequest, StatusCode};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use terraform_provider_volcengine::volcengine::retry::Backoff;
use terraform_provider_volcengine::volcengine::signer::{self, Credentials, Request};
use terraform_provider_volcengine::volcengine::{
    CallContext, Client, ClientConfig, ClientOptions, Secret,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub const ACCESS_KEY: &str = "AKTESTCLIENT";
pub const SECRET_KEY: &str = "client-test-secret-key-DO-NOT-LOG";
pub const SESSION_TOKEN: &str = "client-test-session-token-DO-NOT-LOG";
pub const REGION: &str = "cn-beijing";

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub signature_valid: bool,
}

impl Recorded {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What to answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn raw(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn ok(result: Value) -> Reply {
        Reply::raw(
            200,
            json!({
                "ResponseMetadata": {"RequestId": "req-ok", "Action": "X", "Version": "2020-04-01",
                                     "Service": "ecs", "Region": REGION},
                "Result": result,
            })
            .to_string(),
        )
    }

    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::raw(
            status,
            json!({
                "ResponseMetadata": {"RequestId": format!("req-{code}"), "Action": "X",
                                     "Version": "2020-04-01", "Service": "ecs", "Region": REGION,
                                     "Error": {"Code": code, "Message": message}},
            })
            .to_string(),
        )
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Responder = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

struct ServerState {
    responder: Box<Responder>,
    requests: Mutex<Vec<Recorded>>,
}

/// The scripted server; stops when dropped.
pub struct TestServer {
    pub base_url: String,
    state: Arc<ServerState>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// `responder(n, request)` answers the n-th (0-based) request.
    pub async fn start(
        responder: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let state = Arc::new(ServerState {
            responder: Box::new(responder),
            requests: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer {
            base_url: format!("http://{addr}"),
            state,
            task,
        }
    }

    /// Answers every request the same way.
    pub async fn always(reply: Reply) -> TestServer {
        TestServer::start(move |_, _| reply.clone()).await
    }

    /// Answers `failure` `failures` times, then `success`.
    pub async fn failing_then(failures: usize, failure: Reply, success: Reply) -> TestServer {
        TestServer::start(move |n, _| {
            if n < failures {
                failure.clone()
            } else {
                success.clone()
            }
        })
        .await
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }
}

async fn handle(State(state): State<Arc<ServerState>>, request: HttpRequest<Body>) -> Response {
    let (parts, _body) = request.into_parts();
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let query = decode_query(&raw_query);
    let recorded = Recorded {
        at: Instant::now(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        signature_valid: signature_valid(
            parts.method.as_ref(),
            parts.uri.path(),
            &query,
            &parts.headers,
        ),
        raw_query,
        query,
        headers: parts.headers,
    };
    let index = {
        let mut requests = state.requests.lock().unwrap();
        requests.push(recorded.clone());
        requests.len() - 1
    };
    let reply = (state.responder)(index, &recorded);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    for (name, value) in &reply.headers {
        response = response.header(*name, value);
    }
    if !reply.body.starts_with('<') {
        response = response.header("content-type", "application/json");
    }
    response.body(Body::from(reply.body)).unwrap()
}

fn decode_query(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8().unwrap().into_owned();
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Recomputes the signature over the headers the Authorization declares.
fn signature_valid(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(auth), Some(x_date), Some(host)) =
        (header("authorization"), header("x-date"), header("host"))
    else {
        return false;
    };
    let Some(names) = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
    else {
        return false;
    };
    let Some(signature) = auth.rsplit("Signature=").next() else {
        return false;
    };
    let signed: Option<Vec<(String, String)>> = names
        .split(';')
        .map(|name| header(name).map(|v| (name.to_owned(), v.to_owned())))
        .collect();
    let Some(signed) = signed else {
        return false;
    };
    let request = Request {
        method,
        host,
        path,
        query,
        content_type: header("content-type"),
        body: b"",
    };
    let (_, expected) = signer::signature_for(SECRET_KEY, x_date, REGION, "ecs", &request, &signed);
    expected == signature && auth.contains(&format!("Credential={ACCESS_KEY}/"))
}

pub fn credentials(with_token: bool) -> Credentials {
    Credentials {
        access_key: ACCESS_KEY.into(),
        secret_key: Secret::new(SECRET_KEY),
        session_token: with_token.then(|| Secret::new(SESSION_TOKEN)),
    }
}

pub fn config(base_url: &str, max_retries: u32) -> ClientConfig {
    ClientConfig {
        endpoint: base_url.to_owned(),
        region: REGION.into(),
        credentials: credentials(true),
        max_retries,
        request_timeout: Duration::from_secs(5),
        ca_bundle_pem: None,
    }
}

/// A client with a short backoff so retry tests run fast.
pub fn client(base_url: &str, max_retries: u32) -> Client {
    client_with(config(base_url, max_retries), fast_backoff())
}

pub fn fast_backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(40),
    }
}

pub fn client_with(config: ClientConfig, backoff: Backoff) -> Client {
    Client::with_options(
        config,
        ClientOptions {
            backoff,
            ..ClientOptions::default()
        },
    )
    .expect("client builds")
}

pub fn ctx(timeout: Duration) -> CallContext {
    CallContext::with_timeout(timeout)
}

/// A TCP server that accepts connections and closes them at once, counting
/// them: a network failure the client can retry.
pub async fn dropping_server() -> (String, Arc<AtomicUsize>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let task = tokio::spawn(async move {
        // Bounded: a test never needs more than this many connections.
        for _ in 0..1000 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://{addr}"), accepted, task)
}
