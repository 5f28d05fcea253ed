//! The typed pushes of DESIGN.md 7.3 read from their wire forms (PROTOCOL.md 3.4-3.8, 8.2):
//! each function takes one JSON body or one node and returns its event, or `None` when the push
//! is not one it maps (the caller then keeps it as a `json`/`node` event).
//!
//! ```text
//! ["Presence",{"id":"49…@c.us","type":"composing"}]         -> presence {jid, chat: null, presence: composing}
//! ["Blocklist",{"id":1,"blocklist":["49…@c.us"]}]           -> blocklist {jids: ["49…@s.whatsapp.net"]}
//! ["Cmd",{"type":"picture","jid":"49…@c.us","tag":"removed"}] -> picture {jid, removed: true}
//! ["Chat",{"id":"…@g.us","cmd":"action","data":["add",actor,{"participants":[…]}]}] -> group {action: add, …}
//! <chat jid=… type="pin" pin="1600000000"/>                 -> chat {action: pin, value: "1600000000"}
//! <read jid=… type="false"/>                                -> chat {action: unread}
//! <user jid=… name="Alice" notify="Ali"/>                   -> contact {…}
//! <call from=… id=…><offer call-id=…/></call>               -> call {status: offer}
//! ```

use serde_json::Value;
use waweb_proto::Event;
use waweb_proto::notice::{Blocklist, Call, Chat, Contact, Group, Picture, Presence};

use crate::binary::{Content, Node};
use crate::message::normalize_jid;

fn jid_at(body: &Value, field: &str) -> Option<String> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|jid| !jid.is_empty())
        .map(normalize_jid)
}

fn jids(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(normalize_jid)
                .collect()
        })
        .unwrap_or_default()
}

/// `["Presence",{"id","type","t"?,"participant"?}]` (3.6): inside a group, `participant` is the
/// one typing and `id` the group.
pub fn presence(body: &Value) -> Option<Event> {
    let id = jid_at(body, "id")?;
    let presence = body.get("type").and_then(Value::as_str)?.to_owned();
    let (jid, chat) = match jid_at(body, "participant") {
        Some(participant) => (participant, Some(id)),
        None => (id, None),
    };
    Some(Event::Presence(Presence {
        jid,
        chat,
        presence,
        last_seen: body.get("t").and_then(Value::as_u64),
    }))
}

/// `["Blocklist",{"id":1,"blocklist":[jids]}]` (3.4): the whole list.
pub fn blocklist(body: &Value) -> Option<Event> {
    body.get("blocklist")?.as_array()?;
    Some(Event::Blocklist(Blocklist {
        jids: jids(body.get("blocklist")),
    }))
}

/// `["Cmd",{"type":"picture","jid","tag"?}]` (3.5): `tag: "removed"` means removed.
pub fn picture(body: &Value) -> Option<Event> {
    Some(Event::Picture(Picture {
        jid: jid_at(body, "jid")?,
        removed: body.get("tag").and_then(Value::as_str) == Some("removed"),
    }))
}

/// `["Chat",{"id":<group>,"cmd":"action","data":[type, actor, {…}]}]` (3.8).
pub fn group(body: &Value) -> Option<Event> {
    if body.get("cmd").and_then(Value::as_str) != Some("action") {
        return None;
    }
    let chat = jid_at(body, "id")?;
    let data = body.get("data")?.as_array()?;
    let kind = data.first()?.as_str()?;
    let actor = data
        .get(1)
        .and_then(Value::as_str)
        .filter(|jid| !jid.is_empty())
        .map(normalize_jid);
    let fields = data.get(2).unwrap_or(&Value::Null);
    let text = |field: &str| fields.get(field).and_then(Value::as_str).map(str::to_owned);
    let (action, participants, subject, value) = match kind {
        "create" | "introduce" => {
            let mut everyone = jids(fields.get("admins"));
            everyone.extend(jids(fields.get("regulars")));
            ("create", everyone, text("subject"), None)
        }
        "add" | "remove" | "promote" | "demote" => {
            (kind, jids(fields.get("participants")), None, None)
        }
        "subject" => ("subject", Vec::new(), text("subject"), None),
        "desc_add" => ("description", Vec::new(), None, text("desc")),
        _ => return None,
    };
    Some(Event::Group(Group {
        chat,
        action: action.to_owned(),
        actor,
        participants,
        subject,
        value,
    }))
}

