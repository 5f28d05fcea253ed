#![no_main]
//! Relayed protobuf never panics the message mapping.

use libfuzzer_sys::fuzz_target;
use waweb_core::message;

fuzz_target!(|data: &[u8]| {
    // The receive path: messages, revokes and stubs, with the bytes kept as `raw`.
    let _ = message::receive(data, waweb_proto::message::Source::History);
    if let Ok(info) = message::decode_web_message_info(data) {
        let _ = message::to_event(&info);
        let _ = message::into_event(info);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = message::parse_recipient(text);
    }
});
