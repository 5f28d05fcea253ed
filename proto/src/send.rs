//! Sending, through the outbox (DESIGN.md 6.2): every send is written to the daemon's database
//! before any byte goes to the server, goes out once the session is connected (also after a
//! restart, with its original id), and is never sent twice for one `idempotency_key`.
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"send_text","params":{"to":"4915100000001","text":"hi","wait":"queued"}}
//! {"jsonrpc":"2.0","id":1,"result":{"id":"3EB0C0FFEE12345678AB","status":"queued"}}
//! {"jsonrpc":"2.0","method":"event","params":{"type":"ack","id":"3EB0C0FFEE12345678AB","ack":0,"chat":"4915100000001@s.whatsapp.net","seq":41,"at":1600000000123}}
//! ```

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// The longest `idempotency_key`.
pub const IDEMPOTENCY_KEY_MAX: usize = 128;

/// Declares the params of a send method: its own fields, then what every send shares (DESIGN.md
/// 6.2 and 7.1). With `to`, the message goes to `to` and may quote and mention; without, its
/// chat follows from its own fields (`revoke`). Every such type refuses unknown fields and
/// implements [`SendCommon`].
macro_rules! send_params {
    ($(#[$doc:meta])* $name:ident to { $($field:tt)* }) => {
        send_params! {
            $(#[$doc])*
            $name {
                /// A phone number (`+49 151 2345-678`: the digits are kept), bare digits, or a JID
                /// ending in `@s.whatsapp.net`, `@c.us` or `@g.us`.
                ///
                /// `"to":"4915123456789@s.whatsapp.net"`
                pub to: String,
                $($field)*
                /// The message this one replies to; quoted with its content when the daemon's
                /// store holds it, by id alone otherwise.
                ///
                /// `"quote":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815","from_me":false}`
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub quote: Option<$crate::compose::MessageRef>,
                /// People mentioned (JIDs or phone numbers, as `to`); the text should contain
                /// `@<digits>` for each.
                ///
                /// `"mentions":["4915100000002@s.whatsapp.net"]`
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub mentions: Option<Vec<String>>,
            }
        }
    };
    ($(#[$doc:meta])* $name:ident { $($field:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($field)*
            /// 1 to 128 characters; a second call with the same key returns the first call's
            /// result (or waits for the same send) instead of sending again. Remembered at least
            /// 7 days.
            ///
            /// `"idempotency_key":"order-17"`
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub idempotency_key: Option<String>,
            /// When the reply comes: `server` (default) once the server acknowledged the
            /// message, `queued` as soon as it is in the outbox.
            ///
            /// `"wait":"queued"`
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub wait: Option<SendWait>,
            /// How long to wait for the server's acknowledgement (default 20,000); past it the
            /// reply is `timeout` with `data.id` and `data.queued: true`, and the message stays
            /// queued.
            ///
            /// `"timeout_ms":20000`
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub timeout_ms: Option<u64>,
        }

        impl SendCommon for $name {
            fn idempotency_key(&self) -> Option<&str> {
                self.idempotency_key.as_deref()
            }

            fn wait(&self) -> Option<SendWait> {
                self.wait
            }

            fn timeout_ms(&self) -> Option<u64> {
                self.timeout_ms
            }
        }
    };
}

pub(crate) use send_params;

/// What the params of every send method have: how it is delivered (DESIGN.md 6.2).
pub trait SendCommon {
    /// The `idempotency_key`, if given.
    fn idempotency_key(&self) -> Option<&str>;
    /// The `wait` mode, if given.
    fn wait(&self) -> Option<SendWait>;
    /// The `timeout_ms`, if given.
    fn timeout_ms(&self) -> Option<u64>;
}

send_params! {
    /// The params of `send_text`. With `quote` or `mentions` it goes as `extendedTextMessage`,
    /// otherwise as plain `conversation`.
    ///
    /// `{"to":"+49 151 2345-678","text":"hi","quote":{"chat":"4915123456789@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815","from_me":false},"idempotency_key":"order-17","wait":"server","timeout_ms":20000}`
    SendTextParams to {
        /// The message text.
        ///
        /// `"text":"hi"`
        pub text: String,
    }
}

impl SendTextParams {
    /// A text to `to`, with the defaults: no quote, no mentions, no key, wait for the server.
    pub fn new(to: impl Into<String>, text: impl Into<String>) -> Self {
        SendTextParams {
            to: to.into(),
            text: text.into(),
            quote: None,
            mentions: None,
            idempotency_key: None,
            wait: None,
            timeout_ms: None,
        }
    }
}

/// When a send's reply comes.
///
/// `"wait":"queued"`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendWait {
    /// Once the server acknowledged it (`"server"`).
    #[default]
    Server,
    /// As soon as it is in the outbox (`"queued"`).
    Queued,
}

/// The result of `send_text`.
///
/// `{"id":"3EB0C0FFEE","status":200,"t":1600000000}` or `{"id":"3EB0C0FFEE","status":"queued"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendTextResult {
    /// The message's id; `ack` events for it carry the same id.
    ///
    /// `"id":"3EB0C0FFEE"`
    pub id: String,
    /// The server's status for it (200), or `"queued"`.
    ///
    /// `"status":200`
    pub status: SendStatus,
    /// The server's time, unix seconds; left out while queued.
    ///
    /// `"t":1600000000`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

/// A send's status: the server's (a number) or `"queued"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// The server acknowledged it with this status (200).
    Server(u16),
    /// In the outbox, not acknowledged yet.
    Queued,
}

impl Serialize for SendStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SendStatus::Server(status) => serializer.serialize_u16(*status),
            SendStatus::Queued => serializer.serialize_str("queued"),
        }
    }
}

impl<'de> Deserialize<'de> for SendStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Status;

        impl Visitor<'_> for Status {
            type Value = SendStatus;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status number or \"queued\"")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<SendStatus, E> {
                u16::try_from(value)
                    .map(SendStatus::Server)
                    .map_err(|_| E::custom("status out of range"))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<SendStatus, E> {
                u64::try_from(value)
                    .map_err(|_| E::custom("negative status"))
                    .and_then(|value| self.visit_u64(value))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<SendStatus, E> {
                match value {
                    "queued" => Ok(SendStatus::Queued),
                    other => Err(E::custom(format!("unknown status {other:?}"))),
                }
            }
        }

        deserializer.deserialize_any(Status)
    }
}

/// One message of the outbox.
///
/// `{"id":"3EB0C0FFEE","to":"4915100000001@s.whatsapp.net","kind":"text","queued_at":1600000000123,"attempts":1}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message id.
    pub id: String,
    /// The recipient's JID.
    pub to: String,
    /// What it is: `text`, and the kinds of DESIGN.md section 7 as they come.
    pub kind: String,
    /// When it was queued, unix milliseconds.
    pub queued_at: u64,
    /// How many times it went to the server so far.
    pub attempts: u32,
}

/// The result of `outbox`.
///
/// `{"messages":[…]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxResult {
    /// Oldest first.
    pub messages: Vec<OutboxEntry>,
}

/// The params of `outbox_cancel`.
///
/// `{"id":"3EB0C0FFEE"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxCancelParams {
    /// The message id.
    pub id: String,
}

/// The result of `outbox_cancel`.
///
/// `{"id":"3EB0C0FFEE","cancelled":true}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCancelResult {
    /// The message id.
    pub id: String,
    /// Always true: a message that was already sent, or is unknown, is an `invalid_params`
    /// error instead.
    pub cancelled: bool,
}
