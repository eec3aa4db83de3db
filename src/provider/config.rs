//! Provider configuration: the `provider "volcengine"` block merged with the
//! `VOLCENGINE_*` environment, checked for shape, and turned into a client
//! configuration only when an operation needs the API.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::tfplugin::{AttrPath, Diagnostics, Value};
use crate::volcengine::{ClientConfig, Credentials, Secret};

pub const DEFAULT_ENDPOINT: &str = "open.volcengineapi.com";
pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const MAX_MAX_RETRIES: i64 = 20;
/// Limit of one HTTP attempt; the resource timeouts bound the whole operation.
/// `request_timeout` overrides it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bounds of `request_timeout`: shorter than 100 ms cannot even connect over a
/// real network, longer than 10 minutes is beyond any single API call.
pub const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(100);
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

pub const ENV_ACCESS_KEY: &str = "VOLCENGINE_ACCESS_KEY";
pub const ENV_SECRET_KEY: &str = "VOLCENGINE_SECRET_KEY";
pub const ENV_SESSION_TOKEN: &str = "VOLCENGINE_SESSION_TOKEN";
pub const ENV_REGION: &str = "VOLCENGINE_REGION";
pub const ENV_ENDPOINT: &str = "VOLCENGINE_ENDPOINT";
pub const ENV_MAX_RETRIES: &str = "VOLCENGINE_MAX_RETRIES";
pub const ENV_CA_BUNDLE_FILE: &str = "VOLCENGINE_CA_BUNDLE_FILE";
pub const ENV_REQUEST_TIMEOUT: &str = "VOLCENGINE_REQUEST_TIMEOUT";

/// The provider's settings after merging configuration and environment.
/// Missing credentials or region are not errors here: they are reported by
/// the first operation that needs the API.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSettings {
    pub access_key: Option<String>,
    pub secret_key: Option<Secret>,
    pub session_token: Option<Secret>,
    pub region: Option<String>,
    /// Normalised base URL without trailing slash.
    pub endpoint: String,
    pub max_retries: u32,
    pub ca_bundle_file: Option<PathBuf>,
    /// Limit of one HTTP attempt (a slow attempt is abandoned and retried).
    pub request_timeout: Duration,
}

/// What ConfigureProvider received.
#[derive(Clone, Debug)]
pub enum Configured {
    Known(ProviderSettings),
    /// Some configuration values are not known yet (they depend on other
    /// resources); operations that need the API report it.
    Unknown {
        attributes: Vec<String>,
    },
}

const ATTRIBUTES: [&str; 8] = [
    "access_key",
    "secret_key",
    "session_token",
    "region",
    "endpoint",
    "max_retries",
    "ca_bundle_file",
    "request_timeout",
];

/// Checks the shape of the known configuration values (not their presence).
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Some(endpoint) = config.attr("endpoint").as_str() {
        if let Err(message) = normalise_endpoint(endpoint) {
            diags.error_at(&AttrPath::attr("endpoint"), "Invalid endpoint", message);
        }
    }
    match config.attr("max_retries") {
        Value::Null | Value::Unknown => {}
        value => {
            if let Err(message) = max_retries_from_value(value) {
                diags.error_at(
                    &AttrPath::attr("max_retries"),
                    "Invalid max_retries",
                    message,
                );
            }
        }
    }
    if let Some(text) = config.attr("request_timeout").as_str() {
        if let Err(message) = parse_request_timeout(text) {
            diags.error_at(
                &AttrPath::attr("request_timeout"),
                "Invalid request_timeout",
                message,
            );
        }
    }
    for name in ["access_key", "region", "ca_bundle_file"] {
        if config
            .attr(name)
            .as_str()
            .is_some_and(|s| s.trim().is_empty())
        {
            diags.error_at(
                &AttrPath::attr(name),
                format!("Empty {name}"),
                format!("`{name}` is set to an empty string; remove it or give it a value."),
            );
        }
    }
    diags
}

