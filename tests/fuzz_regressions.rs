//! The fuzz targets' properties under plain `cargo test`: every committed
//! seed corpus file (`fuzz/corpus/<target>/`) and every input that once
//! crashed a target (the named tests below) runs through the same checks as
//! `scripts/fuzz.sh`, without sanitizers, so CI exercises them on every run.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_checks;

use std::path::{Path, PathBuf};

use terraform_provider_volcengine::tfplugin::{CtyType, Value};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// Runs `check` on every file of the target's corpus; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} is missing: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).expect("corpus file");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(
            outcome.is_ok(),
            "{target}: corpus file {} fails its check",
            file.display()
        );
    }
    files.len()
}

fn check_named(target: &str) -> fn(&[u8]) {
    fuzz_checks::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, check)| *check)
        .expect("a known target")
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (target, _) in fuzz_checks::TARGETS {
        let dir = corpus_dir(target);
        let count = std::fs::read_dir(&dir)
            .map(|entries| entries.count())
            .unwrap_or(0);
        assert!(count > 0, "no seed corpus in {}", dir.display());
    }
}

#[test]
fn corpus_tfplugin_value() {
    assert!(replay("tfplugin_value", check_named("tfplugin_value")) > 0);
}

#[test]
fn corpus_signer() {
    assert!(replay("signer", check_named("signer")) > 0);
}

#[test]
fn corpus_client_response() {
    assert!(replay("client_response", check_named("client_response")) > 0);
}

#[test]
fn corpus_emulator_request() {
    assert!(replay("emulator_request", check_named("emulator_request")) > 0);
}

/// The harness itself works: a signed seed reaches the actions (so the
/// properties are checked on real dispatch, not on uniform rejections).
#[test]
fn emulator_harness_reaches_the_actions() {
    use fuzz_checks::emulator_request::{exchange, shares};
    let seed = |name: &str| std::fs::read(corpus_dir("emulator_request").join(name)).unwrap();
    let (status, body) = exchange(&seed("signed_describe")).expect("sent");
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"Accounts\""), "{body}");
    let (status, _) = exchange(&seed("unsigned_modify")).expect("sent");
    assert_eq!(status, 401, "an unsigned call is refused");
    let (status, body) = exchange(&seed("signed_modify_add")).expect("sent");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let image = shares().remove(0).expect("the fuzz image exists");
    assert!(image.contains(&"2100059876".to_owned()), "{image:?}");
}

/// Decodes on a thread with tokio's default worker stack (2 MiB), where the
/// provider's gRPC handlers decode Terraform's values.
fn decode_on_worker_stack(data: Vec<u8>, ty: CtyType) -> Result<(), String> {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            Value::from_msgpack(&data, &ty)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .expect("thread")
        .join()
        .expect("no panic")
}

/// `depth` nested one-element arrays around a nil.
fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut data = vec![0x91; depth];
    data.push(0xc0);
    data
}

/// `depth` nested `[type, value]` pairs of type "dynamic" around a nil.
fn nested_dynamic(depth: usize) -> Vec<u8> {
    let mut data = Vec::new();
    for _ in 0..depth {
        data.extend_from_slice(&[0x92, 0xa9]);
        data.extend_from_slice(b"\"dynamic\"");
    }
    data.push(0xc0);
    data
}

