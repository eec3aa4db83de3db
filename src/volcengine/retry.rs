//! Retrying one API call: exponential backoff with full jitter, bounded by a
//! retry count, the operation's deadline and Terraform's cancellation.
//!
//! Both actions this provider sends are safe to repeat after an attempt whose
//! outcome is unknown (timeout, reset connection): DescribeImageSharePermission
//! only reads, and ModifyImageSharePermission is idempotent in effect (adding
//! an account that already has the share, or removing one that does not,
//! leaves the same final set). So transport failures and per-attempt timeouts
//! are retried like transient HTTP statuses.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::Error;

/// Bounds for one Terraform operation: a deadline (the resource timeouts)
/// and Terraform's cancellation (StopProvider).
#[derive(Clone, Debug)]
pub struct CallContext {
    pub deadline: Instant,
    pub cancel: CancellationToken,
}

impl CallContext {
    pub fn new(deadline: Instant, cancel: CancellationToken) -> Self {
        CallContext { deadline, cancel }
    }

    /// A context ending `timeout` from now, with its own cancellation token.
    pub fn with_timeout(timeout: Duration) -> Self {
        CallContext::new(Instant::now() + timeout, CancellationToken::new())
    }
}

/// Exponential backoff with full jitter: before retry `n` (1-based) sleep a
/// uniformly random time in `[0, min(cap, base * 2^(n-1))]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The largest delay retry `retry` (1-based) may wait.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random delay for retry `retry` within `[0, ceiling(retry)]`.
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

/// How many times and how patiently to retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub backoff: Backoff,
    /// Limit of one HTTP attempt (connect + request + body).
    pub attempt_timeout: Duration,
}

/// One failed attempt: the error and, for HTTP answers, the server's
/// `Retry-After` wish.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub retry_after: Option<Duration>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// Runs `attempt` (given the 1-based attempt number) until it succeeds, fails
/// with a non-retryable error, the retries run out, the deadline passes or
/// the context is cancelled.
pub async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    ctx: &CallContext,
    action: &str,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let cancelled = || Error::Cancelled {
        action: action.to_owned(),
    };
    let timed_out = |attempts: u32| Error::Timeout {
        action: action.to_owned(),
        attempts,
    };
    let mut number = 0u32;
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(cancelled());
        }
        if Instant::now() >= ctx.deadline {
            return Err(timed_out(number));
        }
        number += 1;
        let own_limit = Instant::now() + policy.attempt_timeout;
        let limit = own_limit.min(ctx.deadline);
        tracing::debug!(action, attempt = number, "sending request");
        let outcome = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return Err(cancelled()),
            outcome = tokio::time::timeout_at(limit, attempt(number)) => outcome,
        };
        let failure = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(failure)) => failure,
            Err(_elapsed) if limit == ctx.deadline && ctx.deadline <= own_limit => {
                return Err(timed_out(number));
            }
            Err(_elapsed) => Failure::from(Error::Transport {
                message: format!(
                    "{action}: no response within {:?} (attempt {number})",
                    policy.attempt_timeout
                ),
            }),
        };
        let error = &failure.error;
        tracing::debug!(
            action,
            attempt = number,
            status = error.status(),
            code = error.code(),
            request_id = error.request_id(),
            retryable = error.is_retryable(),
            "attempt failed"
        );
        if !error.is_retryable() || number > policy.max_retries {
            return Err(failure.error);
        }
        let delay = failure
            .retry_after
            .unwrap_or_else(|| policy.backoff.delay(number));
        let wake = Instant::now() + delay;
        if wake > ctx.deadline {
            // Sleeping would outlive the operation: give up now rather than
            // make Terraform wait for an attempt that cannot happen.
            return Err(timed_out(number));
        }
        tracing::warn!(
            action,
            attempt = number,
            status = error.status(),
            code = error.code(),
            request_id = error.request_id(),
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "retrying after transient failure: {error}"
        );
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return Err(cancelled()),
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// Parses `Retry-After` given in seconds. HTTP dates are not used by
/// Volcengine and are ignored (the backoff applies instead).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volcengine::error::ApiError;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(1),
            },
            attempt_timeout: Duration::from_secs(30),
        }
    }

    fn api(status: u16, code: &str) -> Failure {
        Failure::from(Error::Api(ApiError {
            status,
            code: code.into(),
            message: "m".into(),
            request_id: "r".into(),
            action: "A".into(),
        }))
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let b = Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        };
        assert_eq!(b.ceiling(1), Duration::from_millis(200));
        assert_eq!(b.ceiling(2), Duration::from_millis(400));
        assert_eq!(b.ceiling(5), Duration::from_millis(3200));
        assert_eq!(b.ceiling(6), Duration::from_secs(5));
        assert_eq!(b.ceiling(60), Duration::from_secs(5));
        for retry in 1..=10 {
            assert!(b.delay(retry) <= b.ceiling(retry));
        }
    }

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_then_succeeds() {
        let calls = AtomicU32::new(0);
        let ctx = CallContext::with_timeout(Duration::from_secs(60));
        let result = run(&policy(3), &ctx, "A", |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(api(503, "ServiceUnavailable"))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(result, Ok(2));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn stops_after_max_retries_and_on_user_errors() {
        let calls = AtomicU32::new(0);
        let ctx = CallContext::with_timeout(Duration::from_secs(60));
        let result: Result<(), _> = run(&policy(2), &ctx, "A", |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(api(500, "InternalError")) }
        })
        .await;
        assert_eq!(result.unwrap_err().code(), Some("InternalError"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = run(&policy(5), &ctx, "A", |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(api(400, "InvalidArgument")) }
        })
        .await;
        assert_eq!(result.unwrap_err().code(), Some("InvalidArgument"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_beyond_the_deadline_times_out_at_once() {
        let ctx = CallContext::with_timeout(Duration::from_secs(10));
        let started = Instant::now();
        let result: Result<(), _> = run(&policy(5), &ctx, "A", |_| async {
            Err(Failure {
                retry_after: Some(Duration::from_secs(30)),
                ..api(429, "FlowLimitExceeded")
            })
        })
        .await;
        assert!(matches!(result, Err(Error::Timeout { attempts: 1, .. })));
        assert_eq!(Instant::now(), started);
    }

    #[tokio::test(start_paused = true)]
    async fn attempt_cut_by_the_deadline_is_a_timeout() {
        let ctx = CallContext::with_timeout(Duration::from_secs(2));
        let result: Result<(), _> = run(&policy(5), &ctx, "A", |_| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
        .await;
        assert!(matches!(result, Err(Error::Timeout { attempts: 1, .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_attempts_are_retried_then_reported_as_transport() {
        let calls = AtomicU32::new(0);
        let mut p = policy(2);
        p.attempt_timeout = Duration::from_secs(1);
        let ctx = CallContext::with_timeout(Duration::from_secs(60));
        let result: Result<(), _> = run(&p, &ctx, "A", |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
        })
        .await;
        assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
