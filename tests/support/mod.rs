//! Shared harness for the end-to-end tests: real Terraform (1.15.5 and 1.0.3 from
//! `.tools/`) drives the provider binary built by this package against the
//! emulator binary, each test in its own temporary workspace with its own emulator.
//!
//! Everything here is bounded: every process wait has a deadline, and a process
//! that outlives it is killed and reported with its captured output.
#![allow(dead_code)] // each test crate uses a different part of the harness

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Default access key pair the emulator accepts.
pub const ACCESS_KEY: &str = "AKLOCALEMULATOR";
pub const SECRET_KEY: &str = "emulator-secret-key";
pub const REGION: &str = "cn-beijing";
/// Provider source address used with dev_overrides.
pub const PROVIDER_SOURCE: &str = "volcengine/volcengine";

/// How long one Terraform command may run before the test fails.
pub const TERRAFORM_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the emulator may take to print its listening line.
const EMULATOR_START_TIMEOUT: Duration = Duration::from_secs(15);

/// The `terraform { required_providers }` block every test configuration starts with.
pub const REQUIRED_PROVIDERS: &str = r#"terraform {
  required_providers {
    volcengine = {
      source = "volcengine/volcengine"
    }
  }
}
"#;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The provider binary cargo built for this test run.
pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-volcengine"))
}

/// The emulator binary cargo built for this test run.
pub fn emulator_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_volcengine-ecs-emulator"))
}

/// The two Terraform releases the provider is tested with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terraform {
    /// Terraform 1.15.5 (protocol 6.10: identity, import blocks, terraform_data).
    V1_15,
    /// Terraform 1.0.3 (protocol 6.0), the oldest release with protocol 6.
    V1_0,
}

impl Terraform {
    pub const ALL: [Terraform; 2] = [Terraform::V1_15, Terraform::V1_0];

    /// Path of the binary under `.tools/bin`; a missing tool fails the test.
    pub fn binary(self) -> PathBuf {
        let name = match self {
            Terraform::V1_15 => "terraform",
            Terraform::V1_0 => "terraform-1.0.3",
        };
        let path = repo_root().join(".tools/bin").join(name);
        assert!(
            path.is_file(),
            "{} is missing: run scripts/setup-tools.sh",
            path.display()
        );
        path
    }

    pub fn version(self) -> &'static str {
        match self {
            Terraform::V1_15 => "1.15.5",
            Terraform::V1_0 => "1.0.3",
        }
    }

    /// Terraform 1.0 with dev_overrides cannot run `init` (it asks the registry for the
    /// overridden provider) and does not need to; 1.15 skips overridden providers in init.
    pub fn needs_init(self) -> bool {
        matches!(self, Terraform::V1_15)
    }
}

