//! The properties the fuzz targets check, one module per target.
//!
//! Each `check` takes the raw fuzz input, feeds it to the project's real entry
//! point and panics when a property is violated. The same functions run under
//! libFuzzer (`fuzz/fuzz_targets/*.rs`, via `scripts/fuzz.sh`) and under plain
//! `cargo test` (`tests/fuzz_regressions.rs` includes this file with
//! `#[path]` and replays every committed corpus file), so the code here may
//! only use the main crate and its dependencies.
//!
//! Input formats are plain bytes or text so seed files can be written by hand;
//! each module documents its own.

pub mod client_response;
pub mod emulator_request;
pub mod signer;
pub mod tfplugin_value;

/// Every target: its name (the corpus folder under `fuzz/corpus/`) and check.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("tfplugin_value", tfplugin_value::check),
    ("signer", signer::check),
    ("client_response", client_response::check),
    ("emulator_request", emulator_request::check),
];
