//! Groups on the wire (PROTOCOL.md 11.1, 11.2): the JSON commands for a group's metadata and
//! invite codes, the `group` set-actions (metric 10, flags `0x88`, the child's `id` is the
//! frame's tag), and what their replies mean. Replies are read totally: a reply of the wrong
//! shape is a [`ReplyError`], never a panic.
//!
//! ```text
//! metadata_query(gid)        -> ["query","GroupMetadata",gid]       reply {"id","subject","participants":[{"id","isAdmin","isSuperAdmin"}],…}
//! invite_code_query(gid)     -> ["query","inviteCode",gid]          reply {"status":200,"code"}
//! invite_reset(gid)          -> ["action","inviteReset",gid]        reply {"status":200,"code"}
//! accept_invite(code)        -> ["action","invite",code]            reply {"status":200,"gid"}
//! create(own, subject, ps)   -> <group author id type=create subject><participant jid/>…</group>   reply {"status":200,"gid","participants":[{jid:{"code"}}…]}
//! participants(own, gid, add, ps) -> <group author id type=add jid><participant jid/>…</group>   reply {"status":200,"participants":{jid:{"code"}}}
//! leave / subject            -> <group author id type=leave|subject jid subject?/>
//! description(…, id, prev, text) -> <group … type=description><description id prev>text</description></group>
//! setting(…, announce)       -> <group … type=prop><announcement value="true"/></group>
//! ```

use serde_json::{Value, json};
use waweb_proto::group::{GroupInfoResult, GroupParticipant, ParticipantAction, ParticipantStatus};

use crate::binary::{Content, Node};
use crate::message::normalize_jid;
use crate::session::actions::SetAction;
use crate::wire::{flags, metric};

/// A group reply that does not have the shape PROTOCOL.md 11 gives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server's group reply has no {what}: {reply}")]
pub struct ReplyError {
    /// What was missing or of the wrong type.
    pub what: &'static str,
    /// The reply, for the log and the error message.
    pub reply: String,
}

fn bad(what: &'static str, reply: &Value) -> ReplyError {
    ReplyError {
        what,
        reply: reply.to_string(),
    }
}

/// `["query","GroupMetadata","<gid>"]`.
pub fn metadata_query(chat: &str) -> Value {
    json!(["query", "GroupMetadata", chat])
}

/// `["query","inviteCode","<gid>"]`.
pub fn invite_code_query(chat: &str) -> Value {
    json!(["query", "inviteCode", chat])
}

/// `["action","inviteReset","<gid>"]`: a new code; the old one stops working.
pub fn invite_reset(chat: &str) -> Value {
    json!(["action", "inviteReset", chat])
}

/// `["action","invite","<code>"]`: join by invite code.
pub fn accept_invite(code: &str) -> Value {
    json!(["action", "invite", code])
}

/// A group as `GroupMetadata` described it, with the description's id, which a new
/// description names as its `prev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// What `group_info` answers.
    pub info: GroupInfoResult,
    /// The current description's `descId`.
    pub desc_id: Option<String>,
}

/// Reads a `GroupMetadata` reply (already checked for a failure status).
pub fn metadata(chat: &str, reply: &Value) -> Result<Metadata, ReplyError> {
    let text = |key: &str| reply.get(key).and_then(Value::as_str).map(str::to_owned);
    // Flags came as "true"/"false" strings (B's types) and sometimes as booleans.
    let flag = |key: &str| match reply.get(key) {
        Some(Value::Bool(value)) => *value,
        Some(Value::String(value)) => value == "true",
        _ => false,
    };
    let subject = text("subject").ok_or_else(|| bad("subject", reply))?;
    let participants = reply
        .get("participants")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("participants list", reply))?
        .iter()
        .map(|entry| {
            let jid = entry
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("participant id", reply))?;
            let is = |key: &str| entry.get(key).and_then(Value::as_bool).unwrap_or(false);
            Ok(GroupParticipant {
                jid: normalize_jid(jid),
                admin: is("isAdmin") || is("isSuperAdmin"),
                super_admin: is("isSuperAdmin"),
            })
        })
        .collect::<Result<Vec<_>, ReplyError>>()?;
    let ephemeral = reply
        .get("ephemeralDuration")
        .and_then(Value::as_u64)
        .filter(|&seconds| seconds > 0);
    Ok(Metadata {
        info: GroupInfoResult {
            chat: text("id").map_or_else(|| chat.to_owned(), |id| normalize_jid(&id)),
            subject,
            owner: text("owner").map(|owner| normalize_jid(&owner)),
            created: reply.get("creation").and_then(Value::as_u64),
            description: text("desc"),
            announce: flag("announce"),
            restrict: flag("restrict"),
            ephemeral_s: ephemeral,
            participants,
        },
        desc_id: text("descId"),
    })
}

/// The `code` of an `inviteCode` or `inviteReset` reply.
pub fn invite_code(reply: &Value) -> Result<String, ReplyError> {
    reply
        .get("code")
        .and_then(Value::as_str)
        .filter(|code| !code.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| bad("invite code", reply))
}

