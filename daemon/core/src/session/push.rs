//! Pushes from the server, mapped to outcomes (PROTOCOL.md sections 3.6-3.8 and 8).
//!
//! ```text
//! ["Msg",{"cmd":"ack","id":"3EB0…","ack":2,"from":"4915100000001@c.us","to":"…"}]
//!     -> Push::Event(Event::Ack { id: "3EB0…", ack: 2, chat: "4915100000001@s.whatsapp.net", error: None })
//! <action add="relay"><battery value="52" live="false"/></action>
//!     -> Push::Battery(Battery { percent: 52, plugged: false, powersave: false })
//! <action add="last"><message>WMI</message>…</action>
//!     -> Push::Message { event: message (source history), raw: WMI } per child
//! ["Presence",{"id":"49…@c.us","type":"available"}]  -> Push::Event(Event::Presence(…))
//! ```
//!
//! Nothing is dropped: a push without a typed meaning comes out as a `json` event, and the
//! children of an `action` that map to nothing as one `node` event holding just those children.
//! The typed pushes (DESIGN.md 7.3) are read in [`super::notices`].

use serde_json::Value;
use waweb_proto::message::{Message, Source};
use waweb_proto::{Battery, Event};

use super::notices;
use crate::binary::{Content, Node};
use crate::message::{self, Received};

/// What a push means for the session.
///
/// Most outcomes are events, which live only until the caller publishes them; boxing them to
/// shrink the small variants would cost an allocation per message on the receive path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Push {
    /// Publish this event.
    Event(Event),
    /// Publish this `message` event and store it with the `WebMessageInfo` bytes it came as.
    Message {
        /// The event.
        event: Box<Message>,
        /// The encoded `WebMessageInfo`, exactly as received.
        raw: Vec<u8>,
    },
    /// The phone's battery as it is now (publish a `battery` event only when it changed).
    Battery(Battery),
    /// Whether the phone is connected to the server, as the server last said.
    PhoneOnline(Option<bool>),
    /// A child that should have mapped (a message, a receipt, a battery level) but is broken;
    /// it is also in the `node` event. For the log: the reason never holds message content.
    Undecodable {
        /// The child's tag.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A chat or contact list (PROTOCOL.md 8.3), for the daemon's store; the `response` node
    /// also goes out as a `node` event (DESIGN.md 4.1).
    List(super::lists::List),
    /// `Cmd disconnect`: another browser took over (`replaced`), or the phone removed this
    /// device (any other kind).
    Disconnect {
        /// `kind: "replaced"`.
        replaced: bool,
    },
}

/// A JSON push that no pending request claimed. `Conn` is the caller's (it rotates tokens);
/// `own_wid` tells which side of an ack is the chat.
pub fn json_push(tag: &str, payload: Value, own_wid: &str) -> Vec<Push> {
    let kind = payload.get(0).and_then(Value::as_str).unwrap_or_default();
    let body = payload.get(1).unwrap_or(&Value::Null);
    let mut pushes = Vec::new();
    match kind {
        "Cmd" if body["type"] == "disconnect" => {
            return vec![Push::Disconnect {
                replaced: body["kind"] == "replaced",
            }];
        }
        "Msg" | "MsgInfo" => {
            let acks = acks(body, own_wid);
            if !acks.is_empty() {
                return acks;
            }
        }
        "Pong" => pushes.push(Push::PhoneOnline(body.as_bool())),
        _ => {}
    }
    let typed = match kind {
        "Presence" => notices::presence(body),
        "Blocklist" => notices::blocklist(body),
        "Cmd" if body["type"] == "picture" => notices::picture(body),
        "Chat" => notices::group(body),
        "Call" => notices::call_json(body),
        _ => None,
    };
    if let Some(event) = typed {
        pushes.push(Push::Event(event));
        return pushes;
    }
    pushes.push(Push::Event(Event::Json {
        tag: tag.to_owned(),
        payload,
    }));
    pushes
}

