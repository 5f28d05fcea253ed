//! The command line.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use waweb_proto::{AccountName, ConsumerName, EventType};

use crate::compose::{ReceiptCommand, ReplyArgs, SendCommand};

const EXIT_STATUS: &str = "\
Exit status:
  0  success
  1  the daemon refused or failed the request, or anything else went wrong
  2  bad usage: unknown command or flag, bad JSON argument, invalid params
  3  the daemon is not running (or went away); start it with `wawebd`
     or `systemctl --user start wawebd`
  4  not logged in: run `wawebctl login` first
  5  logged in but not connected right now, or the server timed out: try again later
  6  login ended without a scan (every QR code expired, or the server refused)

Errors are reported as one line on stderr.";

/// Control the wawebd daemon: log in, send messages, follow events.
///
/// wawebctl talks to a running wawebd over its Unix socket; it keeps no state of its own.
#[derive(Debug, Parser)]
#[command(name = "wawebctl", version, after_long_help = EXIT_STATUS)]
pub struct Cli {
    /// The daemon's socket [default: $WAWEBD_SOCKET, else $XDG_RUNTIME_DIR/wawebd/wawebd.sock]
    // Not clap's `env`: it refuses an empty variable, which the default treats as unset.
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// The account whose daemon to use: the socket $XDG_RUNTIME_DIR/wawebd/NAME.sock
    /// [env: WAWEBD_ACCOUNT]; --socket wins, and this wins over $WAWEBD_SOCKET
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_account)]
    pub account: Option<AccountName>,

    /// The environment the socket is looked up in (`WAWEBD_SOCKET`, `WAWEBD_ACCOUNT`,
    /// `XDG_RUNTIME_DIR`); `None`, as parsed: the process's. Set by tests and by programs that
    /// run commands in-process for another environment.
    #[arg(skip)]
    pub env: Option<BTreeMap<String, OsString>>,

    /// Print results as JSON, one object per line, instead of text for people
    #[arg(long, global = true)]
    pub json: bool,

    /// Wait at most this long for each answer of the daemon, then exit 5; 0 waits for good
    /// [default: 30, or 600 for media transfers, or a send's --timeout-ms when longer]
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<u64>,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the session's state, account, connection and phone
    Status,

    /// Pair with a phone: show QR codes until one is scanned
    ///
    /// Each QR code is drawn in the terminal as it arrives, with the time it has left. With
    /// --png or --svg the current code is also written to a file (replaced atomically), for
    /// machines without a screen. Exits 0 once logged in (also when already logged in), 6 when
    /// pairing ends without a scan.
    Login {
        /// Write the current QR code to this PNG file
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Write the current QR code to this SVG file
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Do not draw QR codes in the terminal
        #[arg(long)]
        no_terminal: bool,
    },

    /// Log out: tell the server goodbye and erase the stored session
    Logout,

    /// Print events as they happen, one JSON object per line
    ///
    /// Each line is the `params` of one event notification (the object with "type"). Runs until
    /// interrupted; exits non-zero when the daemon goes away or drops this subscriber.
    ///
    /// With --since N it first prints every journaled event after seq N; with --consumer NAME it
    /// resumes after that consumer's cursor and moves the cursor past each line once the line
    /// is written, so a second run goes on where the first stopped
    /// (`wawebctl events --consumer x | head -5`, twice, prints ten different events).
    Events {
        /// Only these types (default: all): state, qr, connected, disconnected, logged_out,
        /// battery, message, ack, node, json, error
        #[arg(value_name = "TYPE", value_parser = parse_event_type)]
        types: Vec<EventType>,
        /// Replay the journal after this seq first
        #[arg(long, value_name = "SEQ")]
        since: Option<u64>,
        /// Resume and commit this named cursor (1-64 of a-z, 0-9, _ and -)
        #[arg(long, value_name = "NAME", value_parser = parse_consumer)]
        consumer: Option<ConsumerName>,
    },

    /// List the named consumers with their cursors and how far behind they are
    Consumers,

    /// Show the daemon's counters: messages, acks, reconnects, journal, outbox, errors, media
    Metrics,

    /// Send a text message, or a file (--image, --video, …), and wait until the server
    /// acknowledges it
    ///
    /// The message goes through the daemon's outbox: while disconnected it waits there (also
    /// across restarts) and goes out once the session is back. A file is uploaded first, which
    /// needs the connection.
    Send {
        /// A phone number (+49 151 2345-678), bare digits, or a JID (…@s.whatsapp.net, …@g.us)
        to: String,
        /// The message (not with a file: its text is --caption)
        #[arg(required_unless_present = "media_file", conflicts_with = "media_file")]
        text: Option<String>,
        #[command(flatten)]
        reply: ReplyArgs,
        /// The file to send instead of a text
        #[command(flatten)]
        media: crate::send_media::MediaArgs,
        /// Send at most once for this key (1-128 characters): a repeat prints the first result
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
        /// Return as soon as the message is queued instead of waiting for the server
        #[arg(long)]
        queued: bool,
        /// How long to wait for the server (the message stays queued after it)
        #[arg(long, value_name = "MS")]
        timeout_ms: Option<u64>,
    },

    #[command(flatten)]
    Compose(SendCommand),

    #[command(flatten)]
    Receipt(ReceiptCommand),

    /// Work with groups: show, create, change members, subject, description, settings, invites
    Group {
        /// What to do
        #[command(subcommand)]
        command: crate::group::GroupCommand,
    },

    #[command(flatten)]
    Profile(crate::profile::ProfileCommand),
    #[command(flatten)]
    History(crate::history::HistoryCommand),
    #[command(flatten)]
    Chats(crate::chats::ChatsCommand),

    /// List the messages the server has not acknowledged yet, or cancel one not sent yet
    Outbox {
        /// Drop this message from the outbox (only before it was sent)
        #[arg(long, value_name = "ID")]
        cancel: Option<String>,
    },

    /// Send a raw JSON command, binary node or set-action to the server and print its reply
    ///
    /// Without --metric the argument is a JSON command; with it, a node in the JSON form
    /// `{"tag","attrs","content"}`, sent as a binary frame (--set: as the child of an
    /// `action type=set`). For example:
    ///
    ///   wawebctl query '["query","exist","4915100000000@c.us"]'
    ///   wawebctl query --metric 5 '{"tag":"query","attrs":{"type":"chat"}}'
    ///   wawebctl query --set --metric 10 '{"tag":"profile","attrs":{"name":"Ada"}}'
    Query {
        /// The command or node, as JSON
        #[arg(value_name = "JSON")]
        command: String,
        /// The frame's metric byte: the argument is a node (PROTOCOL.md 1.4)
        #[arg(long, value_name = "N")]
        metric: Option<u8>,
        /// The frame's flags byte [default: 128]
        #[arg(long, value_name = "N", requires = "metric")]
        flags: Option<u8>,
        /// Send the node as the child of an `action type=set`
        #[arg(long, requires = "metric")]
        set: bool,
        /// With --set: the child's `id` is the frame's tag (pictures, group operations)
        #[arg(long, requires = "set")]
        id_is_tag: bool,
    },

    /// Work with message attachments
    Media {
        /// What to do
        #[command(subcommand)]
        command: MediaCommand,
    },

    /// Show the versions of wawebctl and of the daemon
    Version,

    /// List the daemons of every account: the sockets found, and each one's state
    ///
    /// Looks at the sockets in $XDG_RUNTIME_DIR/wawebd (or --dir): wawebd.sock is the default
    /// account, NAME.sock the account NAME (`wawebctl --account NAME`). Each daemon is asked
    /// for its status, waiting at most 2 s. The columns: ACCOUNT (the name, `-` for the default
    /// account), STATE (the session's state; `not running` for a socket nobody listens on, as
    /// one left by a crash; `unreachable` when it did not answer, with the reason), ME (the
    /// logged-in JID, `-` before a login), SOCKET. With --json, one object per socket:
    /// {"account","socket","running","status","error"}, `status` being the `status` result as it
    /// came and `error` why there is none. Exits 0 also when some daemons are down.
    Accounts {
        /// Where the sockets are [default: $XDG_RUNTIME_DIR/wawebd]; /run/wawebd for the system
        /// units
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },

    /// Print a shell completion script
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

