//! The group methods (DESIGN.md 8): each a session task that validates its params, asks the
//! server (PROTOCOL.md 11.1 JSON commands, 11.2 `group` set-actions, built in
//! [`waweb_core::session::groups`]) and reads the reply. What the server refuses is -32004 with
//! its status; a reply of the wrong shape is -32004 with status 0. The store follows from the
//! `group` events the server's pushes become, not from here.
//!
//! ```text
//! group_info          -> ["query","GroupMetadata",gid]                          -> GroupInfoResult
//! group_create        -> <group type=create subject><participant/>…</group>    -> gid + statuses
//! group_participants  -> <group type=add|remove|promote|demote jid>…</group>   -> statuses
//! group_leave/subject -> <group type=leave|subject jid/>                        -> {}
//! group_description   -> GroupMetadata (descId), then <group type=description><description id prev>…
//! group_settings      -> one <group type=prop> per setting, in order           -> {}
//! group_invite        -> ["query","inviteCode",gid] | ["action","inviteReset",gid] -> code + link
//! group_join          -> ["action","invite",code]                               -> gid
//! ```

use serde_json::Value;
use waweb_core::media::upload::Limits;
use waweb_core::message::{is_group, new_message_id};
use waweb_core::session::groups::{self as wire, ReplyError, Setting};
use waweb_proto::EmptyResult;
use waweb_proto::group::{
    GroupCreateParams, GroupCreateResult, GroupDescriptionParams, GroupInfoResult,
    GroupInviteParams, GroupInviteResult, GroupJoinParams, GroupJoinResult, GroupParams,
    GroupParticipantsParams, GroupParticipantsResult, GroupSettingsParams, GroupSubjectParams,
    INVITE_LINK_PREFIX,
};

use super::actor::Actor;
use super::compose::{jid, person};
use super::handle::SessionError;
use super::requests::{Task, status_ok};

/// Invite codes the service handed out were 22 characters; longer input is no code.
const MAX_CODE: usize = 64;

fn invalid(message: String) -> SessionError {
    SessionError::InvalidParams(message)
}

fn shape(error: ReplyError) -> SessionError {
    SessionError::Server {
        status: 0,
        message: error.to_string(),
    }
}

/// `chat` as a group's JID; a person or nonsense is -32602.
fn group(chat: &str) -> Result<String, SessionError> {
    let jid = jid("chat", chat)?;
    if !is_group(&jid) {
        return Err(invalid(format!(
            "chat: {chat:?} is not a group; a group JID (<id>@g.us) is needed"
        )));
    }
    Ok(jid)
}

/// The people of a create or participants call: at least one, each a person, each once.
fn people(participants: &[String]) -> Result<Vec<String>, SessionError> {
    if participants.is_empty() {
        return Err(invalid(
            "participants: at least one person is needed".into(),
        ));
    }
    let mut jids: Vec<String> = Vec::with_capacity(participants.len());
    for participant in participants {
        let jid = person("participants", participant)?;
        if !jids.contains(&jid) {
            jids.push(jid);
        }
    }
    Ok(jids)
}

/// A subject of 1 to `maxSubject` characters (Props).
fn subject(text: &str, limits: &Limits) -> Result<String, SessionError> {
    let length = text.chars().count() as u64;
    if text.trim().is_empty() {
        return Err(invalid("subject: a group needs a subject".into()));
    }
    if length > limits.group_subject {
        return Err(invalid(format!(
            "subject: {length} characters; the server allows {} (maxSubject)",
            limits.group_subject
        )));
    }
    Ok(text.to_owned())
}

/// Who we are, as the `author` of group operations: known once a connection logged in;
/// before that the call fails as a request would (not connected, or not logged in at all).
pub(super) type Author = Result<String, SessionError>;

impl Actor {
    pub(super) fn group_author(&self) -> Author {
        self.me
            .as_ref()
            .map(|me| me.wid.clone())
            .ok_or_else(|| self.not_available())
    }
}

/// An invite code: letters and digits only, as the service made them.
fn code(code: &str) -> Result<String, SessionError> {
    if code.is_empty() || code.len() > MAX_CODE || !code.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(invalid(format!(
            "code: {code:?} is not an invite code (letters and digits)"
        )));
    }
    Ok(code.to_owned())
}

/// The code of `group_join`'s params: `code`, or the one a `https://chat.whatsapp.com/<code>`
/// link carries; exactly one of them.
fn join_code(params: &GroupJoinParams) -> Result<String, SessionError> {
    match (&params.code, &params.link) {
        (Some(given), None) => code(given),
        (None, Some(link)) => match link.trim().strip_prefix(INVITE_LINK_PREFIX) {
            Some(given) => code(given.trim_end_matches('/')),
            None => Err(invalid(format!(
                "link: {link:?} is not an invite link ({INVITE_LINK_PREFIX}<code>)"
            ))),
        },
        _ => Err(invalid("give exactly one of code and link".into())),
    }
}

/// A JSON command whose reply must have status 200 (or none).
async fn command(task: &Task, json: Value) -> Result<Value, SessionError> {
    status_ok(task.requests.json(json).await?)
}

async fn metadata(task: &Task, chat: &str) -> Result<wire::Metadata, SessionError> {
    let reply = command(task, wire::metadata_query(chat)).await?;
    wire::metadata(chat, &reply).map_err(shape)
}

/// `group_info`.
pub(super) async fn info(task: Task, params: GroupParams) -> Result<GroupInfoResult, SessionError> {
    let chat = group(&params.chat)?;
    Ok(metadata(&task, &chat).await?.info)
}

