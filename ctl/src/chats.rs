//! The chat and contact subcommands of DESIGN.md 8: the chat list, the address book, and the
//! chat actions (`chat_modify`). Lists print as tables; `--json` prints the result as it came.
//!
//! ```text
//! wawebctl chats --unarchived --limit 20
//! wawebctl contacts ali
//! wawebctl chat mute 4915100000001 --for 8h
//! wawebctl chat star 4915100000001 3AA55DBD30C9CD2FD815 --from-me
//! ```

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use waweb_proto::methods;
use waweb_proto::{ChatAction, ChatModifyParams, ChatsParams, ContactsParams};

use crate::compose::MessageArgs;
use crate::table::{self, or_dash};
use crate::{Cli, Failure, Session, output};

/// The chat subcommands, flattened into the top level.
#[derive(Debug, Subcommand)]
pub enum ChatsCommand {
    /// List the chats, newest first
    Chats {
        /// Only archived chats
        #[arg(long, conflicts_with = "unarchived")]
        archived: bool,
        /// Only chats that are not archived
        #[arg(long)]
        unarchived: bool,
        /// At most this many (1-1000) [default: 1000]
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// Only chats older than this `t` (unix seconds; the last `t` of the previous page)
        #[arg(long, value_name = "T")]
        before: Option<u64>,
    },

    /// List the contacts, or those whose name or number contains QUERY
    Contacts {
        /// Part of a name or number (case does not matter)
        query: Option<String>,
    },

    /// Archive, pin, mute, clear or delete a chat, or star a message, as the phone does
    Chat {
        /// What to do
        #[command(subcommand)]
        action: ChatActionCommand,
    },
}

/// A chat, as the chat actions name it.
#[derive(Debug, Clone, Args)]
pub struct ChatArg {
    /// The chat: a phone number or JID
    pub chat: String,
}

/// The `chat` subcommands.
#[derive(Debug, Subcommand)]
pub enum ChatActionCommand {
    /// Archive the chat
    Archive(ChatArg),
    /// Take the chat out of the archive
    Unarchive(ChatArg),
    /// Pin the chat to the top
    Pin(ChatArg),
    /// Unpin the chat
    Unpin(ChatArg),
    /// Mute the chat until a time, or for a while
    Mute {
        /// The chat: a phone number or JID
        chat: String,
        /// Until then (unix seconds)
        #[arg(
            long,
            value_name = "UNIX",
            required_unless_present = "for_",
            conflicts_with = "for_"
        )]
        until: Option<u64>,
        /// For this long: 90s, 30m, 8h, 2d or 1w
        #[arg(long = "for", id = "for_", value_name = "DURATION", value_parser = parse_duration)]
        for_: Option<u64>,
    },
    /// Unmute the chat
    Unmute(ChatArg),
    /// Remove the chat's messages (the chat stays)
    Clear(ChatArg),
    /// Remove the chat and its messages
    Delete(ChatArg),
    /// Star a message
    Star(MessageArgs),
    /// Unstar a message
    Unstar(MessageArgs),
}

