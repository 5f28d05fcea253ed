//! The subcommands of DESIGN.md 7.1 and 7.2 besides `send`: locations, contact cards,
//! forwards, revokes, read and played receipts, presence and typing; and the reply options
//! `send` shares with them (`--quote`, `--mention`).
//!
//! A message is named the way its `message` event names it: its chat, its id, and
//! `--from-me` when this account wrote it (`--participant` for its author in a group).
//!
//! ```text
//! wawebctl send 4915100000001 "yes" --quote 3AA55DBD30C9CD2FD815
//! wawebctl send-location 4915100000001 52.5163 13.3777 --name "Brandenburger Tor"
//! wawebctl forward 4915100000002 4915100000001 3AA55DBD30C9CD2FD815
//! wawebctl revoke 4915100000001 3EB0C0FFEE
//! wawebctl read 4915100000001          (the newest stored message; --unread to mark unread)
//! wawebctl typing 4915100000001 composing
//! wawebctl presence available | wawebctl presence --subscribe 4915100000001
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use waweb_proto::methods::{self, Method};
use waweb_proto::{
    ChatState, ContactCard, ForwardParams, MarkPlayedParams, MarkReadParams, MarkUnreadParams,
    MessageRef, Presence, ReceiptResult, RevokeParams, SendContactParams, SendLocationParams,
    SendStatus, SendTextResult, SendWait, SetPresenceParams, SetTypingParams,
    SubscribePresenceParams,
};

use crate::{Cli, Failure, Session, output};

/// How `send` and the other sends reply to and mention.
#[derive(Debug, Clone, Args)]
pub struct ReplyArgs {
    /// Reply to (quote) the message with this id; it is quoted with its content when the
    /// daemon's store holds it
    #[arg(long, value_name = "ID")]
    pub quote: Option<String>,
    /// The quoted message's chat [default: the recipient]
    #[arg(long, value_name = "CHAT", requires = "quote")]
    pub quote_chat: Option<String>,
    /// The quoted message was written by this account
    #[arg(long, requires = "quote")]
    pub quote_from_me: bool,
    /// Who wrote the quoted message, in a group
    #[arg(long, value_name = "JID", requires = "quote")]
    pub quote_participant: Option<String>,
    /// Mention this person (repeatable); the text should contain @<digits> for each
    #[arg(long = "mention", value_name = "JID")]
    pub mentions: Vec<String>,
}

impl ReplyArgs {
    /// The `quote` param, for a message to `to`.
    pub fn quote(&self, to: &str) -> Option<MessageRef> {
        let id = self.quote.clone()?;
        Some(MessageRef {
            chat: self.quote_chat.clone().unwrap_or_else(|| to.to_owned()),
            id,
            from_me: self.quote_from_me,
            participant: self.quote_participant.clone(),
        })
    }

    /// The `mentions` param.
    pub fn mentions(&self) -> Option<Vec<String>> {
        (!self.mentions.is_empty()).then(|| self.mentions.clone())
    }
}

/// How a send is delivered, as `send` takes it.
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// Send at most once for this key (1-128 characters): a repeat prints the first result
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Return as soon as the message is queued instead of waiting for the server
    #[arg(long)]
    pub queued: bool,
    /// How long to wait for the server (the message stays queued after it)
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
}

impl DeliveryArgs {
    fn wait(&self) -> Option<SendWait> {
        self.queued.then_some(SendWait::Queued)
    }
}

/// A stored message, named by its chat and id.
#[derive(Debug, Clone, Args)]
pub struct MessageArgs {
    /// The message's chat: a phone number or JID
    pub chat: String,
    /// The message's id
    pub id: String,
    /// The message was written by this account
    #[arg(long)]
    pub from_me: bool,
    /// Who wrote it, in a group
    #[arg(long, value_name = "JID")]
    pub participant: Option<String>,
}

impl MessageArgs {
    pub(crate) fn reference(&self) -> MessageRef {
        MessageRef {
            chat: self.chat.clone(),
            id: self.id.clone(),
            from_me: self.from_me,
            participant: self.participant.clone(),
        }
    }
}

/// The typing states.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TypingArg {
    /// Typing
    Composing,
    /// Recording a voice note
    Recording,
    /// Stopped
    Paused,
}

/// Our own presence.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PresenceArg {
    /// Online
    Available,
    /// Offline
    Unavailable,
}

/// The sending subcommands besides `send`, flattened into the top level.
#[derive(Debug, Subcommand)]
pub enum SendCommand {
    /// Send a location
    SendLocation {
        /// A phone number or JID
        to: String,
        /// Degrees north (-90 to 90)
        #[arg(allow_negative_numbers = true)]
        latitude: f64,
        /// Degrees east (-180 to 180)
        #[arg(allow_negative_numbers = true)]
        longitude: f64,
        /// What the place is called
        #[arg(long)]
        name: Option<String>,
        /// Its address
        #[arg(long)]
        address: Option<String>,
        #[command(flatten)]
        reply: ReplyArgs,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },

