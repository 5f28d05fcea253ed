//! Chats and contacts (DESIGN.md 8): the daemon's chat list and address book, answered from its
//! store, and the chat actions the phone also offers (archive, pin, mute, clear, delete, star).
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"chats","params":{"archived":false,"limit":2}}
//! {"jsonrpc":"2.0","id":1,"result":{"chats":[{"jid":"4915100000001@s.whatsapp.net","name":"Alice","t":1600000000,"unread":2,"archived":false,"pinned":null,"muted_until":null,"read_only":false,"ephemeral_s":null}]}}
//! {"jsonrpc":"2.0","id":2,"method":"chat_modify","params":{"chat":"4915100000001","action":"mute","until":1600086400}}
//! {"jsonrpc":"2.0","id":2,"result":{}}
//! ```

use serde::{Deserialize, Serialize};

use crate::compose::MessageRef;
pub use crate::notice::Contact;

/// The most chats one `chats` call returns; also the default `limit`.
pub const CHATS_LIMIT_MAX: u32 = 1000;

/// The params of `chats`: which chats, newest first.
///
/// `{"archived":false,"limit":50,"before":1600000000}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatsParams {
    /// `true`: only archived chats; `false`: only the others; absent: all.
    ///
    /// `"archived":false`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// How many chats at most, 1 to [`CHATS_LIMIT_MAX`] (the default).
    ///
    /// `"limit":50`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only chats whose `t` is older than this (the `t` of the last chat of the previous page).
    ///
    /// `"before":1600000000`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
}

/// One chat as `chats` lists it.
///
/// `{"jid":"4915100000001@s.whatsapp.net","name":"Alice","t":1600000000,"unread":2,"archived":false,"pinned":1600000100,"muted_until":null,"read_only":false,"ephemeral_s":null}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEntry {
    /// The chat.
    pub jid: String,
    /// Its name: the contact's name or the group's subject, as the phone knows it; `null` when
    /// it has none.
    #[serde(default)]
    pub name: Option<String>,
    /// Last activity, unix seconds: its newest message, or what the phone last said.
    pub t: u64,
    /// Unread messages; `-1` when the chat was marked unread by hand.
    pub unread: i64,
    /// Whether it is archived.
    pub archived: bool,
    /// When it was pinned, unix seconds; `null` when it is not pinned.
    #[serde(default)]
    pub pinned: Option<u64>,
    /// Muted until then, unix seconds; `null` when not muted.
    #[serde(default)]
    pub muted_until: Option<u64>,
    /// Whether nothing can be sent to it (a group we left).
    #[serde(default)]
    pub read_only: bool,
    /// Disappearing messages' lifetime, seconds; `null` when off.
    #[serde(default)]
    pub ephemeral_s: Option<u64>,
}

/// The result of `chats`.
///
/// `{"chats":[{"jid":"4915100000001@s.whatsapp.net","name":"Alice","t":1600000000,"unread":0,"archived":false,"pinned":null,"muted_until":null,"read_only":false,"ephemeral_s":null}]}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatsResult {
    /// Newest first.
    pub chats: Vec<ChatEntry>,
}

/// The params of `contacts`.
///
/// `{"query":"ali"}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsParams {
    /// Only contacts whose name, notify name, short name or number contains this,
    /// case-insensitively; absent: all.
    ///
    /// `"query":"ali"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// The result of `contacts`, ordered by JID.
///
/// `{"contacts":[{"jid":"4915100000001@s.whatsapp.net","name":"Alice","notify":"Ali","short":"Alice"}]}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsResult {
    /// The contacts.
    pub contacts: Vec<Contact>,
}

/// What `chat_modify` does to a chat (PROTOCOL.md 11.2).
///
/// `"archive"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatAction {
    /// Archive it.
    Archive,
    /// Take it out of the archive.
    Unarchive,
    /// Pin it to the top.
    Pin,
    /// Unpin it.
    Unpin,
    /// Mute it `until` a time.
    Mute,
    /// Unmute it.
    Unmute,
    /// Remove its messages, keeping the chat.
    Clear,
    /// Remove the chat and its messages.
    Delete,
    /// Star a `message`.
    Star,
    /// Unstar a `message`.
    Unstar,
}

impl ChatAction {
    /// The name on the wire, which is also the `action` of the `chat` event that follows.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatAction::Archive => "archive",
            ChatAction::Unarchive => "unarchive",
            ChatAction::Pin => "pin",
            ChatAction::Unpin => "unpin",
            ChatAction::Mute => "mute",
            ChatAction::Unmute => "unmute",
            ChatAction::Clear => "clear",
            ChatAction::Delete => "delete",
            ChatAction::Star => "star",
            ChatAction::Unstar => "unstar",
        }
    }
}

/// The params of `chat_modify`.
///
/// `{"chat":"4915100000001","action":"star","message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatModifyParams {
    /// The chat, spelt as `to`; it must be in the daemon's chat list.
    ///
    /// `"chat":"4915100000001@s.whatsapp.net"`
    pub chat: String,
    /// What to do.
    ///
    /// `"action":"mute"`
    pub action: ChatAction,
    /// With `mute` (and only with it): muted until then, unix seconds, in the future.
    ///
    /// `"until":1600086400`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    /// With `star`/`unstar` (and only with them): the message; its `chat` must be `chat`.
    ///
    /// `"message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageRef>,
}
