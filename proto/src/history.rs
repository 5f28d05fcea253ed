//! Reading a chat's history and searching messages (DESIGN.md 8): `messages` pages through a
//! chat, oldest first, from the store where it knows the run of messages has no gap and from the
//! server where it does not; `message` reads one stored message; `search` merges the server's
//! search with the store's.
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"messages","params":{"chat":"4915100000001","before":{"chat":"4915100000001","id":"3EB0C0FFEE","from_me":true},"count":2}}
//! {"jsonrpc":"2.0","id":1,"result":{"messages":[{"id":"3A01","chat":"4915100000001@s.whatsapp.net","from_me":false,"…":"…"},{"id":"3A02","…":"…"}],"more":true}}
//! {"jsonrpc":"2.0","id":2,"method":"search","params":{"text":"lunch","count":10}}
//! {"jsonrpc":"2.0","id":2,"result":{"messages":[{"id":"3A02","text":"lunch?","…":"…"}],"more":false}}
//! ```

use serde::{Deserialize, Serialize};

use crate::compose::MessageRef;
use crate::message::Message;

/// How many messages a page holds when `count` is left out.
pub const DEFAULT_COUNT: u32 = 25;

/// The most messages one page may ask for.
pub const MAX_COUNT: u32 = 100;

/// The params of `messages`: a page of a chat's history next to an anchor, or its newest
/// messages when there is none.
///
/// `{"chat":"4915100000001","before":{"chat":"4915100000001","id":"3EB0C0FFEE","from_me":true},"count":25}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesParams {
    /// The chat, spelt as `to` (a phone number or a JID).
    ///
    /// `"chat":"4915100000001@s.whatsapp.net"`
    pub chat: String,
    /// The messages just older than this one (which must be of `chat`); not with `after`.
    ///
    /// `"before":{"chat":"4915100000001","id":"3EB0C0FFEE","from_me":true}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageRef>,
    /// The messages just newer than this one (which must be of `chat`); not with `before`.
    ///
    /// `"after":{"chat":"4915100000001","id":"3A55DBD30C9CD2FD815","from_me":false}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<MessageRef>,
    /// How many, 1 to [`MAX_COUNT`]; [`DEFAULT_COUNT`] when left out.
    ///
    /// `"count":25`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// The result of `messages` and `search`: message event objects (as `message` events carry
/// them, without `seq` and `at`) and whether there are more.
///
/// `{"messages":[{"id":"3A01","chat":"4915100000001@s.whatsapp.net","from_me":false,"timestamp":1600000000,"kind":"text","text":"hi","source":"history","…":"…"}],"more":true}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesResult {
    /// For `messages` oldest first; for `search` newest first.
    ///
    /// `"messages":[{"id":"3A01","…":"…"}]`
    pub messages: Vec<Message>,
    /// `messages`: older ones exist (`before` or no anchor) or newer ones exist (`after`).
    /// `search`: a next `page` has more matches.
    ///
    /// `"more":true`
    pub more: bool,
}

/// The params of `search`: messages whose text or caption holds `text`.
///
/// `{"text":"lunch","chat":"4915100000001","count":20,"page":1}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// What to look for (not empty); the store matches it case-insensitively.
    ///
    /// `"text":"lunch"`
    pub text: String,
    /// Only this chat, spelt as `to`.
    ///
    /// `"chat":"4915100000001"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    /// Matches per page, 1 to [`MAX_COUNT`]; [`DEFAULT_COUNT`] when left out.
    ///
    /// `"count":20`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Which page, from 1 (the newest matches); 1 when left out.
    ///
    /// `"page":1`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn params_leave_out_what_is_absent_and_refuse_unknown_fields() {
        let params = MessagesParams {
            chat: "4915100000001".into(),
            before: None,
            after: Some(MessageRef::new("4915100000001", "3A01", false)),
            count: None,
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"chat": "4915100000001", "after": {"chat": "4915100000001", "id": "3A01", "from_me": false}})
        );
        assert!(
            serde_json::from_value::<MessagesParams>(json!({"chat": "1", "cursor": "x"})).is_err()
        );
        assert!(serde_json::from_value::<SearchParams>(json!({"text": "a", "pages": 2})).is_err());
        let search: SearchParams = serde_json::from_value(json!({"text": "a"})).unwrap();
        assert_eq!((search.count, search.page, search.chat), (None, None, None));
        let result: MessagesResult =
            serde_json::from_value(json!({"messages": [], "more": false, "later": 1})).unwrap();
        assert!(!result.more && result.messages.is_empty());
    }
}
