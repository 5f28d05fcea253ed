//! The simulated service's brain: every session, connection and phone behaviour, in one task.
//! Connection tasks feed it frames; it answers through each connection's outgoing queue, whose
//! per-step delays give the gaps that older clients need (PROTOCOL.md section 14).
//!
//! Here: the state and the sending. [`protocol`] reads what clients send, [`login`] pairs and
//! restores sessions, [`phone`] is the phone and its contacts, [`commands`] runs control commands,
//! [`flood`] paces the `flood` command's messages, [`verify`] checks the media clients relay.

mod chats;
mod commands;
mod decoded;
mod drops;
mod flood;
#[doc(hidden)]
pub mod fuzzing;
mod group_ops;
mod groups;
mod history;
mod login;
mod phone;
mod profiles;
mod protocol;
mod reactions;
mod receiving;
mod verify;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};
use waweb_core::binary::{self, Node};
use waweb_core::crypto::{self, SessionKeys};
use waweb_core::message::{self, MediaInfo, pb};
use waweb_core::wire::{self, FrameCipher};

use crate::tasks::Tasks;

use super::Config;
use super::command::Command;
use super::media_host::Store;
use super::server::Outgoing;

/// The web client version the simulated service announces as current.
const CURRENT_VERSION: &str = "2.2142.12";

/// Everything the core reacts to.
#[derive(Debug)]
pub enum Input {
    Opened {
        conn: u64,
        out: mpsc::UnboundedSender<Outgoing>,
    },
    Refused {
        conn: u64,
        reason: String,
    },
    Text {
        conn: u64,
        text: String,
    },
    Binary {
        conn: u64,
        data: Vec<u8>,
    },
    Closed {
        conn: u64,
        reason: String,
    },
    /// A control command, or why the line is none, with the `cmd` its answer names.
    Command {
        name: String,
        command: Result<Command, String>,
        reply: oneshot::Sender<Value>,
    },
    /// A control line that was not JSON; answered in order with the commands around it.
    Unreadable {
        message: String,
    },
    HttpLogout {
        query: HashMap<String, String>,
        reply: oneshot::Sender<(u16, String)>,
    },
    Timer(Timer),
    /// A flood's pacing task asks for its next batch, or says it is over.
    Flood(flood::Step),
    /// The media host got an upload's body; answered once acted on (`drop_at upload`).
    UploadArrived {
        reply: oneshot::Sender<()>,
    },
    Shutdown,
}

impl Input {
    /// A command line for the core, read into a [`Command`] on the way.
    pub fn command(line: Value, reply: oneshot::Sender<Value>) -> Self {
        let (name, command) = Command::parse(line);
        Self::Command {
            name,
            command,
            reply,
        }
    }
}

/// Phone behaviour that happens later.
#[derive(Debug)]
pub enum Timer {
    /// The recipient's phone got (2) or read (3) a message the client sent.
    Ack {
        client_id: String,
        id: String,
        ack: i64,
        peer: String,
    },
    /// A simulated contact writes something (demo mode).
    Chatter,
    /// A contact answers a message of the client's, quoting it (demo mode).
    React {
        from: String,
        quote: String,
        text: String,
    },
}

struct Conn {
    out: mpsc::UnboundedSender<Outgoing>,
    client_id: Option<String>,
    current_ref: Option<(String, Instant)>,
    rerefs_used: u32,
    push_counter: u32,
    binary_counter: u32,
    session: Option<String>,
    pending_challenge: Option<PendingChallenge>,
    half_open: bool,
    gap: bool,
}

struct PendingChallenge {
    login_tag: String,
    challenge: Vec<u8>,
    /// The login was made with the previous tokens, not the current ones.
    stale: bool,
}

struct Tokens {
    client: String,
    server: String,
    browser: String,
}

impl Tokens {
    fn fresh() -> Self {
        Self {
            client: BASE64.encode(random_bytes::<32>()),
            server: format!("1@{}", BASE64.encode(random_bytes::<60>())),
            browser: format!("1@{}", BASE64.encode(random_bytes::<60>())),
        }
    }
}

struct Session {
    keys: SessionKeys,
    cipher: FrameCipher,
    tokens: Tokens,
    /// Tokens still accepted, with a challenge (PROTOCOL.md 5.4): the last pair the client
    /// proved it holds by logging in with it. A pair handed out in a `Conn` is only known to
    /// be stored once the client logs in with it, so a login with this pair keeps it, and one
    /// with the current pair makes that the fallback (see `complete_login`).
    previous: Option<(String, String)>,
    conn: Option<u64>,
    offline: Vec<pb::WebMessageInfo>,
    /// Receipts (`Msg` ack pushes) for the client's messages that came while it had no
    /// connection: sent after its next login, as messages are.
    offline_acks: Vec<Value>,
    /// Ids of the messages this session relayed: a repeat (a client resending after a lost
    /// ack) is answered like the first, and not delivered again.
    relayed: HashSet<String>,
}

