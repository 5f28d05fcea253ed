//! The chat list and the contact list (PROTOCOL.md 8.3 and 11.3): the `response` nodes the
//! server pushes after login (tag `preempt-…`) and answers `query chat` / `query contacts` with,
//! read into typed entries the daemon stores.
//!
//! ```text
//! <response type="chat"><chat jid="49…@c.us" t="1600000000" count="2" name="Alice" archive="true" pin="1600000100" mute="1600086400" read_only="true" ephemeral="604800"/>…</response>
//!     -> List::Chats([ChatEntry { jid: "49…@s.whatsapp.net", t: 1600000000, unread: 2, archived: true, pinned: Some(1600000100), … }])
//! <response type="contacts" checksum="…"><user jid="49…@c.us" name="Alice" notify="Ali" short="Alice"/>…</response>
//!     -> List::Contacts([Contact { jid: "49…@s.whatsapp.net", name: Some("Alice"), … }])
//! <response type="chat" duplicate="true"/>  -> List::Unchanged   (nothing changed since the last list)
//! anything else                             -> None
//! ```
//!
//! An entry without a `jid` is skipped (and counted in `skipped`); a number that does not parse
//! reads as absent, so one odd attribute never loses the list.

use waweb_proto::ChatEntry;
use waweb_proto::notice::Contact;

use crate::binary::{Content, Node};
use crate::message::normalize_jid;
use crate::session::actions::SetAction;
use crate::wire::{flags, metric};

/// A list the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum List {
    /// The whole chat list, as the phone has it now.
    Chats {
        /// The chats (`unread` is the phone's `count`: `-1` = marked unread).
        chats: Vec<ChatEntry>,
        /// Entries without a `jid`.
        skipped: usize,
    },
    /// The whole address book.
    Contacts {
        /// The contacts.
        contacts: Vec<Contact>,
        /// Entries without a `jid`.
        skipped: usize,
    },
    /// `duplicate="true"`: the list the client has is current.
    Unchanged,
}

/// The list `node` holds, if it is a chat or contact `response`.
pub fn read(node: &Node) -> Option<List> {
    if node.tag != "response" {
        return None;
    }
    let kind = node.get("type")?;
    if !matches!(kind, "chat" | "contacts") {
        return None;
    }
    if node.get("duplicate") == Some("true") {
        return Some(List::Unchanged);
    }
    let (entries, skipped) = entries(node, if kind == "chat" { "chat" } else { "user" });
    Some(if kind == "chat" {
        List::Chats {
            chats: entries.into_iter().map(chat).collect(),
            skipped,
        }
    } else {
        List::Contacts {
            contacts: entries.into_iter().map(contact).collect(),
            skipped,
        }
    })
}

