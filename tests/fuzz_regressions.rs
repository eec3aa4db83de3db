//! The fuzz targets' properties under plain `cargo test`: every committed
//! seed corpus file (`fuzz/corpus/<target>/`) and every input that once
//! crashed a target (the named tests below) runs through the same checks as
//! `scripts/fuzz.sh`, without sanitizers, so CI exercises them on every run.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_checks;

use std::path::{Path, PathBuf};

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
