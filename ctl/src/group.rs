//! `wawebctl group …`: the group methods of DESIGN.md 8, one subcommand each (participants by
//! action), with a table of participants for people and the result as it came with `--json`.
//!
//! ```text
//! wawebctl group info 4915100000000-1600000000@g.us
//! wawebctl group create Lunch 4915100000001 4915100000002
//! wawebctl group add|remove|promote|demote GROUP 4915100000004 …
//! wawebctl group subject GROUP "Lunch crew"      wawebctl group description GROUP "noon"
//! wawebctl group settings GROUP --announce on --ephemeral 604800
//! wawebctl group invite GROUP [--reset]          wawebctl group join https://chat.whatsapp.com/Fq3Ab9kLmN2pQr
//! wawebctl group leave GROUP
//! ```

use std::io::Write;

use clap::{Subcommand, ValueEnum};
use waweb_proto::group::{
    GroupCreateParams, GroupDescriptionParams, GroupInfoResult, GroupInviteParams, GroupJoinParams,
    GroupParams, GroupParticipantsParams, GroupSettingsParams, GroupSubjectParams,
    INVITE_LINK_PREFIX, ParticipantAction, ParticipantStatus,
};
use waweb_proto::methods;

use crate::{Cli, Failure, Session, output, table};

/// `on` or `off`, for a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Turn it on
    On,
    /// Turn it off
    Off,
}

impl Switch {
    fn on(self) -> bool {
        self == Switch::On
    }
}

/// The `group` subcommands.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Show a group's subject, owner, settings and participants
    Info {
        /// The group (…@g.us)
        chat: String,
    },
    /// Create a group with these participants (you are its super admin)
    Create {
        /// Its subject (up to 25 characters)
        subject: String,
        /// The people to add: numbers or JIDs
        #[arg(required = true)]
        participants: Vec<String>,
    },
    /// Add people to a group (admins only)
    Add {
        /// The group
        chat: String,
        /// The people: numbers or JIDs
        #[arg(required = true)]
        participants: Vec<String>,
    },
    /// Remove people from a group (admins only)
    Remove {
        /// The group
        chat: String,
        /// The people: numbers or JIDs
        #[arg(required = true)]
        participants: Vec<String>,
    },
    /// Make people admins of a group (admins only)
    Promote {
        /// The group
        chat: String,
        /// The people: numbers or JIDs
        #[arg(required = true)]
        participants: Vec<String>,
    },
    /// Make admins ordinary participants again (admins only)
    Demote {
        /// The group
        chat: String,
        /// The people: numbers or JIDs
        #[arg(required = true)]
        participants: Vec<String>,
    },
    /// Leave a group
    Leave {
        /// The group
        chat: String,
    },
    /// Rename a group
    Subject {
        /// The group
        chat: String,
        /// The new subject (up to 25 characters)
        subject: String,
    },
    /// Set a group's description ("" removes it)
    Description {
        /// The group
        chat: String,
        /// The description (up to 512 characters)
        description: String,
    },
    /// Change who may send and edit, and disappearing messages (admins only)
    Settings {
        /// The group
        chat: String,
        /// Only admins may send messages
        #[arg(long, value_name = "on|off")]
        announce: Option<Switch>,
        /// Only admins may change the subject, description and picture
        #[arg(long, value_name = "on|off")]
        restrict: Option<Switch>,
        /// Messages disappear after this many seconds (0: off)
        #[arg(long, value_name = "SECONDS")]
        ephemeral: Option<u64>,
    },
    /// Print a group's invite link (admins only)
    Invite {
        /// The group
        chat: String,
        /// Revoke the current link and make a new one
        #[arg(long)]
        reset: bool,
    },
    /// Join a group by its invite link or code
    Join {
        /// https://chat.whatsapp.com/<code>, or the code
        invite: String,
    },
}

