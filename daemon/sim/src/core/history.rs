//! The phone's message history (PROTOCOL.md 11.3): every chat's messages in order, what
//! `query message` pages through in both directions and `query search` searches, and the
//! `seed_history` command that gives a chat an archive of N older messages.
//!
//! ```text
//! <query type=message jid=J kind=before count=25 index=A owner=true/>
//!     -> <response type=message><message>WMI</message>…</response>, oldest first
//!     -> {"status":404} when J has no A with that owner flag
//!     control line {"type":"history_query","conn","jid","kind","index","owner","count","returned"|"status"}
//! <query type=search search=T count=10 page=1 jid?=J/>
//!     -> <response type=search last="true"|"false"><message>WMI</message>…</response>, newest first
//!     control line {"type":"search_query","conn","search","jid","count","page","returned","last"}
//! ```
//!
//! The control lines let a test prove a page came from the client's store: no line, no query.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::message::{self, Received, pb};
use waweb_proto::message::Source;

use super::phone::{phone_message_id, revoked_id};
use super::{Core, now_s, user_jid};
use crate::command::Field;

/// History kept per chat: room for archives of many thousand messages (a `seed_history` of
/// 5,000 and live traffic), bounded so a long `flood` does not grow without end.
pub(super) const HISTORY_PER_CHAT: usize = 100_000;
/// The most recent messages per chat a login may push (`login_history`).
const LOGIN_HISTORY_MAX: u64 = 1_000;

/// A page asks for at most this many (the client's `count` is not trusted further).
const MAX_PAGE: usize = 1_000;

impl Core {
    /// Keeps a message in its chat's history; a revoke ("delete for everyone") instead turns
    /// the message it names into a REVOKE stub, as the phone showed it ("This message was
    /// deleted"), which is what `query message` then pages through.
    pub(super) fn remember(&mut self, chat: &str, info: pb::WebMessageInfo) {
        let messages = self.history.entry(chat.to_owned()).or_default();
        if let Some(target) = revoked_id(&info) {
            let found = messages.iter_mut().rev().find(|message| {
                message.key.as_ref().and_then(|key| key.id.as_deref()) == Some(target)
            });
            if let Some(message) = found {
                message.message = None;
                message.message_stub_type = Some(pb::WebMessageInfoStubType::Revoke.into());
                return;
            }
        }
        messages.push_back(info);
        if messages.len() > HISTORY_PER_CHAT {
            messages.pop_front();
        }
    }

    /// `query message`, answered: a page, or 404 for an anchor the chat does not have.
    pub(super) fn on_history_query(&mut self, conn: u64, tag: &str, node: &Node) {
        let mut line = json!({
            "type": "history_query", "conn": conn, "jid": node.get("jid"),
            "kind": node.get("kind"), "index": node.get("index"), "owner": node.get("owner"),
            "count": node.get("count"),
        });
        match self.history_page(node) {
            Some(page) => {
                line["returned"] = json!(page.len());
                self.emit(line);
                let reply = Node::new("response")
                    .attr("type", "message")
                    .with_content(Content::List(page));
                self.send_node(conn, tag, &reply, Duration::ZERO);
            }
            None => {
                line["status"] = json!(404);
                self.emit(line);
                self.send_json(conn, tag, &json!({"status": 404}));
            }
        }
    }

    /// Up to `count` messages before or after the anchor (the newest without one), oldest
    /// first, as `message` nodes.
    fn history_page(&self, node: &Node) -> Option<Vec<Node>> {
        let chat = message::normalize_jid(node.get("jid").unwrap_or_default());
        let empty = VecDeque::new();
        let messages = self.history.get(&chat).unwrap_or(&empty);
        let count = node
            .get("count")
            .and_then(|count| count.parse().ok())
            .unwrap_or(20usize)
            .min(MAX_PAGE);
        let after = node.get("kind") == Some("after");
        let range = match node.get("index") {
            // B's "from the conversation start" (`mostRecentFirst = false`) names no anchor.
            None if after => 0..count.min(messages.len()),
            None => messages.len().saturating_sub(count)..messages.len(),
            Some(anchor) => {
                let owner = node.get("owner") == Some("true");
                let position = messages.iter().rposition(|info| {
                    info.key.as_ref().is_some_and(|key| {
                        key.id.as_deref() == Some(anchor) && key.from_me.unwrap_or(false) == owner
                    })
                })?;
                if after {
                    position + 1..(position + 1 + count).min(messages.len())
                } else {
                    position.saturating_sub(count)..position
                }
            }
        };
        Some(messages.range(range).map(message_node).collect())
    }

