//! The phone's chats and address book, as state (PROTOCOL.md 8.3, 11.2, 11.3): what the login
//! pushes and `query chat`/`query contacts` answer with, what chat set-actions and the user's
//! actions on the phone change, and what messages move (a chat's `t`, its unread `count`).
//!
//! ```text
//! start                       -> the three contacts and the group, read, t = start
//! message from a contact      -> its chat (created if new): t = now, count + 1
//! message the client relays   -> t = now, count 0 (writing in a chat reads it)
//! <chat type=archive|unarchive|delete|clear|pin|mute|star|unstar …/> -> changed; 404 for a chat the phone does not have
//! <read jid count=…/>         -> count 0 (count -2: -1, marked unread)
//! phone_action                -> the same change, pushed to the client
//! add_chats / add_contacts    -> bulk entries (explicit, or `count` generated ones)
//! chat_state                  -> {"chats":[…],"contacts":[…]} as the phone has them
//! remove_chat                 -> the chat goes without the client being told (for 404 tests)
//! ```
//!
//! Where PROTOCOL.md is silent the choices are: an action on a chat the phone does not have is
//! answered 404 (as `query message` is for an unknown anchor); a `mute` without a future `mute`
//! time is 400; a `read` of an unknown chat is 404 too.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::message;

use super::phone::{CONTACTS, GROUP_SUBJECT};
use super::{Core, now_s, user_jid};
use crate::command::Field;

/// One chat on the phone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SimChat {
    pub(super) name: Option<String>,
    pub(super) t: u64,
    /// Unread messages; -1 = marked unread.
    pub(super) count: i64,
    pub(super) archive: bool,
    pub(super) pin: Option<u64>,
    pub(super) mute: Option<u64>,
    pub(super) read_only: bool,
    pub(super) ephemeral: Option<u64>,
    /// Changes with every change of the chat (B compares it to see what changed).
    pub(super) modify_tag: u64,
}

/// One address-book entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SimContact {
    pub(super) name: Option<String>,
    pub(super) notify: Option<String>,
    pub(super) short: Option<String>,
}

/// The phone's chats and contacts, keyed by canonical JID (`@s.whatsapp.net`, `@g.us`).
#[derive(Debug, Clone, Default)]
pub(super) struct ChatBook {
    pub(super) chats: BTreeMap<String, SimChat>,
    pub(super) contacts: BTreeMap<String, SimContact>,
    next_tag: u64,
}

impl ChatBook {
    /// The initial state: the three contacts and `group` (named `GROUP_SUBJECT`), all read.
    pub(super) fn new(group: String) -> Self {
        let mut book = ChatBook::default();
        let now = now_s();
        for contact in &CONTACTS {
            let jid = user_jid(contact.number);
            let name = Some(contact.name.to_owned());
            book.contacts.insert(
                jid.clone(),
                SimContact {
                    name: name.clone(),
                    notify: name.clone(),
                    short: name.clone(),
                },
            );
            book.insert(jid, name, now);
        }
        book.insert(group, Some(GROUP_SUBJECT.to_owned()), now);
        book
    }

    fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.next_tag
    }

    fn insert(&mut self, jid: String, name: Option<String>, t: u64) {
        let modify_tag = self.tag();
        self.chats.insert(
            jid,
            SimChat {
                name,
                t,
                modify_tag,
                ..SimChat::default()
            },
        );
    }

    /// A message in `chat` at `t`; `unread`: from someone else (else the user wrote, which
    /// reads the chat). A chat the phone did not have is created.
    pub(super) fn message(&mut self, chat: &str, t: u64, unread: bool) {
        let tag = self.tag();
        // Floods pass here: a chat the phone has costs a lookup, no allocation.
        if !self.chats.contains_key(chat) {
            let name = self
                .contacts
                .get(chat)
                .and_then(|contact| contact.name.clone());
            let new = SimChat {
                name,
                ..SimChat::default()
            };
            self.chats.insert(chat.to_owned(), new);
        }
        let Some(entry) = self.chats.get_mut(chat) else {
            return;
        };
        entry.t = entry.t.max(t);
        entry.count = if unread { entry.count.max(0) + 1 } else { 0 };
        entry.modify_tag = tag;
    }

    /// A change of chat `jid` (a `chat` set-action child or a phone action), as PROTOCOL.md 8.2
    /// and 11.2 spell it; `Err(status)` when the phone refuses. `client`: a client asked (the
    /// phone's own actions are never refused, a past mute included).
    pub(super) fn change(&mut self, jid: &str, node: &Node, client: bool) -> Result<(), u16> {
        let tag = self.tag();
        if !self.chats.contains_key(jid) {
            return Err(404);
        }
        let number = |name: &str| node.get(name).and_then(|value| value.parse::<u64>().ok());
        if node.tag == "read" {
            let chat = self.chats.get_mut(jid).ok_or(404u16)?;
            // count -2 (a client) and type=false (the phone) mark the chat unread.
            let unread = node.get("count") == Some("-2") || node.get("type") == Some("false");
            chat.count = if unread { -1 } else { 0 };
            chat.modify_tag = tag;
            return Ok(());
        }
        match node.get("type") {
            Some("delete") => {
                self.chats.remove(jid);
                return Ok(());
            }
            Some("mute") => match number("mute") {
                Some(until) if until <= now_s() && client => return Err(400),
                Some(until) => self.edit(jid, |chat| chat.mute = Some(until)),
                None => self.edit(jid, |chat| chat.mute = None),
            },
            Some("pin") => {
                let pin = number("pin");
                self.edit(jid, |chat| chat.pin = pin);
            }
            Some("archive") => self.edit(jid, |chat| chat.archive = true),
            Some("unarchive") => self.edit(jid, |chat| chat.archive = false),
            Some("clear") => self.edit(jid, |chat| chat.count = 0),
            Some("star" | "unstar") => {}
            _ => return Err(400),
        }
        if let Some(chat) = self.chats.get_mut(jid) {
            chat.modify_tag = tag;
        }
        Ok(())
    }

    fn edit(&mut self, jid: &str, change: impl FnOnce(&mut SimChat)) {
        if let Some(chat) = self.chats.get_mut(jid) {
            change(chat);
        }
    }

    /// `<response type="chat">` with every chat (8.3 attributes).
    pub(super) fn chat_list(&self) -> Node {
        let chats = self
            .chats
            .iter()
            .map(|(jid, chat)| {
                let mut node = Node::new("chat")
                    .attr("jid", jid.clone())
                    .attr("t", chat.t.to_string())
                    .attr("count", chat.count.to_string())
                    .attr("spam", "false")
                    .attr("modify_tag", chat.modify_tag.to_string());
                if let Some(name) = &chat.name {
                    node = node.attr("name", name.clone());
                }
                if chat.archive {
                    node = node.attr("archive", "true");
                }
                if let Some(pin) = chat.pin {
                    node = node.attr("pin", pin.to_string());
                }
                if let Some(mute) = chat.mute {
                    node = node.attr("mute", mute.to_string());
                }
                if chat.read_only {
                    node = node.attr("read_only", "true");
                }
                if let Some(ephemeral) = chat.ephemeral {
                    node = node.attr("ephemeral", ephemeral.to_string());
                }
                node
            })
            .collect();
        Node::new("response")
            .attr("type", "chat")
            .with_content(Content::List(chats))
    }

    /// `<response type="contacts">` with every contact.
    pub(super) fn contact_list(&self) -> Node {
        let users = self
            .contacts
            .iter()
            .enumerate()
            .map(|(index, (jid, contact))| {
                let mut node = Node::new("user").attr("jid", jid.clone());
                for (name, value) in [
                    ("name", &contact.name),
                    ("notify", &contact.notify),
                    ("short", &contact.short),
                ] {
                    if let Some(value) = value {
                        node = node.attr(name, value.clone());
                    }
                }
                node.attr("index", index.to_string())
            })
            .collect();
        Node::new("response")
            .attr("type", "contacts")
            .attr("checksum", format!("sim-contacts-{}", self.contacts.len()))
            .with_content(Content::List(users))
    }

    /// The state as JSON, for `chat_state` and the `done` lines.
    pub(super) fn state(&self) -> Value {
        let chats: Vec<Value> = self
            .chats
            .iter()
            .map(|(jid, chat)| {
                json!({
                    "jid": jid, "name": chat.name, "t": chat.t, "count": chat.count,
                    "archive": chat.archive, "pin": chat.pin, "mute": chat.mute,
                    "read_only": chat.read_only, "ephemeral": chat.ephemeral,
                    "modify_tag": chat.modify_tag,
                })
            })
            .collect();
        let contacts: Vec<Value> = self
            .contacts
            .iter()
            .map(|(jid, contact)| {
                json!({"jid": jid, "name": contact.name, "notify": contact.notify, "short": contact.short})
            })
            .collect();
        json!({"chats": chats, "contacts": contacts})
    }
}