/// The `media` subcommands.
#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Download, decrypt and verify the attachment of a message
    ///
    /// --media takes the `media` object of a message event, or the whole event (as printed by
    /// `wawebctl events message`), or an event notification line; inline, from a file with
    /// @FILE, or from stdin with -. For example:
    ///
    ///   wawebctl events message | head -n1 | wawebctl media download --media - -o photo.jpg
    ///
    /// --message CHAT ID names a message the daemon stored instead; its media is refreshed
    /// through the phone when the host no longer has it.
    Download {
        /// The media object or message event: JSON, @FILE or - for stdin
        #[arg(
            long,
            value_name = "JSON|@FILE|-",
            required_unless_present = "message",
            conflicts_with = "message"
        )]
        media: Option<String>,
        /// A stored message: its chat and id
        #[arg(long, num_args = 2, value_names = ["CHAT", "ID"])]
        message: Option<Vec<String>>,
        /// With --message: this account wrote it
        #[arg(long, requires = "message")]
        from_me: bool,
        /// Where to write the file (an existing file is replaced)
        #[arg(long, short, value_name = "PATH")]
        output: PathBuf,
    },
}

impl Cli {
    /// A variable of [`Cli::env`], or of the process when that is `None`.
    pub(crate) fn var(&self, name: &str) -> Option<OsString> {
        match &self.env {
            Some(env) => env.get(name).cloned(),
            None => std::env::var_os(name),
        }
    }
}

fn parse_account(name: &str) -> Result<AccountName, String> {
    AccountName::new(name).map_err(|error| error.to_string())
}

fn parse_consumer(name: &str) -> Result<ConsumerName, String> {
    ConsumerName::new(name).map_err(|error| error.to_string())
}

fn parse_event_type(name: &str) -> Result<EventType, String> {
    name.parse().map_err(|_| {
        let known: Vec<&str> = EventType::ALL.iter().map(|kind| kind.as_str()).collect();
        format!("unknown event type; the types are {}", known.join(", "))
    })
}
