//! Groups (DESIGN.md 8): what a group is (`group_info`), creating one, changing who is in it
//! and who administers it, leaving it, its subject, description and settings, and its invite
//! link. Every method asks the server (nothing here is answered from the store); what the
//! server refuses (not an admin, not a member, an unknown group or invite code) is
//! `server_error` (-32004) with the server's status in `data.status`.
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"group_participants","params":{"chat":"4915100000000-1600000000@g.us","action":"add","participants":["4915100000004"]}}
//! {"jsonrpc":"2.0","id":1,"result":{"participants":[{"jid":"4915100000004@s.whatsapp.net","status":200}]}}
//! ```

use serde::{Deserialize, Serialize};

/// The params of `group_info`, `group_leave`: a group's JID.
///
/// `{"chat":"4915100000000-1600000000@g.us"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupParams {
    /// The group (`<id>@g.us`).
    ///
    /// `"chat":"4915100000000-1600000000@g.us"`
    pub chat: String,
}

/// Someone in a group, and whether they administer it.
///
/// `{"jid":"4915100000000@s.whatsapp.net","admin":true,"super_admin":true}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupParticipant {
    /// The person.
    pub jid: String,
    /// An admin (the super admin is one too).
    pub admin: bool,
    /// The group's creator, whom no admin can demote.
    pub super_admin: bool,
}

/// The result of `group_info`: the group as the server describes it.
///
/// `{"chat":"4915100000000-1600000000@g.us","subject":"Sim Friends","owner":"4915100000000@s.whatsapp.net","created":1600000000,"description":null,"announce":false,"restrict":false,"ephemeral_s":null,"participants":[{"jid":"4915100000000@s.whatsapp.net","admin":true,"super_admin":true}]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfoResult {
    /// The group.
    pub chat: String,
    /// Its subject (name).
    pub subject: String,
    /// Who created it; `null` when the server did not say.
    #[serde(default)]
    pub owner: Option<String>,
    /// When it was created, unix seconds; `null` when the server did not say.
    #[serde(default)]
    pub created: Option<u64>,
    /// Its description; `null` when it has none.
    #[serde(default)]
    pub description: Option<String>,
    /// Only admins may send messages.
    pub announce: bool,
    /// Only admins may change the subject, description and picture.
    pub restrict: bool,
    /// Disappearing messages: their lifetime in seconds; `null` when off.
    #[serde(default)]
    pub ephemeral_s: Option<u64>,
    /// Everyone in it.
    pub participants: Vec<GroupParticipant>,
}

/// The params of `group_create`.
///
/// `{"subject":"Lunch","participants":["4915100000001","4915100000002@s.whatsapp.net"]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupCreateParams {
    /// The new group's subject: 1 to `maxSubject` (25) characters.
    pub subject: String,
    /// Whom to add besides ourselves, spelt as `to` (people only).
    pub participants: Vec<String>,
}

/// What the server did with one participant of a create or participants call: `status` 200
/// when done, otherwise its reason (409 already in the group, 404 not in it, 403 refused).
///
/// `{"jid":"4915100000004@s.whatsapp.net","status":200}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantStatus {
    /// The person.
    pub jid: String,
    /// The server's status for them.
    pub status: u16,
}

/// The result of `group_create`.
///
/// `{"chat":"4915100000000-1600000100@g.us","participants":[{"jid":"4915100000001@s.whatsapp.net","status":200}]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreateResult {
    /// The new group.
    pub chat: String,
    /// Each participant asked for, and whether they were added.
    pub participants: Vec<ParticipantStatus>,
}

/// What `group_participants` does.
///
/// `"action":"promote"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantAction {
    /// Add them to the group.
    Add,
    /// Remove them from it.
    Remove,
    /// Make them admins.
    Promote,
    /// Make them ordinary participants again.
    Demote,
}

impl ParticipantAction {
    /// The wire name, which is also the group operation's `type` (PROTOCOL.md 11.2).
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantAction::Add => "add",
            ParticipantAction::Remove => "remove",
            ParticipantAction::Promote => "promote",
            ParticipantAction::Demote => "demote",
        }
    }
}

/// The params of `group_participants`.
///
/// `{"chat":"4915100000000-1600000000@g.us","action":"remove","participants":["4915100000003"]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupParticipantsParams {
    /// The group.
    pub chat: String,
    /// `add`, `remove`, `promote` or `demote`.
    pub action: ParticipantAction,
    /// Whom it concerns, spelt as `to` (people only; at least one).
    pub participants: Vec<String>,
}

