//! The fault matrix as data: operations, faults, how often a fault strikes,
//! what each cell must end in, and the emulator faults that produce it. The
//! in-process matrix runs every cell; the Terraform matrix runs a
//! representative subset of the same cells.

use std::collections::BTreeSet;

use terraform_provider_volcengine::emulator::FaultSpec;
use terraform_provider_volcengine::tfplugin::Value;

use super::{accounts, resource_config, DESCRIBE, MODIFY};

pub const IMAGE: &str = "image-matrix0000000001";
/// Provider `max_retries` for every cell: a fault striking twice is still transient.
pub const MAX_RETRIES: u32 = 2;
/// Provider `request_timeout` for every cell. Generous for a loopback call, so
/// that a busy CI machine does not turn a normal answer into a timeout.
pub const REQUEST_TIMEOUT_MS: u64 = 2500;
/// Latency of the "slower than the request timeout" fault.
pub const SLOW_MS: u64 = 3500;
/// ModifyImageSharePermission batches of every batched scenario.
pub const BATCHES: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Create,
    Update,
    Delete,
    Refresh,
    Import,
    DataSource,
}

impl Op {
    pub const ALL: [Op; 6] = [
        Op::Create,
        Op::Update,
        Op::Delete,
        Op::Refresh,
        Op::Import,
        Op::DataSource,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Refresh => "refresh",
            Op::Import => "import",
            Op::DataSource => "data source",
        }
    }

    /// Operations that write (ModifyImageSharePermission, in batches).
    pub fn writes(self) -> bool {
        matches!(self, Op::Create | Op::Update | Op::Delete)
    }

    /// The action the faults strike: the write for writes, the read otherwise.
    pub fn target_action(self) -> &'static str {
        if self.writes() {
            MODIFY
        } else {
            DESCRIBE
        }
    }

    /// Where the operation starts and what the configuration wants.
    pub fn scenario(self) -> Scenario {
        let none = BTreeSet::new;
        match self {
            // 150 to add: 3 batches.
            Op::Create => Scenario::new(none(), None, accounts(0..150)),
            // 150 to add, 50 to remove: 3 batches.
            Op::Update => Scenario::new(accounts(0..100), None, accounts(50..250)),
            // 150 to remove: 3 batches.
            Op::Delete => Scenario::new(accounts(0..150), None, none()),
            // Drift behind Terraform's back, so a refresh has something to find.
            Op::Refresh => {
                Scenario::new(accounts(0..100), Some(accounts(20..120)), accounts(0..100))
            }
            // Shared out of band before the import / read: 130 = 2 Describe pages.
            Op::Import | Op::DataSource => Scenario::new(accounts(0..130), None, accounts(0..130)),
        }
    }
}

/// The starting point of an operation and the configuration it converges to.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The shares before the operation (applied, or shared out of band).
    pub initial: BTreeSet<String>,
    /// Shares changed out of band after the initial apply.
    pub drift: Option<BTreeSet<String>>,
    /// The configured accounts; empty with `destroy`.
    pub desired: BTreeSet<String>,
    /// The configuration removes the resource.
    pub destroy: bool,
}

impl Scenario {
    fn new(
        initial: BTreeSet<String>,
        drift: Option<BTreeSet<String>>,
        desired: BTreeSet<String>,
    ) -> Scenario {
        let destroy = desired.is_empty();
        Scenario {
            initial,
            drift,
            desired,
            destroy,
        }
    }

