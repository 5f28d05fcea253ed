#![no_main]
//! See fuzz/README.md: `waweb_sim::fuzzing::sim_control` never panics, whatever the bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| waweb_sim::fuzzing::sim_control(data));
