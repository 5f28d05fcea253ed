//! What the client receives besides plain texts and media, built from PROTOCOL.md (not from
//! what our daemon expects), so any legacy client can be tested against it: rich texts
//! (quotes, mentions), locations and contact cards, revokes, presence and typing, group changes,
//! the phone's own chat actions, the block list and calls.
//!
//! ```text
//! send_text + quote/mentions  -> action add=relay: WMI extendedTextMessage{contextInfo}      (9.4)
//! send_location / send_contact-> action add=relay: WMI locationMessage / contact(s)Message   (9.4)
//! revoke                      -> action add=relay: WMI protocolMessage{REVOKE, key}          (9.4)
//! presence / typing           -> ["Presence",{"id","type","t"?,"participant"?}]             (3.6)
//! group …                     -> see group_ops.rs
//! phone_action                -> action: <chat jid type …/> or <read jid type?/>              (8.2)
//! block                       -> ["Blocklist",{"id":1,"blocklist":[…]}]                      (3.4)
//! call offer / missed         -> action: <call from id><offer call-id/></call> / stub 40      (8.2, 9.1)
//! ```

use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::message::{self, compose, pb};

use super::{Core, now_s, user_jid};
use crate::command::Field;

/// A JID as JSON pushes spell it (`@c.us` for people).
pub(super) fn json_jid(number_or_jid: &str) -> String {
    message::jid_for_json_command(&user_jid(number_or_jid))
}

impl Core {
    /// Sends `content` from `from` (in `chat` when a group), as a live relay; the message id.
    pub(super) fn deliver_content(
        &mut self,
        from: &str,
        chat: Option<&str>,
        content: pb::Message,
    ) -> Result<String, String> {
        self.deliver_info(from, chat, |remote, id, push_name, participant| {
            message::incoming(remote, id, content, now_s(), push_name, participant)
        })
    }

    fn deliver_info(
        &mut self,
        from: &str,
        chat: Option<&str>,
        build: impl FnOnce(&str, &str, Option<&str>, Option<&str>) -> pb::WebMessageInfo,
    ) -> Result<String, String> {
        let client_id = self.target_session()?;
        let sender = user_jid(from);
        let number = sender.split('@').next().unwrap_or_default().to_owned();
        let remote = chat.map(str::to_owned).unwrap_or_else(|| sender.clone());
        let id = super::phone::phone_message_id();
        let participant = chat.is_some().then_some(sender.as_str());
        let info = build(&remote, &id, Self::contact_name(&number), participant);
        self.deliver(&client_id, &remote, info);
        Ok(id)
    }

    /// A stub message (PROTOCOL.md 9.1) from `from` (in `chat` when a group): no content, the
    /// stub type and its parameters; the message id.
    pub(super) fn deliver_stub(
        &mut self,
        from: &str,
        chat: Option<&str>,
        stub: pb::WebMessageInfoStubType,
        parameters: Vec<String>,
    ) -> Result<String, String> {
        self.deliver_info(from, chat, |remote, id, push_name, participant| {
            pb::WebMessageInfo {
                message: None,
                message_stub_type: Some(stub as i32),
                message_stub_parameters: parameters,
                ..message::incoming(
                    remote,
                    id,
                    pb::Message::default(),
                    now_s(),
                    push_name,
                    participant,
                )
            }
        })
    }