/// Where a command's `done` or `error` line goes: the output, and the one who sent it.
pub(super) struct Answer {
    name: String,
    reply: oneshot::Sender<Value>,
}

#[derive(Default)]
struct Knobs {
    challenge_next: bool,
    refuse_next: Option<u16>,
    reref_next: Option<u16>,
    /// How many recent messages of each chat a login pushes as history (`login_history`).
    login_history: usize,
    drop_at: Option<drops::DropAt>,
}

pub struct Core {
    config: Config,
    store: Store,
    output: broadcast::Sender<Value>,
    inputs: mpsc::Sender<Input>,
    /// Where timers run (acks after a delay, chatter), so shutdown stops them.
    tasks: Tasks,
    conns: HashMap<u64, Conn>,
    sessions: HashMap<String, Session>,
    last_session: Option<String>,
    last_conn: Option<u64>,
    knobs: Knobs,
    history: HashMap<String, VecDeque<pb::WebMessageInfo>>,
    media: HashMap<String, MediaInfo>,
    battery: (u32, bool),
    chatter_index: usize,
    /// Floods in progress, by number; each answers its command when it ends.
    floods: HashMap<u64, flood::Flood>,
    next_flood: u64,
    /// Whom the user blocked on the phone, as `Blocklist` spells them (`@c.us`).
    blocklist: BTreeSet<String>,
    /// Every group, with its members, settings and invite code.
    groups: groups::Groups,
    /// Pictures, about texts and who is on WhatsApp (profiles.rs).
    profiles: profiles::Profiles,
    /// The phone's chats and address book.
    book: chats::ChatBook,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn now_s() -> u64 {
    now_ms() / 1000
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    crypto::fill_random(&mut bytes);
    bytes
}

/// People are `@c.us` in JSON frames and `@s.whatsapp.net` in protobuf keys (PROTOCOL.md 8.7).
fn user_jid(number_or_jid: &str) -> String {
    let user = number_or_jid.split('@').next().unwrap_or_default();
    if number_or_jid.ends_with("@g.us") {
        number_or_jid.to_owned()
    } else {
        format!("{user}@{}", message::USER_SERVER)
    }
}

fn str_at(array: &[Value], index: usize) -> Option<&str> {
    array.get(index).and_then(Value::as_str)
}

impl Core {
    pub fn new(
        config: Config,
        store: Store,
        output: broadcast::Sender<Value>,
        inputs: mpsc::Sender<Input>,
        tasks: Tasks,
    ) -> Self {
        let mut core = Self {
            store,
            output,
            inputs,
            tasks,
            conns: HashMap::new(),
            sessions: HashMap::new(),
            last_session: None,
            last_conn: None,
            knobs: Knobs::default(),
            history: HashMap::new(),
            media: HashMap::new(),
            battery: (87, false),
            chatter_index: 0,
            floods: HashMap::new(),
            next_flood: 1,
            blocklist: BTreeSet::new(),
            groups: groups::Groups::default(),
            profiles: profiles::Profiles::default(),
            book: chats::ChatBook::new(format!("{}-1600000000@g.us", config.phone_number)),
            config,
        }
        .with_initial_group();
        core.profiles = profiles::Profiles::new(&core.store, &core.group_jid());
        core
    }

    pub async fn run(mut self, mut inputs: mpsc::Receiver<Input>) {
        if let Some(every) = self.config.chatter {
            let sender = self.inputs.clone();
            self.tasks.spawn(async move {
                let mut ticker = tokio::time::interval(every);
                ticker.tick().await;
                loop {
                    ticker.tick().await;
                    if sender.send(Input::Timer(Timer::Chatter)).await.is_err() {
                        break;
                    }
                }
            });
        }
        while let Some(input) = inputs.recv().await {
            match input {
                Input::Opened { conn, out } => {
                    self.conns.insert(
                        conn,
                        Conn {
                            out,
                            client_id: None,
                            current_ref: None,
                            rerefs_used: 0,
                            push_counter: 0,
                            binary_counter: 0,
                            session: None,
                            pending_challenge: None,
                            half_open: false,
                            gap: false,
                        },
                    );
                    self.last_conn = Some(conn);
                    self.emit(json!({"type": "client_connected", "conn": conn}));
                }
                Input::Refused { conn, reason } => {
                    self.emit(json!({"type": "client_refused", "conn": conn, "reason": reason}));
                }
                // A connection cut by `drop_at` is forgotten at once: what it still sends is
                // on a dead line and must change nothing (a login must not rotate tokens).
                Input::Text { conn, .. } | Input::Binary { conn, .. }
                    if !self.conns.contains_key(&conn) => {}
                Input::Text { conn, text } => self.on_text(conn, &text),
                Input::Binary { conn, data } => self.on_binary(conn, &data),
                Input::Closed { conn, reason } => {
                    self.conns.remove(&conn);
                    for session in self.sessions.values_mut() {
                        if session.conn == Some(conn) {
                            session.conn = None;
                        }
                    }
                    self.emit(
                        json!({"type": "client_disconnected", "conn": conn, "reason": reason}),
                    );
                }
                Input::Command {
                    name,
                    command,
                    reply,
                } => {
                    let mut answer = Some(Answer { name, reply });
                    let done = match command {
                        Ok(command) => self.on_command(command, &mut answer).await,
                        Err(message) => Err(message),
                    };
                    // A command that took its answer gives it later (a flood, when it ends).
                    if let Some(answer) = answer {
                        self.answer(answer, done);
                    }
                }
                Input::Unreadable { message } => {
                    self.emit(json!({"type": "error", "cmd": null, "message": message}));
                }
                Input::HttpLogout { query, reply } => {
                    let _ = reply.send(self.on_http_logout(&query));
                }
                Input::Timer(timer) => self.on_timer(timer),
                Input::Flood(step) => self.on_flood(step),
                Input::UploadArrived { reply } => {
                    if let Ok(conn) = self.active_conn() {
                        self.drop_if_armed(conn, drops::DropAt::Upload);
                    }
                    let _ = reply.send(());
                }
                Input::Shutdown => {
                    for conn in self.conns.keys().copied().collect::<Vec<_>>() {
                        self.close(conn, true);
                    }
                    break;
                }
            }
        }
    }

