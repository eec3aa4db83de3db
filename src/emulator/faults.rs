//! Injected faults (error answers, latency, dropped connections, raw bodies)
//! and request throttling, both driven through the admin API.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::api::ACTIONS;

/// Matches every action.
pub const ANY_ACTION: &str = "*";

/// A fault as posted to `POST /_emulator/faults`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// An action name or `*`.
    #[serde(default = "any_action")]
    pub action: String,
    /// How many matching calls to fault (after skipping `after`).
    #[serde(default = "one")]
    pub count: u32,
    /// How many matching calls to let through first.
    #[serde(default)]
    pub after: u32,
    /// HTTP status of the error (default 500).
    #[serde(default)]
    pub status: Option<u16>,
    /// Error code (default `InternalError`).
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// Delay before answering (or before dropping the connection).
    #[serde(default)]
    pub latency_ms: u64,
    /// Close the connection without any response.
    #[serde(default)]
    pub drop_connection: bool,
    /// Answer with this body verbatim (status `status`, default 500) instead of JSON.
    #[serde(default)]
    pub raw_body: Option<String>,
}

fn any_action() -> String {
    ANY_ACTION.to_owned()
}

fn one() -> u32 {
    1
}

impl Default for FaultSpec {
    fn default() -> Self {
        FaultSpec {
            action: any_action(),
            count: 1,
            after: 0,
            status: None,
            code: None,
            message: None,
            latency_ms: 0,
            drop_connection: false,
            raw_body: None,
        }
    }
}

impl FaultSpec {
    /// Checks the spec; the error says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.action != ANY_ACTION && !ACTIONS.contains(&self.action.as_str()) {
            return Err(format!(
                "action must be one of {} or \"*\", not {:?}",
                ACTIONS.join(", "),
                self.action
            ));
        }
        if self.count == 0 {
            return Err("count must be at least 1".into());
        }
        if let Some(status) = self.status {
            if !(100..=599).contains(&status) {
                return Err(format!("status {status} is not an HTTP status"));
            }
        }
        if self.drop_connection
            && (self.raw_body.is_some() || self.status.is_some() || self.code.is_some())
        {
            return Err("drop_connection excludes status, code and raw_body".into());
        }
        if self.raw_body.is_some() && (self.code.is_some() || self.message.is_some()) {
            return Err("raw_body excludes code and message".into());
        }
        Ok(())
    }

    fn matches(&self, action: &str) -> bool {
        self.action == ANY_ACTION || self.action == action
    }
}

/// What an injected fault does to one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultEffect {
    /// Only the latency: the call then proceeds normally.
    Delay,
    Error {
        status: StatusCode,
        code: String,
        message: Option<String>,
    },
    Raw {
        status: StatusCode,
        body: String,
    },
    Drop,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub latency: Duration,
    pub effect: FaultEffect,
}

/// Registered faults, each with its own countdown.
#[derive(Default)]
pub struct Faults {
    pending: Vec<FaultSpec>,
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) {
        self.pending.push(spec);
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    pub fn list(&self) -> Vec<FaultSpec> {
        self.pending.clone()
    }

    /// Counts one call of `action` against every matching fault and returns
    /// the fault that applies to it (the earliest registered one that is due).
    pub fn next(&mut self, action: &str) -> Option<Fault> {
        let mut applied = None;
        for spec in self.pending.iter_mut().filter(|spec| spec.matches(action)) {
            if spec.after > 0 {
                spec.after -= 1;
            } else if applied.is_none() {
                spec.count -= 1;
                applied = Some(fault_of(spec));
            }
        }
        self.pending.retain(|spec| spec.count > 0);
        applied
    }
}

