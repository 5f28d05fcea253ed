#![no_main]
//! Frame parsing and opening never panic, whatever a peer sends. The keys are those of
//! daemon/core/tests/vectors/frames.json, so the seeds (scripts/fuzz-seeds.sh) open.

use libfuzzer_sys::fuzz_target;
use waweb_core::crypto::{Secret, SessionKeys};
use waweb_core::wire::{self, FrameCipher};

const ENC_KEY: &str = "ef3f3c044ef5aa859de3c97a78281c1618cb6850525c5976e15efa97b0649b03";
const MAC_KEY: &str = "8c335d2e9f3dd99c233f9a0a5f63a4c1f8d047c2a346edf95cff0ff72470b24b";

fn key(hex: &str) -> [u8; 32] {
    let mut key = [0; 32];
    for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
    }
    key
}

fuzz_target!(|data: &[u8]| {
    let cipher = FrameCipher::new(&SessionKeys {
        enc: Secret::new(key(ENC_KEY)),
        mac: Secret::new(key(MAC_KEY)),
    });
    let _ = cipher.open_server_frame(data);
    let _ = cipher.open_client_frame(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = wire::parse_server_text(text);
        let _ = wire::parse_client_text(text);
    }
});