    /// The resource configuration (null when it is destroyed).
    pub fn config(&self) -> Value {
        if self.destroy {
            Value::Null
        } else {
            resource_config(IMAGE, &self.desired, None)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// An API error answer; `status` 400 for the throttling codes, so that only
    /// the code (not the status) marks them retryable.
    Api {
        status: u16,
        code: &'static str,
    },
    DroppedConnection,
    /// The answer comes after the provider's request timeout.
    SlowerThanRequestTimeout,
    /// A proxy's HTML error page (HTTP 502).
    HtmlPage,
    /// A JSON body cut short, with HTTP 200.
    TruncatedBody,
    /// The image is not shareable (status "creating"): InvalidImageStatus on writes.
    ImageNotAvailable,
    /// Persistent InternalError from ModifyImageSharePermission batch `k` (1-based) of [`BATCHES`].
    BatchFailure {
        k: u32,
    },
}

impl Fault {
    pub fn name(self) -> String {
        match self {
            Fault::Api { status, code } => format!("{status} {code}"),
            Fault::DroppedConnection => "dropped connection".into(),
            Fault::SlowerThanRequestTimeout => "latency beyond request timeout".into(),
            Fault::HtmlPage => "HTML body (502)".into(),
            Fault::TruncatedBody => "truncated body (200)".into(),
            Fault::ImageNotAvailable => "InvalidImageStatus".into(),
            Fault::BatchFailure { k } => format!("failure at batch {k} of {BATCHES}"),
        }
    }
}

/// How many consecutive matching calls the fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Times {
    Once,
    Twice,
    Always,
}

impl Times {
    pub const ALL: [Times; 3] = [Times::Once, Times::Twice, Times::Always];

