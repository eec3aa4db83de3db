//! cargo fuzz target `signer`; the property lives in `fuzz/src/signer.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::signer::check(data));
