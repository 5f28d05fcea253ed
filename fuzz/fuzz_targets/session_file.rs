#![no_main]
//! See fuzz/README.md: `wawebd::store::fuzz_session_file` never panics, whatever the bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wawebd::store::fuzz_session_file(data));