    fn count(self) -> u32 {
        match self {
            Times::Once => 1,
            Times::Twice => 2,
            Times::Always => 1000,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Times::Once => "once",
            Times::Twice => "twice",
            Times::Always => "persistent",
        }
    }
}

/// What a cell must end in.
#[derive(Clone, Debug)]
pub enum Expect {
    Success,
    Failure {
        /// Texts the error must contain (besides the image ID).
        needles: Vec<String>,
        /// The API code answered; the error must carry the request ID of that answer.
        code: Option<&'static str>,
        /// Failed attempts the emulator must see at the faulted call (None: not checked).
        attempts: Option<usize>,
    },
}

/// How a cell changes the emulator before the operation.
#[derive(Clone, Debug)]
pub enum Injection {
    Faults(Vec<FaultSpec>),
    ImageStatus(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cell {
    pub op: Op,
    pub fault: Fault,
    pub times: Times,
}

pub const HTML_PAGE: &str =
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
pub const TRUNCATED_BODY: &str =
    r#"{"ResponseMetadata":{"RequestId":"20260101000000000000ABCDEF","Action":"Des"#;

impl Cell {
    pub fn name(&self) -> String {
        match self.fault {
            Fault::ImageNotAvailable | Fault::BatchFailure { .. } => {
                format!("{} × {}", self.op.name(), self.fault.name())
            }
            fault => format!(
                "{} × {} {}",
                self.op.name(),
                fault.name(),
                self.times.name()
            ),
        }
    }

    /// The attempts one call gets: the first plus the retries.
    fn attempts() -> usize {
        MAX_RETRIES as usize + 1
    }

    pub fn expect(&self) -> Expect {
        let failure = |needles: &[&str], code, attempts| Expect::Failure {
            needles: needles.iter().map(|s| s.to_string()).collect(),
            code,
            attempts,
        };
        match (self.fault, self.times) {
            // Describe works on an image that is not available; only writes fail.
            (Fault::ImageNotAvailable, _) if !self.op.writes() => Expect::Success,
            (Fault::ImageNotAvailable, _) => failure(
                &["InvalidImageStatus", "available"],
                Some("InvalidImageStatus"),
                Some(1),
            ),
            (Fault::BatchFailure { k }, _) => failure(
                &[
                    "InternalError",
                    &format!(
                        "{} of {BATCHES} ModifyImageSharePermission batches completed",
                        k - 1
                    ),
                ],
                Some("InternalError"),
                Some(Self::attempts()),
            ),
            // A garbled HTTP 200 leaves the outcome unknown, so the client
            // asks again: transient ones succeed, a persistent one fails.
            (Fault::TruncatedBody, Times::Always) => failure(
                &["malformed response", "HTTP 200"],
                None,
                Some(Self::attempts()),
            ),
            (_, Times::Once | Times::Twice) => Expect::Success,
            (Fault::Api { code, .. }, Times::Always) => {
                failure(&[code], Some(code), Some(Self::attempts()))
            }
            (Fault::DroppedConnection, Times::Always) => failure(
                &[
                    self.op.target_action(),
                    "error sending request",
                    "Check the `endpoint` setting",
                ],
                None,
                Some(Self::attempts()),
            ),
            (Fault::SlowerThanRequestTimeout, Times::Always) => {
                failure(&["no response within"], None, None)
            }
            (Fault::HtmlPage, Times::Always) => failure(
                &["malformed response", "HTTP 502", "502 Bad Gateway"],
                None,
                Some(Self::attempts()),
            ),
        }
    }

    pub fn injection(&self) -> Injection {
        let action = self.op.target_action().to_owned();
        let count = self.times.count();
        let spec = |spec: FaultSpec| {
            Injection::Faults(vec![FaultSpec {
                action: action.clone(),
                count,
                ..spec
            }])
        };
        match self.fault {
            Fault::Api { status, code } => spec(FaultSpec {
                status: Some(status),
                code: Some(code.into()),
                ..FaultSpec::default()
            }),
            Fault::DroppedConnection => spec(FaultSpec {
                drop_connection: true,
                ..FaultSpec::default()
            }),
            Fault::SlowerThanRequestTimeout => spec(FaultSpec {
                latency_ms: SLOW_MS,
                ..FaultSpec::default()
            }),
            Fault::HtmlPage => spec(FaultSpec {
                status: Some(502),
                raw_body: Some(HTML_PAGE.into()),
                ..FaultSpec::default()
            }),
            Fault::TruncatedBody => spec(FaultSpec {
                status: Some(200),
                raw_body: Some(TRUNCATED_BODY.into()),
                ..FaultSpec::default()
            }),
            Fault::ImageNotAvailable => Injection::ImageStatus("creating"),
            Fault::BatchFailure { k } => Injection::Faults(vec![FaultSpec {
                action: MODIFY.into(),
                after: k - 1,
                count: Times::Always.count(),
                status: Some(500),
                code: Some("InternalError".into()),
                ..FaultSpec::default()
            }]),
        }
    }

    /// Applies the injection to an in-process emulator.
    pub async fn inject(
        &self,
        emulator: &terraform_provider_volcengine::emulator::RunningEmulator,
    ) {
        match self.injection() {
            Injection::Faults(specs) => {
                for spec in specs {
                    emulator.add_fault(spec).expect("valid fault");
                }
            }
            Injection::ImageStatus(status) => {
                emulator
                    .put_image(IMAGE, Some(status))
                    .await
                    .expect("set image status");
            }
        }
    }
}

/// The fault kinds and how often each strikes.
fn fault_kinds() -> Vec<(Fault, Times)> {
    use Times::*;
    let api = |status, code| Fault::Api { status, code };
    let mut kinds = vec![
        (api(500, "InternalError"), Once),
        (api(500, "InternalError"), Twice),
        (api(500, "InternalError"), Always),
        (api(503, "ServiceUnavailable"), Once),
        (api(503, "ServiceUnavailable"), Always),
        (api(429, "TooManyRequests"), Once),
        (api(429, "TooManyRequests"), Always),
    ];
    for code in [
        "FlowLimitExceeded",
        "AccountFlowLimitExceeded",
        "RequestLimitExceeded",
        "Throttling",
    ] {
        kinds.push((api(400, code), Once));
        kinds.push((api(400, code), Always));
    }
    for fault in [
        Fault::DroppedConnection,
        Fault::SlowerThanRequestTimeout,
        Fault::HtmlPage,
        Fault::TruncatedBody,
    ] {
        kinds.push((fault, Once));
        kinds.push((fault, Always));
    }
    kinds.push((Fault::ImageNotAvailable, Always));
    kinds
}

/// Every cell: each operation with each fault kind, plus a failure at the
/// first, middle and last batch of each batched operation.
pub fn matrix() -> Vec<Cell> {
    let mut cells = Vec::new();
    for op in Op::ALL {
        for (fault, times) in fault_kinds() {
            cells.push(Cell { op, fault, times });
        }
        if op.writes() {
            for k in 1..=BATCHES {
                cells.push(Cell {
                    op,
                    fault: Fault::BatchFailure { k },
                    times: Times::Always,
                });
            }
        }
    }
    cells
}