    /// Send contact cards from vCard files (one card, or several as one message)
    ///
    /// Each card is named by the FN line of its vCard (else the file name); `-` reads one
    /// vCard from stdin.
    SendContact {
        /// A phone number or JID
        to: String,
        /// vCard files
        #[arg(required = true, value_name = "VCARD")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        reply: ReplyArgs,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },

    /// Forward a message the daemon has stored
    Forward {
        /// Where to: a phone number or JID
        to: String,
        #[command(flatten)]
        message: MessageArgs,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },

    /// Delete one of our messages for everyone
    Revoke {
        /// The message's chat
        chat: String,
        /// The message's id
        id: String,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },
}

/// The receipt, typing and presence subcommands, flattened into the top level.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Mark a chat read (up to a message, or its newest stored one), or unread
    Read {
        /// The chat: a phone number or JID
        chat: String,
        /// The newest message read [default: the newest in the daemon's store]
        id: Option<String>,
        /// That message was written by this account
        #[arg(long, requires = "id")]
        from_me: bool,
        /// Who wrote it, in a group
        #[arg(long, value_name = "JID", requires = "id")]
        participant: Option<String>,
        /// Mark the chat unread instead
        #[arg(long, conflicts_with_all = ["id", "from_me", "participant"])]
        unread: bool,
    },

    /// Send a played receipt for a voice note
    Played {
        /// The message's chat
        chat: String,
        /// The voice note's id
        id: String,
        /// Who sent it, in a group
        #[arg(long, value_name = "JID")]
        participant: Option<String>,
    },

    /// Show that we are typing (or recording, or stopped) in a chat
    Typing {
        /// The chat: a phone number or JID
        chat: String,
        /// What we are doing
        #[arg(value_enum, default_value = "composing")]
        state: TypingArg,
    },

    /// Set our own presence, or ask for a contact's (then `presence` events follow)
    Presence {
        /// available or unavailable
        #[arg(value_enum, required_unless_present = "subscribe")]
        presence: Option<PresenceArg>,
        /// Subscribe to this contact's presence instead
        #[arg(long, value_name = "JID", conflicts_with = "presence")]
        subscribe: Option<String>,
    },
}

/// Runs one of the sending subcommands.
pub fn send(cli: &Cli, command: &SendCommand, out: &mut dyn Write) -> Result<(), Failure> {
    match command {
        SendCommand::SendLocation {
            to,
            latitude,
            longitude,
            name,
            address,
            reply,
            delivery,
        } => {
            let params = SendLocationParams {
                to: to.clone(),
                latitude: *latitude,
                longitude: *longitude,
                name: name.clone(),
                address: address.clone(),
                quote: reply.quote(to),
                mentions: reply.mentions(),
                idempotency_key: delivery.idempotency_key.clone(),
                wait: delivery.wait(),
                timeout_ms: delivery.timeout_ms,
            };
            Session::connect(cli)?.sent::<methods::SendLocation>(out, params)
        }
        SendCommand::SendContact {
            to,
            files,
            reply,
            delivery,
        } => {
            let contacts = files
                .iter()
                .map(|file| card(file))
                .collect::<Result<_, _>>()?;
            let params = SendContactParams {
                to: to.clone(),
                contacts,
                quote: reply.quote(to),
                mentions: reply.mentions(),
                idempotency_key: delivery.idempotency_key.clone(),
                wait: delivery.wait(),
                timeout_ms: delivery.timeout_ms,
            };
            Session::connect(cli)?.sent::<methods::SendContact>(out, params)
        }
        SendCommand::Forward {
            to,
            message,
            delivery,
        } => {
            let params = ForwardParams {
                to: to.clone(),
                message: message.reference(),
                quote: None,
                mentions: None,
                idempotency_key: delivery.idempotency_key.clone(),
                wait: delivery.wait(),
                timeout_ms: delivery.timeout_ms,
            };
            Session::connect(cli)?.sent::<methods::Forward>(out, params)
        }
        SendCommand::Revoke { chat, id, delivery } => {
            let params = RevokeParams {
                message: MessageRef::new(chat.clone(), id.clone(), true),
                idempotency_key: delivery.idempotency_key.clone(),
                wait: delivery.wait(),
                timeout_ms: delivery.timeout_ms,
            };
            Session::connect(cli)?.sent::<methods::Revoke>(out, params)
        }
    }
}

