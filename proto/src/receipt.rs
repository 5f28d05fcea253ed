//! Receipts, presence and typing (DESIGN.md 7.2): read and played receipts, marking a chat
//! unread, our own presence, the typing state in a chat, and subscribing to a contact's
//! presence. None of these goes through the outbox: each needs the connection, and is answered
//! once the server answered it (`not_connected` while it is down).
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"mark_read","params":{"chat":"4915100000001"}}
//! {"jsonrpc":"2.0","id":1,"result":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815"}}
//! {"jsonrpc":"2.0","id":2,"method":"set_typing","params":{"chat":"4915100000001","state":"composing"}}
//! {"jsonrpc":"2.0","id":2,"result":{}}
//! ```

use serde::{Deserialize, Serialize};

use crate::compose::MessageRef;

/// The params of `mark_read`.
///
/// `{"chat":"4915100000001","message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkReadParams {
    /// The chat, spelt as `to`.
    ///
    /// `"chat":"4915100000001@s.whatsapp.net"`
    pub chat: String,
    /// The newest message read; absent: the newest message of the chat in the daemon's store.
    /// Its `chat` must be `chat`.
    ///
    /// `"message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageRef>,
}

/// The params of `mark_unread`: the chat shows as unread again (on the phone too).
///
/// `{"chat":"4915100000001"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkUnreadParams {
    /// The chat, spelt as `to`.
    ///
    /// `"chat":"4915100000001@s.whatsapp.net"`
    pub chat: String,
}

/// The params of `mark_played`.
///
/// `{"message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkPlayedParams {
    /// The voice note played: a message someone else sent (`from_me: false`).
    ///
    /// `"message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}`
    pub message: MessageRef,
}

/// The result of `mark_read`, `mark_unread` and `mark_played`: the message the receipt named.
///
/// `{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptResult {
    /// The chat, as a JID.
    ///
    /// `"chat":"4915100000001@s.whatsapp.net"`
    pub chat: String,
    /// The message id the receipt carried (for `mark_read` without `message`, the newest one
    /// stored).
    ///
    /// `"id":"3AA55DBD30C9CD2FD815"`
    pub id: String,
}

/// Our own presence.
///
/// `"presence":"available"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Online: `"available"`.
    Available,
    /// Offline: `"unavailable"`.
    Unavailable,
}

impl Presence {
    /// The name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Available => "available",
            Presence::Unavailable => "unavailable",
        }
    }
}

/// The params of `set_presence`.
///
/// `{"presence":"unavailable"}`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPresenceParams {
    /// `available` or `unavailable`.
    ///
    /// `"presence":"available"`
    pub presence: Presence,
}

/// What we are doing in a chat.
///
/// `"state":"composing"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    /// Typing: `"composing"`.
    Composing,
    /// Recording a voice note: `"recording"`.
    Recording,
    /// Stopped: `"paused"`.
    Paused,
}

impl ChatState {
    /// The name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Composing => "composing",
            ChatState::Recording => "recording",
            ChatState::Paused => "paused",
        }
    }
}

/// The params of `set_typing`.
///
/// `{"chat":"4915100000001","state":"composing"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetTypingParams {
    /// The chat, spelt as `to`.
    ///
    /// `"chat":"4915100000001@s.whatsapp.net"`
    pub chat: String,
    /// `composing`, `recording` or `paused`.
    ///
    /// `"state":"composing"`
    pub state: ChatState,
}

/// The params of `subscribe_presence`: `presence` events for that contact follow.
///
/// `{"jid":"4915100000001"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribePresenceParams {
    /// The contact, spelt as `to`.
    ///
    /// `"jid":"4915100000001@s.whatsapp.net"`
    pub jid: String,
}