/// `{"cmd":"ack"|"acks","id":…|[…],"ack":n,"from","to"}`: one `ack` event per id.
fn acks(body: &Value, own_wid: &str) -> Vec<Push> {
    let is_ack = body["cmd"]
        .as_str()
        .is_some_and(|cmd| cmd == "ack" || cmd == "acks");
    if !is_ack {
        return Vec::new();
    }
    let from = message::normalize_jid(body["from"].as_str().unwrap_or_default());
    let to = message::normalize_jid(body["to"].as_str().unwrap_or_default());
    let chat = if from == own_wid { to } else { from };
    let ack = body["ack"].as_i64().unwrap_or(0);
    let ids: Vec<&str> = match &body["id"] {
        Value::String(id) => vec![id.as_str()],
        Value::Array(ids) => ids.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    ids.into_iter()
        .map(|id| {
            Push::Event(Event::Ack {
                id: id.to_owned(),
                ack,
                chat: chat.clone(),
                error: None,
            })
        })
        .collect()
}

/// How the messages of an `action` came, from its `add` (PROTOCOL.md 8.2); `None` for an
/// `add` this daemon does not know, whose node goes out whole.
fn source_of(add: Option<&str>) -> Option<Source> {
    match add {
        None | Some("relay") => Some(Source::Live),
        Some("update") => Some(Source::Update),
        Some("last" | "before" | "after" | "unread") => Some(Source::History),
        Some(_) => None,
    }
}

/// A decrypted binary push. `action`s are mapped child by child, their messages with the
/// `source` their `add` gives (history batches too: `source` lets a bot skip old messages);
/// a top-level `read` or `call` is mapped like the `action` child it stands for, and so are
/// the `call` children of a server `query`; other nodes go out whole as `node` events.
pub fn node_push(frame_tag: &str, mut node: Node) -> Vec<Push> {
    if let Some(list) = super::lists::read(&node) {
        return vec![Push::List(list), node_event(frame_tag, &node)];
    }
    if matches!(node.tag.as_ref(), "read" | "call") {
        return match action_child(&mut node, Source::Live) {
            Ok(push) => vec![push],
            Err(why) => {
                let mut pushes: Vec<Push> = undecodable(&node, why).into_iter().collect();
                pushes.push(node_event(frame_tag, &node));
                pushes
            }
        };
    }
    // The server asks about a call with a `query` (PROTOCOL.md 8.1): its `call` children map
    // as an `action`'s do.
    let mapped = node.tag == "action"
        || (node.tag == "query" && node.children().iter().any(|child| child.tag == "call"));
    let source = source_of(node.get("add"));
    let Some(source) = source.filter(|_| mapped) else {
        return vec![node_event(frame_tag, &node)];
    };
    let Node {
        tag,
        attrs,
        content,
    } = node;
    let children = match content {
        Content::List(children) => children,
        other => {
            let node = Node {
                tag,
                attrs,
                content: other,
            };
            return vec![node_event(frame_tag, &node)];
        }
    };
    let mut pushes = Vec::new();
    let mut unmapped = Vec::new();
    for mut child in children {
        match action_child(&mut child, source) {
            Ok(push) => pushes.push(push),
            Err(why) => {
                pushes.extend(undecodable(&child, why));
                unmapped.push(child);
            }
        }
    }
    if !unmapped.is_empty() {
        let node = Node {
            tag,
            attrs,
            content: Content::List(unmapped),
        };
        pushes.push(node_event(frame_tag, &node));
    }
    pushes
}

/// The bytes of a child whose content is bytes (or a string), taken out of it: the child has
/// mapped and is dropped next.
fn take_bytes(child: &mut Node) -> Vec<u8> {
    match std::mem::replace(&mut child.content, Content::Null) {
        Content::Bytes(bytes) => bytes,
        Content::Text(text) => text.as_bytes().to_vec(),
        Content::Null | Content::List(_) => Vec::new(),
    }
}

fn undecodable(node: &Node, why: Option<String>) -> Option<Push> {
    why.map(|reason| Push::Undecodable {
        what: node.tag.to_string(),
        reason,
    })
}

/// One child of an `action`; `Err(Some(reason))` when it should have mapped but is broken,
/// `Err(None)` when it has no typed event. A message's bytes move out of a child that mapped
/// (it is dropped then); a child that did not keeps its content for the `node` event.
fn action_child(child: &mut Node, source: Source) -> Result<Push, Option<String>> {
    match child.tag.as_ref() {
        "message" => {
            let raw = child.content_bytes().ok_or("no content".to_owned())?;
            match message::receive(raw, source).map_err(|e| e.to_string())? {
                Received::Message(event) => Ok(Push::Message {
                    event,
                    raw: take_bytes(child),
                }),
                Received::Notice(event) => Ok(Push::Event(event)),
            }
        }
        "read" => notices::read(child).map(Push::Event).map_err(Some),
        "chat" => match notices::chat(child) {
            Ok(Some(event)) => Ok(Push::Event(event)),
            Ok(None) => Err(None),
            Err(broken) => Err(Some(broken)),
        },
        "user" => notices::user(child).map(Push::Event).map_err(Some),
        "call" => notices::call(child).map(Push::Event).map_err(Some),
        "received" => {
            let ack = match child.get("type") {
                Some("read") => 3,
                Some("played") => 4,
                Some("error") => -1,
                _ => 2,
            };
            match (child.get("index"), child.get("jid")) {
                (Some(id), Some(jid)) => Ok(Push::Event(Event::Ack {
                    id: id.to_owned(),
                    ack,
                    chat: message::normalize_jid(jid),
                    error: None,
                })),
                _ => Err(Some("a receipt without index or jid".into())),
            }
        }
        "battery" => match child
            .get("value")
            .and_then(|value| value.parse::<u8>().ok())
        {
            Some(percent) => Ok(Push::Battery(Battery {
                percent: percent.min(100),
                plugged: child.get("live") == Some("true"),
                powersave: child.get("powersave") == Some("true"),
            })),
            None => Err(Some("a battery level that is not a number".into())),
        },
        _ => Err(None),
    }
}

/// A node as a `node` event: its own tag, attrs and content, and the frame's tag.
pub fn node_event(frame_tag: &str, node: &Node) -> Push {
    let value = serde_json::to_value(node).unwrap_or(Value::Null);
    Push::Event(Event::Node {
        tag: node.tag.to_string(),
        attrs: value["attrs"].clone(),
        content: value["content"].clone(),
        frame_tag: frame_tag.to_owned(),
    })
}

/// The battery of a `Conn` (`battery`, `plugged`), if it has one.
pub fn conn_battery(conn: &Value) -> Option<Battery> {
    let percent = conn.get("battery").and_then(Value::as_u64)?;
    Some(Battery {
        percent: percent.min(100) as u8,
        plugged: conn
            .get("plugged")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        powersave: false,
    })
}

/// `Conn` as an event: without the secret and the tokens, which never leave the daemon.
pub fn redact_conn(mut payload: Value) -> Value {
    if let Some(body) = payload.get_mut(1).and_then(Value::as_object_mut) {
        for field in ["secret", "clientToken", "serverToken", "browserToken"] {
            body.remove(field);
        }
    }
    payload
}