/// The result of `group_participants`: each participant asked for, with the server's status.
///
/// `{"participants":[{"jid":"4915100000003@s.whatsapp.net","status":200}]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupParticipantsResult {
    /// One entry per participant, in the order asked.
    pub participants: Vec<ParticipantStatus>,
}

/// The params of `group_subject`.
///
/// `{"chat":"4915100000000-1600000000@g.us","subject":"Lunch"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSubjectParams {
    /// The group.
    pub chat: String,
    /// The new subject: 1 to `maxSubject` (25) characters.
    pub subject: String,
}

/// The params of `group_description`.
///
/// `{"chat":"4915100000000-1600000000@g.us","description":"Noon, daily"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDescriptionParams {
    /// The group.
    pub chat: String,
    /// The new description, up to `groupDescLength` (512) characters; empty removes it.
    pub description: String,
}

/// The params of `group_settings`: at least one setting.
///
/// `{"chat":"4915100000000-1600000000@g.us","announce":true,"ephemeral_s":604800}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSettingsParams {
    /// The group.
    pub chat: String,
    /// Only admins may send messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<bool>,
    /// Only admins may change the group's subject, description and picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict: Option<bool>,
    /// Disappearing messages after this many seconds; 0 turns them off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_s: Option<u64>,
}

/// The params of `group_invite`.
///
/// `{"chat":"4915100000000-1600000000@g.us","reset":true}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInviteParams {
    /// The group.
    pub chat: String,
    /// Revoke the current code and make a new one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// The result of `group_invite`.
///
/// `{"code":"Fq3Ab9kLmN2pQr","link":"https://chat.whatsapp.com/Fq3Ab9kLmN2pQr"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInviteResult {
    /// The invite code.
    pub code: String,
    /// The invite link: `https://chat.whatsapp.com/<code>`.
    pub link: String,
}

/// The params of `group_join`: exactly one of `code` and `link`.
///
/// `{"link":"https://chat.whatsapp.com/Fq3Ab9kLmN2pQr"}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupJoinParams {
    /// The invite code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The invite link, `https://chat.whatsapp.com/<code>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The result of `group_join`: the group joined.
///
/// `{"chat":"4915100000000-1600000000@g.us"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupJoinResult {
    /// The group.
    pub chat: String,
}

/// Where invite links point; the code follows.
pub const INVITE_LINK_PREFIX: &str = "https://chat.whatsapp.com/";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn params_read_as_documented_and_refuse_unknown_fields() {
        let params: GroupParticipantsParams = serde_json::from_value(json!({
            "chat": "1-2@g.us", "action": "promote", "participants": ["4915100000001"]
        }))
        .unwrap();
        assert_eq!(params.action, ParticipantAction::Promote);
        assert!(
            serde_json::from_value::<GroupParticipantsParams>(
                json!({"chat": "1-2@g.us", "action": "kick", "participants": []})
            )
            .is_err()
        );
        assert!(
            serde_json::from_value::<GroupParams>(json!({"chat": "1-2@g.us", "x": 1})).is_err()
        );
        let settings: GroupSettingsParams =
            serde_json::from_value(json!({"chat": "1-2@g.us", "ephemeral_s": 0})).unwrap();
        assert_eq!((settings.announce, settings.ephemeral_s), (None, Some(0)));
        let invite: GroupInviteParams =
            serde_json::from_value(json!({"chat": "1-2@g.us"})).unwrap();
        assert!(!invite.reset);
    }

    #[test]
    fn results_write_every_field() {
        let info = GroupInfoResult {
            chat: "1-2@g.us".into(),
            subject: "S".into(),
            owner: None,
            created: Some(1),
            description: None,
            announce: false,
            restrict: true,
            ephemeral_s: None,
            participants: vec![GroupParticipant {
                jid: "1@s.whatsapp.net".into(),
                admin: true,
                super_admin: false,
            }],
        };
        let value = serde_json::to_value(&info).unwrap();
        assert_eq!(value["owner"], json!(null));
        assert_eq!(value["ephemeral_s"], json!(null));
        assert_eq!(
            serde_json::from_value::<GroupInfoResult>(value).unwrap(),
            info
        );
    }
}