/// The result of a method that has nothing to report but success: `{}`.
///
/// `{}`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyResult {}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::methods::{self, Call, Method};
    use crate::{ContactCard, MessageRef, SendCommon, SendLocationParams, SendWait};

    fn parse(method: &str, params: Value) -> Result<Call, String> {
        Call::parse(method, Some(params)).map_err(|error| {
            assert_eq!(error.code, -32602, "{error:?}");
            error.message
        })
    }

    #[test]
    fn every_new_method_reads_its_documented_params() {
        let reference = json!({"chat": "4915100000001", "id": "A", "from_me": false});
        for (method, params) in [
            (
                "send_location",
                json!({"to": "1", "latitude": 52.5, "longitude": 13.4, "name": "n", "address": "a",
                       "quote": reference, "mentions": ["2"], "idempotency_key": "k", "wait": "queued", "timeout_ms": 5}),
            ),
            (
                "send_contact",
                json!({"to": "1", "contacts": [{"display_name": "Ada", "vcard": "BEGIN:VCARD"}]}),
            ),
            ("forward", json!({"to": "1", "message": reference})),
            ("revoke", json!({"message": reference, "wait": "server"})),
            ("mark_read", json!({"chat": "1"})),
            ("mark_read", json!({"chat": "1", "message": reference})),
            ("mark_unread", json!({"chat": "1"})),
            ("mark_played", json!({"message": reference})),
            ("set_presence", json!({"presence": "unavailable"})),
            ("set_typing", json!({"chat": "1", "state": "recording"})),
            ("subscribe_presence", json!({"jid": "1"})),
            (
                "send_text",
                json!({"to": "1", "text": "hi @2", "quote": reference, "mentions": ["2"]}),
            ),
        ] {
            let call = parse(method, params.clone()).unwrap_or_else(|e| panic!("{method}: {e}"));
            assert_eq!(call.name(), method);
            // What a call writes is what it read.
            assert_eq!(call.params().unwrap(), Some(params), "{method}");
        }
    }

    #[test]
    fn bad_params_are_refused_with_the_field_named() {
        for (method, params, says) in [
            (
                "send_location",
                json!({"to": "1", "latitude": 1.0}),
                "longitude",
            ),
            (
                "send_location",
                json!({"to": "1", "latitude": 1.0, "longitude": 2.0, "alt": 3}),
                "alt",
            ),
            (
                "send_contact",
                json!({"to": "1", "contacts": [{"display_name": "A"}]}),
                "vcard",
            ),
            (
                "forward",
                json!({"to": "1", "message": {"chat": "1", "id": "A"}}),
                "from_me",
            ),
            (
                "revoke",
                json!({"to": "1", "message": {"chat": "1", "id": "A", "from_me": true}}),
                "to",
            ),
            (
                "revoke",
                json!({"message": {"chat": "1", "id": "A", "from_me": true}, "quote": null}),
                "quote",
            ),
            (
                "mark_read",
                json!({"chat": "1", "message": {"chat": "1", "id": "A", "from_me": false, "x": 1}}),
                "x",
            ),
            (
                "mark_unread",
                json!({"chat": "1", "message": null}),
                "message",
            ),
            (
                "set_presence",
                json!({"presence": "composing"}),
                "composing",
            ),
            (
                "set_typing",
                json!({"chat": "1", "state": "available"}),
                "available",
            ),
            ("subscribe_presence", json!({}), "jid"),
        ] {
            let message = parse(method, params).unwrap_err();
            assert!(message.contains(says), "{method}: {message}");
        }
    }

    #[test]
    fn results_and_common_fields_read_as_documented() {
        let result: <methods::MarkRead as Method>::Result =
            serde_json::from_value(json!({"chat": "1@s.whatsapp.net", "id": "A"})).unwrap();
        assert_eq!(result.id, "A");
        let empty: <methods::SetTyping as Method>::Result =
            serde_json::from_value(json!({})).unwrap();
        assert_eq!(serde_json::to_value(empty).unwrap(), json!({}));
        let params: SendLocationParams = serde_json::from_value(
            json!({"to": "1", "latitude": 0.5, "longitude": -0.5, "idempotency_key": "k", "wait": "queued"}),
        )
        .unwrap();
        assert_eq!(
            (params.idempotency_key(), params.wait(), params.timeout_ms()),
            (Some("k"), Some(SendWait::Queued), None)
        );
        let reference = MessageRef::new("1", "A", true);
        assert_eq!(
            serde_json::to_value(&reference).unwrap(),
            json!({"chat": "1", "id": "A", "from_me": true})
        );
        let card = ContactCard {
            display_name: "Ada".into(),
            vcard: "BEGIN:VCARD".into(),
        };
        assert_eq!(
            serde_json::to_value(card).unwrap(),
            json!({"display_name": "Ada", "vcard": "BEGIN:VCARD"})
        );
    }
}
