//! Sending everything but text and media (DESIGN.md 7.1): locations, contacts, forwards and
//! revokes, and the message reference that quotes, forwards, revokes and receipts name a
//! message by. Every send goes through the outbox like `send_text` and answers the same
//! `{"id","status","t"}`.
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"send_location","params":{"to":"4915100000001","latitude":52.52,"longitude":13.405,"name":"Berlin"}}
//! {"jsonrpc":"2.0","id":1,"result":{"id":"3EB0C0FFEE12345678AB","status":200,"t":1600000000}}
//! {"jsonrpc":"2.0","id":2,"method":"revoke","params":{"message":{"chat":"4915100000001@s.whatsapp.net","id":"3EB0C0FFEE12345678AB","from_me":true}}}
//! {"jsonrpc":"2.0","id":2,"result":{"id":"3EB0AA00BB11CC22DD33","status":200,"t":1600000005}}
//! ```

use serde::{Deserialize, Serialize};

use crate::send::{SendCommon, SendWait, send_params};

/// A message, named the way the protocol keys it (PROTOCOL.md 9.2): its chat, its id and
/// whether this account wrote it; `participant` is its author inside a group.
///
/// `{"chat":"4915100000000-1600000000@g.us","id":"3AA55DBD30C9CD2FD815","from_me":false,"participant":"4915100000002@s.whatsapp.net"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRef {
    /// The chat, spelt as `to` (a phone number or a JID).
    ///
    /// `"chat":"4915100000001@s.whatsapp.net"`
    pub chat: String,
    /// The message id, as its `message` event reported it.
    ///
    /// `"id":"3AA55DBD30C9CD2FD815"`
    pub id: String,
    /// Whether this account wrote it (the `from_me` of its `message` event).
    ///
    /// `"from_me":false`
    pub from_me: bool,
    /// Who wrote it, in a group (the `participant` of its `message` event).
    ///
    /// `"participant":"4915100000002@s.whatsapp.net"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

impl MessageRef {
    /// A reference to message `id` of `chat`.
    pub fn new(chat: impl Into<String>, id: impl Into<String>, from_me: bool) -> Self {
        MessageRef {
            chat: chat.into(),
            id: id.into(),
            from_me,
            participant: None,
        }
    }
}

send_params! {
    /// The params of `send_location`: a `locationMessage`.
    ///
    /// `{"to":"4915100000001","latitude":52.52,"longitude":13.405,"name":"Berlin","address":"Pariser Platz"}`
    SendLocationParams to {
        /// Degrees north, -90 to 90.
        ///
        /// `"latitude":52.52`
        pub latitude: f64,
        /// Degrees east, -180 to 180.
        ///
        /// `"longitude":13.405`
        pub longitude: f64,
        /// What the place is called.
        ///
        /// `"name":"Brandenburger Tor"`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// Its address.
        ///
        /// `"address":"Pariser Platz, Berlin"`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<String>,
    }
}

/// One contact card of `send_contact`.
///
/// `{"display_name":"Ada","vcard":"BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nTEL;type=CELL;waid=4915100000001:+49 151 00000001\nEND:VCARD"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactCard {
    /// The name shown on the card.
    ///
    /// `"display_name":"Ada"`
    pub display_name: String,
    /// The vCard text, as it is sent.
    ///
    /// `"vcard":"BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD"`
    pub vcard: String,
}

send_params! {
    /// The params of `send_contact`: one card goes as `contactMessage`, more as
    /// `contactsArrayMessage`.
    ///
    /// `{"to":"4915100000001","contacts":[{"display_name":"Ada","vcard":"BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD"}]}`
    SendContactParams to {
        /// 1 to 100 cards.
        ///
        /// `"contacts":[{"display_name":"Ada","vcard":"BEGIN:VCARD…"}]`
        pub contacts: Vec<ContactCard>,
    }
}

/// The most cards one `send_contact` takes: more than any contact picker sends at once.
pub const CONTACTS_MAX: usize = 100;

send_params! {
    /// The params of `forward`: the content of a stored message, sent again to `to` marked as
    /// forwarded.
    ///
    /// `{"to":"4915100000002","message":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815","from_me":false}}`
    ForwardParams to {
        /// The message to forward; the daemon's store must hold it (else `not_found`).
        ///
        /// `"message":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815","from_me":false}`
        pub message: MessageRef,
    }
}

send_params! {
    /// The params of `revoke`: delete one of our messages for everyone; the revoke goes to the
    /// message's own chat.
    ///
    /// `{"message":{"chat":"4915100000001@s.whatsapp.net","id":"3EB0C0FFEE12345678AB","from_me":true}}`
    RevokeParams {
        /// The message to delete: one this account wrote (`from_me: true`).
        ///
        /// `"message":{"chat":"4915100000001@s.whatsapp.net","id":"3EB0C0FFEE12345678AB","from_me":true}`
        pub message: MessageRef,
    }
}
