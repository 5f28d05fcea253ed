//! `history`, `message` and `search` (DESIGN.md 8): a chat's messages page by page, one
//! stored message, and a search; one table line per message (time in UTC, id, who wrote it,
//! the text), or the result as it came with `--json`.
//!
//! ```text
//! wawebctl history 4915100000001 --count 10
//! wawebctl history 4915100000001 --before 3AA55DBD30C9CD2FD815     (--from-me when it is ours)
//! wawebctl message 4915100000001 3EB0C0FFEE --from-me
//! wawebctl search lunch --chat 4915100000001 --page 2
//! ```

use std::io::Write;

use clap::Subcommand;
use waweb_proto::MessageRef;
use waweb_proto::history::{MessagesParams, MessagesResult, SearchParams};
use waweb_proto::message::Message;
use waweb_proto::methods;

use crate::{Cli, Failure, Session, output, table};

/// The history subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Show a page of a chat's messages, oldest first: the newest, or those before or after
    /// a message
    History {
        /// The chat: a phone number or JID
        chat: String,
        /// The messages older than the one with this id
        #[arg(long, value_name = "ID", group = "anchor")]
        before: Option<String>,
        /// The messages newer than the one with this id
        #[arg(long, value_name = "ID", group = "anchor")]
        after: Option<String>,
        /// The message named by --before or --after was written by this account
        #[arg(long, requires = "anchor")]
        from_me: bool,
        /// How many (1-100) [default: 25]
        #[arg(long, value_name = "N")]
        count: Option<u32>,
    },

    /// Show one message from the daemon's store
    Message {
        /// Its chat: a phone number or JID
        chat: String,
        /// Its id
        id: String,
        /// It was written by this account
        #[arg(long)]
        from_me: bool,
    },

    /// Search messages' texts and captions, newest first (the server's search and the
    /// daemon's store)
    Search {
        /// What to look for
        text: String,
        /// Only in this chat
        #[arg(long, value_name = "CHAT")]
        chat: Option<String>,
        /// Matches per page (1-100) [default: 25]
        #[arg(long, value_name = "N")]
        count: Option<u32>,
        /// Which page, from 1
        #[arg(long, value_name = "N")]
        page: Option<u32>,
    },
}

/// Runs a history subcommand.
pub fn run(cli: &Cli, command: &HistoryCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let mut session = Session::connect(cli)?;
    match command {
        HistoryCommand::History {
            chat,
            before,
            after,
            from_me,
            count,
        } => {
            let anchor = |id: &Option<String>| {
                id.as_ref()
                    .map(|id| MessageRef::new(chat.clone(), id.clone(), *from_me))
            };
            let params = MessagesParams {
                chat: chat.clone(),
                before: anchor(before),
                after: anchor(after),
                count: *count,
            };
            let (raw, result) = session.call::<methods::Messages>(params)?;
            if session.json {
                return session.print_raw(out, &raw);
            }
            let hint = match (&before, &after) {
                (_, Some(_)) => "newer",
                _ => "older",
            };
            write_page(out, &result, hint).map_err(output)
        }
        HistoryCommand::Message { chat, id, from_me } => {
            let params = MessageRef::new(chat.clone(), id.clone(), *from_me);
            let (raw, message) = session.call::<methods::GetMessage>(params)?;
            if session.json {
                return session.print_raw(out, &raw);
            }
            write_messages(out, std::slice::from_ref(&message)).map_err(output)
        }
        HistoryCommand::Search {
            text,
            chat,
            count,
            page,
        } => {
            let params = SearchParams {
                text: text.clone(),
                chat: chat.clone(),
                count: *count,
                page: *page,
            };
            let (raw, result) = session.call::<methods::Search>(params)?;
            if session.json {
                return session.print_raw(out, &raw);
            }
            write_page(out, &result, "on the next page").map_err(output)
        }
    }
}

fn write_page(out: &mut dyn Write, result: &MessagesResult, more: &str) -> std::io::Result<()> {
    if result.messages.is_empty() {
        writeln!(out, "no messages")?;
    } else {
        write_messages(out, &result.messages)?;
    }
    if result.more {
        writeln!(out, "(more {more})")?;
    }
    Ok(())
}

fn write_messages(out: &mut dyn Write, messages: &[Message]) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = messages
        .iter()
        .map(|message| {
            let sender = if message.from_me {
                "me".to_owned()
            } else {
                let jid = message.participant.as_deref().unwrap_or(&message.chat);
                let number = jid.split('@').next().unwrap_or(jid);
                match &message.push_name {
                    Some(name) => format!("{name} ({number})"),
                    None => number.to_owned(),
                }
            };
            vec![
                utc(message.timestamp),
                message.id.clone(),
                sender,
                summary(message),
            ]
        })
        .collect();
    table::write(out, &["TIME (UTC)", "ID", "FROM", "TEXT"], &rows)
}

/// The text, the caption, or what kind of message it is, on one line.
fn summary(message: &Message) -> String {
    let caption = message
        .media
        .as_ref()
        .and_then(|media| media.caption.as_deref());
    let kind = serde_json::to_value(message.kind)
        .ok()
        .and_then(|kind| kind.as_str().map(str::to_owned))
        .unwrap_or_default();
    let text = match (message.text.as_deref(), caption) {
        (Some(text), _) => text.to_owned(),
        (None, Some(caption)) => format!("[{kind}] {caption}"),
        (None, None) => format!("[{kind}]"),
    };
    text.replace(['\n', '\r'], " ")
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` (UTC), by the civil-from-days rule of the proleptic
/// Gregorian calendar.
fn utc(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let seconds = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_600_000_000), "2020-09-13 12:26:40");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(4_102_444_799), "2099-12-31 23:59:59");
    }
}
