#![no_main]
//! See fuzz/README.md: `wawebd::db::fuzzing::db_rows` decodes stored columns (journal rows,
//! message events, raw `WebMessageInfo`s, outbox results); it never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wawebd::db::fuzzing::db_rows(data));
