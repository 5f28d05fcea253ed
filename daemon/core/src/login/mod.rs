//! Login and restore as a state machine without IO (PROTOCOL.md sections 2, 4 and 5): it takes
//! the server's JSON frames and the ref timer, and says what to send, what to show and how the
//! login ended. The session task does the awaiting.
//!
//! ```text
//! pair:    -> T1,["admin","init",…]     <- T1,{"status":200,"ref":…,"ttl":20000}   => Qr, ArmRefTimer
//!          (ttl runs out) -> T2,["admin","Conn","reref"]   <- T2,{"status":200,"ref":…} => Qr …
//!          <- s1,["Conn",{…"secret":…}]                                         => LoggedIn
//! restore: -> T1,["admin","init",…]  -> T2,["admin","login",ct,st,clientId,"takeover"]
//!          [<- s1,["Cmd",{"type":"challenge",…}]  -> T3,["admin","challenge",…]  <- T3,{"status":200}]
//!          <- s1|s2,["Conn",{…}]  <- T2,{"status":200}                           => LoggedIn
//! ```

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use waweb_proto::{Me, Reason};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::{KeyPair, SessionKeys};
use crate::message;
use crate::wire::TagCounter;

/// The ttl the server is assumed to give when its reply has none (B does the same).
const DEFAULT_TTL: Duration = Duration::from_millis(20_000);

/// A token or other text that must not be printed or linger in memory.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text; keep the borrow short.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(redacted)")
    }
}

/// What a session needs to restore itself: the stored session (DESIGN.md section 3).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// 16 random bytes, base64; fixed for the session's life.
    pub client_id: String,
    /// Rotated on every login.
    pub client_token: SecretString,
    /// Rotated on every login.
    pub server_token: SecretString,
    /// Only for the HTTP logout.
    pub browser_token: SecretString,
    /// The frame keys; fixed for the session's life.
    pub keys: SessionKeys,
    /// Our JID as the server wrote it (`…@c.us`).
    pub wid: String,
    /// Our display name.
    pub pushname: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("wid", &self.wid)
            .field("secrets", &"redacted")
            .finish()
    }
}

impl Credentials {
    /// Takes the rotated tokens and names from a later `Conn`; absent fields keep their value.
    pub fn update_from_conn(&mut self, conn: &Value) {
        let text = |field: &str| {
            conn.get(field)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
        };
        if let Some(token) = text("clientToken") {
            self.client_token = SecretString::new(token);
        }
        if let Some(token) = text("serverToken") {
            self.server_token = SecretString::new(token);
        }
        if let Some(token) = text("browserToken") {
            self.browser_token = SecretString::new(token);
        }
        if let Some(wid) = text("wid") {
            self.wid = wid.to_owned();
        }
        if let Some(name) = text("pushname") {
            self.pushname = name.to_owned();
        }
    }
}

/// The account as the `connected` event and `status` report it, from a `Conn` payload.
pub fn me_from_conn(conn: &Value, credentials: &Credentials) -> Me {
    let text = |field: &str| conn.get(field).and_then(Value::as_str).map(str::to_owned);
    Me {
        wid: message::normalize_jid(&text("wid").unwrap_or_else(|| credentials.wid.clone())),
        pushname: text("pushname").unwrap_or_else(|| credentials.pushname.clone()),
        platform: text("platform").unwrap_or_default(),
        phone: conn.get("phone").cloned().unwrap_or_else(|| json!({})),
    }
}

/// What the client announces in `admin init`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The web client version, e.g. `[2, 2142, 12]`.
    pub version: [u32; 3],
    /// `[os, app, app version]`, shown in the phone's list of linked devices.
    pub browser: [String; 3],
    /// How many `reref`s pairing asks for before giving up.
    pub reref_budget: u32,
}

/// What the machine wants done.
#[derive(Debug)]
pub enum Output {
    /// Send a JSON text frame.
    Send {
        /// Message tag.
        tag: String,
        /// The command.
        json: Value,
    },
    /// A QR code to show.
    Qr {
        /// `ref,base64(publicKey),clientId`.
        content: String,
        /// The ref inside it.
        reference: String,
        /// Its lifetime.
        ttl: Duration,
        /// Which code this is, from 1.
        attempt: u32,
        /// How many codes pairing shows at most.
        attempts_max: u32,
    },
    /// Call [`Login::on_ref_expired`] after this long (replacing any earlier timer).
    ArmRefTimer(Duration),
    /// The server asked for the challenge; the answer is in a `Send` beside this.
    Challenged,
    /// Logged in.
    LoggedIn {
        /// The session to store.
        credentials: Box<Credentials>,
        /// The `Conn` payload, for the account's details.
        conn: Value,
        /// Whether a stored session was restored (rather than a QR scanned).
        restored: bool,
        /// Whether the restore needed the challenge.
        challenged: bool,
    },
    /// Login ended without a session.
    Failed(Failure),
}

