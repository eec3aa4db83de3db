//! cargo fuzz target `emulator_request`; the property lives in `fuzz/src/emulator_request.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::emulator_request::check(data));
