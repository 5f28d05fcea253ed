#![no_main]
//! See fuzz/README.md: `wawebd::ipc::fuzzing::rpc_lines` never panics, whatever the bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wawebd::ipc::fuzzing::rpc_lines(data));
