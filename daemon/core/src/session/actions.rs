//! The set-actions a client sends (PROTOCOL.md 8.5 and 11.2): the child of
//! `["action",{"type":"set","epoch":"<n>"},[child]]` with the metric and flags B sent it with
//! (1.4), and the JSON presence subscription of 11.1.
//!
//! ```text
//! read(chat, id, owner, None)   -> ["read",{"jid","index","owner","count":"1"}]          metric 11, 0x80
//! unread(chat, id, owner, None) -> ["read",{"jid","index","owner","count":"-2"}]         metric 11, 0x80
//! played(chat, id, None)        -> ["received",{"type":"played","index","from","owner":"false","count":"1"}] metric 13, 0x80
//! presence(available)           -> ["presence",{"type":"available"}]                     metric 8, 0xA0
//! presence(unavailable)         -> ["presence",{"type":"unavailable"}]                   metric 8, 0x10
//! typing(chat, composing)       -> ["presence",{"type":"composing","to":chat}]           metric 8, 0x04
//! subscribe_presence(jid)       -> ["action","presence","subscribe","<digits>@c.us"]
//! ```

use serde_json::{Value, json};
use waweb_proto::{ChatState, Presence};

use crate::binary::Node;
use crate::message;
use crate::wire::{flags, metric};

/// One child of an `action type=set`, with the frame's metric and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAction {
    /// The child node.
    pub child: Node,
    /// The frame's metric byte.
    pub metric: u8,
    /// The frame's flags byte.
    pub flags: u8,
}

/// The `count` that marks a chat unread (B).
const UNREAD: &str = "-2";

/// A read receipt for chat `chat` up to message `index` (`owner`: whether we wrote it;
/// `participant`: its author, in groups). `count` is "1": the number of messages marked read,
/// which R and G always sent as 1; B sent the chat's unread count, which a daemon that does not
/// track the phone's counters cannot know.
pub fn read(chat: &str, index: &str, owner: bool, participant: Option<&str>) -> SetAction {
    read_node(chat, index, owner, participant, "1")
}

/// Marks chat `chat` unread: a read node with count -2 naming its newest message (B).
pub fn unread(chat: &str, index: &str, owner: bool, participant: Option<&str>) -> SetAction {
    read_node(chat, index, owner, participant, UNREAD)
}

fn read_node(
    chat: &str,
    index: &str,
    owner: bool,
    participant: Option<&str>,
    count: &'static str,
) -> SetAction {
    // The attribute order of PROTOCOL.md 7.8's verified read receipt, with a group message's
    // author where B put it.
    let mut child = Node::new("read")
        .attr("jid", chat.to_owned())
        .attr("count", count)
        .attr("index", index.to_owned());
    if let Some(participant) = participant {
        child = child.attr("participant", participant.to_owned());
    }
    SetAction {
        child: child.attr("owner", owner.to_string()),
        metric: metric::READ,
        flags: flags::IGNORE,
    }
}

/// A played receipt for the voice note `index` someone sent in `chat` (R).
pub fn played(chat: &str, index: &str, participant: Option<&str>) -> SetAction {
    let mut child = Node::new("received")
        .attr("type", "played")
        .attr("index", index.to_owned())
        .attr("from", chat.to_owned());
    if let Some(participant) = participant {
        child = child.attr("participant", participant.to_owned());
    }
    SetAction {
        child: child.attr("owner", "false").attr("count", "1"),
        metric: metric::RECEIVED,
        flags: flags::IGNORE,
    }
}

/// Our own presence.
pub fn presence(presence: Presence) -> SetAction {
    let flags = match presence {
        Presence::Available => flags::IGNORE | flags::AVAILABLE,
        Presence::Unavailable => flags::NOT_AVAILABLE,
    };
    SetAction {
        child: Node::new("presence").attr("type", presence.as_str()),
        metric: metric::PRESENCE,
        flags,
    }
}

/// What we are doing in chat `chat`.
pub fn typing(chat: &str, state: ChatState) -> SetAction {
    SetAction {
        child: Node::new("presence")
            .attr("type", state.as_str())
            .attr("to", chat.to_owned()),
        metric: metric::PRESENCE,
        flags: flags::SKIP_OFFLINE,
    }
}

/// The JSON command that asks for `jid`'s presence pushes (PROTOCOL.md 11.1), with the `@c.us`
/// spelling of JSON commands.
pub fn subscribe_presence(jid: &str) -> Value {
    json!([
        "action",
        "presence",
        "subscribe",
        message::jid_for_json_command(jid)
    ])
}
