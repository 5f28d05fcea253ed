#![no_main]
//! Media bodies of any shape are refused or decrypted, never a panic.

use libfuzzer_sys::fuzz_target;
use waweb_core::media::{self, Expected, MediaKeys, MediaType};

fuzz_target!(|data: &[u8]| {
    let keys = MediaKeys::derive(&[7; 32], MediaType::Document).unwrap();
    let _ = media::decrypt(&keys, data, &Expected::default());
    let mut decryptor = media::Decryptor::new(&keys, Expected::default());
    let mut out = Vec::new();
    for chunk in data.chunks(7) {
        decryptor.update(chunk, &mut out);
    }
    let _ = decryptor.finish(&mut out);
});
