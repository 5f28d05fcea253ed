#![no_main]
//! Whatever JSON the server sends during a login, the machine answers without panicking.

use libfuzzer_sys::fuzz_target;
use waweb_core::crypto::KeyPair;
use waweb_core::login::{Login, Settings};
use waweb_core::wire::TagCounter;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let settings = Settings {
        version: [2, 2142, 12],
        browser: ["a".into(), "b".into(), "c".into()],
        reref_budget: 2,
    };
    let mut tags = TagCounter::new(0);
    let (mut login, _) = Login::pair(settings, "cid".into(), KeyPair::from_private(&[3; 32]), &mut tags);
    for (index, line) in text.lines().enumerate() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let tag = if index % 2 == 0 { "0.--0".to_owned() } else { format!("s{index}") };
        let _ = login.on_json(&tag, &value, &mut tags);
        let _ = login.on_ref_expired(&mut tags);
    }
});
