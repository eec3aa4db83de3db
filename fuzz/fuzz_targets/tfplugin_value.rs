//! cargo fuzz target `tfplugin_value`; the property lives in `fuzz/src/tfplugin_value.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::tfplugin_value::check(data));