/// How a login failed and what the session should do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The reason code for events.
    pub reason: Reason,
    /// The server's status, when one caused it.
    pub status: Option<u16>,
    /// For people.
    pub message: String,
    /// The stored session is dead (401, 419): erase it.
    pub erase_session: bool,
    /// Worth trying again later with backoff (405, 409, 429, 5xx): 429 on a restore is the
    /// server asking to slow down, never a verdict on the session (DESIGN.md 14.1).
    pub retry: bool,
}

impl Failure {
    fn from_status(status: u16, what: &str) -> Self {
        let reason =
            Reason::from_status(status).unwrap_or_else(|| Reason::Other("login_refused".into()));
        let message = match status {
            401 => "the phone removed this device; pair again".to_owned(),
            403 => "the server refused this account".to_owned(),
            405 => "the server says this client is already logged in".to_owned(),
            409 => "the session is in use by another browser".to_owned(),
            419 => "the server no longer accepts this session; pair again".to_owned(),
            429 => "the server asks to slow down (429); retrying later".to_owned(),
            status => format!("{what} answered {status}"),
        };
        Failure {
            reason,
            status: Some(status),
            message,
            erase_session: matches!(status, 401 | 419),
            retry: matches!(status, 405 | 409 | 429 | 500..=599),
        }
    }
}

enum Mode {
    Pair {
        keys: KeyPair,
        reference: Option<String>,
        ttl: Duration,
        rerefs_sent: u32,
        qr_shown: u32,
        reref_tag: Option<String>,
    },
    Restore {
        credentials: Box<Credentials>,
        login_tag: String,
        challenge_tag: Option<String>,
        challenged: bool,
        conn: Option<Value>,
        login_ok: bool,
    },
}

/// One login attempt on one connection.
pub struct Login {
    settings: Settings,
    client_id: String,
    init_tag: String,
    mode: Mode,
    done: bool,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("pairing", &matches!(self.mode, Mode::Pair { .. }))
            .field("done", &self.done)
            .finish()
    }
}

fn status_of(reply: &Value) -> Option<u16> {
    reply
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|status| u16::try_from(status).ok())
}

impl Login {
    fn init_command(settings: &Settings, client_id: &str) -> Value {
        json!([
            "admin",
            "init",
            settings.version,
            settings.browser,
            client_id,
            true
        ])
    }

    /// Starts pairing with a fresh key pair: sends `init`.
    pub fn pair(
        settings: Settings,
        client_id: String,
        keys: KeyPair,
        tags: &mut TagCounter,
    ) -> (Self, Vec<Output>) {
        let init_tag = tags.next_tag();
        let init = Output::Send {
            tag: init_tag.clone(),
            json: Self::init_command(&settings, &client_id),
        };
        let login = Login {
            settings,
            client_id,
            init_tag,
            mode: Mode::Pair {
                keys,
                reference: None,
                ttl: DEFAULT_TTL,
                rerefs_sent: 0,
                qr_shown: 0,
                reref_tag: None,
            },
            done: false,
        };
        (login, vec![init])
    }

    /// Starts a restore: `init` and `login … takeover` back to back, as every client did.
    pub fn restore(
        settings: Settings,
        credentials: Credentials,
        tags: &mut TagCounter,
    ) -> (Self, Vec<Output>) {
        let init_tag = tags.next_tag();
        let login_tag = tags.next_tag();
        let client_id = credentials.client_id.clone();
        let outputs = vec![
            Output::Send {
                tag: init_tag.clone(),
                json: Self::init_command(&settings, &client_id),
            },
            Output::Send {
                tag: login_tag.clone(),
                json: json!([
                    "admin",
                    "login",
                    credentials.client_token.expose(),
                    credentials.server_token.expose(),
                    client_id,
                    "takeover"
                ]),
            },
        ];
        let login = Login {
            settings,
            client_id,
            init_tag,
            mode: Mode::Restore {
                credentials: Box::new(credentials),
                login_tag,
                challenge_tag: None,
                challenged: false,
                conn: None,
                login_ok: false,
            },
            done: false,
        };
        (login, outputs)
    }

    /// Whether the login has ended (logged in or failed).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Whether this is a QR pairing (rather than a restore).
    pub fn is_pairing(&self) -> bool {
        matches!(self.mode, Mode::Pair { .. })
    }

