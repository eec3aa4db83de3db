//! Logs as hclog-style JSON lines on stderr, the format go-plugin parses and
//! re-emits under Terraform's `TF_LOG` / `TF_LOG_PROVIDER`:
//!
//! `{"@level":"debug","@message":"...","@module":"provider.terraform-provider-volcengine","@timestamp":"2026-11-28T00:00:00.000000Z","key":"value"}`
//!
//! Fields of enclosing spans are included, the event's own fields win.

use std::io::Write as _;

use serde_json::{Map, Value};
use time::format_description::FormatItem;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer;

/// The `@module` of every line.
pub const MODULE: &str = "provider.terraform-provider-volcengine";

/// Provider-specific log level variable (wins over `TF_LOG`).
pub const LEVEL_KEY_PROVIDER: &str = "TF_LOG_PROVIDER";
/// Terraform's general log level variable.
pub const LEVEL_KEY: &str = "TF_LOG";

/// Level used when neither variable is set: problems still reach a person
/// running the binary by hand; Terraform drops them unless asked to log.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::WARN;

/// hclog's timestamp layout (`2006-01-02T15:04:05.000000Z07:00`), in UTC.
const TIMESTAMP_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Maps a `TF_LOG` value to a level. `JSON` is Terraform's trace-level JSON
/// mode. Unknown values give `None`.
pub fn parse_level(value: &str) -> Option<LevelFilter> {
    match value.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(LevelFilter::TRACE),
        "DEBUG" => Some(LevelFilter::DEBUG),
        "INFO" => Some(LevelFilter::INFO),
        "WARN" => Some(LevelFilter::WARN),
        "ERROR" => Some(LevelFilter::ERROR),
        "OFF" => Some(LevelFilter::OFF),
        _ => None,
    }
}

/// The level from `TF_LOG_PROVIDER`, else `TF_LOG`, else [`DEFAULT_LEVEL`].
pub fn level_from_env() -> LevelFilter {
    [LEVEL_KEY_PROVIDER, LEVEL_KEY]
        .into_iter()
        .filter_map(|key| std::env::var(key).ok())
        .find_map(|value| parse_level(&value))
        .unwrap_or(DEFAULT_LEVEL)
}

/// The filter for a level: this crate logs at `level`; dependencies (h2 is
/// very chatty at trace) at most at WARN.
pub fn filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(std::cmp::min(level, LevelFilter::WARN))
        .with_target(env!("CARGO_CRATE_NAME"), level)
}

/// Installs the hclog JSON layer on stderr as the global subscriber, at the
/// level from the environment. Does nothing if a subscriber is already set.
pub fn init() {
    let _ = tracing_subscriber::registry()
        .with(layer(std::io::stderr).with_filter(filter(level_from_env())))
        .try_init();
}

/// An hclog JSON layer writing to `make_writer` (stderr in the binary, a
/// buffer in tests).
pub fn layer<W>(make_writer: W) -> HclogLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    HclogLayer { make_writer }
}

/// Formats each event as one hclog JSON line.
#[derive(Debug)]
pub struct HclogLayer<W> {
    make_writer: W,
}

/// Fields recorded on a span, kept in the span's extensions.
#[derive(Debug, Default)]
struct SpanFields(Map<String, Value>);

/// Collects tracing fields as JSON values; `message` becomes `@message`.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl JsonVisitor<'_> {
    fn insert(&mut self, field: &Field, value: Value) {
        let key = match field.name() {
            "message" => "@message",
            name => name,
        };
        self.0.insert(key.to_owned(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(field, Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.insert(field, Value::from(format!("{value:?}")));
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut JsonVisitor(&mut fields.0));
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut JsonVisitor(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    line.extend(fields.0.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        // go-plugin expects these to be strings; they are set last so no
        // field can replace them.
        let message = match line.remove("@message") {
            Some(Value::String(message)) => message,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        line.insert("@message".into(), Value::String(message));
        line.insert(
            "@level".into(),
            Value::from(level_name(event.metadata().level())),
        );
        line.insert("@module".into(), Value::from(MODULE));
        let timestamp = time::OffsetDateTime::now_utc()
            .format(TIMESTAMP_FORMAT)
            .unwrap_or_default();
        line.insert("@timestamp".into(), Value::from(timestamp));

        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // One write per line so concurrent events never interleave; a failed
        // log write has nowhere better to be reported.
        let _ = self
            .make_writer
            .make_writer_for(event.metadata())
            .write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_like_terraform() {
        assert_eq!(parse_level("trace"), Some(LevelFilter::TRACE));
        assert_eq!(parse_level("JSON"), Some(LevelFilter::TRACE));
        assert_eq!(parse_level(" Debug "), Some(LevelFilter::DEBUG));
        assert_eq!(parse_level("off"), Some(LevelFilter::OFF));
        assert_eq!(parse_level("loud"), None);
    }
}