/// Output of one finished Terraform command.
#[derive(Debug)]
pub struct TfOutput {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl TfOutput {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Both streams, for assertions that do not care where Terraform printed a message.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics with the full output unless the command exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.success(),
            "{} failed:\n{}",
            self.command,
            self.describe()
        );
        self
    }

    /// Panics with the full output unless the command failed.
    pub fn assert_failure(&self) -> &Self {
        assert!(
            !self.success(),
            "{} unexpectedly succeeded:\n{}",
            self.command,
            self.describe()
        );
        self
    }

    pub fn describe(&self) -> String {
        format!(
            "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A temporary Terraform working directory with a CLI configuration whose
/// dev_overrides point `volcengine/volcengine` at the provider binary built for this run.
pub struct Workspace {
    dir: tempfile::TempDir,
    terraform: Terraform,
    env: BTreeMap<String, String>,
    timeout: Duration,
}

impl Workspace {
    pub fn new(terraform: Terraform) -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("tf-e2e-")
            .tempdir()
            .expect("create workspace dir");
        let provider_dir = provider_binary()
            .parent()
            .expect("provider binary has a parent dir")
            .to_path_buf();
        let cli_config = dir.path().join("cli.tfrc");
        std::fs::write(&cli_config, cli_config_text(&provider_dir)).expect("write cli config");

        let mut env = BTreeMap::new();
        env.insert("TF_CLI_CONFIG_FILE".into(), path_string(&cli_config));
        env.insert("TF_IN_AUTOMATION".into(), "1".into());
        env.insert("TF_INPUT".into(), "0".into());
        env.insert("CHECKPOINT_DISABLE".into(), "1".into());
        // Plain text output; set per command because not every command takes -no-color.
        for command in [
            "init", "validate", "plan", "apply", "destroy", "import", "refresh", "show", "output",
        ] {
            env.insert(format!("TF_CLI_ARGS_{command}"), "-no-color".into());
        }
        Workspace {
            dir,
            terraform,
            env,
            timeout: TERRAFORM_TIMEOUT,
        }
    }

    /// A workspace whose provider talks to `emulator` with the default credentials (env vars).
    pub fn with_emulator(terraform: Terraform, emulator: &Emulator) -> Workspace {
        let mut ws = Workspace::new(terraform);
        for (key, value) in emulator.provider_env() {
            ws.set_env(&key, &value);
        }
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn terraform(&self) -> Terraform {
        self.terraform
    }

    pub fn set_env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    pub fn remove_env(&mut self, key: &str) -> &mut Self {
        self.env.remove(key);
        self
    }

    /// Writes `main.tf`: the required_providers block followed by `body`.
    pub fn write_main_tf(&self, body: &str) {
        self.write_file("main.tf", &format!("{REQUIRED_PROVIDERS}\n{body}"));
    }

    pub fn write_file(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write workspace file");
    }

    /// Runs `terraform <args>` in the workspace; never panics on a failed command.
    pub fn run(&self, args: &[&str]) -> TfOutput {
        self.run_with_env(args, &[])
    }

    /// Like [`run`](Self::run) with extra environment variables for this command only.
    pub fn run_with_env(&self, args: &[&str], extra_env: &[(&str, &str)]) -> TfOutput {
        let mut command = Command::new(self.terraform.binary());
        command.args(args).current_dir(self.path());
        // Keep the caller's Terraform and Volcengine settings out of the test.
        for (key, _) in std::env::vars_os() {
            if let Some(key) = key.to_str() {
                if key.starts_with("TF_") || key.starts_with("VOLCENGINE_") {
                    command.env_remove(key);
                }
            }
        }
        command.envs(&self.env);
        command.envs(extra_env.iter().copied());
        let label = format!(
            "terraform {} ({})",
            args.join(" "),
            self.terraform.version()
        );
        run_bounded(command, &label, self.timeout)
    }

    /// Runs a command and panics with its output unless it succeeds.
    pub fn ok(&self, args: &[&str]) -> TfOutput {
        let out = self.run(args);
        out.assert_success();
        out
    }

    /// `terraform init` where the Terraform release needs it (see [`Terraform::needs_init`]).
    pub fn init(&self) {
        if self.terraform.needs_init() {
            self.ok(&["init", "-input=false"]);
        }
    }

    pub fn apply(&self) -> TfOutput {
        self.ok(&["apply", "-auto-approve", "-input=false"])
    }

    pub fn destroy(&self) -> TfOutput {
        self.ok(&["destroy", "-auto-approve", "-input=false"])
    }

    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes; anything else panics.
    pub fn plan(&self) -> (i32, TfOutput) {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false"]);
        let code = out.code();
        assert!(
            code == 0 || code == 2,
            "{} failed:\n{}",
            out.command,
            out.describe()
        );
        (code, out)
    }

    /// Panics unless a plan proposes no changes.
    pub fn assert_no_changes(&self) {
        let (code, out) = self.plan();
        assert_eq!(code, 0, "expected an empty plan:\n{}", out.describe());
    }

    /// Panics unless a plan proposes changes; returns the plan output.
    pub fn assert_changes(&self) -> TfOutput {
        let (code, out) = self.plan();
        assert_eq!(code, 2, "expected a plan with changes:\n{}", out.describe());
        out
    }

    /// `terraform show -json` of the current state.
    pub fn state_json(&self) -> Value {
        let out = self.ok(&["show", "-json"]);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("show -json is not JSON ({e}):\n{}", out.describe()))
    }

    /// The state values of the resource at `address` (e.g. `volcengine_image_share.this`),
    /// or None when it is not in state.
    pub fn resource_values(&self, address: &str) -> Option<Value> {
        let state = self.state_json();
        find_resource(&state, address).map(|r| r["values"].clone())
    }

    /// `terraform output -json NAME`.
    pub fn output_json(&self, name: &str) -> Value {
        let out = self.ok(&["output", "-json", name]);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("output -json is not JSON ({e}):\n{}", out.describe()))
    }
}