    fn finish(&mut self, output: Output) -> Vec<Output> {
        self.done = true;
        vec![output]
    }

    /// A JSON frame from the server. `None` means it is not part of the login, and the caller
    /// should treat it as an ordinary push.
    pub fn on_json(
        &mut self,
        tag: &str,
        payload: &Value,
        tags: &mut TagCounter,
    ) -> Option<Vec<Output>> {
        if self.done {
            return None;
        }
        if tag == self.init_tag {
            return Some(self.on_init_reply(payload));
        }
        let kind = payload.get(0).and_then(Value::as_str);
        match &mut self.mode {
            Mode::Pair { reref_tag, .. } if reref_tag.as_deref() == Some(tag) => {
                *reref_tag = None;
                Some(self.on_reref_reply(payload))
            }
            Mode::Pair { .. } if kind == Some("Conn") => Some(self.on_paired(payload.get(1)?)),
            Mode::Restore { login_tag, .. } if login_tag == tag => {
                Some(self.on_login_reply(payload))
            }
            Mode::Restore { challenge_tag, .. } if challenge_tag.as_deref() == Some(tag) => {
                match status_of(payload) {
                    // The reply "means nothing": the session opens with the Conn that follows.
                    Some(200) => Some(Vec::new()),
                    Some(status) => Some(self.finish(Output::Failed(Failure::from_status(
                        status,
                        "the challenge",
                    )))),
                    None => Some(Vec::new()),
                }
            }
            Mode::Restore { .. } if kind == Some("Cmd") && payload[1]["type"] == "challenge" => {
                Some(self.on_challenge(payload[1]["challenge"].as_str().unwrap_or_default(), tags))
            }
            Mode::Restore { conn, login_ok, .. } if kind == Some("Conn") => {
                *conn = payload.get(1).cloned();
                if *login_ok {
                    Some(self.logged_in())
                } else {
                    Some(Vec::new())
                }
            }
            _ => None,
        }
    }

    fn on_init_reply(&mut self, reply: &Value) -> Vec<Output> {
        match status_of(reply) {
            Some(200) => {}
            Some(status) => {
                return self.finish(Output::Failed(Failure::from_status(status, "admin init")));
            }
            None => {
                // Servers refused too old versions with something that is not the reply object.
                return self.finish(Output::Failed(Failure {
                    reason: Reason::Other("init_refused".into()),
                    status: None,
                    message: format!("unexpected answer to admin init: {reply}"),
                    erase_session: false,
                    retry: false,
                }));
            }
        }
        match &self.mode {
            Mode::Pair { .. } => self.show_ref(reply),
            Mode::Restore { .. } => Vec::new(),
        }
    }

    fn show_ref(&mut self, reply: &Value) -> Vec<Output> {
        let client_id = self.client_id.clone();
        let budget = self.settings.reref_budget;
        let Mode::Pair {
            keys,
            reference,
            ttl,
            qr_shown,
            ..
        } = &mut self.mode
        else {
            return Vec::new();
        };
        let Some(new_ref) = reply.get("ref").and_then(Value::as_str) else {
            return self.finish(Output::Failed(Failure {
                reason: Reason::PairingExpired,
                status: None,
                message: "the server's answer has no ref".into(),
                erase_session: false,
                retry: false,
            }));
        };
        *ttl = reply
            .get("ttl")
            .and_then(Value::as_u64)
            .filter(|ms| *ms > 0)
            .map_or(DEFAULT_TTL, Duration::from_millis);
        *reference = Some(new_ref.to_owned());
        *qr_shown += 1;
        let content = format!("{new_ref},{},{client_id}", BASE64.encode(keys.public()));
        vec![
            Output::Qr {
                content,
                reference: new_ref.to_owned(),
                ttl: *ttl,
                attempt: *qr_shown,
                attempts_max: budget + 1,
            },
            Output::ArmRefTimer(*ttl),
        ]
    }

    /// The current ref's ttl ran out: ask for another, or give up when the budget is spent.
    pub fn on_ref_expired(&mut self, tags: &mut TagCounter) -> Vec<Output> {
        let budget = self.settings.reref_budget;
        let Mode::Pair {
            rerefs_sent,
            reref_tag,
            ..
        } = &mut self.mode
        else {
            return Vec::new();
        };
        if self.done || reref_tag.is_some() {
            return Vec::new();
        }
        if *rerefs_sent >= budget {
            return self.finish(Output::Failed(Failure {
                reason: Reason::PairingExpired,
                status: None,
                message: "no QR code was scanned in time".into(),
                erase_session: false,
                retry: false,
            }));
        }
        *rerefs_sent += 1;
        let tag = tags.next_tag();
        *reref_tag = Some(tag.clone());
        vec![Output::Send {
            tag,
            json: json!(["admin", "Conn", "reref"]),
        }]
    }

