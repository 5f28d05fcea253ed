//! The simulated service's brain: every session, connection and phone behaviour, in one task.
//! Connection tasks feed it frames; it answers through each connection's outgoing queue, whose
//! per-step delays give the gaps that older clients need (PROTOCOL.md section 14).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};
use waweb_core::binary::{self, Content, Node};
use waweb_core::crypto::{self, KeyPair, SessionKeys};
use waweb_core::media::{self, MediaKeys, MediaType};
use waweb_core::message::{self, MediaInfo, pb};
use waweb_core::wire::{self, ClientText, FrameCipher};
use waweb_proto::message::MediaKind;

use super::Config;
use super::media_host::Store;
use super::server::Outgoing;

/// The web client version the simulated service announces as current.
const CURRENT_VERSION: &str = "2.2142.12";
/// History kept per chat for `query message`.
const HISTORY_PER_CHAT: usize = 200;

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
    Command {
        command: Value,
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
    Shutdown,
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
    previous: Option<(String, String)>,
    conn: Option<u64>,
    offline: Vec<pb::WebMessageInfo>,
}

struct Contact {
    number: &'static str,
    name: &'static str,
}

const CONTACTS: [Contact; 3] = [
    Contact {
        number: "4915100000001",
        name: "Alice",
    },
    Contact {
        number: "4915100000002",
        name: "Bob",
    },
    Contact {
        number: "4915100000003",
        name: "Carol",
    },
];
const GROUP_SUBJECT: &str = "Sim Friends";

#[derive(Default)]
struct Knobs {
    challenge_next: bool,
    refuse_next: Option<u16>,
    reref_next: Option<u16>,
}