/// Searches the root module and child modules of `terraform show -json` output.
pub fn find_resource(state: &Value, address: &str) -> Option<Value> {
    fn walk(module: &Value, address: &str) -> Option<Value> {
        if let Some(found) = module["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["address"] == address))
        {
            return Some(found.clone());
        }
        module["child_modules"]
            .as_array()?
            .iter()
            .find_map(|child| walk(child, address))
    }
    walk(&state["values"]["root_module"], address)
}

/// Sorted strings of a JSON array (account IDs in state or output).
pub fn string_set(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("expected a JSON array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("string item").to_string())
        .collect();
    items.sort();
    items
}

/// `count` distinct numeric account IDs starting at `first`: "2100000001", ...
pub fn accounts(first: u64, count: u64) -> Vec<String> {
    (first..first + count).map(|n| format!("{n:010}")).collect()
}

/// HCL list literal of strings: `["a", "b"]`.
pub fn hcl_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn cli_config_text(provider_dir: &Path) -> String {
    // No plugin_cache_dir: the cache is off; `direct {}` is never reached for the
    // overridden provider and keeps built-in providers (terraform_data) working.
    format!(
        r#"provider_installation {{
  dev_overrides {{
    "{PROVIDER_SOURCE}" = {dir:?}
  }}
  direct {{}}
}}
"#,
        dir = path_string(provider_dir)
    )
}

fn path_string(path: &Path) -> String {
    path.to_str().expect("UTF-8 path").to_string()
}

/// Runs `command` to completion with both streams captured, killing it after `timeout`.
pub fn run_bounded(mut command: Command, label: &str, timeout: Duration) -> TfOutput {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for child") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let out = stdout.join().unwrap_or_default();
                let err = stderr.join().unwrap_or_default();
                panic!(
                    "{label} did not finish within {timeout:?}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
                );
            }
            None => thread::sleep(Duration::from_millis(10)),
        }
    };
    TfOutput {
        command: label.to_string(),
        status,
        // Readers end when the pipes close; a grandchild holding a pipe open
        // (a provider that did not exit) would show up as a hang here, so bound it.
        stdout: join_bounded(stdout, label),
        stderr: join_bounded(stderr, label),
    }
}

