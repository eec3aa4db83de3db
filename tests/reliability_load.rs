//! Load: one `terraform apply -parallelism=20` of 300 resources against an
//! emulator that throttles above a fixed request rate (429
//! FlowLimitExceeded with `Retry-After: 1`). Everything lands, every call
//! ends in success within `max_retries`, and the call log shows the provider
//! backing off: throttled calls followed by successes for the same request.

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use support::{Emulator, Terraform, Workspace};

const RESOURCES: usize = 300;
const PARALLELISM: &str = "-parallelism=20";
/// The emulator's rate limit (calls per second).
const MAX_PER_SECOND: u32 = 25;
const MAX_RETRIES: usize = 10;

#[test]
fn three_hundred_resources_against_a_throttled_api() {
    let images: Vec<String> = (1..=RESOURCES)
        .map(|n| format!("image-load{n:012}"))
        .collect();
    let mut args = Vec::new();
    for image in &images {
        args.push("--image".to_string());
        args.push(image.clone());
    }
    let emulator = Emulator::start_with_args(&args);
    let ws = Workspace::with_emulator(Terraform::V1_15, &emulator);
    ws.write_main_tf(&format!(
        r#"
provider "volcengine" {{
  max_retries = {MAX_RETRIES}
}}

variable "images" {{
  type    = list(string)
  default = {list}
}}

resource "volcengine_image_share" "load" {{
  for_each    = toset(var.images)
  image_id    = each.value
  account_ids = ["2100000001", "2100000002"]
}}
"#,
        list = support::hcl_list(&images)
    ));
    emulator.throttle(MAX_PER_SECOND);
    let started = Instant::now();
    ws.ok(&["apply", "-auto-approve", "-input=false", PARALLELISM]);
    let duration = started.elapsed();
    emulator.throttle(0);

    // Everything landed.
    for image in &images {
        assert_eq!(
            emulator.shares(image),
            support::accounts(2_100_000_001, 2),
            "{image}"
        );
    }

    // Attempts per logical request (action + image): throttled ones, then one success.
    let calls = emulator.raw_calls();
    let mut per_request: BTreeMap<(String, String), Vec<(u64, String)>> = BTreeMap::new();
    for call in &calls {
        let key = (
            call["action"].as_str().unwrap_or_default().to_string(),
            call["params"]["ImageId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        let outcome = call["code"].as_str().unwrap_or("ok").to_string();
        per_request
            .entry(key)
            .or_default()
            .push((call["seq"].as_u64().unwrap_or_default(), outcome));
    }
    let throttled = calls
        .iter()
        .filter(|c| c["code"] == "FlowLimitExceeded")
        .count();
    let mut retried_requests = 0;
    let mut max_retries_seen = 0;
    for ((action, image), attempts) in &per_request {
        let (last_seq, last) = attempts.last().expect("at least one attempt");
        assert_eq!(
            last, "ok",
            "{action} {image} did not end in success: {attempts:?}"
        );
        // Every attempt before the success was throttled: nothing else failed.
        assert!(
            attempts[..attempts.len() - 1]
                .iter()
                .all(|(seq, code)| code == "FlowLimitExceeded" && seq < last_seq),
            "{action} {image}: {attempts:?}"
        );
        let retries = attempts.len() - 1;
        assert!(
            retries <= MAX_RETRIES,
            "{action} {image} retried {retries} times"
        );
        max_retries_seen = max_retries_seen.max(retries);
        if retries > 0 {
            retried_requests += 1;
        }
    }
    assert_eq!(
        per_request
            .keys()
            .filter(|(a, _)| a == "ModifyImageSharePermission")
            .count(),
        RESOURCES
    );
    assert!(
        throttled > 0 && retried_requests > 0,
        "the throttle never struck: the test proves nothing"
    );
    println!(
        "load: {RESOURCES} resources, {PARALLELISM}, throttle {MAX_PER_SECOND}/s: apply took {:.1}s; \
         {} API calls, {throttled} throttled (429), {retried_requests} of {} requests retried, \
         at most {max_retries_seen} retries for one request (max_retries = {MAX_RETRIES})",
        duration.as_secs_f64(),
        calls.len(),
        per_request.len()
    );

    // And the result is stable: an empty plan.
    ws.assert_no_changes();
}
