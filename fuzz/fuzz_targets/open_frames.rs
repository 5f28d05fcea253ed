#![no_main]
//! Frame parsing and opening never panic, whatever a peer sends.

use libfuzzer_sys::fuzz_target;
use waweb_core::crypto::{Secret, SessionKeys};
use waweb_core::wire::{self, FrameCipher};

fuzz_target!(|data: &[u8]| {
    let cipher = FrameCipher::new(&SessionKeys {
        enc: Secret::new([1; 32]),
        mac: Secret::new([2; 32]),
    });
    let _ = cipher.open_server_frame(data);
    let _ = cipher.open_client_frame(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = wire::parse_server_text(text);
        let _ = wire::parse_client_text(text);
    }
});