// Found while writing the tfplugin_value target (a probe of its worst case,
// not a libFuzzer run, whose main thread has 8 MiB): a 1 KB msgpack value of 1000 nested
// arrays overflowed a 2 MiB stack inside rmpv's recursive decoder (its default
// depth limit is 1024), aborting the whole provider process; nested dynamic
// values did the same from ~400 levels. Fixed by a depth limit in
// src/tfplugin/value.rs (MAX_MSGPACK_DEPTH).
#[test]
fn deeply_nested_msgpack_is_refused_not_a_stack_overflow() {
    let error = decode_on_worker_stack(nested_arrays(1000), CtyType::String).unwrap_err();
    assert!(error.contains("invalid msgpack"), "{error}");
    let error = decode_on_worker_stack(nested_dynamic(1000), CtyType::Dynamic).unwrap_err();
    assert!(error.contains("invalid msgpack"), "{error}");
    // Around the limit: accepted or refused, never a crash.
    for depth in 100..=140 {
        let _ = decode_on_worker_stack(nested_dynamic(depth), CtyType::Dynamic);
        let _ = decode_on_worker_stack(nested_arrays(depth), CtyType::Dynamic);
    }
    // Nesting within the limit still decodes.
    decode_on_worker_stack(nested_dynamic(100), CtyType::Dynamic).expect("100 levels decode");
    let list = CtyType::list(CtyType::list(CtyType::String));
    decode_on_worker_stack(nested_arrays(2), list).expect("a list of lists decodes");
}

/// Inputs that once failed a target (`fuzz/regressions/<target>-<what>`),
/// replayed through the target's check.
#[test]
fn every_past_failure_passes_its_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (target, check) = fuzz_checks::TARGETS
            .iter()
            .find(|(target, _)| name.starts_with(&format!("{target}-")))
            .unwrap_or_else(|| panic!("{name} does not name a target"));
        let data = std::fs::read(&path).expect("regression input");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {name} fails again");
        count += 1;
    }
    assert!(count > 0);
}

// Found by `scripts/fuzz.sh 60` (signer, 6th execution): a request whose
// Content-Type held bytes beyond ASCII was signed by the client but refused by
// the emulator ("header content-type is not ASCII"). Not a signer bug:
// `HeaderValue::from_str` accepts such bytes (obs-text) while servers read
// header values as ASCII text, and the real client only sends ASCII values.
// The harness now treats such headers as unsendable; the emulator's refusal
// stays as it is, checked here.
#[test]
fn non_ascii_signed_header_is_refused_by_the_emulator_not_misverified() {
    use axum::http::{HeaderMap, HeaderValue};
    use terraform_provider_volcengine::emulator::auth::{
        EmulatorCredential, IncomingRequest, Verifier,
    };
    let verifier = Verifier::new(
        &[EmulatorCredential::new("AK", "sk")],
        std::time::Duration::from_secs(900),
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_static(
            "HMAC-SHA256 Credential=AK/20240521/cn-beijing/ecs/request, \
             SignedHeaders=content-type;x-date, Signature=00",
        ),
    );
    headers.insert("x-date", HeaderValue::from_static("20240521T102616Z"));
    headers.insert(
        "content-type",
        HeaderValue::from_bytes("application/\u{e9}".as_bytes()).unwrap(),
    );
    let request = IncomingRequest {
        method: "POST",
        path: "/",
        query: &[],
        headers: &headers,
        body: b"",
    };
    let now = time::macros::datetime!(2024-05-21 10:26:16 UTC);
    let failure = verifier.verify(&request, now).unwrap_err();
    assert_eq!(failure.code, "InvalidAuthorization", "{failure:?}");
}

// Found by `scripts/fuzz.sh 60` (client_response): a 200 body whose ignored
// field ("Version") held an invalid UTF-8 byte parsed as a success, although
// the body is not valid JSON. serde skips ignored fields without checking
// their UTF-8; `Result` itself is fully validated, so nothing wrong reaches
// the provider. Kept as documented behaviour.
#[test]
fn success_with_invalid_utf8_in_an_ignored_field_keeps_its_result() {
    use terraform_provider_volcengine::volcengine::client::parse_response;
    let body =
        b"{\"ResponseMetadata\":{\"RequestId\":\"r\",\"Version\":\"\xd4\"},\"Result\":{\"A\":1}}";
    assert!(serde_json::from_slice::<serde_json::Value>(body).is_err());
    let result = parse_response("X", 200, body, None).expect("success");
    assert_eq!(result["A"], 1);
    let bad_result = b"{\"ResponseMetadata\":{\"RequestId\":\"r\"},\"Result\":{\"A\":\"\xd4\"}}";
    assert!(parse_response("X", 200, bad_result, None).is_err());
}
