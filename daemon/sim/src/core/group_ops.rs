//! Groups on the wire, the server's side (PROTOCOL.md 11.1-11.3): the JSON commands
//! (`GroupMetadata`, `inviteCode`, `inviteReset`, `invite`), the `group` set-actions, the
//! binary `query group`, the `group` control command, and the pushes every change makes, so a
//! client's view follows the state in [`super::groups`].
//!
//! ```text
//! ["query","GroupMetadata",gid]  -> {"id","owner","subject","creation","subjectTime","subjectOwner","participants":[{"id","isAdmin","isSuperAdmin"}],"desc"?,"descId"?,"descOwner"?,"descTime"?,"restrict","announce","ephemeralDuration"?}
//! ["query","inviteCode",gid]     -> {"status":200,"code"}          ["action","inviteReset",gid] -> {"status":200,"code"} + stub invite
//! ["action","invite",code]       -> {"status":200,"gid"} + Chat add
//! <group type=create subject>    -> {"status":200,"gid","participants":[{"<jid>@c.us":{"code":"200"}}…]} + Chat create
//! <group type=add|remove|promote|demote jid> -> {"status":200,"participants":{"<jid>@c.us":{"code":"200"|"409"|…}}} + Chat <type>
//! <group type=subject|description>  -> {"status":200} + Chat subject / desc_add
//! <group type=leave|prop>        -> {"status":200} + stub leave / announce / restrict / ephemeral
//! a refusal                      -> {"status":401|404|406|409|400}, state unchanged, nothing pushed
//! ```
//!
//! Pushes: the `Chat` push of 3.8 for what it has a form for, otherwise a stub message from the
//! actor in the group (9.1), as the `group` command always sent them.