/// The group of a create or invite reply (`gid`).
pub fn group_of(reply: &Value) -> Result<String, ReplyError> {
    reply
        .get("gid")
        .and_then(Value::as_str)
        .map(normalize_jid)
        .filter(|gid| crate::message::is_group(gid))
        .ok_or_else(|| bad("group id (gid)", reply))
}

/// The per-participant statuses of a create or participants reply, in the order asked.
///
/// The service answered them as `{"<jid>":{"code":"200"}}` (add, remove, …) or as a list of
/// such one-key objects (create); a participant the reply does not name gets the reply's own
/// status (B reads the reply as a whole and the service left them out when all succeeded).
pub fn participant_statuses(
    reply: &Value,
    asked: &[String],
) -> Result<Vec<ParticipantStatus>, ReplyError> {
    let overall = reply
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|status| u16::try_from(status).ok())
        .unwrap_or(200);
    let mut named: Vec<(String, u16)> = Vec::new();
    let mut read = |entries: &serde_json::Map<String, Value>| {
        for (jid, value) in entries {
            let code = match value.get("code").unwrap_or(value) {
                Value::String(code) => code.parse::<u16>().ok(),
                Value::Number(code) => code.as_u64().and_then(|code| u16::try_from(code).ok()),
                _ => None,
            }
            .ok_or_else(|| bad("participant code", reply))?;
            named.push((normalize_jid(jid), code));
        }
        Ok(())
    };
    match reply.get("participants") {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => read(entries)?,
        Some(Value::Array(list)) => {
            for entry in list {
                read(
                    entry
                        .as_object()
                        .ok_or_else(|| bad("participant entry", reply))?,
                )?;
            }
        }
        Some(_) => return Err(bad("participants of the right type", reply)),
    }
    Ok(asked
        .iter()
        .map(|jid| ParticipantStatus {
            jid: jid.clone(),
            status: named
                .iter()
                .find(|(named, _)| named == jid)
                .map_or(overall, |(_, code)| *code),
        })
        .collect())
}

/// A `group` set-action: `type` `op`, on `chat` (none for create), with `subject` where the
/// operation has one. `id` is filled with the frame's tag when sent.
fn group_action(
    own: &str,
    op: &'static str,
    chat: Option<&str>,
    subject: Option<&str>,
    children: Vec<Node>,
) -> SetAction {
    // B's attribute order: author, id, type, jid, subject.
    let mut child = Node::new("group")
        .attr("author", own.to_owned())
        .attr("id", "")
        .attr("type", op);
    if let Some(chat) = chat {
        child = child.attr("jid", chat.to_owned());
    }
    if let Some(subject) = subject {
        child = child.attr("subject", subject.to_owned());
    }
    if !children.is_empty() {
        child = child.with_content(Content::List(children));
    }
    SetAction {
        child,
        metric: metric::GROUP,
        flags: flags::IGNORE | flags::EXPIRES,
    }
}

fn participant_nodes(participants: &[String]) -> Vec<Node> {
    participants
        .iter()
        .map(|jid| Node::new("participant").attr("jid", jid.clone()))
        .collect()
}

/// Creates a group named `subject` with `participants` (canonical JIDs); the reply has `gid`.
pub fn create(own: &str, subject: &str, participants: &[String]) -> SetAction {
    group_action(
        own,
        "create",
        None,
        Some(subject),
        participant_nodes(participants),
    )
}

/// Adds, removes, promotes or demotes `participants` in `chat`.
pub fn participants(
    own: &str,
    chat: &str,
    action: ParticipantAction,
    participants: &[String],
) -> SetAction {
    group_action(
        own,
        action.as_str(),
        Some(chat),
        None,
        participant_nodes(participants),
    )
}

/// Leaves `chat`.
pub fn leave(own: &str, chat: &str) -> SetAction {
    group_action(own, "leave", Some(chat), None, Vec::new())
}

/// Renames `chat`.
pub fn subject(own: &str, chat: &str, subject: &str) -> SetAction {
    group_action(own, "subject", Some(chat), Some(subject), Vec::new())
}

/// Sets `chat`'s description to `text` under the new id `id`, naming the current one as `prev`
/// (B sends `prev` only when there is one).
pub fn description(own: &str, chat: &str, id: &str, prev: Option<&str>, text: &str) -> SetAction {
    let mut node = Node::new("description").attr("id", id.to_owned());
    if let Some(prev) = prev {
        node = node.attr("prev", prev.to_owned());
    }
    let node = node.with_content(Content::Bytes(text.as_bytes().to_vec()));
    group_action(own, "description", Some(chat), None, vec![node])
}

/// One group setting of a `prop` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `announcement`: only admins send.
    Announce(bool),
    /// `locked`: only admins edit the group's info.
    Restrict(bool),
    /// `ephemeral`: disappearing messages after this many seconds, 0 = off.
    Ephemeral(u64),
}

