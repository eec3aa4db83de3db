//! The `volcengine-ecs-emulator` binary: flags, its stdout contract, the
//! state file across a process restart, and graceful shutdown on SIGTERM.

#[path = "emulator_common/mod.rs"]
mod common;

use common::{Api, EmulatorProcess};

const MODIFY: &str = "ModifyImageSharePermission";

#[tokio::test]
async fn prints_address_and_default_credentials_then_stops_on_sigterm() {
    let emulator = EmulatorProcess::spawn(&["--image", "image-a"]).await;
    assert_eq!(
        emulator.credentials_line,
        "default credentials: access_key=AKLOCALEMULATOR secret_key=emulator-secret-key"
    );
    let api = Api::new(&emulator.base_url);
    api.call(
        MODIFY,
        &[("ImageId", "image-a"), ("AddAccounts.1", "2100051234")],
    )
    .await
    .result();
    let (status, stderr) = emulator.terminate().await;
    assert!(status.success(), "exit status {status}");
    assert!(
        stderr.contains("ecs call"),
        "calls are logged on stderr: {stderr}"
    );
    assert!(
        stderr.contains("action=ModifyImageSharePermission"),
        "{stderr}"
    );
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[tokio::test]
async fn configured_secrets_are_used_but_never_printed() {
    let emulator = EmulatorProcess::spawn(&[
        "--credentials",
        "AKFIRST:first-very-secret",
        "--credentials=AKSECOND:second-very-secret",
        "--image=image-a",
        "--region",
        "cn-shanghai",
    ])
    .await;
    assert_eq!(
        emulator.credentials_line,
        "credentials: access keys AKFIRST, AKSECOND"
    );
    let mut api = Api::with_keys(&emulator.base_url, "AKSECOND", "second-very-secret");
    api.region = "cn-shanghai".into();
    api.call("DescribeImageSharePermission", &[("ImageId", "image-a")])
        .await
        .result();
    let mut default = Api::new(&emulator.base_url);
    default.region = "cn-shanghai".into();
    default
        .call("DescribeImageSharePermission", &[("ImageId", "image-a")])
        .await
        .assert_error(401, "InvalidAccessKey");
    let (status, stderr) = emulator.terminate().await;
    assert!(status.success());
    assert!(!stderr.contains("very-secret"), "{stderr}");
}

#[tokio::test]
async fn state_file_survives_a_process_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let first =
        EmulatorProcess::spawn(&["--state", state, "--image", "image-a", "--image", "image-b"])
            .await;
    let api = Api::new(&first.base_url);
    api.call(
        MODIFY,
        &[
            ("ImageId", "image-a"),
            ("AddAccounts.1", "2100051234"),
            ("AddAccounts.2", "2100051235"),
        ],
    )
    .await
    .result();
    api.call(
        MODIFY,
        &[("ImageId", "image-a"), ("RemoveAccounts.1", "2100051234")],
    )
    .await
    .result();
    assert!(first.terminate().await.0.success());

    let second = EmulatorProcess::spawn(&["--state", state]).await;
    let api = Api::new(&second.base_url);
    assert_eq!(api.shares("image-a").await, vec!["2100051235".to_owned()]);
    assert_eq!(api.shares("image-b").await, Vec::<String>::new());
    assert!(second.terminate().await.0.success());
}

#[tokio::test]
async fn help_and_bad_flags() {
    let binary = env!("CARGO_BIN_EXE_volcengine-ecs-emulator");
    let help = std::process::Command::new(binary)
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for flag in [
        "--listen",
        "--credentials",
        "--image",
        "--state",
        "--share-limit",
        "--page-max",
        "--region",
    ] {
        assert!(text.contains(flag), "--help mentions {flag}");
    }
    let bad = std::process::Command::new(binary)
        .arg("--page-max=0")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--page-max"));
    let broken_state = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(broken_state.path(), "not json").unwrap();
    let refused = std::process::Command::new(binary)
        .args(["--state", broken_state.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(1),
        "a corrupt state file is an error, not an empty start"
    );
}
