//! The payloads of the typed pushes of DESIGN.md 7.3: what the server and the phone report
//! besides messages (deletions, presence, group changes, the phone's own chat actions, contact
//! and block-list changes, profile pictures, calls). Each is one [`crate::Event`] variant.
//!
//! JIDs are canonical as everywhere in events: `<digits>@s.whatsapp.net` for people, `@g.us`
//! for groups. Every field is always written (absent values as `null`, lists as `[]`), so a
//! `jq` filter needs no guards, and everything written reads back.

use serde::{Deserialize, Serialize};

/// A message was deleted for everyone (`protocolMessage` REVOKE, or a REVOKE stub in history).
///
/// `{"type":"revoke","chat":"4915100000001@s.whatsapp.net","id":"3A0B","from_me":false,"participant":null,"by":"4915100000001@s.whatsapp.net"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoke {
    /// The chat of the deleted message.
    pub chat: String,
    /// The deleted message's id.
    pub id: String,
    /// Whether the deleted message was ours.
    pub from_me: bool,
    /// The deleted message's author inside a group; `null` outside groups.
    #[serde(default)]
    pub participant: Option<String>,
    /// Who deleted it: the revoke's author (a group admin may delete others' messages); `null`
    /// when it was this account.
    #[serde(default)]
    pub by: Option<String>,
}

/// Someone's presence or chat state changed (`Presence` push, PROTOCOL.md 3.6).
///
/// `{"type":"presence","jid":"4915100000001@s.whatsapp.net","chat":null,"presence":"composing","last_seen":null}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Whose presence: the person (inside a group, the one typing).
    pub jid: String,
    /// The group the state applies to (typing in a group); `null` for a person's own presence.
    #[serde(default)]
    pub chat: Option<String>,
    /// `available`, `unavailable`, `composing`, `recording` or `paused`, as the server said.
    pub presence: String,
    /// Last seen, unix seconds, when the server said (usually with `unavailable`).
    #[serde(default)]
    pub last_seen: Option<u64>,
}

/// A group changed (`Chat` push, PROTOCOL.md 3.8, or a group stub message, 9.1).
///
/// `{"type":"group","chat":"4915100000000-1600000000@g.us","action":"add","actor":"4915100000000@s.whatsapp.net","participants":["4915100000004@s.whatsapp.net"],"subject":null,"value":null}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group.
    pub chat: String,
    /// `create`, `add`, `remove`, `leave`, `promote`, `demote`, `subject`, `description`,
    /// `announce`, `restrict`, `ephemeral` or `invite`.
    pub action: String,
    /// Who did it; `null` when the server did not say.
    #[serde(default)]
    pub actor: Option<String>,
    /// Whom it concerns (`create`: everyone in the group; `add` … `demote`: those changed).
    #[serde(default)]
    pub participants: Vec<String>,
    /// The subject, with `create` and `subject`; `null` otherwise.
    #[serde(default)]
    pub subject: Option<String>,
    /// The new setting as text: the description (`description`), `on`/`off` (`announce`,
    /// `restrict`), seconds (`ephemeral`), the invite code (`invite`); `null` otherwise.
    #[serde(default)]
    pub value: Option<String>,
}

/// The phone did something to a chat (`action` children `chat` and `read`, PROTOCOL.md 8.2).
///
/// `{"type":"chat","chat":"4915100000001@s.whatsapp.net","action":"mute","value":"1600086400"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    /// The chat.
    pub chat: String,
    /// `archive`, `unarchive`, `pin`, `unpin`, `mute`, `unmute`, `read`, `unread`, `clear`,
    /// `delete`, `star` or `unstar` (DESIGN.md 7.3 also names `new`, which needs the chat store).
    pub action: String,
    /// The action's value: the pin time (`pin`) or the mute end (`mute`), unix seconds as
    /// text; the message ids (comma-separated) of `star`/`unstar`/`clear` items; `null`
    /// otherwise.
    #[serde(default)]
    pub value: Option<String>,
}

/// A contact was added, renamed or deleted (`action` child `user`, PROTOCOL.md 8.2).
///
/// `{"type":"contact","jid":"4915100000001@s.whatsapp.net","name":"Alice","notify":"Ali","short":"Alice"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The contact.
    pub jid: String,
    /// The address-book name; `null` when the contact was deleted.
    #[serde(default)]
    pub name: Option<String>,
    /// The name they chose themselves; `null` when not given.
    #[serde(default)]
    pub notify: Option<String>,
    /// The short (first) name; `null` when not given.
    #[serde(default)]
    pub short: Option<String>,
}

/// The whole block list, as it is now (`Blocklist` push, PROTOCOL.md 3.4).
///
/// `{"type":"blocklist","jids":["4915100000003@s.whatsapp.net"]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocklist {
    /// Everyone blocked.
    pub jids: Vec<String>,
}

/// A contact's or group's profile picture changed (`Cmd` picture, PROTOCOL.md 3.5).
///
/// `{"type":"picture","jid":"4915100000001@s.whatsapp.net","removed":false}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    /// Whose picture.
    pub jid: String,
    /// Whether it was removed rather than set.
    pub removed: bool,
}

/// A call (a `call` node, or a missed-call stub message; DESIGN.md 7.4 "Receiving").
///
/// `{"type":"call","from":"4915100000001@s.whatsapp.net","id":"1600000000-1","status":"offer"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The caller.
    pub from: String,
    /// The call's id (a missed-call stub: the stub message's id).
    pub id: String,
    /// `offer`, `accept`, `reject`, `missed`, `canceled`, `terminate`, … as the server said;
    /// `missed` for a missed-call stub.
    pub status: String,
}