    /// `query search`, answered: page `page` (from 1) of `count` messages whose text or
    /// caption holds `search` (case-insensitively), newest first, in `jid` only if given.
    pub(super) fn on_search_query(&mut self, conn: u64, tag: &str, node: &Node) {
        let needle = node.get("search").unwrap_or_default().to_lowercase();
        let jid = node.get("jid").map(message::normalize_jid);
        let count = node
            .get("count")
            .and_then(|count| count.parse().ok())
            .unwrap_or(20usize)
            .clamp(1, MAX_PAGE);
        let page = node
            .get("page")
            .and_then(|page| page.parse().ok())
            .unwrap_or(1usize)
            .max(1);
        let mut matches: Vec<&pb::WebMessageInfo> = self
            .history
            .iter()
            .filter(|(chat, _)| jid.as_ref().is_none_or(|jid| jid == *chat))
            .flat_map(|(_, messages)| messages.iter())
            .filter(|info| !needle.is_empty() && searchable(info).contains(&needle))
            .collect();
        // Newest first; among one second's messages the chat and id decide, so pages are stable.
        matches.sort_by(|a, b| sort_key(b).cmp(&sort_key(a)));
        let start = (page - 1).saturating_mul(count);
        let end = start.saturating_add(count).min(matches.len());
        let found: Vec<Node> = matches
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|info| message_node(info))
            .collect();
        let last = end >= matches.len();
        self.emit(json!({
            "type": "search_query", "conn": conn, "search": node.get("search"), "jid": jid,
            "count": count, "page": page, "returned": found.len(), "last": last,
        }));
        let reply = Node::new("response")
            .attr("type", "search")
            .attr("last", if last { "true" } else { "false" })
            .with_content(Content::List(found));
        self.send_node(conn, tag, &reply, Duration::ZERO);
    }

    /// The `seed_history` command: `count` text messages ("history 1" … "history N", every
    /// third one the user's) put before everything `chat` holds, one second apart, ending a
    /// second before its oldest message (or now). Not pushed: they are the phone's archive.
    pub(super) fn seed_history(
        &mut self,
        chat: Field<String>,
        count: Field<u64>,
    ) -> Result<Value, String> {
        let chat = user_jid(&chat.need("seed_history", "chat")?);
        let count = count.need("seed_history", "count")?;
        if !(1..=HISTORY_PER_CHAT as u64).contains(&count) {
            return Err(format!(
                "seed_history: count must be 1 to {HISTORY_PER_CHAT}"
            ));
        }
        let messages = self.history.entry(chat.clone()).or_default();
        let end = messages
            .front()
            .and_then(|info| info.message_timestamp)
            .unwrap_or_else(now_s);
        let start = end.saturating_sub(count);
        let group = message::is_group(&chat);
        let mut seeded = Vec::with_capacity(count as usize);
        for n in 1..=count {
            let text = format!("history {n}");
            let id = phone_message_id();
            let timestamp = start + n - 1;
            let info = if n.is_multiple_of(3) {
                message::outgoing(&chat, &id, text_content(&text), timestamp)
            } else {
                let participant = group.then(|| user_jid("4915100000001"));
                message::incoming_text(&chat, &id, &text, timestamp, None, participant.as_deref())
            };
            seeded.push(info);
        }
        let first = seeded.first().and_then(info_id);
        let last = seeded.last().and_then(info_id);
        for info in seeded.into_iter().rev() {
            messages.push_front(info);
        }
        while messages.len() > HISTORY_PER_CHAT {
            messages.pop_front();
        }
        Ok(json!({
            "chat": chat, "count": count, "first_id": first, "last_id": last,
            "total": messages.len(),
        }))
    }
}

impl Core {
    /// The `login_history` command.
    pub(super) fn set_login_history(&mut self, per_chat: Field<u64>) -> Result<Value, String> {
        let per_chat = per_chat.need("login_history", "per_chat")?;
        if per_chat > LOGIN_HISTORY_MAX {
            return Err(format!(
                "login_history: per_chat must be 0 to {LOGIN_HISTORY_MAX}"
            ));
        }
        self.knobs.login_history = per_chat as usize;
        Ok(json!({ "per_chat": per_chat }))
    }

    /// The login-time history batches (PROTOCOL.md 8.3 step 4): one `add="before"` action per
    /// chat with its `login_history` most recent messages, oldest first, the final one marked
    /// `last="true"`. None when `login_history` is 0.
    pub(super) fn login_history_batches(&self) -> Vec<Node> {
        let per_chat = self.knobs.login_history;
        if per_chat == 0 {
            return Vec::new();
        }
        let mut batches: Vec<Node> = self
            .history
            .values()
            .filter(|messages| !messages.is_empty())
            .map(|messages| {
                let recent = messages
                    .iter()
                    .skip(messages.len().saturating_sub(per_chat))
                    .map(message_node)
                    .collect();
                Node::new("action")
                    .attr("add", "before")
                    .with_content(Content::List(recent))
            })
            .collect();
        if let Some(last) = batches.pop() {
            batches.push(last.attr("last", "true"));
        }
        batches
    }
}

fn text_content(text: &str) -> pb::Message {
    pb::Message {
        conversation: Some(text.to_owned()),
        ..Default::default()
    }
}

fn info_id(info: &pb::WebMessageInfo) -> Option<String> {
    info.key.as_ref()?.id.clone()
}

fn message_node(info: &pb::WebMessageInfo) -> Node {
    Node::new("message").with_content(Content::Bytes(message::encode(info)))
}

/// A message's text and caption, lower-cased, as a client would show them: read the way the
/// daemon reads a message, so both sides agree on what "the text" is.
fn searchable(info: &pb::WebMessageInfo) -> String {
    match message::interpret(info.clone(), None, Source::History) {
        Ok(Received::Message(event)) => {
            let caption = event.media.as_ref().and_then(|media| media.caption.clone());
            let text = [event.text, caption].into_iter().flatten();
            text.collect::<Vec<_>>().join("\n").to_lowercase()
        }
        _ => String::new(),
    }
}

fn sort_key(info: &pb::WebMessageInfo) -> (u64, Option<&str>, Option<&str>) {
    let key = info.key.as_ref();
    (
        info.message_timestamp.unwrap_or(0),
        key.and_then(|key| key.remote_jid.as_deref()),
        key.and_then(|key| key.id.as_deref()),
    )
}