/// Runs one of the receipt, typing and presence subcommands.
pub fn receipt(cli: &Cli, command: &ReceiptCommand, out: &mut dyn Write) -> Result<(), Failure> {
    match command {
        ReceiptCommand::Read {
            unread: true, chat, ..
        } => {
            let params = MarkUnreadParams { chat: chat.clone() };
            Session::connect(cli)?.receipt::<methods::MarkUnread>(out, params, "unread")
        }
        ReceiptCommand::Read {
            chat,
            id,
            from_me,
            participant,
            ..
        } => {
            let message = id.as_ref().map(|id| MessageRef {
                chat: chat.clone(),
                id: id.clone(),
                from_me: *from_me,
                participant: participant.clone(),
            });
            let params = MarkReadParams {
                chat: chat.clone(),
                message,
            };
            Session::connect(cli)?.receipt::<methods::MarkRead>(out, params, "read")
        }
        ReceiptCommand::Played {
            chat,
            id,
            participant,
        } => {
            let mut message = MessageRef::new(chat.clone(), id.clone(), false);
            message.participant = participant.clone();
            let params = MarkPlayedParams { message };
            Session::connect(cli)?.receipt::<methods::MarkPlayed>(out, params, "played")
        }
        ReceiptCommand::Typing { chat, state } => {
            let state = match state {
                TypingArg::Composing => ChatState::Composing,
                TypingArg::Recording => ChatState::Recording,
                TypingArg::Paused => ChatState::Paused,
            };
            let params = SetTypingParams {
                chat: chat.clone(),
                state,
            };
            let done = format!("{} in {chat}", state.as_str());
            Session::connect(cli)?.done::<methods::SetTyping>(out, params, &done)
        }
        ReceiptCommand::Presence {
            subscribe: Some(jid),
            ..
        } => {
            let params = SubscribePresenceParams { jid: jid.clone() };
            let done = format!("subscribed to the presence of {jid}");
            Session::connect(cli)?.done::<methods::SubscribePresence>(out, params, &done)
        }
        ReceiptCommand::Presence { presence, .. } => {
            let presence = match presence {
                Some(PresenceArg::Unavailable) => Presence::Unavailable,
                _ => Presence::Available,
            };
            let params = SetPresenceParams { presence };
            let done = format!("presence {}", presence.as_str());
            Session::connect(cli)?.done::<methods::SetPresence>(out, params, &done)
        }
    }
}

/// One card from a vCard file (`-`: stdin), named by its FN line.
fn card(file: &Path) -> Result<ContactCard, Failure> {
    let vcard = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .map_err(|error| Failure::usage(format!("cannot read a vCard from stdin: {error}")))?
    } else {
        std::fs::read_to_string(file)
            .map_err(|error| Failure::usage(format!("cannot read {}: {error}", file.display())))?
    };
    let named = vcard.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let key = key.split(';').next()?;
        (key.eq_ignore_ascii_case("FN") && !value.trim().is_empty())
            .then(|| value.trim().to_owned())
    });
    let display_name = named
        .or_else(|| {
            file.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "contact".to_owned());
    Ok(ContactCard {
        display_name,
        vcard,
    })
}

impl Session {
    /// Calls a send method and prints what `send` prints.
    pub(crate) fn sent<M: Method<Result = SendTextResult>>(
        mut self,
        out: &mut dyn Write,
        params: M::Params,
    ) -> Result<(), Failure> {
        let (raw, result) = self.call::<M>(params)?;
        self.print_sent(out, &raw, result)
    }

    /// `sent ID (server status 200)` or `queued ID`; the result as it came with `--json`.
    pub(crate) fn print_sent(
        &self,
        out: &mut dyn Write,
        raw: &Value,
        SendTextResult { id, status, .. }: SendTextResult,
    ) -> Result<(), Failure> {
        if self.json {
            return self.print_raw(out, raw);
        }
        match status {
            SendStatus::Server(status) => {
                writeln!(out, "sent {id} (server status {status})").map_err(output)
            }
            SendStatus::Queued => writeln!(out, "queued {id}").map_err(output),
        }
    }

    fn receipt<M: Method<Result = ReceiptResult>>(
        mut self,
        out: &mut dyn Write,
        params: M::Params,
        what: &str,
    ) -> Result<(), Failure> {
        let (raw, ReceiptResult { chat, id }) = self.call::<M>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        writeln!(out, "marked {chat} {what} at {id}").map_err(output)
    }

    /// Calls `M` and prints `what` (the result as it came with `--json`).
    pub(crate) fn done<M: Method>(
        mut self,
        out: &mut dyn Write,
        params: M::Params,
        what: &str,
    ) -> Result<(), Failure> {
        let (raw, _) = self.call::<M>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        writeln!(out, "{what}").map_err(output)
    }
}