/// Changes one of `chat`'s settings.
pub fn setting(own: &str, chat: &str, setting: Setting) -> SetAction {
    let node = match setting {
        Setting::Announce(on) => Node::new("announcement").attr("value", on.to_string()),
        Setting::Restrict(on) => Node::new("locked").attr("value", on.to_string()),
        Setting::Ephemeral(seconds) => Node::new("ephemeral").attr("value", seconds.to_string()),
    };
    group_action(own, "prop", Some(chat), None, vec![node])
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "4915100000000@s.whatsapp.net";
    const GID: &str = "4915100000000-1600000000@g.us";

    #[test]
    fn set_actions_have_bs_shape_metric_and_flags() {
        let action = participants(
            OWN,
            GID,
            ParticipantAction::Add,
            &["4915100000004@s.whatsapp.net".into()],
        );
        assert_eq!((action.metric, action.flags), (10, 0x88));
        assert_eq!(
            serde_json::to_value(&action.child).unwrap(),
            json!({"tag": "group", "attrs": {"author": OWN, "id": "", "type": "add", "jid": GID},
                   "content": [{"tag": "participant", "attrs": {"jid": "4915100000004@s.whatsapp.net"}, "content": null}]})
        );
        let create = create(OWN, "Lunch", &[]);
        assert_eq!(create.child.get("subject"), Some("Lunch"));
        assert_eq!(create.child.get("jid"), None);
        let desc = description(OWN, GID, "3EB0AA", Some("3EB0BB"), "noon");
        let child = &desc.child.children()[0];
        assert_eq!(
            (child.get("id"), child.get("prev"), child.content_bytes()),
            (Some("3EB0AA"), Some("3EB0BB"), Some(&b"noon"[..]))
        );
        let prop = setting(OWN, GID, Setting::Restrict(true));
        assert_eq!(prop.child.get("type"), Some("prop"));
        assert_eq!(prop.child.children()[0].tag, "locked");
        assert_eq!(prop.child.children()[0].get("value"), Some("true"));
        let eph = setting(OWN, GID, Setting::Ephemeral(0));
        assert_eq!(eph.child.children()[0].get("value"), Some("0"));
    }

    #[test]
    fn metadata_reads_the_documented_fields_and_refuses_other_shapes() {
        let reply = json!({"id": GID, "owner": "4915100000000@c.us", "subject": "S", "creation": 1600000000,
            "participants": [{"id": "4915100000000@c.us", "isAdmin": true, "isSuperAdmin": true},
                             {"id": "4915100000001@c.us", "isAdmin": false, "isSuperAdmin": false}],
            "desc": "D", "descId": "X1", "announce": "true", "restrict": false, "ephemeralDuration": 86400});
        let metadata = metadata(GID, &reply).unwrap();
        assert_eq!(metadata.desc_id.as_deref(), Some("X1"));
        let info = metadata.info;
        assert_eq!(info.owner.as_deref(), Some(OWN));
        assert!(info.announce && !info.restrict);
        assert_eq!(info.ephemeral_s, Some(86400));
        assert_eq!(info.participants[1].jid, "4915100000001@s.whatsapp.net");
        assert!(info.participants[0].super_admin && !info.participants[1].admin);
        for wrong in [
            json!({}),
            json!({"subject": "S"}),
            json!({"subject": "S", "participants": {}}),
            json!({"subject": "S", "participants": [{"isAdmin": true}]}),
            json!([1, 2]),
        ] {
            assert!(super::metadata(GID, &wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn participant_statuses_read_both_forms() {
        let asked: Vec<String> = [
            "4915100000001@s.whatsapp.net",
            "4915100000002@s.whatsapp.net",
        ]
        .map(String::from)
        .to_vec();
        let map = json!({"status": 200, "participants": {"4915100000001@c.us": {"code": "200"}, "4915100000002@c.us": {"code": 409}}});
        let statuses: Vec<u16> = participant_statuses(&map, &asked)
            .unwrap()
            .iter()
            .map(|s| s.status)
            .collect();
        assert_eq!(statuses, [200, 409]);
        let list = json!({"status": 200, "gid": GID, "participants": [{"4915100000002@c.us": {"code": "403"}}]});
        let statuses = participant_statuses(&list, &asked).unwrap();
        assert_eq!((statuses[0].status, statuses[1].status), (200, 403));
        assert_eq!(group_of(&list).unwrap(), GID);
        for wrong in [
            json!({"participants": 3}),
            json!({"participants": [1]}),
            json!({"participants": {"4915100000001@c.us": {"code": "x"}}}),
        ] {
            assert!(participant_statuses(&wrong, &asked).is_err(), "{wrong}");
        }
        assert!(group_of(&json!({"gid": "4915100000001@c.us"})).is_err());
        assert!(invite_code(&json!({"status": 200})).is_err());
        assert_eq!(invite_code(&json!({"code": "AbC"})).unwrap(), "AbC");
    }
}