pub struct Core {
    config: Config,
    store: Store,
    output: broadcast::Sender<Value>,
    inputs: mpsc::Sender<Input>,
    conns: HashMap<u64, Conn>,
    sessions: HashMap<String, Session>,
    last_session: Option<String>,
    last_conn: Option<u64>,
    knobs: Knobs,
    history: HashMap<String, Vec<pb::WebMessageInfo>>,
    media: HashMap<String, MediaInfo>,
    battery: (u32, bool),
    chatter_index: usize,
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
    ) -> Self {
        Self {
            config,
            store,
            output,
            inputs,
            conns: HashMap::new(),
            sessions: HashMap::new(),
            last_session: None,
            last_conn: None,
            knobs: Knobs::default(),
            history: HashMap::new(),
            media: HashMap::new(),
            battery: (87, false),
            chatter_index: 0,
        }
    }

    pub async fn run(mut self, mut inputs: mpsc::Receiver<Input>) {
        if let Some(every) = self.config.chatter {
            let sender = self.inputs.clone();
            tokio::spawn(async move {
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
                Input::Command { command, reply } => {
                    let name = command
                        .get("cmd")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let line = match self.on_command(&name, &command).await {
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
                Input::Unreadable { message } => {
                    self.emit(json!({"type": "error", "cmd": null, "message": message}));
                }
                Input::HttpLogout { query, reply } => {
                    let _ = reply.send(self.on_http_logout(&query));
                }
                Input::Timer(timer) => self.on_timer(timer),
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

    // ---- sending ----

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

    // ---- text frames ----

    fn on_text(&mut self, conn: u64, text: &str) {
        let half_open = self.conns.get(&conn).is_some_and(|state| state.half_open);
        match wire::parse_client_text(text) {
            Ok(ClientText::Keepalive) => {
                self.emit(json!({"type": "received", "conn": conn, "keepalive": true}));
                if !half_open {
                    self.send_raw_text(conn, format!("!{}", now_ms()));
                }
            }
            Ok(ClientText::Json { tag, json }) => match serde_json::from_str::<Value>(json) {
                Ok(value) => {
                    self.emit(json!({"type": "received", "conn": conn, "tag": tag, "json": value}));
                    if !half_open {
                        self.on_json(conn, tag, &value);
                    }
                }
                Err(error) => self.emit(json!({
                    "type": "received", "conn": conn, "tag": tag, "error": format!("invalid JSON: {error}")
                })),
            },
            Err(error) => self.emit(json!({"type": "received", "conn": conn, "error": error.to_string()})),
        }
    }

    fn on_json(&mut self, conn: u64, tag: &str, value: &Value) {
        let Some(array) = value.as_array() else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        let words: Vec<&str> = array
            .iter()
            .take(3)
            .map(|word| word.as_str().unwrap_or_default())
            .collect();
        match words.as_slice() {
            ["admin", "init", ..] => self.on_init(conn, tag, array),
            ["admin", "Conn", "reref"] => self.on_reref(conn, tag),
            ["admin", "login", ..] => self.on_login(conn, tag, array),
            ["admin", "challenge", ..] => self.on_challenge(conn, tag, array),
            ["admin", "test", ..] => {
                let logged_in = self
                    .conns
                    .get(&conn)
                    .is_some_and(|state| state.session.is_some());
                self.send_json(conn, tag, &json!(["Pong", logged_in]));
            }
            ["admin", "Conn", "disconnect"] => self.on_goodbye(conn),
            ["admin", ..] => self.send_json(conn, tag, &json!({"status": 400})),
            _ if self
                .conns
                .get(&conn)
                .is_none_or(|state| state.session.is_none()) =>
            {
                self.send_json(conn, tag, &json!({"status": 401}));
            }
            ["action", "presence", "subscribe"] => {
                self.send_json(conn, tag, &json!({"status": 200}));
                if let Some(jid) = str_at(array, 3) {
                    let payload = json!(["Presence", {"id": message::jid_for_json_command(jid), "type": "available"}]);
                    self.push_json(conn, &payload);
                }
            }
            ["query", "exist", ..] => {
                let jid = str_at(array, 2)
                    .map(message::jid_for_json_command)
                    .unwrap_or_default();
                self.send_json(conn, tag, &json!({"status": 200, "jid": jid, "biz": false}));
            }
            ["query", "ProfilePicThumb", ..] => self.send_json(conn, tag, &json!({"status": 404})),
            ["query", "Status", ..] => {
                self.send_json(
                    conn,
                    tag,
                    &json!({"status": "Hey there! I am using WhatsApp."}),
                );
            }
            ["query", "Presence", "lastseen"] => {
                self.send_json(conn, tag, &json!({"t": now_s().saturating_sub(300)}));
            }
            ["query", "GroupMetadata", ..] => {
                let reply = if str_at(array, 2) == Some(self.group_jid().as_str()) {
                    self.group_metadata()
                } else {
                    json!({"status": 404})
                };
                self.send_json(conn, tag, &reply);
            }
            ["query", "inviteCode", ..] => {
                self.send_json(conn, tag, &json!({"status": 200, "code": "SimInviteCode1"}))
            }
            ["query", "mediaConn", ..] => {
                let reply = json!({"status": 200, "media_conn": {
                    "auth": self.store.auth(), "ttl": 3600,
                    "hosts": [{"hostname": self.store.hostname(), "ips": []}]
                }});
                self.send_json(conn, tag, &reply);
            }
            _ => self.send_json(conn, tag, &json!({"status": 404})),
        }
    }

    fn new_ref(&mut self, conn: u64) -> String {
        let reference = format!("1@{}", BASE64.encode(random_bytes::<48>()));
        if let Some(state) = self.conns.get_mut(&conn) {
            state.current_ref = Some((reference.clone(), Instant::now()));
        }
        reference
    }

    fn on_init(&mut self, conn: u64, tag: &str, array: &[Value]) {
        let Some(client_id) = str_at(array, 4).filter(|id| !id.is_empty()) else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        if let Some(state) = self.conns.get_mut(&conn) {
            state.client_id = Some(client_id.to_owned());
        }
        let reference = self.new_ref(conn);
        let reply = json!({
            "status": 200, "ref": reference, "ttl": self.config.ttl.as_millis() as u64,
            "update": false, "curr": CURRENT_VERSION, "time": now_ms() as f64,
        });
        self.send_json(conn, tag, &reply);
        if let Some(state) = self.conns.get_mut(&conn) {
            state.gap = true;
        }
    }

    fn on_reref(&mut self, conn: u64, tag: &str) {
        let Some(state) = self.conns.get(&conn) else {
            return;
        };
        if state.client_id.is_none() || state.session.is_some() {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        }
        let reply = match self.knobs.reref_next.take() {
            Some(304) => json!({"status": 304}),
            Some(status) if status != 200 => json!({"status": status}),
            _ if state.rerefs_used >= self.config.reref_budget => json!({"status": 429}),
            _ => {
                if let Some(state) = self.conns.get_mut(&conn) {
                    state.rerefs_used += 1;
                }
                let reference = self.new_ref(conn);
                json!({"status": 200, "ref": reference, "ttl": self.config.ttl.as_millis() as u64})
            }
        };
        self.send_json(conn, tag, &reply);
    }

    fn on_login(&mut self, conn: u64, tag: &str, array: &[Value]) {
        let (Some(client_token), Some(server_token), Some(client_id), Some(mode)) = (
            str_at(array, 2),
            str_at(array, 3),
            str_at(array, 4),
            str_at(array, 5),
        ) else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        if let Some(status) = self.knobs.refuse_next.take() {
            let reply = if status == 403 {
                json!({"status": 403, "tos": 2})
            } else {
                json!({"status": status})
            };
            self.send_json(conn, tag, &reply);
            self.emit(json!({"type": "login_refused", "conn": conn, "status": status}));
            return;
        }
        let current = self
            .conns
            .get(&conn)
            .and_then(|state| state.session.clone());
        if current.as_deref() == Some(client_id) {
            // Clients resend the login every few seconds until the session opens; repeat the
            // answer and change nothing.
            self.send_json(conn, tag, &json!({"status": 200}));
            return;
        }
        if let Some(state) = self.conns.get_mut(&conn) {
            state.client_id = Some(client_id.to_owned());
        }
        let Some(session) = self.sessions.get(client_id) else {
            self.send_json(conn, tag, &json!({"status": 401}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 401}));
            return;
        };
        let current_tokens =
            session.tokens.client == client_token && session.tokens.server == server_token;
        let stale = session
            .previous
            .as_ref()
            .is_some_and(|(client, server)| client == client_token && server == server_token);
        if !current_tokens && !stale {
            self.send_json(conn, tag, &json!({"status": 401}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 401}));
            return;
        }
        let elsewhere = session
            .conn
            .is_some_and(|other| other != conn && self.conns.contains_key(&other));
        if mode == "reconnect" && elsewhere {
            self.send_json(conn, tag, &json!({"status": 409}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 409}));
            return;
        }
        if stale || std::mem::take(&mut self.knobs.challenge_next) {
            let challenge = random_bytes::<32>().to_vec();
            let payload =
                json!(["Cmd", {"type": "challenge", "challenge": BASE64.encode(&challenge)}]);
            if let Some(state) = self.conns.get_mut(&conn) {
                state.pending_challenge = Some(PendingChallenge {
                    login_tag: tag.to_owned(),
                    challenge,
                });
            }
            self.push_json(conn, &payload);
            return;
        }
        self.complete_login(conn, client_id, tag, false);
    }

    fn on_challenge(&mut self, conn: u64, tag: &str, array: &[Value]) {
        let pending = self
            .conns
            .get_mut(&conn)
            .and_then(|state| state.pending_challenge.take());
        let client_id = self
            .conns
            .get(&conn)
            .and_then(|state| state.client_id.clone());
        let (Some(pending), Some(client_id)) = (pending, client_id) else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        let answer = str_at(array, 2).unwrap_or_default();
        let valid = str_at(array, 4) == Some(client_id.as_str())
            && self.sessions.get(&client_id).is_some_and(|session| {
                crypto::constant_time_eq(
                    session.keys.challenge_answer(&pending.challenge).as_bytes(),
                    answer.as_bytes(),
                )
            });
        if !valid {
            self.send_json(conn, tag, &json!({"status": 401}));
            self.send_json(conn, &pending.login_tag, &json!({"status": 401}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 401, "challenge": "wrong answer"}));
            return;
        }
        self.send_json(conn, tag, &json!({"status": 200}));
        if let Some(state) = self.conns.get_mut(&conn) {
            state.gap = true;
        }
        self.complete_login(conn, &client_id, &pending.login_tag, true);
    }

    fn complete_login(&mut self, conn: u64, client_id: &str, login_tag: &str, challenged: bool) {
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        let other = session.conn.filter(|other| *other != conn);
        let old = std::mem::replace(&mut session.tokens, Tokens::fresh());
        session.previous = Some((old.client, old.server));
        session.conn = Some(conn);
        let offline = std::mem::take(&mut session.offline);
        if let Some(other) = other.filter(|other| self.conns.contains_key(other)) {
            self.push_json(
                other,
                &json!(["Cmd", {"type": "disconnect", "kind": "replaced"}]),
            );
            self.close(other, true);
            self.emit(json!({"type": "replaced", "conn": other, "by": conn}));
        }
        if let Some(state) = self.conns.get_mut(&conn) {
            state.session = Some(client_id.to_owned());
            state.current_ref = None;
        }
        self.last_session = Some(client_id.to_owned());
        let conn_payload = self.conn_payload(client_id, false);
        self.push_json(conn, &json!(["Conn", conn_payload]));
        // The login reply comes after Conn: B races the two and takes whichever is first.
        self.send_json(conn, login_tag, &json!({"status": 200}));
        self.after_conn(conn);
        for info in offline {
            self.relay_to(conn, &info);
        }
        self.emit(
            json!({"type": "logged_in", "conn": conn, "restored": true, "challenged": challenged}),
        );
    }

    fn conn_payload(&self, client_id: &str, with_secret: bool) -> Value {
        let session = &self.sessions[client_id];
        let mut payload = json!({
            "ref": "",
            "wid": format!("{}@c.us", self.config.phone_number),
            "connected": true,
            "isResponse": if with_secret { "false" } else { "true" },
            "serverToken": session.tokens.server,
            "clientToken": session.tokens.client,
            "browserToken": session.tokens.browser,
            "lc": "DE", "lg": "en", "locales": "en-DE,de-DE", "is24h": true,
            "protoVersion": [0, 17], "binVersion": 11,
            "battery": self.battery.0, "plugged": self.battery.1,
            "platform": "android",
            "features": {"KEY_PARTICIPANT": true, "FLAGS": "EAEYASgBOAFAAUgBWAFgAWgBeAGYAQGgAQGwAQK4AQHIAQHYAQHoAQI=", "URL": true},
            "phone": {
                "wa_version": "2.21.23.23", "mcc": "262", "mnc": "001", "os_version": "11",
                "device_manufacturer": "Simulated", "device_model": "Phone", "os_build_number": "SIM.1"
            },
            "pushname": self.config.pushname,
            "tos": 0,
        });
        if with_secret {
            // The caller fills in the real secret; the field is only present on a new pairing.
            payload["secret"] = json!("");
        }
        payload
    }

    /// Blocklist, Stream, Props, then (after a delay, once the client has its keys) the binary
    /// login-time pushes of PROTOCOL.md 8.3.
    fn after_conn(&mut self, conn: u64) {
        self.push_json(conn, &json!(["Blocklist", {"id": 1, "blocklist": []}]));
        self.push_json(conn, &json!(["Stream", "update", false, CURRENT_VERSION]));
        self.push_json(conn, &json!(["Props", {
            "imageMaxKBytes": 1024, "imageMaxEdge": 1600, "videoMaxEdge": 960, "maxParticipants": 257,
            "maxSubject": 25, "media": 64, "maxFileSize": 100, "groupDescLength": 512,
            "mmsMediaKeyTTL": 172_800, "gifSearch": "tenor"
        }]));
        let delay = self.config.push_delay;
        let chats = self.chat_list();
        self.push_node(conn, &chats, delay);
        let contacts = self.contact_list();
        self.push_node(conn, &contacts, Duration::ZERO);
        let last: Vec<Node> = self
            .history
            .values()
            .filter_map(|messages| messages.last())
            .map(|info| Node::new("message").with_content(Content::Bytes(message::encode(info))))
            .collect();
        if !last.is_empty() {
            let node = Node::new("action")
                .attr("add", "last")
                .with_content(Content::List(last));
            self.push_node(conn, &node, Duration::ZERO);
        }
        let frequent = CONTACTS
            .iter()
            .map(|contact| Node::new("message").with_content(Content::Text(contact.number.into())))
            .collect();
        let node = Node::new("action").with_content(Content::List(vec![
            Node::new("contacts")
                .attr("type", "frequent")
                .with_content(Content::List(frequent)),
        ]));
        self.push_node(conn, &node, Duration::ZERO);
        let battery = self.battery_node();
        self.push_node(conn, &battery, Duration::ZERO);
    }

    fn battery_node(&self) -> Node {
        let (percent, plugged) = self.battery;
        Node::new("action").with_content(Content::List(vec![
            Node::new("battery")
                .attr("live", plugged.to_string())
                .attr("value", percent.to_string())
                .attr("powersave", "false"),
        ]))
    }

    fn group_jid(&self) -> String {
        format!("{}-1600000000@g.us", self.config.phone_number)
    }

    fn group_metadata(&self) -> Value {
        let own = format!("{}@c.us", self.config.phone_number);
        let mut participants = vec![json!({"id": own, "isAdmin": true, "isSuperAdmin": true})];
        participants.extend(
            CONTACTS
                .iter()
                .map(|contact| json!({"id": format!("{}@c.us", contact.number), "isAdmin": false, "isSuperAdmin": false})),
        );
        json!({
            "id": self.group_jid(), "owner": own, "subject": GROUP_SUBJECT, "creation": 1_600_000_000,
            "subjectTime": 1_600_000_000, "subjectOwner": own, "participants": participants
        })
    }

    fn chat_list(&self) -> Node {
        let mut chats: Vec<Node> = CONTACTS
            .iter()
            .map(|contact| {
                Node::new("chat")
                    .attr("jid", user_jid(contact.number))
                    .attr("t", now_s().to_string())
                    .attr("count", "0")
                    .attr("spam", "false")
                    .attr("modify_tag", "1")
                    .attr("name", contact.name)
            })
            .collect();
        chats.push(
            Node::new("chat")
                .attr("jid", self.group_jid())
                .attr("t", now_s().to_string())
                .attr("count", "0")
                .attr("spam", "false")
                .attr("modify_tag", "1")
                .attr("name", GROUP_SUBJECT),
        );
        Node::new("response")
            .attr("type", "chat")
            .with_content(Content::List(chats))
    }

    fn contact_list(&self) -> Node {
        let users = CONTACTS
            .iter()
            .enumerate()
            .map(|(index, contact)| {
                Node::new("user")
                    .attr("jid", user_jid(contact.number))
                    .attr("name", contact.name)
                    .attr("notify", contact.name)
                    .attr("short", contact.name)
                    .attr("index", index.to_string())
            })
            .collect();
        Node::new("response")
            .attr("type", "contacts")
            .attr("checksum", "c2ltLWNvbnRhY3RzLTE=")
            .with_content(Content::List(users))
    }

    fn on_goodbye(&mut self, conn: u64) {
        if let Some(client_id) = self
            .conns
            .get(&conn)
            .and_then(|state| state.session.clone())
        {
            self.sessions.remove(&client_id);
            self.emit(json!({"type": "logged_out", "conn": conn, "client_id": client_id, "by": "goodbye"}));
        }
        self.close(conn, true);
    }

    fn on_http_logout(&mut self, query: &HashMap<String, String>) -> (u16, String) {
        let (Some(browser_token), Some(logout_token)) = (query.get("t"), query.get("m")) else {
            return (400, json!({"status": 400}).to_string());
        };
        let found = self.sessions.iter().find_map(|(client_id, session)| {
            let valid = crypto::constant_time_eq(
                session.tokens.browser.as_bytes(),
                browser_token.as_bytes(),
            ) && crypto::constant_time_eq(
                session.keys.logout_token().as_bytes(),
                logout_token.as_bytes(),
            );
            valid.then(|| (client_id.clone(), session.conn))
        });
        let Some((client_id, conn)) = found else {
            return (401, json!({"status": 401}).to_string());
        };
        self.sessions.remove(&client_id);
        if let Some(conn) = conn {
            self.push_json(conn, &json!(["Cmd", {"type": "disconnect"}]));
            self.close(conn, true);
        }
        self.emit(json!({"type": "logged_out", "client_id": client_id, "by": "http"}));
        (200, json!({"status": 200}).to_string())
    }

    // ---- binary frames ----

    fn on_binary(&mut self, conn: u64, data: &[u8]) {
        let Some(cipher) = self.cipher_of(conn) else {
            self.emit(
                json!({"type": "received", "conn": conn, "error": "binary frame before login"}),
            );
            self.close(conn, false);
            return;
        };
        let opened = match cipher.open_client_frame(data) {
            Ok(opened) => opened,
            Err(error) => {
                // The real service's reaction is unknown; closing is what a server must do with
                // frames it cannot authenticate.
                let tag = data
                    .split(|&b| b == b',')
                    .next()
                    .map(String::from_utf8_lossy);
                self.emit(json!({"type": "received", "conn": conn, "tag": tag, "error": error.to_string()}));
                self.close(conn, false);
                return;
            }
        };
        let node = match binary::decode(&opened.node) {
            Ok(node) => node,
            Err(error) => {
                self.emit(json!({"type": "received", "conn": conn, "tag": opened.tag, "error": error.to_string()}));
                self.close(conn, false);
                return;
            }
        };
        let mut line = json!({
            "type": "received", "conn": conn, "tag": opened.tag, "node": node,
            "metric": opened.metric, "flags": opened.flags,
        });
        let messages: Vec<Value> = node
            .children()
            .iter()
            .filter(|child| child.tag == "message")
            .filter_map(|child| child.content_bytes())
            .filter_map(|bytes| message::decode_web_message_info(bytes).ok())
            .filter_map(|info| message::into_event(info).ok())
            .filter_map(|event| serde_json::to_value(event).ok())
            .collect();
        if !messages.is_empty() {
            line["messages"] = json!(messages);
        }
        self.emit(line);
        let half_open = self.conns.get(&conn).is_some_and(|state| state.half_open);
        if !half_open {
            let tag = opened.tag.to_owned();
            self.on_node(conn, &tag, &node);
        }
    }

    fn on_node(&mut self, conn: u64, tag: &str, node: &Node) {
        match (node.tag.as_ref(), node.get("type")) {
            ("action", Some("relay")) => self.on_relay(conn, tag, node),
            ("action", _) => {
                let mut reply = json!({"status": 200});
                for child in node.children() {
                    match (child.tag.as_ref(), child.get("type")) {
                        ("profile", _) => {
                            reply["pushname"] = json!(child.get("name").unwrap_or_default())
                        }
                        ("group", Some("create")) => {
                            reply["gid"] =
                                json!(format!("{}-{}@g.us", self.config.phone_number, now_s()));
                        }
                        _ => {}
                    }
                }
                self.send_json(conn, tag, &reply);
            }
            ("query", Some(kind)) => self.on_query(conn, tag, kind, node),
            _ => self.send_json(conn, tag, &json!({"status": 400})),
        }
    }

    fn on_relay(&mut self, conn: u64, tag: &str, node: &Node) {
        let Some(client_id) = self
            .conns
            .get(&conn)
            .and_then(|state| state.session.clone())
        else {
            return;
        };
        let infos: Vec<pb::WebMessageInfo> = node
            .children()
            .iter()
            .filter(|child| child.tag == "message")
            .filter_map(|child| child.content_bytes())
            .filter_map(|bytes| message::decode_web_message_info(bytes).ok())
            .collect();
        if infos.is_empty() {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        }
        // The real service first acknowledged receipt with an empty frame, then answered.
        self.send_raw_text(conn, format!("{tag},"));
        self.send_json(conn, tag, &json!({"status": 200, "t": now_s()}));
        for info in infos {
            let Some(key) = info.key.as_ref() else {
                continue;
            };
            let chat = message::normalize_jid(key.remote_jid.as_deref().unwrap_or_default());
            let id = key.id.clone().unwrap_or_default();
            self.remember(&chat, info);
            for (ack, after) in [
                (2, Duration::from_millis(200)),
                (3, Duration::from_millis(1200)),
            ] {
                let timer = Timer::Ack {
                    client_id: client_id.clone(),
                    id: id.clone(),
                    ack,
                    peer: chat.clone(),
                };
                let inputs = self.inputs.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = inputs.send(Input::Timer(timer)).await;
                });
            }
        }
    }

    fn remember(&mut self, chat: &str, info: pb::WebMessageInfo) {
        let messages = self.history.entry(chat.to_owned()).or_default();
        messages.push(info);
        if messages.len() > HISTORY_PER_CHAT {
            messages.remove(0);
        }
    }

    fn on_query(&mut self, conn: u64, tag: &str, kind: &str, node: &Node) {
        let reply = match kind {
            "chat" => self.chat_list(),
            "contacts" => self.contact_list(),
            "message" => match self.history_reply(node) {
                Some(reply) => reply,
                None => {
                    self.send_json(conn, tag, &json!({"status": 404}));
                    return;
                }
            },
            "media" => {
                let Some(media) = node.get("index").and_then(|id| self.media.get(id)) else {
                    self.send_json(conn, tag, &json!({"status": 404}));
                    return;
                };
                let url = media.url.clone().unwrap_or_default();
                self.store.refresh();
                Node::new("response")
                    .attr("type", "media")
                    .attr("url", url)
                    .attr("code", "200")
            }
            "group" => {
                let participants = CONTACTS
                    .iter()
                    .map(|contact| Node::new("participant").attr("jid", user_jid(contact.number)))
                    .collect();
                Node::new("response")
                    .attr("type", "group")
                    .with_content(Content::List(vec![
                        Node::new("group")
                            .attr("jid", self.group_jid())
                            .attr("creator", user_jid(&self.config.phone_number))
                            .attr("create", "1600000000")
                            .attr("subject", GROUP_SUBJECT)
                            .with_content(Content::List(participants)),
                    ]))
            }
            "status" | "emoji" | "quick_reply" | "label" => Node::new("response")
                .attr("type", kind.to_owned())
                .with_content(Content::List(vec![])),
            _ => {
                self.send_json(conn, tag, &json!({"status": 404}));
                return;
            }
        };
        self.send_node(conn, tag, &reply, Duration::ZERO);
    }

    /// `query message`: up to `count` messages before or after the anchor, oldest first.
    fn history_reply(&self, node: &Node) -> Option<Node> {
        let chat = message::normalize_jid(node.get("jid").unwrap_or_default());
        let messages = self
            .history
            .get(&chat)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let count = node
            .get("count")
            .and_then(|count| count.parse().ok())
            .unwrap_or(20usize);
        let range = match node.get("index") {
            None => messages.len().saturating_sub(count)..messages.len(),
            Some(anchor) => {
                let owner = node.get("owner") == Some("true");
                let position = messages.iter().position(|info| {
                    info.key.as_ref().is_some_and(|key| {
                        key.id.as_deref() == Some(anchor) && key.from_me.unwrap_or(false) == owner
                    })
                })?;
                if node.get("kind") == Some("after") {
                    // `count` is the client's number: saturate rather than trust it.
                    position + 1
                        ..position
                            .saturating_add(1)
                            .saturating_add(count)
                            .min(messages.len())
                } else {
                    position.saturating_sub(count)..position
                }
            }
        };
        let children = messages[range]
            .iter()
            .map(|info| Node::new("message").with_content(Content::Bytes(message::encode(info))))
            .collect();
        Some(
            Node::new("response")
                .attr("type", "message")
                .with_content(Content::List(children)),
        )
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Ack {
                client_id,
                id,
                ack,
                peer,
            } => {
                let Some(conn) = self
                    .sessions
                    .get(&client_id)
                    .and_then(|session| session.conn)
                else {
                    return;
                };
                let payload = json!(["Msg", {
                    "cmd": "ack", "id": id, "ack": ack,
                    "from": format!("{}@c.us", self.config.phone_number),
                    "to": message::jid_for_json_command(&peer), "t": now_s()
                }]);
                self.push_json(conn, &payload);
            }
            Timer::Chatter => {
                const LINES: [&str; 6] = [
                    "Hi! How are you?",
                    "Are we still on for lunch tomorrow?",
                    "Look at this 👀",
                    "Running 5 minutes late, sorry.",
                    "Did you see the game last night?",
                    "Good night! 🌙",
                ];
                if self.last_session.is_none() {
                    return;
                }
                let index = self.chatter_index;
                self.chatter_index += 1;
                let contact = &CONTACTS[index % CONTACTS.len()];
                let chat = (index % 4 == 3).then(|| self.group_jid());
                let result = match index % 6 {
                    2 => self.deliver_media(
                        contact.number,
                        chat.as_deref(),
                        MediaType::Image,
                        &gradient_bmp(index),
                        Some("the view from here"),
                        "view.bmp",
                    ),
                    5 => self.deliver_media(
                        contact.number,
                        chat.as_deref(),
                        MediaType::Document,
                        b"milk\neggs\ncoffee\nbread\n",
                        None,
                        "shopping-list.txt",
                    ),
                    _ => self
                        .deliver_text(contact.number, chat.as_deref(), LINES[index % LINES.len()])
                        .map(|id| json!({"id": id})),
                };
                if let Err(error) = result {
                    tracing::debug!("sim chatter: {error}");
                }
            }
        }
    }

    // ---- phone: messages from contacts ----

    fn contact_name(number: &str) -> Option<&'static str> {
        CONTACTS
            .iter()
            .find(|contact| contact.number == number)
            .map(|contact| contact.name)
    }

    fn target_session(&self) -> Result<String, String> {
        self.last_session
            .clone()
            .filter(|id| self.sessions.contains_key(id))
            .ok_or_else(|| "no paired client: scan a QR first".to_owned())
    }

    fn deliver_text(
        &mut self,
        from: &str,
        chat: Option<&str>,
        text: &str,
    ) -> Result<String, String> {
        let client_id = self.target_session()?;
        let sender = user_jid(from);
        let number = sender.split('@').next().unwrap_or_default().to_owned();
        let remote = chat.map(str::to_owned).unwrap_or_else(|| sender.clone());
        let id = phone_message_id();
        let participant = chat.is_some().then_some(sender.as_str());
        let info = message::incoming_text(
            &remote,
            &id,
            text,
            now_s(),
            Self::contact_name(&number),
            participant,
        );
        self.deliver(&client_id, &remote, info);
        Ok(id)
    }

    fn deliver(&mut self, client_id: &str, chat: &str, info: pb::WebMessageInfo) {
        self.remember(chat, info.clone());
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        match session.conn {
            Some(conn) => self.relay_to(conn, &info),
            // The real service kept messages for an offline web client until it came back.
            None => session.offline.push(info),
        }
    }

    fn relay_to(&mut self, conn: u64, info: &pb::WebMessageInfo) {
        let node = Node::new("action")
            .attr("add", "relay")
            .with_content(Content::List(vec![
                Node::new("message").with_content(Content::Bytes(message::encode(info))),
            ]));
        self.push_node(conn, &node, Duration::ZERO);
    }

    // ---- control commands ----

    fn active_conn(&self) -> Result<u64, String> {
        let logged_in = self
            .last_session
            .as_ref()
            .and_then(|id| self.sessions.get(id))
            .and_then(|session| session.conn)
            .filter(|conn| self.conns.contains_key(conn));
        logged_in
            .or(self.last_conn.filter(|conn| self.conns.contains_key(conn)))
            .ok_or_else(|| "no client is connected".to_owned())
    }

    async fn on_command(&mut self, name: &str, command: &Value) -> Result<Value, String> {
        let field = |key: &str| command.get(key).and_then(Value::as_str);
        match name {
            "scan" => self.scan(field("qr").ok_or("scan needs \"qr\"")?),
            "send_text" => {
                let from = field("from").ok_or("send_text needs \"from\"")?;
                let text = field("text").ok_or("send_text needs \"text\"")?;
                let id = self.deliver_text(from, field("chat"), text)?;
                Ok(json!({"id": id}))
            }
            "send_media" => {
                let from = field("from").ok_or("send_media needs \"from\"")?;
                let kind: MediaType = field("kind")
                    .ok_or("send_media needs \"kind\"")?
                    .parse()
                    .map_err(|error: media::Error| error.to_string())?;
                let path = field("path").ok_or("send_media needs \"path\"")?;
                let plaintext = tokio::fs::read(path)
                    .await
                    .map_err(|error| format!("cannot read {path}: {error}"))?;
                self.deliver_media(
                    from,
                    field("chat"),
                    kind,
                    &plaintext,
                    field("caption"),
                    path,
                )
            }
            "drop" => {
                let conn = self.active_conn()?;
                self.close(conn, false);
                Ok(json!({"conn": conn}))
            }
            "replace" => {
                let conn = self.active_conn()?;
                self.push_json(
                    conn,
                    &json!(["Cmd", {"type": "disconnect", "kind": "replaced"}]),
                );
                self.close(conn, true);
                Ok(json!({"conn": conn}))
            }
            "unpair" => {
                let client_id = self.target_session()?;
                let session = self.sessions.remove(&client_id);
                if let Some(conn) = session.and_then(|session| session.conn) {
                    self.push_json(conn, &json!(["Cmd", {"type": "disconnect"}]));
                    self.close(conn, true);
                }
                Ok(json!({"client_id": client_id}))
            }
            "challenge_next" => {
                self.knobs.challenge_next = true;
                Ok(json!({}))
            }
            "refuse_next" => {
                let status = command
                    .get("status")
                    .and_then(Value::as_u64)
                    .ok_or("refuse_next needs \"status\"")?;
                self.knobs.refuse_next = Some(u16::try_from(status).map_err(|_| "bad status")?);
                Ok(json!({}))
            }
            "reref_next" => {
                let status = command
                    .get("status")
                    .and_then(Value::as_u64)
                    .ok_or("reref_next needs \"status\"")?;
                self.knobs.reref_next = Some(u16::try_from(status).map_err(|_| "bad status")?);
                Ok(json!({}))
            }
            "garbage" => {
                let conn = self.active_conn()?;
                self.send_garbage(conn);
                Ok(json!({"conn": conn}))
            }
            "half_open" => {
                let conn = self.active_conn()?;
                if let Some(state) = self.conns.get_mut(&conn) {
                    state.half_open = true;
                }
                Ok(json!({"conn": conn}))
            }
            "expire_media" => {
                self.store.expire_all();
                Ok(json!({}))
            }
            "battery" => {
                let percent = command
                    .get("percent")
                    .and_then(Value::as_u64)
                    .ok_or("battery needs \"percent\"")?;
                self.battery = (
                    percent.min(100) as u32,
                    command
                        .get("plugged")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                );
                let conn = self.active_conn()?;
                let node = self.battery_node();
                self.push_node(conn, &node, Duration::ZERO);
                Ok(json!({}))
            }
            "push_json" => {
                let payload = command
                    .get("payload")
                    .ok_or("push_json needs \"payload\"")?
                    .clone();
                let conn = self.active_conn()?;
                self.push_json(conn, &payload);
                Ok(json!({}))
            }
            "push_node" => {
                let node = Node::from_json(command.get("node").ok_or("push_node needs \"node\"")?)
                    .map_err(|error| error.to_string())?;
                let conn = self.active_conn()?;
                self.push_node(conn, &node, Duration::ZERO);
                Ok(json!({}))
            }
            "status" => Ok(json!({
                "connections": self.conns.len(),
                "sessions": self.sessions.len(),
                "logged_in": self.sessions.values().filter(|s| s.conn.is_some()).count(),
            })),
            "" => Err("a command needs \"cmd\"".into()),
            other => Err(format!("unknown command {other:?}")),
        }
    }

    fn scan(&mut self, qr: &str) -> Result<Value, String> {
        let mut parts = qr.split(',');
        let (Some(reference), Some(public), Some(client_id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("a QR reads ref,base64(publicKey),clientId".into());
        };
        let ttl = self.config.ttl;
        let conn = self
            .conns
            .iter()
            .find(|(_, state)| {
                state.session.is_none()
                    && state.client_id.as_deref() == Some(client_id)
                    && state
                        .current_ref
                        .as_ref()
                        .is_some_and(|(current, _)| current == reference)
            })
            .map(|(conn, state)| {
                (
                    *conn,
                    state.current_ref.as_ref().map(|(_, at)| at.elapsed()),
                )
            });
        let Some((conn, age)) = conn else {
            return Err("no connection shows that QR (unknown ref or client id)".into());
        };
        if age.is_some_and(|age| age > ttl) {
            return Err("that QR has expired".into());
        }
        let public: [u8; 32] = BASE64
            .decode(public)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the QR's public key is not 32 bytes of base64")?;
        let keys = SessionKeys::random();
        let secret = keys.to_pairing_secret(&KeyPair::generate(), &public);
        let session = Session {
            cipher: FrameCipher::new(&keys),
            keys,
            tokens: Tokens::fresh(),
            previous: None,
            conn: Some(conn),
            offline: Vec::new(),
        };
        self.sessions.insert(client_id.to_owned(), session);
        self.last_session = Some(client_id.to_owned());
        let mut payload = self.conn_payload(client_id, true);
        payload["secret"] = json!(BASE64.encode(secret));
        payload["ref"] = json!(reference);
        if let Some(state) = self.conns.get_mut(&conn) {
            state.session = Some(client_id.to_owned());
            state.current_ref = None;
        }
        self.push_json(conn, &json!(["Conn", payload]));
        self.after_conn(conn);
        let wid = format!("{}@c.us", self.config.phone_number);
        self.emit(json!({"type": "paired", "conn": conn, "wid": wid, "client_id": client_id}));
        self.emit(
            json!({"type": "logged_in", "conn": conn, "restored": false, "challenged": false}),
        );
        Ok(json!({"conn": conn, "wid": wid}))
    }

    fn deliver_media(
        &mut self,
        from: &str,
        chat: Option<&str>,
        kind: MediaType,
        plaintext: &[u8],
        caption: Option<&str>,
        path: &str,
    ) -> Result<Value, String> {
        let client_id = self.target_session()?;
        let media_key = random_bytes::<32>();
        let keys = MediaKeys::derive(&media_key, kind).map_err(|error| error.to_string())?;
        let sealed = media::encrypt(&keys, plaintext, false).map_err(|error| error.to_string())?;
        let (url, direct_path) = self.store.put(sealed.body);
        let (media_kind, mimetype) = match kind {
            MediaType::Image if path.ends_with(".bmp") => (MediaKind::Image, "image/bmp"),
            MediaType::Image if path.ends_with(".bmp") => (MediaKind::Image, "image/bmp"),
            MediaType::Image => (MediaKind::Image, "image/jpeg"),
            MediaType::Video => (MediaKind::Video, "video/mp4"),
            MediaType::Audio => (MediaKind::Audio, "audio/ogg; codecs=opus"),
            MediaType::Document => (MediaKind::Document, mime_of(path)),
            MediaType::Sticker => (MediaKind::Sticker, "image/webp"),
        };
        let info = MediaInfo {
            kind: media_kind,
            url: Some(url.clone()),
            direct_path: Some(direct_path),
            media_key: media_key.to_vec(),
            mimetype: Some(mimetype.to_owned()),
            file_sha256: sealed.encrypted.file_sha256.to_vec(),
            file_enc_sha256: sealed.encrypted.file_enc_sha256.to_vec(),
            file_length: sealed.encrypted.file_length,
            caption: caption.map(str::to_owned),
            width: matches!(kind, MediaType::Image | MediaType::Sticker).then_some(512),
            height: matches!(kind, MediaType::Image | MediaType::Sticker).then_some(512),
            seconds: matches!(kind, MediaType::Video | MediaType::Audio).then_some(3),
        };
        let sender = user_jid(from);
        let number = sender.split('@').next().unwrap_or_default().to_owned();
        let remote = chat.map(str::to_owned).unwrap_or_else(|| sender.clone());
        let id = phone_message_id();
        let participant = chat.is_some().then_some(sender.as_str());
        let wmi = message::incoming_media(
            &remote,
            &id,
            &info,
            now_s(),
            Self::contact_name(&number),
            participant,
        );
        self.media.insert(id.clone(), info);
        self.deliver(&client_id, &remote, wmi);
        Ok(json!({"id": id, "url": url, "media_key": BASE64.encode(media_key)}))
    }

    fn send_garbage(&mut self, conn: u64) {
        let Some(cipher) = self.cipher_of(conn) else {
            self.send_raw_text(conn, "garbage without comma".into());
            return;
        };
        let node = binary::encode(&self.battery_node());
        let mut bad_mac = cipher.seal_server_frame("garbage-1", &node);
        let last = bad_mac.len() - 1;
        bad_mac[last] ^= 0x5a;
        let mut truncated = cipher.seal_server_frame("garbage-2", &node);
        truncated.truncate(truncated.len() - 7);
        let no_comma = b"garbage3-no-comma".to_vec();
        let bad_node = cipher.seal_server_frame("garbage-4", &[0xf8, 0x01, 0xb0]);
        for data in [bad_mac, truncated, no_comma, bad_node] {
            self.queue(conn, |delay| Outgoing::Binary { delay, data });
        }
        self.send_raw_text(conn, "garbage-5,[not json".into());
    }
}