    fn emit(&self, line: Value) {
        let _ = self.output.send(line);
    }

    /// Writes a command's `done` line (with its fields) or `error` line, and hands it back.
    fn answer(&self, answer: Answer, done: Result<Value, String>) {
        let Answer { name, reply } = answer;
        let line = match done {
            Ok(mut fields) => {
                fields["type"] = json!("done");
                fields["cmd"] = json!(name);
                fields
            }
            Err(message) => json!({"type": "error", "cmd": name, "message": message}),
        };
        self.emit(line.clone());
        let _ = reply.send(line);
    }

    fn queue(&mut self, conn: u64, step: impl FnOnce(Duration) -> Outgoing) {
        let gap = self.config.reply_gap;
        if let Some(state) = self.conns.get_mut(&conn) {
            if state.half_open {
                return;
            }
            let delay = if std::mem::take(&mut state.gap) {
                gap
            } else {
                Duration::ZERO
            };
            let _ = state.out.send(step(delay));
        }
    }

    fn send_json(&mut self, conn: u64, tag: &str, payload: &Value) {
        let text = wire::text_frame(tag, &payload.to_string());
        self.queue(conn, |delay| Outgoing::Text { delay, text });
    }

    fn send_raw_text(&mut self, conn: u64, text: String) {
        self.queue(conn, |delay| Outgoing::Text { delay, text });
    }

    /// A JSON push with the next server tag: `s1`, `s2`, … per connection.
    fn push_json(&mut self, conn: u64, payload: &Value) {
        let Some(state) = self.conns.get_mut(&conn) else {
            return;
        };
        state.push_counter += 1;
        let tag = format!("s{}", state.push_counter);
        self.send_json(conn, &tag, payload);
    }

    fn cipher_of(&self, conn: u64) -> Option<FrameCipher> {
        let client_id = self.conns.get(&conn)?.session.as_ref()?;
        Some(self.sessions.get(client_id)?.cipher.clone())
    }

    fn send_node(&mut self, conn: u64, tag: &str, node: &Node, extra_delay: Duration) {
        let Some(cipher) = self.cipher_of(conn) else {
            return;
        };
        let data = cipher.seal_server_frame(tag, &binary::encode(node));
        self.queue(conn, |delay| Outgoing::Binary {
            delay: delay + extra_delay,
            data,
        });
    }

    /// A binary push with a server tag: `preempt-<s>-<n>` for unsolicited responses,
    /// `<s>-<n>` for everything else.
    fn push_node(&mut self, conn: u64, node: &Node, extra_delay: Duration) {
        let Some(state) = self.conns.get_mut(&conn) else {
            return;
        };
        state.binary_counter += 1;
        let prefix = if node.tag == "response" {
            "preempt-"
        } else {
            ""
        };
        let tag = format!("{prefix}{}-{}", now_s(), state.binary_counter);
        self.send_node(conn, &tag, node, extra_delay);
    }

    fn close(&mut self, conn: u64, handshake: bool) {
        // Detach at once: anything for this session from now on waits for its next login.
        for session in self.sessions.values_mut() {
            if session.conn == Some(conn) {
                session.conn = None;
            }
        }
        if let Some(state) = self.conns.get_mut(&conn) {
            state.half_open = false;
            let _ = state.out.send(Outgoing::Close {
                delay: Duration::ZERO,
                handshake,
            });
        }
    }
}
