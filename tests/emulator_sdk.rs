//! Volcengine's official Python SDK (volcenginesdkcore + volcenginesdkecs
//! 5.0.54) as a client of the emulator binary: an independent check that the
//! emulator verifies signatures and shapes answers like the service.

#[path = "emulator_common/mod.rs"]
mod common;

use common::{Admin, EmulatorProcess};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

const IMAGE: &str = "image-sdk00000000000001";
const ACCOUNTS: [&str; 3] = ["2100051234", "2100051235", "2100051236"];

fn python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-tools.sh",
        python.display()
    );
    python
}

/// Runs tests/sdk/sdk_client.py; returns its JSON lines (Modify, then Describe).
async fn run_sdk(base_url: &str, access_key: &str, secret_key: &str) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/sdk_client.py");
    let host = base_url.trim_start_matches("http://");
    let mut command = tokio::process::Command::new(python());
    command
        .arg(script)
        .args([host, access_key, secret_key, "cn-beijing", IMAGE])
        .args(ACCOUNTS)
        .kill_on_drop(true);
    // The SDK honours proxy variables; the emulator is on loopback.
    for variable in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        command.env_remove(variable);
    }
    command
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1");
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the SDK script finishes within 60 s")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "sdk_client.py failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn official_sdk_is_accepted_with_the_right_secret_only() {
    python(); // fail fast, before starting anything
    let emulator = EmulatorProcess::spawn(&["--image", IMAGE]).await;
    let admin = Admin::new(&emulator.base_url);

    // Right key pair: both actions succeed and the share is applied.
    let outcomes = run_sdk(&emulator.base_url, "AKLOCALEMULATOR", "emulator-secret-key").await;
    assert_eq!(
        outcomes[0],
        json!({"action": "ModifyImageSharePermission", "ok": true, "result": {}})
    );
    let describe = &outcomes[1];
    assert_eq!(describe["ok"], true, "{describe}");
    assert_eq!(describe["result"]["image_id"], IMAGE);
    assert_eq!(describe["result"]["total_count"], 3);
    assert_eq!(
        describe["result"]["accounts"],
        json!([{"account_id": ACCOUNTS[0]}, {"account_id": ACCOUNTS[1]}]),
        "first page of MaxResults=2"
    );
    assert!(describe["result"]["next_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        admin.get(&format!("images/{IMAGE}/shares")).await,
        json!({"accounts": ACCOUNTS})
    );

    // Wrong secret: refused as a signature mismatch, nothing applied.
    admin
        .put(&format!("images/{IMAGE}/shares"), json!({"accounts": []}))
        .await;
    let outcomes = run_sdk(&emulator.base_url, "AKLOCALEMULATOR", "not-the-secret").await;
    for outcome in &outcomes {
        assert_eq!(
            (outcome["ok"].clone(), outcome["status"].clone()),
            (json!(false), json!(401)),
            "{outcome}"
        );
        assert_eq!(outcome["code"], "SignatureDoesNotMatch");
    }
    assert_eq!(
        admin.get(&format!("images/{IMAGE}/shares")).await,
        json!({"accounts": []})
    );

    // Unknown access key: refused.
    let outcomes = run_sdk(&emulator.base_url, "AKSOMEONEELSE", "emulator-secret-key").await;
    for outcome in &outcomes {
        assert_eq!(
            (outcome["status"].clone(), outcome["code"].clone()),
            (json!(401), json!("InvalidAccessKey"))
        );
    }

    // The call log saw exactly the SDK's six calls, with the SDK's parameters.
    let calls = admin.get("calls").await;
    let summary: Vec<(String, u64)> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_owned(),
                c["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary.len(), 6, "{calls}");
    assert_eq!(summary[0], ("ModifyImageSharePermission".into(), 200));
    assert_eq!(summary[1], ("DescribeImageSharePermission".into(), 200));
    assert!(summary[2..].iter().all(|(_, status)| *status == 401));
    assert_eq!(calls[0]["params"]["AddAccounts.3"], ACCOUNTS[2]);
    assert_eq!(calls[1]["params"]["MaxResults"], "2");

    let (status, _) = emulator.terminate().await;
    assert!(status.success(), "{status}");
}
