//! Command-line flags of `volcengine-ecs-emulator`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    EmulatorConfig, EmulatorCredential, DEFAULT_ACCESS_KEY, DEFAULT_PAGE_MAX, DEFAULT_REGION,
    DEFAULT_SECRET_KEY, DEFAULT_SHARE_LIMIT,
};
use crate::volcengine::secret::Secret;

pub fn usage() -> String {
    format!(
        "\
volcengine-ecs-emulator: a local emulator of Volcengine ECS image sharing
(ModifyImageSharePermission, DescribeImageSharePermission) with signature checks.

USAGE:
    volcengine-ecs-emulator [OPTIONS]

OPTIONS:
    --listen ADDR            address to listen on [default: 127.0.0.1:0 (a free port)]
    --credentials AK:SK[:TOKEN]
                             accept this key pair (repeatable); with TOKEN, requests must carry
                             it as X-Security-Token [default: {DEFAULT_ACCESS_KEY}:{DEFAULT_SECRET_KEY}]
    --image IMAGE_ID         create this image, status available (repeatable)
    --state FILE             load images and shares from FILE and save them after every change
    --share-limit N          most accounts one image can be shared with [default: {DEFAULT_SHARE_LIMIT}]
    --page-max N             largest MaxResults honoured [default: {DEFAULT_PAGE_MAX}]
    --region REGION          region the images live in [default: {DEFAULT_REGION}]
    --max-clock-skew SECS    how far X-Date may be from the emulator's clock [default: 900]
    --admin-from-anywhere    let non-loopback clients use the admin API /_emulator/
    -h, --help               print this help
    -V, --version            print the version

The first line on stdout is `listening on http://HOST:PORT`. Logs go to stderr
(filter with RUST_LOG, default info). SIGTERM or Ctrl-C shuts down gracefully.
"
    )
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Run(EmulatorConfig),
    Help,
    Version,
}

/// Parses the arguments after the program name. Flags take `--flag VALUE` or `--flag=VALUE`.
pub fn parse<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut config = EmulatorConfig::default();
    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => {
                let text = value("--listen")?;
                config.listen = text.parse::<SocketAddr>().map_err(|_| {
                    format!("--listen {text:?} is not HOST:PORT (an IP address and a port)")
                })?;
            }
            "--credentials" => config
                .credentials
                .push(parse_credentials(&value("--credentials")?)?),
            "--image" => {
                let id = value("--image")?;
                if id.is_empty() {
                    return Err("--image needs a non-empty image ID".into());
                }
                config.images.push(id);
            }
            "--state" => config.state_file = Some(PathBuf::from(value("--state")?)),
            "--share-limit" => {
                config.share_limit = parse_number("--share-limit", &value("--share-limit")?, 0)?
            }
            "--page-max" => {
                config.page_max = parse_number("--page-max", &value("--page-max")?, 1)?
                    .try_into()
                    .map_err(|_| "--page-max is too large".to_owned())?;
            }
            "--region" => {
                config.region = value("--region")?;
                if config.region.is_empty() {
                    return Err("--region needs a non-empty region".into());
                }
            }
            "--max-clock-skew" => {
                let secs = parse_number("--max-clock-skew", &value("--max-clock-skew")?, 0)?;
                config.max_clock_skew = Duration::from_secs(secs as u64);
            }
            "--admin-from-anywhere" => config.admin_from_anywhere = true,
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(Command::Run(config))
}

/// `AK:SK` or `AK:SK:TOKEN`. The error never repeats the value (it holds a secret).
fn parse_credentials(text: &str) -> Result<EmulatorCredential, String> {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(ak), Some(sk), token) if !ak.is_empty() && !sk.is_empty() => Ok(EmulatorCredential {
            access_key: ak.to_owned(),
            secret_key: Secret::new(sk),
            session_token: token.filter(|t| !t.is_empty()).map(Secret::new),
        }),
        _ => Err(
            "--credentials must be ACCESS_KEY:SECRET_KEY or ACCESS_KEY:SECRET_KEY:SESSION_TOKEN"
                .into(),
        ),
    }
}

fn parse_number(flag: &str, text: &str, min: usize) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|n| *n >= min)
        .ok_or_else(|| format!("{flag} {text:?} must be an integer >= {min}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> EmulatorConfig {
        match parse(args.iter().copied()).unwrap() {
            Command::Run(config) => config,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = run(&[]);
        assert_eq!(config.listen.to_string(), "127.0.0.1:0");
        assert_eq!(config.region, "cn-beijing");
        assert_eq!(
            config.effective_credentials()[0].access_key,
            DEFAULT_ACCESS_KEY
        );
    }

    #[test]
    fn parses_every_flag_in_both_forms() {
        let config = run(&[
            "--listen=127.0.0.1:8080",
            "--credentials",
            "AK1:SK1",
            "--credentials=AK2:SK2:TOKEN",
            "--image",
            "image-a",
            "--image=image-b",
            "--state",
            "/tmp/s.json",
            "--share-limit=3",
            "--page-max",
            "7",
            "--region",
            "cn-shanghai",
            "--max-clock-skew=60",
            "--admin-from-anywhere",
        ]);
        assert_eq!(config.listen.port(), 8080);
        assert_eq!(config.credentials.len(), 2);
        assert_eq!(
            config.credentials[1]
                .session_token
                .as_ref()
                .unwrap()
                .expose(),
            "TOKEN"
        );
        assert_eq!(config.images, vec!["image-a", "image-b"]);
        assert_eq!(config.state_file.unwrap().to_str(), Some("/tmp/s.json"));
        assert_eq!((config.share_limit, config.page_max), (3, 7));
        assert_eq!(config.region, "cn-shanghai");
        assert_eq!(config.max_clock_skew, Duration::from_secs(60));
        assert!(config.admin_from_anywhere);
    }

    #[test]
    fn rejects_bad_input_without_echoing_secrets() {
        assert!(parse(["--page-max", "0"]).is_err());
        assert!(parse(["--listen", "localhost"]).is_err());
        assert!(parse(["--bogus"]).is_err());
        assert!(parse(["--image"]).is_err());
        let error = parse(["--credentials", "only-a-secret-ish-value"]).unwrap_err();
        assert!(!error.contains("only-a-secret-ish-value"));
        assert!(matches!(parse(["--help"]), Ok(Command::Help)));
    }
}