/// Runs a `group` subcommand.
pub(crate) fn run(cli: &Cli, command: &GroupCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let participants = |chat: &str, action, participants: &[String]| GroupParticipantsParams {
        chat: chat.to_owned(),
        action,
        participants: participants.to_vec(),
    };
    let session = Session::connect(cli)?;
    match command {
        GroupCommand::Info { chat } => session.group_info(out, chat),
        GroupCommand::Create {
            subject,
            participants,
        } => session.group_create(out, subject, participants),
        GroupCommand::Add {
            chat,
            participants: who,
        } => session.group_participants(out, participants(chat, ParticipantAction::Add, who)),
        GroupCommand::Remove {
            chat,
            participants: who,
        } => session.group_participants(out, participants(chat, ParticipantAction::Remove, who)),
        GroupCommand::Promote {
            chat,
            participants: who,
        } => session.group_participants(out, participants(chat, ParticipantAction::Promote, who)),
        GroupCommand::Demote {
            chat,
            participants: who,
        } => session.group_participants(out, participants(chat, ParticipantAction::Demote, who)),
        GroupCommand::Leave { chat } => {
            let params = GroupParams { chat: chat.clone() };
            session.done::<methods::GroupLeave>(out, params, &format!("left {chat}"))
        }
        GroupCommand::Subject { chat, subject } => {
            let params = GroupSubjectParams {
                chat: chat.clone(),
                subject: subject.clone(),
            };
            session.done::<methods::GroupSubject>(out, params, &format!("renamed {chat}"))
        }
        GroupCommand::Description { chat, description } => {
            let params = GroupDescriptionParams {
                chat: chat.clone(),
                description: description.clone(),
            };
            let done = format!("set the description of {chat}");
            session.done::<methods::GroupDescription>(out, params, &done)
        }
        GroupCommand::Settings {
            chat,
            announce,
            restrict,
            ephemeral,
        } => {
            let params = GroupSettingsParams {
                chat: chat.clone(),
                announce: announce.map(Switch::on),
                restrict: restrict.map(Switch::on),
                ephemeral_s: *ephemeral,
            };
            let done = format!("changed the settings of {chat}");
            session.done::<methods::GroupSettings>(out, params, &done)
        }
        GroupCommand::Invite { chat, reset } => session.group_invite(out, chat, *reset),
        GroupCommand::Join { invite } => session.group_join(out, invite),
    }
}

/// A participant's role, for people.
fn role(admin: bool, super_admin: bool) -> &'static str {
    match (admin, super_admin) {
        (_, true) => "super admin",
        (true, false) => "admin",
        (false, false) => "member",
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

impl Session {
    fn group_info(mut self, out: &mut dyn Write, chat: &str) -> Result<(), Failure> {
        let params = GroupParams {
            chat: chat.to_owned(),
        };
        let (raw, info) = self.call::<methods::GroupInfo>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        write_info(out, &info).map_err(output)
    }

    fn group_create(
        mut self,
        out: &mut dyn Write,
        subject: &str,
        participants: &[String],
    ) -> Result<(), Failure> {
        let params = GroupCreateParams {
            subject: subject.to_owned(),
            participants: participants.to_vec(),
        };
        let (raw, created) = self.call::<methods::GroupCreate>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        writeln!(out, "created {}", created.chat).map_err(output)?;
        write_statuses(out, &created.participants)
    }

    fn group_participants(
        mut self,
        out: &mut dyn Write,
        params: GroupParticipantsParams,
    ) -> Result<(), Failure> {
        let (raw, result) = self.call::<methods::GroupParticipants>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        write_statuses(out, &result.participants)
    }

    fn group_invite(mut self, out: &mut dyn Write, chat: &str, reset: bool) -> Result<(), Failure> {
        let params = GroupInviteParams {
            chat: chat.to_owned(),
            reset,
        };
        let (raw, invite) = self.call::<methods::GroupInvite>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        writeln!(out, "{}", invite.link).map_err(output)
    }

    fn group_join(mut self, out: &mut dyn Write, invite: &str) -> Result<(), Failure> {
        // A link is the daemon's to check; anything else is taken as the code.
        let params = if invite.starts_with("https://") || invite.starts_with(INVITE_LINK_PREFIX) {
            GroupJoinParams {
                code: None,
                link: Some(invite.to_owned()),
            }
        } else {
            GroupJoinParams {
                code: Some(invite.to_owned()),
                link: None,
            }
        };
        let (raw, joined) = self.call::<methods::GroupJoin>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        writeln!(out, "joined {}", joined.chat).map_err(output)
    }
}

fn write_info(out: &mut dyn Write, info: &GroupInfoResult) -> std::io::Result<()> {
    let ephemeral = info
        .ephemeral_s
        .map_or_else(|| "off".to_owned(), |seconds| format!("{seconds} s"));
    let fields = [
        ("group", info.chat.clone()),
        ("subject", info.subject.clone()),
        ("owner", table::or_dash(info.owner.as_ref())),
        ("created", table::or_dash(info.created)),
        ("description", table::or_dash(info.description.as_ref())),
        ("announce", on_off(info.announce).to_owned()),
        ("restrict", on_off(info.restrict).to_owned()),
        ("ephemeral", ephemeral),
    ];
    let rows: Vec<Vec<String>> = fields
        .into_iter()
        .map(|(name, value)| vec![name.to_owned(), value])
        .collect();
    // Through the table writer, so a subject or description cannot move the cursor.
    table::write(out, &["FIELD", "VALUE"], &rows)?;
    writeln!(out)?;
    let participants: Vec<Vec<String>> = info
        .participants
        .iter()
        .map(|p| vec![p.jid.clone(), role(p.admin, p.super_admin).to_owned()])
        .collect();
    table::write(out, &["JID", "ROLE"], &participants)
}

fn write_statuses(out: &mut dyn Write, statuses: &[ParticipantStatus]) -> Result<(), Failure> {
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|status| vec![status.jid.clone(), status.status.to_string()])
        .collect();
    table::write(out, &["JID", "STATUS"], &rows).map_err(output)
}