/// A small 24-bit BMP with a colour gradient: a real picture the demo can send as an image.
fn gradient_bmp(seed: usize) -> Vec<u8> {
    const SIDE: u32 = 64;
    let row = SIDE * 3;
    let size = 54 + row * SIDE;
    let mut bmp = Vec::with_capacity(size as usize);
    bmp.extend_from_slice(b"BM");
    bmp.extend_from_slice(&size.to_le_bytes());
    bmp.extend_from_slice(&[0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0]);
    bmp.extend_from_slice(&SIDE.to_le_bytes());
    bmp.extend_from_slice(&SIDE.to_le_bytes());
    bmp.extend_from_slice(&[1, 0, 24, 0, 0, 0, 0, 0]);
    bmp.extend_from_slice(&(row * SIDE).to_le_bytes());
    bmp.extend_from_slice(&[0; 16]);
    let shift = (seed as u32).wrapping_mul(37);
    for y in 0..SIDE {
        for x in 0..SIDE {
            bmp.extend_from_slice(&[
                (x * 4).wrapping_add(shift) as u8,
                (y * 4) as u8,
                ((x + y) * 2).wrapping_add(shift) as u8,
            ]);
        }
    }
    bmp
}

fn mime_of(path: &str) -> &'static str {
    match path
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("bmp") => "image/bmp",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Phones wrote ids like `3AA55DBD30C9CD2FD815`: `3A` and 18 uppercase hex digits.
fn phone_message_id() -> String {
    let mut id = String::from("3A");
    for byte in random_bytes::<9>() {
        id.push_str(&format!("{byte:02X}"));
    }
    id
}
