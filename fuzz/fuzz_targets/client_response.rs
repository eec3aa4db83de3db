//! cargo fuzz target `client_response`; the property lives in `fuzz/src/client_response.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::client_response::check(data));