    fn on_reref_reply(&mut self, reply: &Value) -> Vec<Output> {
        match status_of(reply) {
            Some(200) => self.show_ref(reply),
            // "Reuse the previous ref": keep the code and ask again after its ttl.
            Some(304) => match &self.mode {
                Mode::Pair { ttl, .. } => vec![Output::ArmRefTimer(*ttl)],
                Mode::Restore { .. } => Vec::new(),
            },
            status => self.finish(Output::Failed(Failure {
                reason: Reason::PairingExpired,
                status,
                message: match status {
                    Some(429) => "the server refused more QR codes (429)".into(),
                    _ => format!("unexpected reref answer {reply}"),
                },
                erase_session: false,
                retry: false,
            })),
        }
    }

    fn on_paired(&mut self, conn: &Value) -> Vec<Output> {
        let Mode::Pair { keys, .. } = &self.mode else {
            return Vec::new();
        };
        let secret = conn
            .get("secret")
            .and_then(Value::as_str)
            .and_then(|text| BASE64.decode(text).ok());
        let derived = match secret {
            Some(secret) => {
                SessionKeys::from_pairing_secret(keys, &secret).map_err(|error| error.to_string())
            }
            None => Err("Conn after the scan has no secret".to_owned()),
        };
        let session_keys = match derived {
            Ok(keys) => keys,
            Err(message) => {
                return self.finish(Output::Failed(Failure {
                    reason: Reason::Other("pairing_failed".into()),
                    status: None,
                    message,
                    erase_session: false,
                    retry: false,
                }));
            }
        };
        let mut credentials = Credentials {
            client_id: self.client_id.clone(),
            client_token: SecretString::default(),
            server_token: SecretString::default(),
            browser_token: SecretString::default(),
            keys: session_keys,
            wid: String::new(),
            pushname: String::new(),
        };
        credentials.update_from_conn(conn);
        self.finish(Output::LoggedIn {
            credentials: Box::new(credentials),
            conn: conn.clone(),
            restored: false,
            challenged: false,
        })
    }

    fn on_challenge(&mut self, challenge: &str, tags: &mut TagCounter) -> Vec<Output> {
        let client_id = self.client_id.clone();
        let Mode::Restore {
            credentials,
            challenge_tag,
            challenged,
            ..
        } = &mut self.mode
        else {
            return Vec::new();
        };
        let Ok(bytes) = BASE64.decode(challenge) else {
            return self.finish(Output::Failed(Failure {
                reason: Reason::Other("bad_challenge".into()),
                status: None,
                message: "the server's challenge is not base64".into(),
                erase_session: false,
                retry: true,
            }));
        };
        let tag = tags.next_tag();
        *challenge_tag = Some(tag.clone());
        *challenged = true;
        let answer = credentials.keys.challenge_answer(&bytes);
        vec![
            Output::Send {
                tag,
                json: json!([
                    "admin",
                    "challenge",
                    answer,
                    credentials.server_token.expose(),
                    client_id
                ]),
            },
            Output::Challenged,
        ]
    }

    fn on_login_reply(&mut self, reply: &Value) -> Vec<Output> {
        match status_of(reply) {
            Some(200) => {
                let Mode::Restore { conn, login_ok, .. } = &mut self.mode else {
                    return Vec::new();
                };
                *login_ok = true;
                if conn.is_some() {
                    self.logged_in()
                } else {
                    Vec::new()
                }
            }
            // "Already logged in" with a Conn in hand is a login (PROTOCOL.md 5.2), and that
            // Conn carries the rotated tokens, which must not be lost.
            Some(405) if matches!(&self.mode, Mode::Restore { conn: Some(_), .. }) => {
                self.logged_in()
            }
            Some(status) => {
                self.finish(Output::Failed(Failure::from_status(status, "admin login")))
            }
            None => Vec::new(),
        }
    }

    fn logged_in(&mut self) -> Vec<Output> {
        let Mode::Restore {
            credentials,
            conn,
            challenged,
            ..
        } = &mut self.mode
        else {
            return Vec::new();
        };
        let conn = conn.take().unwrap_or_else(|| json!({}));
        let mut credentials = credentials.clone();
        credentials.update_from_conn(&conn);
        let challenged = *challenged;
        self.finish(Output::LoggedIn {
            credentials,
            conn,
            restored: true,
            challenged,
        })
    }
}

#[cfg(test)]
mod tests;