/// `90s`, `30m`, `8h`, `2d`, `1w` (or bare seconds) as seconds.
fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 8h"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h, d or w")),
    };
    match number.checked_mul(scale) {
        Some(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(format!("{text:?} is not a usable duration")),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs one of the chat subcommands.
pub fn run(cli: &Cli, command: &ChatsCommand, out: &mut dyn Write) -> Result<(), Failure> {
    match command {
        ChatsCommand::Chats {
            archived,
            unarchived,
            limit,
            before,
        } => {
            let archived = match (archived, unarchived) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let params = ChatsParams {
                archived,
                limit: *limit,
                before: *before,
            };
            Session::connect(cli)?.chats(out, params)
        }
        ChatsCommand::Contacts { query } => {
            let params = ContactsParams {
                query: query.clone(),
            };
            Session::connect(cli)?.contacts(out, params)
        }
        ChatsCommand::Chat { action } => {
            let params = modify_params(action, now());
            let done = format!("{} {}", done_word(params.action), params.chat);
            Session::connect(cli)?.done::<methods::ChatModify>(out, params, &done)
        }
    }
}

fn done_word(action: ChatAction) -> &'static str {
    match action {
        ChatAction::Archive => "archived",
        ChatAction::Unarchive => "unarchived",
        ChatAction::Pin => "pinned",
        ChatAction::Unpin => "unpinned",
        ChatAction::Mute => "muted",
        ChatAction::Unmute => "unmuted",
        ChatAction::Clear => "cleared",
        ChatAction::Delete => "deleted",
        ChatAction::Star => "starred a message in",
        ChatAction::Unstar => "unstarred a message in",
    }
}

/// The `chat_modify` params of a `chat` subcommand (`now` for `mute --for`).
fn modify_params(command: &ChatActionCommand, now: u64) -> ChatModifyParams {
    let simple = |action, chat: &ChatArg| ChatModifyParams {
        chat: chat.chat.clone(),
        action,
        until: None,
        message: None,
    };
    let star = |action, args: &MessageArgs| ChatModifyParams {
        chat: args.chat.clone(),
        action,
        until: None,
        message: Some(args.reference()),
    };
    match command {
        ChatActionCommand::Archive(chat) => simple(ChatAction::Archive, chat),
        ChatActionCommand::Unarchive(chat) => simple(ChatAction::Unarchive, chat),
        ChatActionCommand::Pin(chat) => simple(ChatAction::Pin, chat),
        ChatActionCommand::Unpin(chat) => simple(ChatAction::Unpin, chat),
        ChatActionCommand::Unmute(chat) => simple(ChatAction::Unmute, chat),
        ChatActionCommand::Clear(chat) => simple(ChatAction::Clear, chat),
        ChatActionCommand::Delete(chat) => simple(ChatAction::Delete, chat),
        ChatActionCommand::Mute { chat, until, for_ } => ChatModifyParams {
            chat: chat.clone(),
            action: ChatAction::Mute,
            until: until.or_else(|| for_.map(|seconds| now.saturating_add(seconds))),
            message: None,
        },
        ChatActionCommand::Star(args) => star(ChatAction::Star, args),
        ChatActionCommand::Unstar(args) => star(ChatAction::Unstar, args),
    }
}

impl Session {
    fn chats(mut self, out: &mut dyn Write, params: ChatsParams) -> Result<(), Failure> {
        let (raw, result) = self.call::<methods::Chats>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        let rows: Vec<Vec<String>> = result
            .chats
            .iter()
            .map(|chat| {
                let mut flags = Vec::new();
                if chat.archived {
                    flags.push("archived");
                }
                if chat.pinned.is_some() {
                    flags.push("pinned");
                }
                if chat.muted_until.is_some() {
                    flags.push("muted");
                }
                if chat.read_only {
                    flags.push("read-only");
                }
                let unread = match chat.unread {
                    -1 => "marked".to_owned(),
                    count => count.to_string(),
                };
                vec![
                    chat.jid.clone(),
                    or_dash(chat.name.as_deref()),
                    unread,
                    chat.t.to_string(),
                    if flags.is_empty() {
                        "-".to_owned()
                    } else {
                        flags.join(",")
                    },
                ]
            })
            .collect();
        table::write(out, &["JID", "NAME", "UNREAD", "T", "FLAGS"], &rows).map_err(output)
    }

    fn contacts(mut self, out: &mut dyn Write, params: ContactsParams) -> Result<(), Failure> {
        let (raw, result) = self.call::<methods::Contacts>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        let rows: Vec<Vec<String>> = result
            .contacts
            .iter()
            .map(|contact| {
                vec![
                    contact.jid.clone(),
                    or_dash(contact.name.as_deref()),
                    or_dash(contact.notify.as_deref()),
                    or_dash(contact.short.as_deref()),
                ]
            })
            .collect();
        table::write(out, &["JID", "NAME", "NOTIFY", "SHORT"], &rows).map_err(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(parse_duration("8h"), Ok(28_800));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert_eq!(parse_duration("45"), Ok(45));
        for bad in ["", "h", "8x", "0h", "99999999999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mute_for_is_until_now_plus_the_duration() {
        let command = ChatActionCommand::Mute {
            chat: "4915100000001".into(),
            until: None,
            for_: Some(3600),
        };
        let params = modify_params(&command, 1_600_000_000);
        assert_eq!(params.until, Some(1_600_003_600));
        assert_eq!(params.action, ChatAction::Mute);
    }
}