/// A JID or number as the phone keys chats (people `@s.whatsapp.net`).
fn chat_key(jid: &str) -> String {
    user_jid(&message::normalize_jid(jid))
}

fn text_at(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

impl Core {
    /// `add_chats`: `chats` (objects with `jid` and any of `name`, `t`, `count`, `archive`,
    /// `pin`, `mute`, `read_only`, `ephemeral`) and/or `count` generated person chats
    /// (`4917000000000` + n, named `Chat n`, `t` one second apart, newest last).
    pub(super) fn add_chats(
        &mut self,
        chats: Field<Vec<Value>>,
        count: Field<u32>,
    ) -> Result<Value, String> {
        let chats = chats.get().unwrap_or_default();
        let count = count.get().unwrap_or(0);
        if chats.is_empty() && count == 0 {
            return Err("add_chats needs \"chats\" or \"count\"".into());
        }
        let now = now_s();
        for (n, chat) in chats.iter().enumerate() {
            let jid = text_at(chat, "jid").ok_or(format!("add_chats: chat {n} needs \"jid\""))?;
            let number = |field: &str| chat.get(field).and_then(Value::as_u64);
            let tag = self.book.tag();
            self.book.chats.insert(
                chat_key(&jid),
                SimChat {
                    name: text_at(chat, "name"),
                    t: number("t").unwrap_or(now),
                    count: chat.get("count").and_then(Value::as_i64).unwrap_or(0),
                    archive: chat.get("archive") == Some(&json!(true)),
                    pin: number("pin"),
                    mute: number("mute"),
                    read_only: chat.get("read_only") == Some(&json!(true)),
                    ephemeral: number("ephemeral"),
                    modify_tag: tag,
                },
            );
        }
        let start = now.saturating_sub(u64::from(count));
        for n in 0..count {
            let jid = user_jid(&format!("{}", 4_917_000_000_000u64 + u64::from(n)));
            self.book
                .insert(jid, Some(format!("Chat {n}")), start + u64::from(n));
        }
        Ok(json!({"chats": self.book.chats.len()}))
    }

    /// `add_contacts`: `contacts` (objects with `jid` and any of `name`, `notify`, `short`)
    /// and/or `count` generated ones (`4917000000000` + n, named `Contact n`).
    pub(super) fn add_contacts(
        &mut self,
        contacts: Field<Vec<Value>>,
        count: Field<u32>,
    ) -> Result<Value, String> {
        let contacts = contacts.get().unwrap_or_default();
        let count = count.get().unwrap_or(0);
        if contacts.is_empty() && count == 0 {
            return Err("add_contacts needs \"contacts\" or \"count\"".into());
        }
        for (n, contact) in contacts.iter().enumerate() {
            let jid = text_at(contact, "jid")
                .ok_or(format!("add_contacts: contact {n} needs \"jid\""))?;
            self.book.contacts.insert(
                chat_key(&jid),
                SimContact {
                    name: text_at(contact, "name"),
                    notify: text_at(contact, "notify"),
                    short: text_at(contact, "short"),
                },
            );
        }
        for n in 0..count {
            let jid = user_jid(&format!("{}", 4_917_000_000_000u64 + u64::from(n)));
            let name = Some(format!("Contact {n}"));
            self.book.contacts.insert(
                jid,
                SimContact {
                    name: name.clone(),
                    notify: name,
                    short: None,
                },
            );
        }
        Ok(json!({"contacts": self.book.contacts.len()}))
    }

    /// `remove_chat`: the chat goes, silently.
    pub(super) fn remove_chat(&mut self, chat: Field<String>) -> Result<Value, String> {
        let jid = chat_key(&chat.need("remove_chat", "chat")?);
        match self.book.chats.remove(&jid) {
            Some(_) => Ok(json!({})),
            None => Err(format!("the phone has no chat {jid}")),
        }
    }

    /// The children of a client's set-action that concern chats (`chat`, `read`), applied;
    /// the first refusal's status, if any.
    pub(super) fn chat_set_action(&mut self, node: &Node) -> Option<u16> {
        let mut refused = None;
        for child in node.children() {
            if !matches!(child.tag.as_ref(), "chat" | "read") {
                continue;
            }
            let jid = chat_key(child.get("jid").unwrap_or_default());
            if let Err(status) = self.book.change(&jid, child, true) {
                refused.get_or_insert(status);
            }
        }
        refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_actions_change_the_chat_and_unknown_chats_are_refused() {
        let group = "4915100000000-1600000000@g.us".to_owned();
        let mut book = ChatBook::new(group.clone());
        assert_eq!(book.chats.len(), 4);
        let alice = "4915100000001@s.whatsapp.net";
        let chat = |kind: &str| {
            Node::new("chat")
                .attr("jid", alice)
                .attr("type", kind.to_owned())
        };
        let tag = book.chats[alice].modify_tag;
        assert_eq!(book.change(alice, &chat("archive"), true), Ok(()));
        assert!(book.chats[alice].archive);
        assert!(book.chats[alice].modify_tag > tag);
        let until = now_s() + 3600;
        assert_eq!(
            book.change(alice, &chat("mute").attr("mute", until.to_string()), true),
            Ok(())
        );
        assert_eq!(book.chats[alice].mute, Some(until));
        assert_eq!(
            book.change(alice, &chat("mute").attr("mute", "5"), true),
            Err(400)
        );
        assert_eq!(
            book.change(
                alice,
                &chat("mute").attr("previous", until.to_string()),
                true
            ),
            Ok(())
        );
        assert_eq!(book.chats[alice].mute, None);
        assert_eq!(
            book.change(alice, &chat("pin").attr("pin", "1600000100"), true),
            Ok(())
        );
        assert_eq!(book.chats[alice].pin, Some(1_600_000_100));
        book.message(alice, now_s(), true);
        book.message(alice, now_s(), true);
        assert_eq!(book.chats[alice].count, 2);
        let read = Node::new("read").attr("jid", alice).attr("count", "-2");
        assert_eq!(book.change(alice, &read, true), Ok(()));
        assert_eq!(book.chats[alice].count, -1);
        assert_eq!(book.change(alice, &chat("delete"), true), Ok(()));
        assert!(!book.chats.contains_key(alice));
        assert_eq!(book.change(alice, &chat("archive"), true), Err(404));
        // A message brings the chat back, named from the address book.
        book.message(alice, now_s(), true);
        assert_eq!(book.chats[alice].name.as_deref(), Some("Alice"));
        assert_eq!(book.chats[alice].count, 1);
        let list = book.chat_list();
        assert_eq!(list.children().len(), 4);
        assert!(
            list.children()
                .iter()
                .any(|c| c.get("jid") == Some(group.as_str()))
        );
    }
}
