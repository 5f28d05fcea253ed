#![no_main]
//! See fuzz/README.md: `wawebd::config::fuzz_config_file` never panics, whatever the bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wawebd::config::fuzz_config_file(data));
