//! The `db_rows` fuzz target's entry (fuzz/README.md): what the daemon decodes from stored
//! columns, as if a damaged or foreign database handed back these bytes. Not an API.
//!
//! The first byte picks the column; the rest is its value:
//! 0 a journal row (`type`, a NUL, `body`), 1 a message's `event`, 2 a message's `raw`
//! `WebMessageInfo`, 3 an outbox row's `state` and `result`.

use waweb_core::message;
use waweb_proto::message::Message;

use crate::{journal, outbox};

/// The states an outbox row can be in (and one it cannot).
const OUTBOX_STATES: [&str; 6] = ["queued", "sent", "acked", "failed", "cancelled", "?"];

/// Decodes `data` the way the daemon reads the column its first byte names; never panics.
pub fn db_rows(data: &[u8]) {
    let Some((&column, value)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(value);
    match column % 4 {
        0 => {
            let (kind, body) = text.split_once('\0').unwrap_or((&text, ""));
            let _ = journal::stored_event(kind, body);
        }
        1 => {
            let _ = serde_json::from_str::<Message>(&text);
        }
        2 => {
            if let Ok(info) = message::decode_web_message_info(value) {
                let _ = message::to_event(&info);
                let _ = info.message;
            }
        }
        _ => {
            let (state, result) = value.split_first().unwrap_or((&0, &[]));
            let state = OUTBOX_STATES[usize::from(*state) % OUTBOX_STATES.len()];
            let _ = outbox::done_of(state, Some(&String::from_utf8_lossy(result)));
            let _ = outbox::done_of(state, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::db_rows;

    #[test]
    fn stored_columns_take_garbage() {
        for data in [
            &b""[..],
            b"\x00message\x00{\"id\":1}",
            b"\x00nonsense\x00[",
            b"\x01{\"chat\":\"x\"}",
            b"\x01\xff\xfe",
            b"\x02\x0a\x05\x0a\x03abc",
            b"\x02\xff\xff\xff\xff",
            b"\x03\x02{\"id\":\"3EB0\"}",
            b"\x03\x02not json",
            b"\x03",
            b"\x03\xc3",
        ] {
            db_rows(data);
        }
    }

    #[test]
    fn an_acked_row_with_a_broken_result_is_failed_not_a_panic() {
        let done = crate::outbox::done_of("acked", Some("{"));
        assert!(matches!(done, crate::outbox::Done::Failed(_)));
    }
}