    /// `send_text` with a quote, mentions, forwarding or a timer: an `extendedTextMessage`
    /// whose `contextInfo` names the quoted message (embedding it when the phone has it), the
    /// mentioned JIDs, `isForwarded` and `expiration`; with a timer wrapped in an
    /// `ephemeralMessage`, as clients sent in chats with disappearing messages (PROTOCOL.md 11.2).
    pub(super) fn deliver_rich_text(
        &mut self,
        from: &str,
        chat: Option<&str>,
        text: &str,
        rich: RichText,
    ) -> Result<String, String> {
        let remote = chat.map(str::to_owned).unwrap_or_else(|| user_jid(from));
        let mut context = pb::ContextInfo {
            mentioned_jid: rich.mentions.iter().map(|jid| user_jid(jid)).collect(),
            is_forwarded: rich.forwarded.then_some(true),
            forwarding_score: rich.forwarded.then_some(1),
            expiration: rich.ephemeral_s,
            ..Default::default()
        };
        if let Some(quoted_id) = rich.quote.as_deref() {
            let own = user_jid(&self.config.phone_number);
            let quoted = self.history.get(&remote).and_then(|messages| {
                messages.iter().find(|info| {
                    info.key.as_ref().and_then(|key| key.id.as_deref()) == Some(quoted_id)
                })
            });
            context.stanza_id = Some(quoted_id.to_owned());
            if let Some(quoted) = quoted {
                let key = quoted.key.clone().unwrap_or_default();
                let author = if key.from_me == Some(true) {
                    Some(own)
                } else {
                    quoted.participant.clone().or(key.remote_jid)
                };
                context.participant = author;
                context.quoted_message = quoted.message.clone().map(Box::new);
            }
            if chat.is_some() {
                context.remote_jid = Some(remote.clone());
            }
        }
        let mut content = pb::Message {
            extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
                text: Some(text.to_owned()),
                context_info: Some(context),
                ..Default::default()
            })),
            ..Default::default()
        };
        if rich.ephemeral_s.is_some() {
            content = pb::Message {
                ephemeral_message: Some(Box::new(pb::FutureProofMessage {
                    message: Some(Box::new(content)),
                })),
                ..Default::default()
            };
        }
        self.deliver_content(from, chat, content)
    }

    pub(super) fn send_location(
        &mut self,
        from: Field<String>,
        chat: Field<String>,
        latitude: Field<f64>,
        longitude: Field<f64>,
        place: (Field<String>, Field<String>),
    ) -> Result<Value, String> {
        let from = from.need("send_location", "from")?;
        let latitude = latitude.need("send_location", "latitude")?;
        let longitude = longitude.need("send_location", "longitude")?;
        let content = pb::Message {
            location_message: Some(Box::new(pb::LocationMessage {
                degrees_latitude: Some(latitude),
                degrees_longitude: Some(longitude),
                name: place.0.get(),
                address: place.1.get(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let id = self.deliver_content(&from, chat.get().as_deref(), content)?;
        Ok(json!({"id": id}))
    }

    pub(super) fn send_contact(
        &mut self,
        from: Field<String>,
        chat: Field<String>,
        contacts: Field<Vec<Value>>,
    ) -> Result<Value, String> {
        let from = from.need("send_contact", "from")?;
        let contacts = contacts.need("send_contact", "contacts")?;
        let text =
            |card: &Value, field: &str| card.get(field).and_then(Value::as_str).map(str::to_owned);
        let mut cards: Vec<pb::ContactMessage> = contacts
            .iter()
            .map(|card| pb::ContactMessage {
                display_name: text(card, "display_name"),
                vcard: text(card, "vcard"),
                ..Default::default()
            })
            .collect();
        let content = match cards.len() {
            0 => return Err("send_contact needs at least one contact".into()),
            1 => pb::Message {
                contact_message: cards.pop().map(Box::new),
                ..Default::default()
            },
            count => pb::Message {
                contacts_array_message: Some(Box::new(pb::ContactsArrayMessage {
                    display_name: Some(format!("{count} contacts")),
                    contacts: cards,
                    ..Default::default()
                })),
                ..Default::default()
            },
        };
        let id = self.deliver_content(&from, chat.get().as_deref(), content)?;
        Ok(json!({"id": id}))
    }

    /// A contact deletes their message `id` for everyone: a relayed `protocolMessage` REVOKE
    /// whose key names the message as the receiving side stored it (`fromMe: false`), as
    /// legacy clients look it up.
    pub(super) fn revoke(
        &mut self,
        from: Field<String>,
        id: Field<String>,
        chat: Field<String>,
    ) -> Result<Value, String> {
        let from = from.need("revoke", "from")?;
        let target = id.need("revoke", "id")?;
        let chat = chat.get();
        let sender = user_jid(&from);
        let remote = chat.clone().unwrap_or_else(|| sender.clone());
        let content = compose::revoke_key(pb::MessageKey {
            remote_jid: Some(remote),
            from_me: Some(false),
            id: Some(target),
            participant: chat.is_some().then_some(sender),
        });
        let id = self.deliver_content(&from, chat.as_deref(), content)?;
        Ok(json!({"id": id}))
    }

    /// `["Presence",{…}]` to the connected client (3.6).
    fn push_presence(&mut self, body: Value) -> Result<Value, String> {
        let conn = self.active_conn()?;
        self.push_json(conn, &json!(["Presence", body]));
        Ok(json!({}))
    }

    pub(super) fn presence(
        &mut self,
        from: Field<String>,
        presence: Field<String>,
        last_seen: Field<u64>,
    ) -> Result<Value, String> {
        let from = from.need("presence", "from")?;
        let presence = presence.need("presence", "presence")?;
        if !matches!(presence.as_str(), "available" | "unavailable") {
            return Err("presence is available or unavailable (typing has its own command)".into());
        }
        let mut body = json!({"id": json_jid(&from), "type": presence});
        if presence == "unavailable" {
            body["t"] = json!(last_seen.get().unwrap_or_else(now_s));
        }
        self.push_presence(body)
    }

    pub(super) fn typing(
        &mut self,
        from: Field<String>,
        chat: Field<String>,
        state: Field<String>,
    ) -> Result<Value, String> {
        let from = from.need("typing", "from")?;
        let chat = chat.need("typing", "chat")?;
        let state = state.need("typing", "state")?;
        if !matches!(state.as_str(), "composing" | "recording" | "paused") {
            return Err("typing state is composing, recording or paused".into());
        }
        let body = if message::is_group(&chat) {
            json!({"id": chat, "type": state, "participant": json_jid(&from)})
        } else {
            json!({"id": json_jid(&from), "type": state})
        };
        self.push_presence(body)
    }

    /// The user acts on a chat on the phone: an `action` push with a `chat` child (archive,
    /// unarchive, pin, unpin, mute, unmute, delete, clear, star, unstar) or a `read` child
    /// (read, unread), in the attribute forms of 8.2 and 11.2.
    pub(super) fn phone_action(
        &mut self,
        action: Field<String>,
        chat: Field<String>,
        value: Field<String>,
        messages: Field<Vec<String>>,
    ) -> Result<Value, String> {
        let action = action.need("phone_action", "action")?;
        let jid = user_jid(&chat.need("phone_action", "chat")?);
        let now = now_s().to_string();
        let value = value.get();
        let items = || {
            messages
                .get()
                .unwrap_or_default()
                .into_iter()
                .map(|id| Node::new("item").attr("owner", "false").attr("index", id))
                .collect::<Vec<_>>()
        };
        let chat_node = |kind: &str| {
            Node::new("chat")
                .attr("jid", jid.clone())
                .attr("type", kind.to_owned())
        };
        let child = match action.as_str() {
            "read" => Node::new("read").attr("jid", jid.clone()),
            "unread" => Node::new("read")
                .attr("jid", jid.clone())
                .attr("type", "false"),
            "archive" | "unarchive" | "delete" => chat_node(&action),
            "pin" => chat_node("pin").attr("pin", value.unwrap_or(now)),
            "unpin" => chat_node("pin").attr("previous", value.unwrap_or(now)),
            "mute" => chat_node("mute").attr(
                "mute",
                value.unwrap_or_else(|| (now_s() + 8 * 3600).to_string()),
            ),
            "unmute" => chat_node("mute").attr("previous", value.unwrap_or(now)),
            "clear" | "star" | "unstar" => chat_node(&action).with_content(Content::List(items())),
            other => return Err(format!("unknown phone_action {other:?}")),
        };
        if let Err(status) = self.book.change(&jid, &child, false) {
            return Err(format!("the phone cannot {action} {jid} (status {status})"));
        }
        let conn = self.active_conn()?;
        let node = Node::new("action").with_content(Content::List(vec![child]));
        self.push_node(conn, &node, std::time::Duration::ZERO);
        Ok(json!({}))
    }

    /// The user blocks (or unblocks) someone on the phone: the full list, as 3.4 sends it.
    pub(super) fn block(
        &mut self,
        jid: Field<String>,
        unblock: Field<bool>,
    ) -> Result<Value, String> {
        let jid = json_jid(&jid.need("block", "jid")?);
        if unblock.get() == Some(true) {
            self.blocklist.remove(&jid);
        } else {
            self.blocklist.insert(jid);
        }
        let conn = self.active_conn()?;
        let payload = self.blocklist_push();
        self.push_json(conn, &payload);
        Ok(json!({"blocklist": payload[1]["blocklist"]}))
    }

    /// `["Blocklist",{"id":1,"blocklist":[…]}]` as it is now.
    pub(super) fn blocklist_push(&self) -> Value {
        json!(["Blocklist", {"id": 1, "blocklist": self.blocklist.iter().collect::<Vec<_>>()}])
    }

    /// A contact calls: an `offer` arrives as an `action` with a `call` child (`from`, `id`,
    /// and an `offer` child with `call-id`; PROTOCOL.md 8.2 lists `call` children without their
    /// form, this is the form DESIGN.md 7.4 settles); a `missed` call as the
    /// CALL_MISSED_VOICE stub message the phone shows (9.1).
    pub(super) fn call(
        &mut self,
        from: Field<String>,
        status: Field<String>,
        id: Field<String>,
    ) -> Result<Value, String> {
        let from = from.need("call", "from")?;
        let status = status.get().unwrap_or_else(|| "offer".to_owned());
        if status == "missed" {
            let stub = pb::WebMessageInfoStubType::CallMissedVoice;
            let id = self.deliver_stub(&from, None, stub, Vec::new())?;
            return Ok(json!({"id": id}));
        }
        let id = id.get().unwrap_or_else(|| {
            format!(
                "{}-{}",
                now_s(),
                super::random_bytes::<2>()
                    .iter()
                    .map(|b| b.to_string())
                    .collect::<String>()
            )
        });
        let caller = user_jid(&from);
        let call = Node::new("call")
            .attr("from", caller.clone())
            .attr("id", id.clone())
            .with_content(Content::List(vec![
                Node::new(status)
                    .attr("call-id", id.clone())
                    .attr("call-creator", caller),
            ]));
        let conn = self.active_conn()?;
        let node = Node::new("action").with_content(Content::List(vec![call]));
        self.push_node(conn, &node, std::time::Duration::ZERO);
        Ok(json!({"id": id}))
    }
}

/// What makes a `send_text` more than a `conversation`.
pub(super) struct RichText {
    pub(super) quote: Option<String>,
    pub(super) mentions: Vec<String>,
    pub(super) forwarded: bool,
    pub(super) ephemeral_s: Option<u32>,
}

impl RichText {
    /// Nothing to add: the plain `conversation` phones sent for ordinary texts.
    pub(super) fn is_plain(&self) -> bool {
        self.quote.is_none()
            && self.mentions.is_empty()
            && !self.forwarded
            && self.ephemeral_s.is_none()
    }
}