fn drain(mut stream: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn join_bounded(handle: thread::JoinHandle<String>, label: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !handle.is_finished() {
        assert!(
            Instant::now() < deadline,
            "{label}: output pipe still open 30s after exit (a plugin process outlived Terraform?)"
        );
        thread::sleep(Duration::from_millis(10));
    }
    handle.join().unwrap_or_default()
}

/// One entry of the emulator's call log (`GET /_emulator/calls`).
#[derive(Debug, Clone)]
pub struct Call {
    pub seq: u64,
    pub action: String,
    pub params: BTreeMap<String, String>,
    pub status: u16,
    pub code: Option<String>,
    pub faulted: bool,
}

impl Call {
    /// Values of a flattened array parameter (`AddAccounts.1..N`), in index order.
    pub fn list_param(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.");
        let mut indexed: Vec<(u64, String)> = self
            .params
            .iter()
            .filter_map(|(k, v)| {
                let index = k.strip_prefix(&prefix)?.parse().ok()?;
                Some((index, v.clone()))
            })
            .collect();
        indexed.sort();
        indexed.into_iter().map(|(_, v)| v).collect()
    }
}

/// The emulator binary running on a loopback port, killed on drop.
pub struct Emulator {
    child: Child,
    base_url: String,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Emulator {
    /// Starts the emulator with one available image per entry of `images`.
    pub fn start(images: &[&str]) -> Emulator {
        let mut args = Vec::new();
        for image in images {
            args.push("--image".to_string());
            args.push(image.to_string());
        }
        Emulator::start_with_args(&args)
    }

    /// Starts the emulator with extra command-line arguments.
    pub fn start_with_args(extra: &[String]) -> Emulator {
        let mut child = Command::new(emulator_binary())
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start volcengine-ecs-emulator");

        // Read stdout on a thread so the wait for the first line is bounded, then keep
        // draining it so the emulator never blocks on a full pipe.
        let stdout = child.stdout.take().expect("piped stdout");
        let (first_line_tx, first_line_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = first_line_tx.send(first);
            for _ in lines.by_ref() {}
        });
        let line = match first_line_rx.recv_timeout(EMULATOR_START_TIMEOUT) {
            Ok(Some(line)) => line,
            outcome => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("emulator did not print its listening line: {outcome:?}");
            }
        };
        let base_url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first emulator line: {line:?}"))
            .trim()
            .trim_end_matches('/')
            .to_string();

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime for admin calls");
        // No pooled connections: the emulator (hyper) closes a keep-alive
        // connection after 30 s without a request, and this client's runtime
        // is idle between admin calls, so it would not notice and the first
        // admin call after a long Terraform command would fail on a dead socket.
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        Emulator {
            child,
            base_url,
            runtime,
            http,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Environment variables that point the provider at this emulator.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        vec![
            ("VOLCENGINE_ENDPOINT".into(), self.base_url.clone()),
            ("VOLCENGINE_ACCESS_KEY".into(), ACCESS_KEY.into()),
            ("VOLCENGINE_SECRET_KEY".into(), SECRET_KEY.into()),
            ("VOLCENGINE_REGION".into(), REGION.into()),
        ]
    }

    /// Sends one admin request; panics unless it answers 2xx.
    fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_emulator/{path}", self.base_url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).expect("JSON body"));
        }
        let (status, text) = self.runtime.block_on(async {
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            (status, text)
        });
        assert!(
            status.is_success(),
            "{method} {url} answered {status}: {text}"
        );
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {url}: not JSON ({e}): {text}"))
        }
    }

    /// Creates (or marks available) an image.
    pub fn put_image(&self, image_id: &str) {
        self.admin(
            reqwest::Method::PUT,
            &format!("images/{image_id}"),
            Some(json!({"status": "available"})),
        );
    }

    /// Sets an image's status (e.g. "creating" to make it unshareable).
    pub fn set_image_status(&self, image_id: &str, status: &str) {
        self.admin(
            reqwest::Method::PUT,
            &format!("images/{image_id}"),
            Some(json!({ "status": status })),
        );
    }

    /// Deletes an image out of band, shares included.
    pub fn delete_image(&self, image_id: &str) {
        self.admin(reqwest::Method::DELETE, &format!("images/{image_id}"), None);
    }

    /// The accounts an image is shared with, sorted.
    pub fn shares(&self, image_id: &str) -> Vec<String> {
        let body = self.admin(
            reqwest::Method::GET,
            &format!("images/{image_id}/shares"),
            None,
        );
        string_set(&body["accounts"])
    }

    /// Replaces an image's shares out of band (drift).
    pub fn set_shares(&self, image_id: &str, accounts: &[String]) {
        self.admin(
            reqwest::Method::PUT,
            &format!("images/{image_id}/shares"),
            Some(json!({ "accounts": accounts })),
        );
    }

    /// Adds a fault rule (see the emulator's admin API for the fields).
    pub fn add_fault(&self, fault: Value) {
        self.admin(reqwest::Method::POST, "faults", Some(fault));
    }

    pub fn clear_faults(&self) {
        self.admin(reqwest::Method::DELETE, "faults", None);
    }

    /// Answers 429 FlowLimitExceeded beyond `max_per_second` calls (0 = off).
    pub fn throttle(&self, max_per_second: u32) {
        self.admin(
            reqwest::Method::POST,
            "throttle",
            Some(json!({ "max_per_second": max_per_second })),
        );
    }

    /// The call log since start or the last [`clear_calls`](Self::clear_calls).
    pub fn calls(&self) -> Vec<Call> {
        let body = self.admin(reqwest::Method::GET, "calls", None);
        body.as_array()
            .expect("calls is an array")
            .iter()
            .map(|c| Call {
                seq: c["seq"].as_u64().unwrap_or_default(),
                action: c["action"].as_str().unwrap_or_default().to_string(),
                params: c["params"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                let v = v.as_str().map(str::to_string).unwrap_or(v.to_string());
                                (k.clone(), v)
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                status: c["status"].as_u64().unwrap_or_default() as u16,
                code: c["code"].as_str().map(str::to_string),
                faulted: c["faulted"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    /// Logged calls of one action.
    pub fn calls_of(&self, action: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.action == action)
            .collect()
    }

    pub fn clear_calls(&self) {
        self.admin(reqwest::Method::DELETE, "calls", None);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- Added for the reliability tests (tests/reliability_*.rs) -----

impl Emulator {
    /// The call log as the admin API returns it (with `request_id`).
    pub fn raw_calls(&self) -> Vec<Value> {
        match self.admin(reqwest::Method::GET, "calls", None) {
            Value::Array(calls) => calls,
            other => panic!("calls is not an array: {other}"),
        }
    }

    /// Request IDs of the calls of `action` answered with error `code`, in order.
    pub fn request_ids_with_code(&self, action: &str, code: &str) -> Vec<String> {
        self.raw_calls()
            .into_iter()
            .filter(|c| c["action"] == action && c["code"] == code)
            .map(|c| c["request_id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Adds a fault rule given as the emulator's own type.
    pub fn add_fault_spec(&self, spec: &terraform_provider_volcengine::emulator::FaultSpec) {
        self.add_fault(serde_json::to_value(spec).expect("fault spec as JSON"));
    }
}

impl Workspace {
    /// Starts `terraform <args>` without waiting, output captured to files
    /// `<workspace>/<name>.stdout|stderr`, in its own process group so a
    /// signal can reach Terraform and its plugins the way Ctrl-C in a
    /// terminal does. The caller must wait for (or kill) the child.
    pub fn spawn(&self, args: &[&str], name: &str) -> Child {
        let mut command = Command::new(self.terraform.binary());
        command.args(args).current_dir(self.path());
        for (key, _) in std::env::vars_os() {
            if let Some(key) = key.to_str() {
                if key.starts_with("TF_") || key.starts_with("VOLCENGINE_") {
                    command.env_remove(key);
                }
            }
        }
        command.envs(&self.env);
        let stdout =
            std::fs::File::create(self.path().join(format!("{name}.stdout"))).expect("stdout file");
        let stderr =
            std::fs::File::create(self.path().join(format!("{name}.stderr"))).expect("stderr file");
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start terraform {}: {e}", args.join(" ")))
    }

    /// What a command started with [`spawn`](Self::spawn) printed.
    pub fn spawned_output(&self, name: &str) -> (String, String) {
        let read = |ext: &str| {
            std::fs::read_to_string(self.path().join(format!("{name}.{ext}"))).unwrap_or_default()
        };
        (read("stdout"), read("stderr"))
    }
}

/// Waits for `child` at most `timeout`; kills it and panics after that.
pub fn wait_bounded(child: &mut Child, label: &str, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{label} did not finish within {timeout:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `signal` (e.g. "INT") to one process with the system's `kill`.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Collapses every run of whitespace into one space: Terraform wraps long
/// diagnostic lines, so texts are compared in this form.
pub fn unwrap_text(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Emulator {
    /// `GET /_emulator/images`: every image with its status and accounts.
    pub fn raw_images(&self) -> Vec<Value> {
        match self.admin(reqwest::Method::GET, "images", None) {
            Value::Array(images) => images,
            other => panic!("images is not an array: {other}"),
        }
    }
}

/// Sends `signal` to every process of group `pgid` (what Ctrl-C in a terminal does).
pub fn send_signal_to_group(pgid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), "--".into(), format!("-{pgid}")])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} -- -{pgid} failed");
}