/// Merges configuration and environment. Errors only for malformed values.
pub fn resolve(
    config: &Value,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Configured, Diagnostics> {
    let unknown: Vec<String> = ATTRIBUTES
        .iter()
        .filter(|name| !config.attr(name).is_wholly_known())
        .map(|name| name.to_string())
        .collect();
    if !unknown.is_empty() {
        return Ok(Configured::Unknown {
            attributes: unknown,
        });
    }
    let mut diags = validate(config);
    // Configuration wins; the environment fills what it leaves out. Empty
    // environment variables count as unset.
    let pick = |name: &str, var: &str| -> Option<String> {
        config
            .attr(name)
            .as_str()
            .map(str::to_owned)
            .or_else(|| env(var).filter(|v| !v.trim().is_empty()))
    };
    let endpoint_text =
        pick("endpoint", ENV_ENDPOINT).unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let endpoint = normalise_endpoint(&endpoint_text).unwrap_or_else(|message| {
        if config.attr("endpoint").is_null() {
            diags.error(
                "Invalid endpoint",
                format!("{ENV_ENDPOINT} is not a usable endpoint: {message}"),
            );
        }
        String::new()
    });
    let max_retries = match config.attr("max_retries") {
        Value::Null => match env(ENV_MAX_RETRIES).filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_MAX_RETRIES,
            Some(text) => match text.trim().parse::<i64>() {
                Ok(n) if (0..=MAX_MAX_RETRIES).contains(&n) => n as u32,
                _ => {
                    diags.error(
                        "Invalid max_retries",
                        format!("{ENV_MAX_RETRIES} must be a whole number from 0 to {MAX_MAX_RETRIES}, got {text:?}."),
                    );
                    DEFAULT_MAX_RETRIES
                }
            },
        },
        value => max_retries_from_value(value).unwrap_or(DEFAULT_MAX_RETRIES),
    };
    let request_timeout = match pick("request_timeout", ENV_REQUEST_TIMEOUT) {
        None => REQUEST_TIMEOUT,
        Some(text) => parse_request_timeout(&text).unwrap_or_else(|message| {
            if config.attr("request_timeout").is_null() {
                diags.error(
                    "Invalid request_timeout",
                    format!("{ENV_REQUEST_TIMEOUT}: {message}"),
                );
            }
            REQUEST_TIMEOUT
        }),
    };
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Configured::Known(ProviderSettings {
        access_key: pick("access_key", ENV_ACCESS_KEY),
        secret_key: pick("secret_key", ENV_SECRET_KEY).map(Secret::new),
        session_token: pick("session_token", ENV_SESSION_TOKEN).map(Secret::new),
        region: pick("region", ENV_REGION),
        endpoint,
        max_retries,
        ca_bundle_file: pick("ca_bundle_file", ENV_CA_BUNDLE_FILE).map(PathBuf::from),
        request_timeout,
    }))
}

/// A Go-style duration (`30s`, `500ms`, `2m`) within the allowed bounds.
fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    let duration = crate::resources::timeouts::parse_duration(text).map_err(|message| {
        format!("{text:?} is not a duration: {message}. Use forms like \"30s\" or \"500ms\".")
    })?;
    if !(MIN_REQUEST_TIMEOUT..=MAX_REQUEST_TIMEOUT).contains(&duration) {
        return Err(format!(
            "{text:?} is out of range: `request_timeout` must be from {MIN_REQUEST_TIMEOUT:?} to {MAX_REQUEST_TIMEOUT:?}."
        ));
    }
    Ok(duration)
}

fn max_retries_from_value(value: &Value) -> Result<u32, String> {
    let n = value.as_number().and_then(|n| n.as_i64());
    match n {
        Some(n) if (0..=MAX_MAX_RETRIES).contains(&n) => Ok(n as u32),
        _ => Err(format!(
            "`max_retries` must be a whole number from 0 to {MAX_MAX_RETRIES}, got {}.",
            match value.as_number() {
                Some(crate::tfplugin::Number::Int(i)) => i.to_string(),
                Some(crate::tfplugin::Number::Float(f)) => f.to_string(),
                Some(crate::tfplugin::Number::Big(s)) => s.clone(),
                None => "a non-number".to_owned(),
            }
        )),
    }
}