use serde_json::{Map, Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::message::{normalize_jid, pb};

use super::groups::{self, Description, Group, Role, Status};
use super::phone::{CONTACTS, GROUP_SUBJECT, phone_message_id};
use super::receiving::json_jid;
use super::{Core, now_s, user_jid};
use crate::command::Field;

/// The creation time of the group every simulated phone starts in.
const INITIAL_CREATION: u64 = 1_600_000_000;

/// The fields of the `group` command.
pub(super) struct GroupChange {
    pub(super) action: Field<String>,
    pub(super) chat: Field<String>,
    pub(super) actor: Field<String>,
    pub(super) participants: Field<Vec<String>>,
    pub(super) subject: Field<String>,
    pub(super) value: Field<String>,
}

/// One group change as the client is told of it. People are canonical JIDs.
struct GroupPush {
    chat: String,
    action: String,
    actor: Option<String>,
    participants: Vec<String>,
    subject: Option<String>,
    value: Option<String>,
}

/// The stub types of PROTOCOL.md 9.1 for the changes the `Chat` push of 3.8 has no form for.
fn group_stub(action: &str) -> Option<pb::WebMessageInfoStubType> {
    use pb::WebMessageInfoStubType as Stub;
    Some(match action {
        "announce" => Stub::GroupChangeAnnounce,
        "restrict" => Stub::GroupChangeRestrict,
        "ephemeral" => Stub::ChangeEphemeralSetting,
        "invite" => Stub::GroupChangeInviteLink,
        "leave" => Stub::GroupParticipantLeave,
        _ => return None,
    })
}

fn refused(status: Status) -> Value {
    json!({"status": status})
}

/// `"on"`/`"off"` (the command's spelling) or `"true"`/`"false"`.
fn switch(value: Option<&str>) -> Result<bool, String> {
    match value {
        Some("on" | "true") => Ok(true),
        Some("off" | "false") => Ok(false),
        other => Err(format!("group setting value is on or off, not {other:?}")),
    }
}

/// `GroupMetadata` for `group`, spelt as JSON replies spell people (`@c.us`).
fn metadata_json(jid: &str, group: &Group) -> Value {
    let participants: Vec<Value> = group
        .participants
        .iter()
        .map(|(jid, role)| {
            json!({"id": json_jid(jid), "isAdmin": role.admin, "isSuperAdmin": role.super_admin})
        })
        .collect();
    let mut reply = json!({
        "id": jid, "owner": json_jid(&group.owner), "subject": group.subject,
        "creation": group.creation, "subjectTime": group.subject_time,
        "subjectOwner": json_jid(&group.subject_owner), "participants": participants,
        "restrict": group.restrict.to_string(), "announce": group.announce.to_string(),
    });
    if let Some(Description {
        text,
        id,
        owner,
        time,
    }) = &group.description
    {
        reply["desc"] = json!(text);
        reply["descId"] = json!(id);
        reply["descOwner"] = json!(json_jid(owner));
        reply["descTime"] = json!(time);
    }
    if group.ephemeral > 0 {
        reply["ephemeralDuration"] = json!(group.ephemeral);
    }
    reply
}

impl Core {
    /// The phone starts in one group, created by the user, with every contact in it.
    pub(super) fn with_initial_group(mut self) -> Self {
        let own = self.own_jid();
        let others: Vec<String> = CONTACTS
            .iter()
            .map(|contact| user_jid(contact.number))
            .collect();
        let group = Group::new(&own, GROUP_SUBJECT, &others, INITIAL_CREATION);
        self.groups.by_jid.insert(self.group_jid(), group);
        self
    }

    fn own_jid(&self) -> String {
        user_jid(&self.config.phone_number)
    }

    /// Why the user may not send into `chat` (a group they are not in, or an announce group
    /// they do not administer); `None` when they may, or the group is none the service knows.
    pub(super) fn send_refusal(&self, chat: &str) -> Option<Status> {
        let group = self.groups.by_jid.get(chat)?;
        group.may_send(&self.own_jid()).err()
    }

    /// The group JSON commands of 11.1: answered on `tag`, then what they changed is pushed.
    pub(super) fn on_group_command(&mut self, conn: u64, tag: &str, words: &[&str]) {
        let own = self.own_jid();
        let arg = words.get(2).copied().unwrap_or_default();
        let mut pushes = Vec::new();
        let reply = match words {
            ["query", "GroupMetadata", ..] => self
                .groups
                .get(arg)
                .and_then(|group| group.member(&own).map(|_| metadata_json(arg, group))),
            ["query", "inviteCode", ..] => self
                .groups
                .get(arg)
                .and_then(|group| group.invite_for(&own))
                .map(|code| json!({"status": 200, "code": code})),
            ["action", "inviteReset", ..] => {
                let reset = self.groups.get_mut(arg).and_then(|group| {
                    group
                        .reset_invite(&own)
                        .map(|code| json!({"status": 200, "code": code}))
                });
                if reset.is_ok() {
                    pushes.push(GroupPush::of(arg, "invite", &own));
                }
                reset
            }
            ["action", "invite", ..] => self.groups.join(&own, arg).map(|gid| {
                let mut push = GroupPush::of(&gid, "add", &own);
                push.participants = vec![own.clone()];
                pushes.push(push);
                json!({"status": 200, "gid": gid})
            }),
            _ => Err(400),
        };
        self.send_json(conn, tag, &reply.unwrap_or_else(refused));
        self.push_groups(pushes);
    }

    /// A `group` child of an `action type=set`: the reply, and what to push once it is sent.
    fn group_operation(&mut self, child: &Node) -> (Value, Vec<GroupPush>) {
        let own = self.own_jid();
        let op = child.get("type").unwrap_or_default();
        let participants: Vec<String> = child
            .children()
            .iter()
            .filter(|node| node.tag == "participant")
            .filter_map(|node| node.get("jid"))
            .map(normalize_jid)
            .collect();
        let now = now_s();
        if op == "create" {
            return self.create_group(
                &own,
                child.get("subject").unwrap_or_default(),
                &participants,
            );
        }
        let Some(chat) = child.get("jid").map(str::to_owned) else {
            return (refused(400), Vec::new());
        };
        let group = match self.groups.get_mut(&chat) {
            Ok(group) => group,
            Err(status) => return (refused(status), Vec::new()),
        };
        let mut push = GroupPush::of(&chat, op, &own);
        let outcome = match op {
            "add" | "remove" | "promote" | "demote" => {
                group.change(&own, op, &participants).map(|statuses| {
                    let mut entries = Map::new();
                    for (jid, status) in &statuses {
                        entries.insert(json_jid(jid), json!({"code": status.to_string()}));
                    }
                    push.participants = statuses
                        .into_iter()
                        .filter(|(_, status)| *status == 200)
                        .map(|(jid, _)| jid)
                        .collect();
                    json!({"status": 200, "participants": entries})
                })
            }
            "leave" => group.leave(&own).map(|()| json!({"status": 200})),
            "subject" => {
                let subject = child.get("subject").unwrap_or_default();
                push.subject = Some(subject.to_owned());
                group
                    .rename(&own, subject, now)
                    .map(|()| json!({"status": 200}))
            }
            "description" => describe(group, &own, child, now, &mut push),
            "prop" => child.children().first().map_or(Err(400), |setting| {
                let value = setting.get("value").unwrap_or_default();
                group.set(&own, &setting.tag, value).map(|(action, value)| {
                    push.action = action.to_owned();
                    push.value = Some(value);
                    json!({"status": 200})
                })
            }),
            _ => Err(400),
        };
        match outcome {
            // Nobody to tell of a participants call that changed no one.
            Ok(reply) if is_list_op(op) && push.participants.is_empty() => (reply, Vec::new()),
            Ok(reply) => (reply, vec![push]),
            Err(status) => (refused(status), Vec::new()),
        }
    }

    /// `create`: the user's new group, everyone asked for in it (every number is on the
    /// simulated WhatsApp; the user themself is not added twice).
    fn create_group(
        &mut self,
        own: &str,
        subject: &str,
        participants: &[String],
    ) -> (Value, Vec<GroupPush>) {
        if let Err(status) = groups::check_subject(subject) {
            return (refused(status), Vec::new());
        }
        let now = now_s();
        let chat = self.groups.new_jid(own, now);
        let others: Vec<String> = participants
            .iter()
            .filter(|jid| jid.as_str() != own)
            .cloned()
            .collect();
        self.groups
            .by_jid
            .insert(chat.clone(), Group::new(own, subject, &others, now));
        let statuses: Vec<Value> = participants
            .iter()
            .map(|jid| {
                let code = if jid == own { "409" } else { "200" };
                json!({json_jid(jid): {"code": code}})
            })
            .collect();
        let mut push = GroupPush::of(&chat, "create", own);
        push.participants = others;
        push.subject = Some(subject.to_owned());
        let reply = json!({"status": 200, "gid": chat, "participants": statuses});
        (reply, vec![push])
    }

    /// The `action type=set` children that are group operations: the last one's reply (B sends
    /// one per frame), then their pushes.
    pub(super) fn on_group_actions(&mut self, conn: u64, tag: &str, node: &Node) -> bool {
        let groups: Vec<Node> = node
            .children()
            .iter()
            .filter(|child| child.tag == "group")
            .cloned()
            .collect();
        let Some(last) = groups.len().checked_sub(1) else {
            return false;
        };
        let mut reply = Value::Null;
        let mut pushes = Vec::new();
        for (index, child) in groups.iter().enumerate() {
            let (answer, more) = self.group_operation(child);
            pushes.extend(more);
            if index == last {
                reply = answer;
            }
        }
        self.send_json(conn, tag, &reply);
        self.push_groups(pushes);
        true
    }

    /// The binary `query group` (11.3): the group's creator, creation time, participants and
    /// description, answered even after leaving (B uses it for groups it left).
    pub(super) fn group_query(&self, node: &Node) -> Option<Node> {
        let chat = node.get("jid")?;
        let group = self.groups.by_jid.get(chat)?;
        let mut children: Vec<Node> = group
            .participants
            .iter()
            .map(|(jid, role)| {
                let node = Node::new("participant").attr("jid", jid.clone());
                match role {
                    Role {
                        super_admin: true, ..
                    } => node.attr("type", "superadmin"),
                    Role { admin: true, .. } => node.attr("type", "admin"),
                    _ => node,
                }
            })
            .collect();
        if let Some(description) = &group.description {
            children.push(
                Node::new("description")
                    .attr("id", description.id.clone())
                    .with_content(Content::Bytes(description.text.clone().into_bytes())),
            );
        }
        Some(
            Node::new("response")
                .attr("type", "group")
                .with_content(Content::List(vec![
                    Node::new("group")
                        .attr("jid", chat.to_owned())
                        .attr("creator", group.owner.clone())
                        .attr("create", group.creation.to_string())
                        .attr("subject", group.subject.clone())
                        .with_content(Content::List(children)),
                ])),
        )
    }

    fn push_groups(&mut self, pushes: Vec<GroupPush>) {
        for push in pushes {
            if let Err(error) = self.push_group(push) {
                tracing::debug!("sim group push: {error}");
            }
        }
    }

    /// The `group` control command: someone else changes a group. The state follows (no
    /// permission checks: the script plays the world), then the client is told.
    pub(super) fn group_change(&mut self, change: GroupChange) -> Result<Value, String> {
        let action = change.action.need("group", "action")?;
        let push = GroupPush {
            chat: change.chat.get().unwrap_or_else(|| self.group_jid()),
            actor: change.actor.get().map(|jid| user_jid(&jid)),
            participants: change
                .participants
                .get()
                .unwrap_or_default()
                .iter()
                .map(|jid| user_jid(jid))
                .collect(),
            subject: change.subject.get(),
            value: change.value.get(),
            action,
        };
        if group_stub(&push.action).is_some() && push.actor.is_none() {
            return Err("group needs \"actor\" for this action".into());
        }
        match push.action.as_str() {
            "subject" if push.subject.is_none() => return Err(missing("subject")),
            "description" if push.value.is_none() => return Err(missing("value")),
            "create" | "add" | "remove" | "promote" | "demote" | "subject" | "description" => {}
            other if group_stub(other).is_none() => {
                return Err(format!("unknown group action {other:?}"));
            }
            _ => {}
        }
        self.apply_change(&push)?;
        self.push_group(push)
    }

    /// What a `group` command changes in the state.
    fn apply_change(&mut self, push: &GroupPush) -> Result<(), String> {
        let own = self.own_jid();
        let now = now_s();
        let actor = push.actor.clone().unwrap_or_else(|| own.clone());
        if push.action == "create" {
            // The phone was told of the group, so the user is in it.
            let mut others = push.participants.clone();
            others.push(own);
            let subject = push.subject.as_deref().unwrap_or(GROUP_SUBJECT);
            let group = Group::new(&actor, subject, &others, now);
            self.groups.by_jid.insert(push.chat.clone(), group);
            return Ok(());
        }
        let group = self
            .groups
            .get_mut(&push.chat)
            .map_err(|_| format!("the simulated service has no group {}", push.chat))?;
        let value = push.value.as_deref();
        match push.action.as_str() {
            "add" => {
                for jid in &push.participants {
                    if group.role(jid).is_none() {
                        group.participants.push((jid.clone(), Role::default()));
                    }
                }
            }
            "remove" => group
                .participants
                .retain(|(jid, _)| !push.participants.contains(jid)),
            "leave" => {
                let leaving = if push.participants.is_empty() {
                    vec![actor]
                } else {
                    push.participants.clone()
                };
                group.participants.retain(|(jid, _)| !leaving.contains(jid));
            }
            "promote" | "demote" => {
                for (jid, role) in &mut group.participants {
                    if push.participants.contains(jid) {
                        role.admin = push.action == "promote";
                        role.super_admin &= role.admin;
                    }
                }
            }
            "subject" => {
                group.subject = push.subject.clone().unwrap_or_default();
                group.subject_time = now;
                group.subject_owner = actor;
            }
            "description" => {
                group.description = Some(Description {
                    text: value.unwrap_or_default().to_owned(),
                    id: phone_message_id(),
                    owner: actor,
                    time: now,
                });
            }
            "announce" => group.announce = switch(value)?,
            "restrict" => group.restrict = switch(value)?,
            "ephemeral" => {
                group.ephemeral = value
                    .unwrap_or("0")
                    .parse()
                    .map_err(|_| format!("group ephemeral value is seconds, not {value:?}"))?;
            }
            "invite" => {
                if let Some(code) = value {
                    group.invite = code.to_owned();
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Tells the client of a group change: the `Chat` push of 3.8 for what it has a form for
    /// (`create`, `add`, `remove`, `promote`, `demote`, `subject`, `description` as `desc_add`
    /// with the state's `descId`), a stub message in the group from the actor for the rest
    /// (`announce`/`restrict` with `value` `on`/`off`, `ephemeral` with seconds, `invite`,
    /// `leave`).
    fn push_group(&mut self, push: GroupPush) -> Result<Value, String> {
        let GroupPush {
            chat,
            action,
            actor,
            participants,
            subject,
            value,
        } = push;
        if let Some(stub) = group_stub(&action) {
            let actor = actor.ok_or("group needs \"actor\" for this action")?;
            let parameters = match action.as_str() {
                "leave" if participants.is_empty() => vec![actor.clone()],
                "leave" => participants,
                _ => value.into_iter().collect(),
            };
            let id = self.deliver_stub(&actor, Some(&chat), stub, parameters)?;
            return Ok(json!({"id": id}));
        }
        let participants: Vec<String> = participants.iter().map(|jid| json_jid(jid)).collect();
        let fields = match action.as_str() {
            "create" => json!({
                "subject": subject.unwrap_or_else(|| GROUP_SUBJECT.to_owned()),
                "creation": now_s(), "s_o": actor.as_deref().map(json_jid), "s_t": now_s(),
                "admins": actor.as_deref().map(json_jid).into_iter().collect::<Vec<_>>(),
                "regulars": participants,
            }),
            "add" | "remove" | "promote" | "demote" => json!({"participants": participants}),
            "subject" => json!({"subject": subject.unwrap_or_default(), "s_t": now_s()}),
            "description" => {
                let described = self
                    .groups
                    .by_jid
                    .get(&chat)
                    .and_then(|group| group.description.as_ref());
                json!({
                    "desc": value.unwrap_or_default(),
                    "descId": described.map_or_else(|| now_s().to_string(), |desc| desc.id.clone()),
                })
            }
            other => return Err(format!("unknown group action {other:?}")),
        };
        let kind = if action == "description" {
            "desc_add"
        } else {
            action.as_str()
        };
        let conn = self.active_conn()?;
        let data = json!([kind, actor.as_deref().map(json_jid), fields]);
        self.push_json(
            conn,
            &json!(["Chat", {"id": chat, "cmd": "action", "data": data}]),
        );
        Ok(json!({}))
    }
}

impl GroupPush {
    fn of(chat: &str, action: &str, actor: &str) -> GroupPush {
        GroupPush {
            chat: chat.to_owned(),
            action: action.to_owned(),
            actor: Some(actor.to_owned()),
            participants: Vec::new(),
            subject: None,
            value: None,
        }
    }
}

fn is_list_op(op: &str) -> bool {
    matches!(op, "add" | "remove" | "promote" | "demote")
}

fn missing(field: &str) -> String {
    format!("group needs \"{field}\" for this action")
}

/// A `description` operation: its `description` child's new `id`, the `prev` it replaces and
/// the text.
fn describe(
    group: &mut Group,
    own: &str,
    child: &Node,
    now: u64,
    push: &mut GroupPush,
) -> Result<Value, Status> {
    let node = child
        .children()
        .iter()
        .find(|node| node.tag == "description")
        .ok_or(400u16)?;
    let id = node.get("id").filter(|id| !id.is_empty()).ok_or(400u16)?;
    let text = match &node.content {
        Content::Bytes(bytes) => String::from_utf8(bytes.clone()).map_err(|_| 400u16)?,
        Content::Text(text) => text.to_string(),
        _ => String::new(),
    };
    group.describe(own, id, node.get("prev"), &text, now)?;
    push.value = Some(text);
    Ok(json!({"status": 200}))
}
