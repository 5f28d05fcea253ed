#![no_main]
//! See fuzz/README.md: `waweb_sim::fuzzing::sim_frames` feeds client frames (text, sealed
//! binary, raw binary) to a simulator core with a logged-in connection; it never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| waweb_sim::fuzzing::sim_frames(data));