/// Turns a host name or URL into a base URL without trailing slash:
/// `open.volcengineapi.com` → `https://open.volcengineapi.com`,
/// `http://127.0.0.1:8080/` → `http://127.0.0.1:8080`. Plain HTTP is only
/// accepted for loopback addresses (a local emulator).
pub fn normalise_endpoint(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the endpoint is empty".to_owned());
    }
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| format!("{text:?} is not a valid URL or host name: {e}"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{text:?} has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(format!(
                "{text:?} uses plain HTTP, which is only allowed for loopback addresses (a local emulator); use https"
            ))
        }
        other => return Err(format!("{text:?} uses scheme {other:?}; use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{text:?} must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or fragment"));
    }
    if url.path() != "/" {
        return Err(format!(
            "{text:?} must not have a path; the API is served at /"
        ));
    }
    let mut base = format!("{}://{}", url.scheme(), host);
    if let Some(port) = url.port() {
        base.push_str(&format!(":{port}"));
    }
    Ok(base)
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

impl ProviderSettings {
    /// The client configuration, or an error diagnostic naming what is missing.
    pub fn client_config(&self) -> Result<ClientConfig, Diagnostics> {
        let mut missing = Vec::new();
        if self
            .access_key
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            missing.push(format!("`access_key` (or {ENV_ACCESS_KEY})"));
        }
        if self.secret_key.as_ref().is_none_or(Secret::is_empty) {
            missing.push(format!("`secret_key` (or {ENV_SECRET_KEY})"));
        }
        let mut diags = Diagnostics::new();
        if !missing.is_empty() {
            diags.error(
                "Missing Volcengine credentials",
                format!(
                    "This operation calls the Volcengine API, which needs credentials. Set {} in the \
                     provider block or the environment.",
                    missing.join(" and ")
                ),
            );
        }
        if self.region.as_deref().is_none_or(|s| s.trim().is_empty()) {
            diags.error(
                "Missing Volcengine region",
                format!(
                    "This operation calls the Volcengine API, which needs a region (image IDs are \
                     regional). Set `region` in the provider block or {ENV_REGION}, e.g. `cn-beijing`."
                ),
            );
        }
        let ca_bundle_pem = match &self.ca_bundle_file {
            None => None,
            Some(path) => match std::fs::read(path) {
                Ok(pem) => Some(pem),
                Err(e) => {
                    diags.error_at(
                        &AttrPath::attr("ca_bundle_file"),
                        "Cannot read the CA bundle",
                        format!("Reading {}: {e}", path.display()),
                    );
                    None
                }
            },
        };
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(ClientConfig {
            endpoint: self.endpoint.clone(),
            region: self.region.clone().unwrap_or_default(),
            credentials: Credentials {
                access_key: self.access_key.clone().unwrap_or_default(),
                secret_key: self.secret_key.clone().unwrap_or_default(),
                session_token: self.session_token.clone().filter(|t| !t.is_empty()),
            },
            max_retries: self.max_retries,
            request_timeout: self.request_timeout,
            ca_bundle_pem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfplugin::Number;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut attrs: std::collections::BTreeMap<String, Value> = ATTRIBUTES
            .iter()
            .map(|n| (n.to_string(), Value::Null))
            .collect();
        for (k, v) in pairs {
            attrs.insert(k.to_string(), v.clone());
        }
        Value::Object(attrs)
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn endpoint_normalisation() {
        assert_eq!(
            normalise_endpoint("open.volcengineapi.com").unwrap(),
            "https://open.volcengineapi.com"
        );
        assert_eq!(
            normalise_endpoint("https://ecs.cn-beijing.volcengineapi.com/").unwrap(),
            "https://ecs.cn-beijing.volcengineapi.com"
        );
        assert_eq!(
            normalise_endpoint("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalise_endpoint("http://localhost:9/").unwrap(),
            "http://localhost:9"
        );
        assert_eq!(normalise_endpoint("https://h:443").unwrap(), "https://h");
        assert!(normalise_endpoint("http://example.com").is_err());
        assert!(normalise_endpoint("ftp://example.com").is_err());
        assert!(normalise_endpoint("https://example.com/api").is_err());
        assert!(normalise_endpoint("https://u:p@example.com").is_err());
        assert!(normalise_endpoint("").is_err());
        assert!(normalise_endpoint("https://").is_err());
    }

    #[test]
    fn config_wins_over_environment() {
        let cfg = config(&[
            ("access_key", Value::string("AKCFG")),
            ("region", Value::string("cn-shanghai")),
        ]);
        let Configured::Known(s) = resolve(
            &cfg,
            env(&[
                (ENV_ACCESS_KEY, "AKENV"),
                (ENV_SECRET_KEY, "sk"),
                (ENV_REGION, "cn-beijing"),
                (ENV_MAX_RETRIES, "5"),
            ]),
        )
        .unwrap() else {
            panic!("known")
        };
        assert_eq!(s.access_key.as_deref(), Some("AKCFG"));
        assert_eq!(s.secret_key.as_ref().map(Secret::expose), Some("sk"));
        assert_eq!(s.region.as_deref(), Some("cn-shanghai"));
        assert_eq!(s.endpoint, "https://open.volcengineapi.com");
        assert_eq!(s.max_retries, 5);
        let cc = s.client_config().unwrap();
        assert_eq!(cc.credentials.access_key, "AKCFG");
        assert!(
            !format!("{s:?}").contains("sk\""),
            "secret must not be printed"
        );
    }

    #[test]
    fn missing_credentials_only_when_needed() {
        let Configured::Known(s) = resolve(&config(&[]), env(&[])).unwrap() else {
            panic!()
        };
        let diags = s.client_config().unwrap_err();
        let text: Vec<_> = diags
            .iter()
            .map(|d| format!("{} {}", d.summary, d.detail))
            .collect();
        assert!(text
            .iter()
            .any(|t| t.contains(ENV_ACCESS_KEY) && t.contains(ENV_SECRET_KEY)));
        assert!(text.iter().any(|t| t.contains(ENV_REGION)));
    }

    #[test]
    fn unknown_values_do_not_fail() {
        let cfg = config(&[("access_key", Value::Unknown)]);
        assert!(matches!(
            resolve(&cfg, env(&[])).unwrap(),
            Configured::Unknown { .. }
        ));
        assert!(validate(&cfg).is_empty());
    }

    #[test]
    fn shape_errors() {
        let bad = config(&[
            ("endpoint", Value::string("ftp://x")),
            ("max_retries", Value::Number(Number::Int(99))),
        ]);
        let diags = validate(&bad);
        assert_eq!(diags.len(), 2);
        assert!(resolve(&bad, env(&[])).is_err());
        assert!(resolve(&config(&[]), env(&[(ENV_MAX_RETRIES, "many")])).is_err());
        assert!(resolve(&config(&[]), env(&[(ENV_ENDPOINT, "http://example.com")])).is_err());
        let ok = config(&[("max_retries", Value::Number(Number::Int(0)))]);
        assert!(validate(&ok).is_empty());
        for bad in ["soon", "10ms", "11m"] {
            let cfg = config(&[("request_timeout", Value::string(bad))]);
            assert_eq!(validate(&cfg).len(), 1, "{bad}");
        }
        assert!(resolve(&config(&[]), env(&[(ENV_REQUEST_TIMEOUT, "0s")])).is_err());
    }

    #[test]
    fn request_timeout_from_config_env_or_default() {
        let known = |cfg: &Value, vars: &[(&str, &str)]| match resolve(cfg, env(vars)).unwrap() {
            Configured::Known(s) => s.request_timeout,
            Configured::Unknown { .. } => panic!("known"),
        };
        assert_eq!(known(&config(&[]), &[]), REQUEST_TIMEOUT);
        assert_eq!(
            known(&config(&[]), &[(ENV_REQUEST_TIMEOUT, "750ms")]),
            Duration::from_millis(750)
        );
        let cfg = config(&[("request_timeout", Value::string("2s"))]);
        assert_eq!(
            known(&cfg, &[(ENV_REQUEST_TIMEOUT, "750ms")]),
            Duration::from_secs(2)
        );
    }
}