/// The children tagged `tag` that name a `jid`, and how many did not.
fn entries<'a>(node: &'a Node, tag: &str) -> (Vec<(String, &'a Node)>, usize) {
    let mut skipped = 0;
    let mut found = Vec::new();
    for child in node.children().iter().filter(|child| child.tag == tag) {
        match child.get("jid").filter(|jid| !jid.is_empty()) {
            Some(jid) => found.push((normalize_jid(jid), child)),
            None => skipped += 1,
        }
    }
    (found, skipped)
}

fn text(node: &Node, name: &str) -> Option<String> {
    node.get(name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// A positive number of seconds; `0`, absent or not a number read as `None`.
fn seconds(node: &Node, name: &str) -> Option<u64> {
    node.get(name)
        .and_then(|value| value.parse::<u64>().ok())
        .filter(|&value| value > 0)
}

fn chat((jid, node): (String, &Node)) -> ChatEntry {
    ChatEntry {
        jid,
        name: text(node, "name"),
        t: seconds(node, "t").unwrap_or(0),
        unread: node
            .get("count")
            .and_then(|count| count.parse::<i64>().ok())
            .unwrap_or(0)
            .max(-1),
        archived: node.get("archive") == Some("true"),
        pinned: seconds(node, "pin"),
        muted_until: seconds(node, "mute"),
        read_only: node.get("read_only") == Some("true"),
        ephemeral_s: seconds(node, "ephemeral"),
    }
}

fn contact((jid, node): (String, &Node)) -> Contact {
    Contact {
        jid,
        name: text(node, "name"),
        notify: text(node, "notify"),
        short: text(node, "short"),
    }
}

/// `<query type="chat"/>` (metric 5) or `<query type="contacts"/>` (metric 6), as B sends them
/// (PROTOCOL.md 8.6), for [`read`] to take the answer apart.
pub fn query(contacts: bool) -> (Node, u8) {
    if contacts {
        (
            Node::new("query").attr("type", "contacts"),
            metric::QUERY_CONTACTS,
        )
    } else {
        (Node::new("query").attr("type", "chat"), metric::QUERY_CHAT)
    }
}

/// The message a chat action names: the chat's newest for archive, delete and clear (B's
/// `getChatIndex`), the starred one for star.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index<'a> {
    /// The message id.
    pub id: &'a str,
    /// Whether we wrote it.
    pub owner: bool,
    /// Its author, in a group.
    pub participant: Option<&'a str>,
}

/// What a chat action changes (PROTOCOL.md 11.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modify<'a> {
    /// Archive (`true`) or unarchive, naming the chat's newest message (if it has one).
    Archive(bool, Option<Index<'a>>),
    /// Delete the chat, naming its newest message.
    Delete(Option<Index<'a>>),
    /// Pin at this time.
    Pin(u64),
    /// Unpin; `previous` is the old pin time.
    Unpin(Option<u64>),
    /// Mute until this time.
    Mute(u64),
    /// Unmute; `previous` is the old mute end.
    Unmute(Option<u64>),
    /// Clear the messages (keeping none starred: `star="false"`), naming the newest.
    Clear(Option<Index<'a>>),
    /// Star (`true`) or unstar one message.
    Star(bool, Index<'a>),
}

/// The `chat` child of a chat action, metric 12 (10 for star, as B), flags `0x80`.
pub fn modify(chat: &str, modify: &Modify<'_>) -> SetAction {
    let node = Node::new("chat").attr("jid", chat.to_owned());
    // A chat without any stored message goes without `index`: there is nothing to name.
    let with_index = |node: Node, kind: &'static str, index: &Option<Index<'_>>, participant| {
        let mut node = node.attr("type", kind);
        if let Some(index) = index {
            node = node
                .attr("index", index.id.to_owned())
                .attr("owner", index.owner.to_string());
            if let Some(author) = index.participant.filter(|_| participant) {
                node = node.attr("participant", author.to_owned());
            }
        }
        node
    };
    let previous = |node: Node, kind: &'static str, previous: &Option<u64>| {
        let node = node.attr("type", kind);
        match previous {
            Some(value) => node.attr("previous", value.to_string()),
            None => node,
        }
    };
    let (child, metric) = match modify {
        Modify::Archive(true, index) => (with_index(node, "archive", index, true), metric::CHAT),
        Modify::Archive(false, index) => (with_index(node, "unarchive", index, true), metric::CHAT),
        Modify::Delete(index) => (with_index(node, "delete", index, true), metric::CHAT),
        Modify::Pin(at) => (
            node.attr("type", "pin").attr("pin", at.to_string()),
            metric::CHAT,
        ),
        Modify::Unpin(old) => (previous(node, "pin", old), metric::CHAT),
        Modify::Mute(until) => (
            node.attr("type", "mute").attr("mute", until.to_string()),
            metric::CHAT,
        ),
        Modify::Unmute(old) => (previous(node, "mute", old), metric::CHAT),
        // B leaves the participant out of a clear.
        Modify::Clear(index) => (
            with_index(node.attr("star", "false"), "clear", index, false),
            metric::CHAT,
        ),
        Modify::Star(star, index) => {
            let mut item = Node::new("item")
                .attr("owner", index.owner.to_string())
                .attr("index", index.id.to_owned());
            if let Some(author) = index.participant {
                item = item.attr("participant", author.to_owned());
            }
            let kind = if *star { "star" } else { "unstar" };
            // Metric 10 is what B sent a star with (PROTOCOL.md 11.2), whatever its name says.
            (
                node.attr("type", kind)
                    .with_content(Content::List(vec![item])),
                metric::GROUP,
            )
        }
    };
    SetAction {
        child,
        metric,
        flags: flags::IGNORE,
    }
}

#[cfg(test)]
#[path = "lists_tests.rs"]
mod tests;