/// `group_create`.
pub(super) async fn create(
    task: Task,
    params: GroupCreateParams,
    limits: Limits,
    own: Author,
) -> Result<GroupCreateResult, SessionError> {
    let name = subject(&params.subject, &limits)?;
    let participants = people(&params.participants)?;
    let own = own?;
    let reply = task
        .requests
        .set(wire::create(&own, &name, &participants), true)
        .await?;
    Ok(GroupCreateResult {
        chat: wire::group_of(&reply).map_err(shape)?,
        participants: wire::participant_statuses(&reply, &participants).map_err(shape)?,
    })
}

/// `group_participants`.
pub(super) async fn participants(
    task: Task,
    params: GroupParticipantsParams,
    own: Author,
) -> Result<GroupParticipantsResult, SessionError> {
    let chat = group(&params.chat)?;
    let participants = people(&params.participants)?;
    let own = own?;
    let action = wire::participants(&own, &chat, params.action, &participants);
    let reply = task.requests.set(action, true).await?;
    Ok(GroupParticipantsResult {
        participants: wire::participant_statuses(&reply, &participants).map_err(shape)?,
    })
}

/// `group_leave`.
pub(super) async fn leave(
    task: Task,
    params: GroupParams,
    own: Author,
) -> Result<EmptyResult, SessionError> {
    let chat = group(&params.chat)?;
    let own = own?;
    task.requests.set(wire::leave(&own, &chat), true).await?;
    Ok(EmptyResult {})
}

/// `group_subject`.
pub(super) async fn rename(
    task: Task,
    params: GroupSubjectParams,
    limits: Limits,
    own: Author,
) -> Result<EmptyResult, SessionError> {
    let chat = group(&params.chat)?;
    let name = subject(&params.subject, &limits)?;
    let own = own?;
    task.requests
        .set(wire::subject(&own, &chat, &name), true)
        .await?;
    Ok(EmptyResult {})
}

/// `group_description`: the current `descId` first, since the new one names it as `prev`.
pub(super) async fn describe(
    task: Task,
    params: GroupDescriptionParams,
    limits: Limits,
    own: Author,
) -> Result<EmptyResult, SessionError> {
    let chat = group(&params.chat)?;
    let length = params.description.chars().count() as u64;
    if length > limits.group_description {
        return Err(invalid(format!(
            "description: {length} characters; the server allows {} (groupDescLength)",
            limits.group_description
        )));
    }
    let own = own?;
    let prev = metadata(&task, &chat).await?.desc_id;
    let action = wire::description(
        &own,
        &chat,
        &new_message_id(),
        prev.as_deref(),
        &params.description,
    );
    task.requests.set(action, true).await?;
    Ok(EmptyResult {})
}

/// `group_settings`: one `prop` operation per setting given, as B sent them; the first the
/// server refuses ends the call (those before it stay changed).
pub(super) async fn settings(
    task: Task,
    params: GroupSettingsParams,
    own: Author,
) -> Result<EmptyResult, SessionError> {
    let chat = group(&params.chat)?;
    let settings: Vec<Setting> = [
        params.announce.map(Setting::Announce),
        params.restrict.map(Setting::Restrict),
        params.ephemeral_s.map(Setting::Ephemeral),
    ]
    .into_iter()
    .flatten()
    .collect();
    if settings.is_empty() {
        return Err(invalid(
            "give at least one of announce, restrict and ephemeral_s".into(),
        ));
    }
    let own = own?;
    for setting in settings {
        task.requests
            .set(wire::setting(&own, &chat, setting), true)
            .await?;
    }
    Ok(EmptyResult {})
}

/// `group_invite`.
pub(super) async fn invite(
    task: Task,
    params: GroupInviteParams,
) -> Result<GroupInviteResult, SessionError> {
    let chat = group(&params.chat)?;
    let request = if params.reset {
        wire::invite_reset(&chat)
    } else {
        wire::invite_code_query(&chat)
    };
    let code = wire::invite_code(&command(&task, request).await?).map_err(shape)?;
    Ok(GroupInviteResult {
        link: format!("{INVITE_LINK_PREFIX}{code}"),
        code,
    })
}

/// `group_join`.
pub(super) async fn join(
    task: Task,
    params: GroupJoinParams,
) -> Result<GroupJoinResult, SessionError> {
    let code = join_code(&params)?;
    let reply = command(&task, wire::accept_invite(&code)).await?;
    Ok(GroupJoinResult {
        chat: wire::group_of(&reply).map_err(shape)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_checked_before_anything_is_sent() {
        assert!(group("4915100000001").is_err());
        assert_eq!(group("1-2@g.us").unwrap(), "1-2@g.us");
        assert!(people(&[]).is_err());
        assert!(people(&["1-2@g.us".into()]).is_err());
        assert_eq!(
            people(&["4915100000001".into(), "4915100000001@c.us".into()]).unwrap(),
            ["4915100000001@s.whatsapp.net"]
        );
        let limits = Limits::default();
        assert!(subject(" ", &limits).is_err());
        assert!(subject(&"é".repeat(25), &limits).is_ok());
        assert!(subject(&"é".repeat(26), &limits).is_err());
        let join = |code: Option<&str>, link: Option<&str>| {
            join_code(&GroupJoinParams {
                code: code.map(str::to_owned),
                link: link.map(str::to_owned),
            })
        };
        assert_eq!(
            join(None, Some("https://chat.whatsapp.com/AbC123")).unwrap(),
            "AbC123"
        );
        assert_eq!(join(Some("AbC123"), None).unwrap(), "AbC123");
        for (code, link) in [
            (None, None),
            (Some("a"), Some("https://chat.whatsapp.com/a")),
            (None, Some("https://example.com/AbC")),
            (None, Some("https://chat.whatsapp.com/")),
            (Some("a b"), None),
            (Some("a/../b"), None),
        ] {
            assert!(join(code, link).is_err(), "{code:?} {link:?}");
        }
    }
}
