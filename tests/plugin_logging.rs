//! The hclog JSON lines go-plugin parses from the provider's stderr.

use std::io;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use terraform_provider_volcengine::logging;
use tracing::Level;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::Layer as _;

/// Collects everything the layer writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "lines end in newlines"
        );
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
            .collect()
    }
}

/// Runs `f` with the hclog layer (filtered as the binary filters at `level`).
fn capture(level: LevelFilter, f: impl FnOnce()) -> Vec<Value> {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry()
        .with(logging::layer(move || writer.clone()).with_filter(logging::filter(level)));
    tracing::subscriber::with_default(subscriber, f);
    captured.lines()
}

/// go-plugin parses `@timestamp` with Go's `2006-01-02T15:04:05.000000Z07:00`.
fn assert_hclog_timestamp(value: &Value) {
    let text = value.as_str().expect("timestamp is a string");
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::PrimitiveDateTime::parse(text, format)
        .unwrap_or_else(|e| panic!("timestamp {text:?}: {e}"));
    assert_eq!(text.len(), "2026-11-28T00:00:00.000000Z".len(), "{text}");
}

#[test]
fn an_event_is_one_hclog_json_line_with_span_and_event_fields() {
    let lines = capture(LevelFilter::TRACE, || {
        let span = tracing::info_span!(
            target: "terraform_provider_volcengine::provider",
            "rpc",
            rpc = "ReadResource",
            attempt = 1u64
        );
        let _entered = span.enter();
        tracing::debug!(
            target: "terraform_provider_volcengine::volcengine",
            image_id = "image-123",
            attempt = 3u64,
            retryable = true,
            latency = 0.25,
            "calling {}",
            "DescribeImageSharePermission"
        );
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["@level"], "debug");
    assert_eq!(line["@message"], "calling DescribeImageSharePermission");
    assert_eq!(line["@module"], "provider.terraform-provider-volcengine");
    assert_hclog_timestamp(&line["@timestamp"]);
    assert_eq!(line["image_id"], "image-123");
    assert_eq!(line["retryable"], true);
    assert_eq!(line["latency"], 0.25);
    assert_eq!(line["rpc"], "ReadResource", "span fields are included");
    assert_eq!(line["attempt"], 3, "the event's field wins over the span's");
}

#[test]
fn every_level_is_named_like_hclog() {
    const OWN: &str = "terraform_provider_volcengine::plugin";
    let lines = capture(LevelFilter::TRACE, || {
        tracing::event!(target: OWN, Level::TRACE, "t");
        tracing::event!(target: OWN, Level::DEBUG, "d");
        tracing::event!(target: OWN, Level::INFO, "i");
        tracing::event!(target: OWN, Level::WARN, "w");
        tracing::event!(target: OWN, Level::ERROR, "e");
    });
    let levels: Vec<&str> = lines
        .iter()
        .map(|line| line["@level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
}

#[test]
fn messages_with_quotes_and_newlines_stay_on_one_line() {
    let lines = capture(LevelFilter::INFO, || {
        tracing::info!(target: "terraform_provider_volcengine", detail = "a\"b", "line one\nline \"two\"");
    });
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["@message"], "line one\nline \"two\"");
    assert_eq!(lines[0]["detail"], "a\"b");
}

#[test]
fn the_level_filters_this_crate_and_caps_dependencies_at_warn() {
    let lines = capture(LevelFilter::INFO, || {
        tracing::debug!(target: "terraform_provider_volcengine::provider", "hidden at info");
        tracing::info!(target: "terraform_provider_volcengine::provider", "shown");
    });
    let messages: Vec<&str> = lines
        .iter()
        .map(|l| l["@message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["shown"]);

    let lines = capture(LevelFilter::TRACE, || {
        tracing::trace!(target: "terraform_provider_volcengine::plugin", "own trace");
        tracing::debug!(target: "h2::codec", "frame noise");
        tracing::warn!(target: "h2::codec", "dependency warning");
    });
    let messages: Vec<&str> = lines
        .iter()
        .map(|l| l["@message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["own trace", "dependency warning"]);
}