fn fault_of(spec: &FaultSpec) -> Fault {
    let status = spec
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let effect = if spec.drop_connection {
        FaultEffect::Drop
    } else if let Some(body) = &spec.raw_body {
        FaultEffect::Raw {
            status,
            body: body.clone(),
        }
    } else if spec.status.is_some() || spec.code.is_some() || spec.message.is_some() {
        FaultEffect::Error {
            status,
            code: spec.code.clone().unwrap_or_else(|| "InternalError".into()),
            message: spec.message.clone(),
        }
    } else if spec.latency_ms > 0 {
        FaultEffect::Delay
    } else {
        // A bare fault is the seed's 500 InternalError.
        FaultEffect::Error {
            status,
            code: "InternalError".into(),
            message: None,
        }
    };
    Fault {
        latency: Duration::from_millis(spec.latency_ms),
        effect,
    }
}

/// At most `max_per_second` admitted calls in any one-second window.
#[derive(Default)]
pub struct Throttle {
    max_per_second: u32,
    admitted: VecDeque<Instant>,
}

impl Throttle {
    pub fn set(&mut self, max_per_second: u32) {
        self.max_per_second = max_per_second;
        self.admitted.clear();
    }

    pub fn max_per_second(&self) -> u32 {
        self.max_per_second
    }

    /// Whether a call arriving at `now` is admitted.
    pub fn admit(&mut self, now: Instant) -> bool {
        if self.max_per_second == 0 {
            return true;
        }
        while let Some(&oldest) = self.admitted.front() {
            if now.duration_since(oldest) >= Duration::from_secs(1) {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
        if self.admitted.len() >= self.max_per_second as usize {
            return false;
        }
        self.admitted.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODIFY: &str = "ModifyImageSharePermission";
    const DESCRIBE: &str = "DescribeImageSharePermission";

    #[test]
    fn skips_after_then_faults_count_calls() {
        let mut faults = Faults::default();
        faults.add(FaultSpec {
            action: MODIFY.into(),
            after: 1,
            count: 2,
            status: Some(503),
            ..FaultSpec::default()
        });
        assert_eq!(faults.next(DESCRIBE), None, "other actions are not counted");
        assert_eq!(
            faults.next(MODIFY),
            None,
            "the first matching call is skipped"
        );
        for _ in 0..2 {
            let fault = faults.next(MODIFY).unwrap();
            assert!(
                matches!(fault.effect, FaultEffect::Error { status, .. } if status == StatusCode::SERVICE_UNAVAILABLE)
            );
        }
        assert_eq!(faults.next(MODIFY), None);
        assert!(faults.list().is_empty());
    }

    #[test]
    fn picks_the_kind_of_fault() {
        let kinds = [
            (
                FaultSpec {
                    drop_connection: true,
                    ..FaultSpec::default()
                },
                FaultEffect::Drop,
            ),
            (
                FaultSpec {
                    latency_ms: 5,
                    ..FaultSpec::default()
                },
                FaultEffect::Delay,
            ),
            (
                FaultSpec {
                    raw_body: Some("<html>".into()),
                    status: Some(502),
                    ..FaultSpec::default()
                },
                FaultEffect::Raw {
                    status: StatusCode::BAD_GATEWAY,
                    body: "<html>".into(),
                },
            ),
            (
                FaultSpec::default(),
                FaultEffect::Error {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "InternalError".into(),
                    message: None,
                },
            ),
        ];
        for (spec, effect) in kinds {
            let mut faults = Faults::default();
            faults.add(spec);
            assert_eq!(faults.next(DESCRIBE).unwrap().effect, effect);
        }
    }

    #[test]
    fn validates_specs() {
        assert!(FaultSpec::default().validate().is_ok());
        assert!(FaultSpec {
            action: "Nope".into(),
            ..FaultSpec::default()
        }
        .validate()
        .is_err());
        assert!(FaultSpec {
            count: 0,
            ..FaultSpec::default()
        }
        .validate()
        .is_err());
        assert!(FaultSpec {
            status: Some(99),
            ..FaultSpec::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn throttle_admits_per_second_window() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        assert!(throttle.admit(start), "off by default");
        throttle.set(2);
        assert!(throttle.admit(start));
        assert!(throttle.admit(start));
        assert!(!throttle.admit(start + Duration::from_millis(500)));
        assert!(throttle.admit(start + Duration::from_millis(1000)));
    }
}