fn attr(node: &Node, name: &str) -> Option<String> {
    node.get(name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// Why a node that should have mapped did not: for the log, never content.
pub type Broken = String;

/// `<read jid=… type="false"?/>` (8.2, and the top-level `read` of 8.1).
pub fn read(node: &Node) -> Result<Event, Broken> {
    let chat = node.get("jid").ok_or("a read without jid")?;
    let action = if node.get("type") == Some("false") {
        "unread"
    } else {
        "read"
    };
    Ok(chat_event(chat, action, None))
}

fn chat_event(chat: &str, action: &str, value: Option<String>) -> Event {
    Event::Chat(Chat {
        chat: normalize_jid(chat),
        action: action.to_owned(),
        value,
    })
}

/// `<chat jid=… type=…/>` (8.2): `pin`/`mute` without their value attribute undo them; the
/// `item` children of `star`, `unstar` and `clear` are the messages concerned.
pub fn chat(node: &Node) -> Result<Option<Event>, Broken> {
    let chat = node.get("jid").ok_or("a chat action without jid")?;
    let items = || {
        let ids: Vec<&str> = match &node.content {
            Content::List(children) => children
                .iter()
                .filter(|child| child.tag == "item")
                .filter_map(|child| child.get("index"))
                .collect(),
            _ => Vec::new(),
        };
        (!ids.is_empty()).then(|| ids.join(","))
    };
    let (action, value) = match node.get("type") {
        Some("pin") => match attr(node, "pin") {
            Some(pin) => ("pin", Some(pin)),
            None => ("unpin", None),
        },
        // A mute "until 0" is how some clients unmute.
        Some("mute") => match attr(node, "mute").filter(|until| until != "0") {
            Some(until) => ("mute", Some(until)),
            None => ("unmute", None),
        },
        Some(kind @ ("archive" | "unarchive" | "delete")) => (kind, None),
        Some(kind @ ("clear" | "star" | "unstar")) => (kind, items()),
        _ => return Ok(None),
    };
    Ok(Some(chat_event(chat, action, value)))
}

/// `<user jid=… name=… notify=… short=…/>` (8.2): without `name` the contact was deleted.
pub fn user(node: &Node) -> Result<Event, Broken> {
    let jid = node.get("jid").ok_or("a contact without jid")?;
    Ok(Event::Contact(Contact {
        jid: normalize_jid(jid),
        name: attr(node, "name"),
        notify: attr(node, "notify"),
        short: attr(node, "short"),
    }))
}

/// `["Call",{"id","from","type"|"status"}]`: a JSON call push, which some legacy clients
/// (B) listened for though PROTOCOL.md does not describe it; read leniently, like the node form.
pub fn call_json(body: &Value) -> Option<Event> {
    let status = ["type", "status"]
        .into_iter()
        .find_map(|field| body.get(field).and_then(Value::as_str))?;
    Some(Event::Call(Call {
        from: jid_at(body, "from")?,
        id: body.get("id").and_then(Value::as_str)?.to_owned(),
        status: status.to_owned(),
    }))
}

/// `<call from=… id=… type=…?>[<offer call-id=…/>]</call>`: the status is the `type`
/// attribute or the tag of the first child (`offer`, `accept`, `reject`, `terminate`, …), the
/// id the `id` attribute or the child's `call-id` (DESIGN.md 7.4 "Receiving").
pub fn call(node: &Node) -> Result<Event, Broken> {
    let first = match &node.content {
        Content::List(children) => children.first(),
        _ => None,
    };
    let from = attr(node, "from")
        .or_else(|| attr(node, "jid"))
        .ok_or("a call without from")?;
    let id = attr(node, "id")
        .or_else(|| first.and_then(|child| attr(child, "call-id")))
        .ok_or("a call without id")?;
    let status = attr(node, "type")
        .or_else(|| first.map(|child| child.tag.to_string()))
        .ok_or("a call without status")?;
    Ok(Event::Call(Call {
        from: normalize_jid(&from),
        id,
        status,
    }))
}

#[cfg(test)]
#[path = "notices_tests.rs"]
mod tests;
