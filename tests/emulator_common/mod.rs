//! Helpers shared by the emulator's integration tests: a signed ECS client
//! built from the crate's signer and reqwest, and an admin API client.
#![allow(dead_code)] // each test file uses a different subset

use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;
use terraform_provider_volcengine::emulator::{
    Emulator, EmulatorConfig, RunningEmulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY,
};
use terraform_provider_volcengine::volcengine::secret::Secret;
use terraform_provider_volcengine::volcengine::signer::{self, Credentials};
use time::OffsetDateTime;

pub const IMAGE: &str = "image-ebgy1og99tfct0gw0001";
pub const VERSION: &str = "2020-04-01";

/// Starts an in-process emulator holding [`IMAGE`].
pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    let config = EmulatorConfig {
        images: if config.images.is_empty() {
            vec![IMAGE.to_owned()]
        } else {
            config.images
        },
        ..config
    };
    Emulator::start(config).await.expect("emulator starts")
}

/// A numeric account ID for test number `n`.
pub fn account(n: usize) -> String {
    format!("21000{n:05}")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// One answer from the API.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// `ResponseMetadata.Error.Code`, when the answer is an error.
    pub fn code(&self) -> Option<String> {
        self.json()["ResponseMetadata"]["Error"]["Code"]
            .as_str()
            .map(str::to_owned)
    }

    pub fn result(&self) -> Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.text);
        self.json()["Result"].clone()
    }

    pub fn request_id(&self) -> String {
        self.json()["ResponseMetadata"]["RequestId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Asserts the error envelope: status, code, and the metadata fields.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code().as_deref()),
            (status, Some(code)),
            "{}",
            self.text
        );
        let meta = &self.json()["ResponseMetadata"];
        assert_eq!(meta["Version"], VERSION);
        assert_eq!(meta["Service"], "ecs");
        assert!(meta["RequestId"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(meta["Error"]["Message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

/// A signed ECS client.
#[derive(Clone)]
pub struct Api {
    pub base_url: String,
    pub credentials: Credentials,
    pub region: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base_url: &str) -> Self {
        Api::with_keys(base_url, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
    }

    pub fn with_keys(base_url: &str, access_key: &str, secret_key: &str) -> Self {
        Api {
            base_url: base_url.to_owned(),
            credentials: Credentials {
                access_key: access_key.to_owned(),
                secret_key: Secret::new(secret_key),
                session_token: None,
            },
            region: "cn-beijing".to_owned(),
            http: http(),
        }
    }

    /// `GET /?Action=..&Version=2020-04-01&params`, signed now.
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Answer {
        self.call_at(action, params, OffsetDateTime::now_utc())
            .await
    }

    pub async fn call_at(
        &self,
        action: &str,
        params: &[(&str, &str)],
        now: OffsetDateTime,
    ) -> Answer {
        let mut query = vec![
            ("Action".to_owned(), action.to_owned()),
            ("Version".to_owned(), VERSION.to_owned()),
        ];
        query.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.send("GET", query, None, now)
            .await
            .expect("the emulator answers")
    }

    /// Sends a signed request with exactly this query and optional form body.
    pub async fn send(
        &self,
        method: &str,
        query: Vec<(String, String)>,
        form_body: Option<Vec<u8>>,
        now: OffsetDateTime,
    ) -> reqwest::Result<Answer> {
        let host = self.base_url.trim_start_matches("http://").to_owned();
        let content_type = form_body
            .as_ref()
            .map(|_| "application/x-www-form-urlencoded");
        let body = form_body.unwrap_or_default();
        let request = signer::Request {
            method,
            host: &host,
            path: "/",
            query: &query,
            content_type,
            body: &body,
        };
        let signed = signer::sign(&request, &self.credentials, &self.region, "ecs", now);
        let mut builder = self.http.request(
            method.parse().unwrap(),
            format!("{}/?{}", self.base_url, signer::canonical_query(&query)),
        );
        for (name, value) in signed.iter() {
            builder = builder.header(name, value);
        }
        if let Some(content_type) = content_type {
            builder = builder.header("Content-Type", content_type);
        }
        let response = builder.body(body).send().await?;
        Ok(Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await?,
        })
    }

    /// The accounts `image` is shared with, through Describe (all pages).
    pub async fn shares(&self, image: &str) -> Vec<String> {
        let mut accounts = Vec::new();
        let mut token = String::new();
        for _ in 0..100 {
            let answer = self
                .call(
                    "DescribeImageSharePermission",
                    &[
                        ("ImageId", image),
                        ("MaxResults", "100"),
                        ("NextToken", &token),
                    ],
                )
                .await;
            let result = answer.result();
            for entry in result["Accounts"].as_array().unwrap() {
                accounts.push(entry["AccountId"].as_str().unwrap().to_owned());
            }
            token = result["NextToken"].as_str().unwrap_or_default().to_owned();
            if token.is_empty() {
                return accounts;
            }
        }
        panic!("more than 100 pages");
    }
}

/// The unsigned admin API.
pub struct Admin {
    pub base_url: String,
    pub http: reqwest::Client,
}

impl Admin {
    pub fn new(base_url: &str) -> Self {
        Admin {
            base_url: base_url.to_owned(),
            http: http(),
        }
    }

    pub async fn request(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut builder = self.http.request(
            method.parse().unwrap(),
            format!("{}/_emulator/{path}", self.base_url),
        );
        if let Some(body) = body {
            builder = builder
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = builder.send().await.expect("admin API answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, value) = self.request("GET", path, None).await;
        assert_eq!(status, 200, "{value}");
        value
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.request("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.request("PUT", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.request("DELETE", path, None).await.0
    }
}

/// The `volcengine-ecs-emulator` binary, started with some flags.
pub struct EmulatorProcess {
    pub child: tokio::process::Child,
    pub base_url: String,
    /// The second stdout line (the credentials line).
    pub credentials_line: String,
    pub stderr: Option<tokio::process::ChildStderr>,
}

impl EmulatorProcess {
    pub async fn spawn(args: &[&str]) -> EmulatorProcess {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_volcengine-ecs-emulator"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the emulator binary starts");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let (first, second) = tokio::time::timeout(Duration::from_secs(20), async {
            (
                lines.next_line().await.unwrap(),
                lines.next_line().await.unwrap(),
            )
        })
        .await
        .expect("the emulator prints its address within 20 s");
        let first = first.expect("a first stdout line");
        let base_url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
        let stderr = child.stderr.take();
        EmulatorProcess {
            child,
            base_url,
            credentials_line: second.unwrap_or_default(),
            stderr,
        }
    }

    /// Sends SIGTERM (to this child only, by its id) and waits for the exit status.
    pub async fn terminate(mut self) -> (std::process::ExitStatus, String) {
        use tokio::io::AsyncReadExt;
        let pid = self.child.id().expect("still running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the emulator exits within 10 s of SIGTERM")
            .unwrap();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.stderr.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), pipe.read_to_string(&mut stderr))
                .await;
        }
        (status, stderr)
    }
}
