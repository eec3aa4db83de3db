//! The `timeouts` block: Go-style durations (`30s`, `10m`, `1h30m`) bounding
//! each operation.

use std::time::Duration;

use crate::tfplugin::{AttrPath, Diagnostics, Value};

pub const DEFAULT_CREATE: Duration = Duration::from_secs(20 * 60);
pub const DEFAULT_UPDATE: Duration = Duration::from_secs(20 * 60);
pub const DEFAULT_DELETE: Duration = Duration::from_secs(20 * 60);
pub const DEFAULT_READ: Duration = Duration::from_secs(5 * 60);

/// The operations a timeout can be set for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Read,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Update,
        Operation::Delete,
        Operation::Read,
    ];

    pub fn attribute(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Read => "read",
        }
    }

    pub fn default_duration(self) -> Duration {
        match self {
            Operation::Create => DEFAULT_CREATE,
            Operation::Update => DEFAULT_UPDATE,
            Operation::Delete => DEFAULT_DELETE,
            Operation::Read => DEFAULT_READ,
        }
    }
}

/// The limit for `op` from a resource value's `timeouts` block; the default
/// when unset, unknown or malformed (validation reports malformed values).
pub fn timeout_for(resource: &Value, op: Operation) -> Duration {
    resource
        .attr("timeouts")
        .attr(op.attribute())
        .as_str()
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or_else(|| op.default_duration())
}

/// Validates every known value in a `timeouts` block.
pub fn validate(resource: &Value, diags: &mut Diagnostics) {
    for op in Operation::ALL {
        if let Some(text) = resource.attr("timeouts").attr(op.attribute()).as_str() {
            if let Err(message) = parse_duration(text) {
                diags.error_at(
                    &AttrPath::attr("timeouts").then_attr(op.attribute()),
                    "Invalid timeout",
                    format!("{text:?} is not a duration: {message}. Use forms like \"30s\", \"10m\" or \"1h30m\"."),
                );
            }
        }
    }
}

/// Parses a positive Go duration: a sequence of decimal numbers with units
/// `ns`, `us`/`µs`, `ms`, `s`, `m`, `h` (e.g. `1h30m`, `1.5h`, `90s`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("it is empty".into());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("bad number {:?}", &rest[..number_len]))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err("a unit (s, m, h, ...) is missing".into()),
            other => return Err(format!("unknown unit {other:?}")),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    if !(total > 0.0) {
        return Err("it must be longer than zero".into());
    }
    // A week is plenty for any single Terraform operation.
    if total > 7.0 * 24.0 * 3600.0 {
        return Err("it is longer than a week".into());
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "10", "m", "10x", "0s", "-5m", "1h-", "8000h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let v = Value::object([(
            "timeouts",
            Value::object([
                ("create", Value::string("1m")),
                ("read", Value::string("bogus")),
            ]),
        )]);
        assert_eq!(timeout_for(&v, Operation::Create), Duration::from_secs(60));
        assert_eq!(timeout_for(&v, Operation::Read), DEFAULT_READ);
        assert_eq!(timeout_for(&Value::Null, Operation::Delete), DEFAULT_DELETE);
        let mut diags = Diagnostics::new();
        validate(&v, &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags.into_vec()[0].attribute.as_ref().unwrap().steps.len(),
            2
        );
    }
}
