//! One connection to the server as a state machine without IO (PROTOCOL.md sections 3-8): the
//! daemon's actor feeds it what the websocket delivered, the calls people made and the passing
//! of time, and does what comes out. It holds the login, the frame keys, the requests waiting
//! for an answer, the keepalive schedule and the rule that a connection is used only once the
//! tokens the server rotated are on disk (5.4).
//!
//! ```text
//! start(Restore)                 -> Send "T1,[admin,init,…]"  Send "T2,[admin,login,…]"
//! on_text("s1,[\"Conn\",{…}]")   -> Me, Battery, Save(credentials)
//! saved(true)                    -> State(connected), Emit(connected), Send <presence>, Send "T3,[admin,test]"
//! relay(id, jid, <WMI>, w)       -> Send <action type=relay><message>…</message></action>
//! on_binary/on_text "3EB0…,{\"status\":200,\"t\":…}" -> Message(from_me, raw), Resolve(w, Ok(Sent))
//! set(SetAction, w)              -> Send <action type=set epoch=n><child/></action> (its metric and flags)
//! command(json, w)               -> Send "T4,[\"action\",\"presence\",…]"
//! request(ServerRequest::Node{<query type=message …/>, 7, 0x80}, w) -> Send; reply -> Resolve(w, Ok(Raw(Node(…))))
//! on_text "T4,{\"status\":200}"   -> Resolve(w, Ok(Done))
//! tick(now ≥ next_wake())        -> Send "?,," | End(Lost(pong_timeout)) | Resolve(w, Err(Timeout)) | …
//! ```
//!
//! `W` is whatever the caller wants back when a request ends (the daemon's reply channel);
//! `I` is its clock's instant, so the daemon counts in tokio instants (paused test time works)
//! and the tests in plain numbers. Nothing here reads a clock: every input carries `now`.

use std::ops::Add;
use std::time::Duration;

use serde_json::{Value, json};
use waweb_proto::message::{Message, Source};
use waweb_proto::{Battery, Event, Me, Presence, Reason, SendStatus, SendTextResult, State};

use super::actions::{self, SetAction};
use super::garbage::Garbage;
use super::liveness::{Due, Liveness};
use super::pending::Pending;
use super::push::{self, Push};
use crate::binary::{self, Content, Node};
use crate::crypto::KeyPair;
use crate::login::{self, Credentials, Failure, Login};
use crate::media::upload::Limits;
use crate::message::{self, Received};
use crate::wire::{self, FrameCipher, ServerText, TagCounter, flags, metric};

/// The timers of a connection, and what `admin init` announces.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What `admin init` says, and the reref budget.
    pub login: login::Settings,
    /// A keepalive this often (3.4).
    pub keepalive: Duration,
    /// No pong this long after a keepalive: the connection is dead.
    pub pong_timeout: Duration,
    /// How long a request waits for the server's answer.
    pub request_timeout: Duration,
    /// How long the server may take to complete a login (beyond a QR's ttl).
    pub login_timeout: Duration,
    /// How often the phone is probed with `["admin","test"]` while connected.
    pub phone_probe: Duration,
}

/// How the connection logs in.
pub enum Start {
    /// Show QR codes for a fresh key pair.
    Pair {
        /// 16 random bytes, base64.
        client_id: String,
        /// The key pair the phone agrees a secret with.
        keys: KeyPair,
    },
    /// Restore a stored session.
    Restore(Credentials),
}

/// A websocket frame to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `tag,json`, or a keepalive.
    Text(String),
    /// A sealed binary frame.
    Binary(Vec<u8>),
}

/// How a connection ended, from the protocol's side (a closed socket is the caller's to see).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Dead (no pong, login not completed in time): reconnect with backoff if there is a session.
    Lost(Reason),
    /// The login failed.
    Failed(Failure),
    /// `Cmd disconnect kind=replaced`: another browser took over.
    Replaced,
    /// `Cmd disconnect`: the phone removed this device.
    Unpaired,
}

/// What a finished request answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A relay: the server acked the message.
    Sent(SendTextResult),
    /// A set-action or a JSON command the server answered with status 200.
    Done,
    /// A [`Connection::request`]: the server's reply as it came.
    Raw(ServerReply),
}

/// The server's answer to a [`Connection::request`], as it came; what it means (a status, a
/// node's children) is the caller's to read.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerReply {
    /// A JSON reply: `{"status":200,"gid":"491510000000-1600000001@g.us"}`.
    Json(Value),
    /// A binary reply: `<response type="message"><message>WMI</message>…</response>`.
    Node(Node),
}

/// A request whose answer the caller reads itself ([`Connection::request`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ServerRequest {
    /// A JSON command: `["query","exist","4915100000001@c.us"]`.
    Json(Value),
    /// A binary node sent as given, with the connection's next `epoch` added to an `action` or
    /// `query` that has none: `<query type="message" jid="…" kind="before" count="25"/>`, metric 7.
    Node {
        /// The node.
        node: Node,
        /// The frame's metric byte (PROTOCOL.md 1.4).
        metric: u8,
        /// The frame's flags byte.
        flags: u8,
    },
    /// A set-action, as [`Connection::set`] sends it. With `id_is_tag` the child's `id`
    /// attribute (added if missing) is the frame's tag, as group operations and the picture
    /// set-action want it (PROTOCOL.md 11.2).
    Set {
        /// The child, its metric and flags.
        action: SetAction,
        /// Whether the child's `id` names the frame's tag.
        id_is_tag: bool,
    },
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The connection is not logged in, or its tokens are not stored yet.
    NotReady,
    /// The params make no sense (a bad recipient).
    InvalidParams(String),
    /// The server answered with a failure status (0 when it answered with something else).
    Server {
        /// The status.
        status: u16,
        /// What it means.
        message: String,
    },
    /// No answer before the deadline.
    Timeout,
    /// The connection ended before the answer came.
    NotConnected,
}

/// What the machine wants done, in order.
#[allow(clippy::large_enum_variant)] // events live only until published; see push::Push
#[derive(Debug)]
pub enum Output<W> {
    /// Send this frame.
    Send(Frame),
    /// Publish this event.
    Emit(Event),
    /// Publish this `message` event and store it with its `WebMessageInfo` bytes (DESIGN.md
    /// 7.3: every message, received or our own, is stored as it arrives).
    Message {
        /// The event.
        event: Box<Message>,
        /// The encoded `WebMessageInfo`: as received, or as we relayed it.
        raw: Vec<u8>,
    },
    /// The session's state is now this.
    State(State, Option<Reason>),
    /// The account, as the server last described it.
    Me(Me),
    /// The phone's battery as the server last reported it (publish only a change).
    Battery(Battery),
    /// Whether the phone is online, as the server last said.
    PhoneOnline(Option<bool>),
    /// A chat or contact list the server pushed, for the store (PROTOCOL.md 8.3).
    List(super::lists::List),
    /// A pong came: the connection is alive.
    Pong,
    /// The server's media limits, as its last `Props` push set them.
    Limits(Limits),
    /// Store this session and call [`Connection::saved`] with the outcome; until it succeeds
    /// the connection is not used.
    Save(Box<Credentials>),
    /// A request ended: hand its waiter the outcome.
    Resolve(W, Result<Answer, RequestError>),
    /// For the log. Never holds message content or secrets.
    Log(Level, String),
    /// The connection is over; close it and do nothing more with it.
    End(Ended),
}

/// How loud a [`Output::Log`] line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Worth knowing.
    Info,
    /// Something is off.
    Warn,
}

/// What `login` means on a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginCall {
    /// Pairing is under way; show the current QR again if there is one.
    Pairing(Option<Box<Event>>),
    /// Logged in or restoring: there is a session already.
    AlreadyLoggedIn,
}

/// What `logout` means on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logout {
    /// Logged in: send this goodbye (the server has no reply to it), then forget the session.
    Goodbye(Frame),
    /// Pairing: nothing is stored and nothing needs telling.
    CancelPairing,
    /// Restoring: the server can only be told over HTTP.
    Restoring,
}

/// A request the server has not answered yet.
#[allow(clippy::large_enum_variant)] // a relay's event is published as is; see push::Push
enum Request<W> {
    Relay {
        id: String,
        /// The message as an event (or the notice it stands for, as for a revoke) with its
        /// bytes, published once the server accepted it.
        event: Option<(Received, Vec<u8>)>,
        waiter: W,
    },
    /// A set-action or JSON command, answered by `{"status":200}` (PROTOCOL.md 11).
    Status(W),
    /// A [`Connection::request`], answered with whatever came.
    Raw(W),
    /// Our own (presence, phone probe): the answer only updates facts.
    Internal,
}

/// Tokens the server rotated that are not on disk yet.
struct Unsaved<I> {
    /// The login to finish once stored (`restored`, `challenged`); `None` when the connection
    /// was in use and a later `Conn` rotated the tokens.
    login: Option<(bool, bool)>,
    /// When to try again; `None` while a save is out.
    retry_at: Option<I>,
    /// The pause before the next retry.
    interval: Duration,
}

/// The first pause before a failed save is retried, doubling up to [`SAVE_RETRY_MAX`].
pub const SAVE_RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest pause between save retries.
pub const SAVE_RETRY_MAX: Duration = Duration::from_secs(30);

/// One connection's protocol state.
pub struct Connection<W, I> {
    settings: Settings,
    tags: TagCounter,
    login: Login,
    cipher: Option<FrameCipher>,
    credentials: Option<Credentials>,
    me: Option<Me>,
    pending: Pending<Request<W>, I>,
    liveness: Liveness<I>,
    epoch: u64,
    ref_deadline: Option<I>,
    login_deadline: I,
    next_probe: Option<I>,
    current_qr: Option<Event>,
    unsaved: Option<Unsaved<I>>,
    limits: Limits,
    garbage: Garbage,
}

type Outputs<W> = Vec<Output<W>>;

impl<W, I: Copy + Ord + Add<Duration, Output = I>> Connection<W, I> {
    /// A connection that was just opened at `now` (`unix`: seconds since 1970, for the tags):
    /// the machine and the first frames to send.
    pub fn start(settings: Settings, start: Start, now: I, unix: u64) -> (Self, Outputs<W>) {
        let mut tags = TagCounter::new(unix);
        let (login, outputs) = match start {
            Start::Pair { client_id, keys } => {
                Login::pair(settings.login.clone(), client_id, keys, &mut tags)
            }
            Start::Restore(credentials) => {
                Login::restore(settings.login.clone(), credentials, &mut tags)
            }
        };
        let liveness = Liveness::new(now, settings.keepalive, settings.pong_timeout);
        let mut connection = Connection {
            login_deadline: now + settings.login_timeout,
            settings,
            tags,
            login,
            cipher: None,
            credentials: None,
            me: None,
            pending: Pending::new(),
            liveness,
            epoch: 0,
            ref_deadline: None,
            next_probe: None,
            current_qr: None,
            unsaved: None,
            limits: Limits::default(),
            garbage: Garbage::default(),
        };
        let mut out = Vec::new();
        connection.apply_login(outputs, now, &mut out);
        (connection, out)
    }

    /// The media limits of this connection's last `Props` (the defaults before one came).
    pub fn media_limits(&self) -> Limits {
        self.limits
    }

    /// Logged in, and the tokens are stored: requests may go out.
    pub fn is_usable(&self) -> bool {
        self.is_logged_in() && self.unsaved.is_none()
    }

    fn is_logged_in(&self) -> bool {
        self.login.is_done() && self.cipher.is_some()
    }

    /// When [`Connection::tick`] has something to do.
    pub fn next_wake(&self) -> I {
        let login = (!self.login.is_done()).then_some(self.login_deadline);
        let retry = self.unsaved.as_ref().and_then(|unsaved| unsaved.retry_at);
        [
            self.ref_deadline,
            login,
            self.pending.next_deadline(),
            self.next_probe,
            retry,
        ]
        .into_iter()
        .flatten()
        .fold(self.liveness.next_wake(), I::min)
    }

    /// Whatever is due at `now`: keepalives, a dead connection, an expired ref or login,
    /// requests past their deadline, the phone probe, a save retry.
    pub fn tick(&mut self, now: I) -> Outputs<W> {
        let mut out = Vec::new();
        match self.liveness.due(now) {
            Some(Due::Keepalive) => out.push(Output::Send(Frame::Text(wire::KEEPALIVE.into()))),
            Some(Due::Dead) => {
                let pong_timeout = self.liveness.pong_timeout();
                out.push(warn(format!("no pong within {pong_timeout:?}")));
                out.push(Output::End(Ended::Lost(Reason::PongTimeout)));
                return out;
            }
            None => {}
        }
        if !self.login.is_done() && now >= self.login_deadline {
            out.push(warn("the server did not complete the login in time".into()));
            out.push(Output::End(Ended::Lost(Reason::ConnectionLost)));
            return out;
        }
        if self.ref_deadline.is_some_and(|at| now >= at) {
            self.ref_deadline = None;
            let outputs = self.login.on_ref_expired(&mut self.tags);
            if self.apply_login(outputs, now, &mut out) {
                return out;
            }
        }
        for request in self.pending.expire(now) {
            resolve(request, Err(RequestError::Timeout), &mut out);
        }
        if self.next_probe.is_some_and(|at| now >= at) {
            self.probe_phone(now, &mut out);
        }
        if let Some(unsaved) = &mut self.unsaved
            && unsaved.retry_at.is_some_and(|at| now >= at)
        {
            unsaved.retry_at = None;
            out.extend(self.save());
        }
        out
    }

    /// A text frame from the server.
    pub fn on_text(&mut self, text: &str, now: I) -> Outputs<W> {
        let mut out = Vec::new();
        let (tag, json) = match wire::parse_server_text(text) {
            Ok(ServerText::Pong(_)) => {
                self.liveness.pong();
                return vec![Output::Pong];
            }
            Ok(ServerText::EmptyAck(_)) => return out,
            Ok(ServerText::Json { tag, json }) => (tag, json),
            Err(error) => {
                return self
                    .garbage
                    .unreadable(|| format!("unreadable text frame: {error}"));
            }
        };
        let payload: Value = match serde_json::from_str(json) {
            Ok(payload) => payload,
            Err(error) => {
                return self
                    .garbage
                    .unreadable(|| format!("text frame {tag} is not JSON: {error}"));
            }
        };
        self.garbage.readable();
        if let Some(outputs) = self.login.on_json(tag, &payload, &mut self.tags) {
            self.apply_login(outputs, now, &mut out);
        } else if let Some(request) = self.pending.take(tag) {
            self.answer_json(request, &payload, &mut out);
        } else if payload.get(0).and_then(Value::as_str) == Some("Conn") {
            self.on_conn(tag, payload, &mut out);
        } else {
            if payload.get(0).and_then(Value::as_str) == Some("Props") {
                // Still published as a `json` event below; the limits are also ours to check.
                self.limits = self.limits.with_props(&payload[1]);
                out.push(Output::Limits(self.limits));
            }
            let own = self.me.as_ref().map(|me| me.wid.as_str()).unwrap_or("");
            let pushes = push::json_push(tag, payload, own);
            apply_pushes(tag, pushes, &mut out);
        }
        out
    }

    /// A binary frame from the server.
    pub fn on_binary(&mut self, data: &[u8]) -> Outputs<W> {
        let mut out = Vec::new();
        let Some(cipher) = &self.cipher else {
            return self
                .garbage
                .unreadable(|| "binary frame before login; ignored".into());
        };
        let (tag, bytes) = match cipher.open_server_frame(data) {
            Ok(opened) => opened,
            Err(error) => {
                return self
                    .garbage
                    .unreadable(|| format!("dropping a frame that does not open: {error}"));
            }
        };
        let node = match binary::decode(&bytes) {
            Ok(node) => node,
            Err(error) => {
                return self.garbage.unreadable(|| {
                    format!("dropping frame {tag}: its node does not decode: {error}")
                });
            }
        };
        self.garbage.readable();
        match self.pending.take(tag) {
            Some(Request::Raw(waiter)) => {
                out.push(Output::Resolve(
                    waiter,
                    Ok(Answer::Raw(ServerReply::Node(node))),
                ));
            }
            Some(Request::Relay { waiter, .. } | Request::Status(waiter)) => {
                let error = RequestError::Server {
                    status: 0,
                    message: "unexpected binary answer to a message or action".into(),
                };
                out.push(Output::Resolve(waiter, Err(error)));
            }
            Some(Request::Internal) => {}
            None => apply_pushes(tag, push::node_push(tag, node), &mut out),
        }
        out
    }

    /// The outcome of an [`Output::Save`]: once stored, the login is finished (or, after a later
    /// `Conn`, the connection is back in use); otherwise the save is retried later.
    pub fn saved(&mut self, stored: bool, now: I) -> Outputs<W> {
        let Some(unsaved) = &mut self.unsaved else {
            return Vec::new();
        };
        if !stored {
            unsaved.retry_at = Some(now + unsaved.interval);
            unsaved.interval = (unsaved.interval * 2).min(SAVE_RETRY_MAX);
            return vec![
                warn("logged in, but the new tokens are not on disk; retrying first".into()),
                Output::State(State::LoggingIn, Some(Reason::SessionNotStored)),
            ];
        }
        let mut out = Vec::new();
        match self.unsaved.take().and_then(|unsaved| unsaved.login) {
            Some((restored, challenged)) => self.finish_login(restored, challenged, now, &mut out),
            None => out.push(Output::State(State::Connected, None)),
        }
        out
    }

    /// `login` on this connection.
    pub fn login_call(&self) -> LoginCall {
        if !self.is_logged_in() && self.login.is_pairing() {
            LoginCall::Pairing(self.current_qr.clone().map(Box::new))
        } else {
            LoginCall::AlreadyLoggedIn
        }
    }

    /// `logout` on this connection.
    pub fn logout(&self) -> Logout {
        if self.is_logged_in() {
            Logout::Goodbye(Frame::Text(
                r#"goodbye,,["admin","Conn","disconnect"]"#.into(),
            ))
        } else if self.login.is_pairing() {
            Logout::CancelPairing
        } else {
            Logout::Restoring
        }
    }

    /// The relay of PROTOCOL.md 8.4: the message `info` (an encoded `WebMessageInfo` whose
    /// key id is `id`, to `jid`) goes out tagged with its id, resolved once the server acks
    /// it. The same id may be relayed again on a later connection; the server answers a repeat
    /// as it answered the first.
    pub fn relay(&mut self, id: &str, jid: &str, info: &[u8], waiter: W, now: I) -> Outputs<W> {
        if !self.is_usable() {
            return vec![Output::Resolve(waiter, Err(RequestError::NotReady))];
        }
        let event = message::receive(info, Source::Live)
            .ok()
            .map(|event| (event, info.to_vec()));
        let node = self.action(
            "relay",
            Node::new("message").with_content(Content::Bytes(info.to_vec())),
        );
        // Only a message to ourselves is acked with the relay's tag; others come as Msg acks.
        let own = self.me.as_ref().is_some_and(|me| me.wid == jid);
        let flag = if own {
            flags::ACK_REQUEST
        } else {
            flags::IGNORE
        };
        let send = self.seal(id, metric::MESSAGE, flag, &node);
        let request = Request::Relay {
            id: id.to_owned(),
            event,
            waiter,
        };
        self.pending
            .insert(id, request, now + self.settings.request_timeout);
        send.into_iter().collect()
    }

    /// A set-action (PROTOCOL.md 11.2): `["action",{"type":"set","epoch":"<n>"},[child]]`
    /// sealed with the action's metric and flags, resolved with [`Answer::Done`] once the
    /// server answers `{"status":200}`.
    pub fn set(&mut self, action: SetAction, waiter: W, now: I) -> Outputs<W> {
        if !self.is_usable() {
            return vec![Output::Resolve(waiter, Err(RequestError::NotReady))];
        }
        let node = self.action("set", action.child);
        let tag = self.tags.next_tag();
        let send = self.seal(&tag, action.metric, action.flags, &node);
        self.pending.insert(
            tag,
            Request::Status(waiter),
            now + self.settings.request_timeout,
        );
        send.into_iter().collect()
    }

    /// A JSON command whose answer is a status (`["action","presence","subscribe",jid]`),
    /// resolved like [`Connection::set`].
    pub fn command(&mut self, json: &Value, waiter: W, now: I) -> Outputs<W> {
        self.json_request(json, Request::Status(waiter), now)
    }

    /// Any request whose answer the caller reads itself (the store's queries, group
    /// operations, profile calls, and `query` with a node): resolved with [`Answer::Raw`] and
    /// whatever the server answered, a failure status included.
    pub fn request(&mut self, outgoing: ServerRequest, waiter: W, now: I) -> Outputs<W> {
        if !self.is_usable() {
            return vec![Output::Resolve(waiter, Err(RequestError::NotReady))];
        }
        let (tag, node, metric, flags) = match outgoing {
            ServerRequest::Json(json) => {
                return self.json_request(&json, Request::Raw(waiter), now);
            }
            ServerRequest::Node {
                mut node,
                metric,
                flags,
            } => {
                if matches!(node.tag.as_ref(), "action" | "query") && node.get("epoch").is_none() {
                    self.epoch += 1;
                    node.attrs
                        .push(("epoch".into(), self.epoch.to_string().into()));
                }
                (self.tags.next_tag(), node, metric, flags)
            }
            ServerRequest::Set {
                action:
                    SetAction {
                        mut child,
                        metric,
                        flags,
                    },
                id_is_tag,
            } => {
                let tag = self.tags.next_tag();
                if id_is_tag {
                    match child.attrs.iter_mut().find(|(key, _)| key == "id") {
                        Some((_, value)) => *value = tag.clone().into(),
                        None => child.attrs.push(("id".into(), tag.clone().into())),
                    }
                }
                (tag, self.action("set", child), metric, flags)
            }
        };
        let send = self.seal(&tag, metric, flags, &node);
        self.pending.insert(
            tag,
            Request::Raw(waiter),
            now + self.settings.request_timeout,
        );
        send.into_iter().collect()
    }

    /// A tagged JSON frame whose answer goes to `request`.
    fn json_request(&mut self, json: &Value, request: Request<W>, now: I) -> Outputs<W> {
        if !self.is_usable() {
            let mut out = Vec::new();
            resolve(request, Err(RequestError::NotReady), &mut out);
            return out;
        }
        let tag = self.tags.next_tag();
        let frame = Frame::Text(wire::text_frame(&tag, &json.to_string()));
        self.pending
            .insert(tag, request, now + self.settings.request_timeout);
        vec![Output::Send(frame)]
    }

    /// The connection is gone: every request still waiting fails.
    pub fn close(&mut self) -> Outputs<W> {
        let mut out = Vec::new();
        for request in self.pending.drain() {
            resolve(request, Err(RequestError::NotConnected), &mut out);
        }
        out
    }

    /// Applies the login machine's outputs; true when the login failed (the connection ends).
    fn apply_login(&mut self, outputs: Vec<login::Output>, now: I, out: &mut Outputs<W>) -> bool {
        for output in outputs {
            match output {
                login::Output::Send { tag, json } => {
                    out.push(Output::Send(Frame::Text(wire::text_frame(
                        &tag,
                        &json.to_string(),
                    ))));
                }
                login::Output::Qr {
                    content,
                    reference,
                    ttl,
                    attempt,
                    attempts_max,
                } => {
                    let event = Event::Qr {
                        content,
                        reference,
                        ttl_ms: ttl.as_millis() as u64,
                        attempt,
                        attempts_max,
                    };
                    self.current_qr = Some(event.clone());
                    // A QR wait can take minutes; the login deadline is for the server only.
                    self.login_deadline = now + ttl + self.settings.login_timeout;
                    out.push(Output::State(State::Pairing, None));
                    out.push(Output::Emit(event));
                }
                login::Output::ArmRefTimer(ttl) => {
                    self.ref_deadline = Some(now + ttl);
                    self.login_deadline = now + ttl + self.settings.login_timeout;
                }
                login::Output::Challenged => {
                    out.push(Output::Log(
                        Level::Info,
                        "the server asked for the restore challenge".into(),
                    ));
                }
                login::Output::LoggedIn {
                    credentials,
                    conn,
                    restored,
                    challenged,
                } => {
                    self.cipher = Some(FrameCipher::new(&credentials.keys));
                    self.ref_deadline = None;
                    self.current_qr = None;
                    let me = login::me_from_conn(&conn, &credentials);
                    self.me = Some(me.clone());
                    self.credentials = Some(*credentials);
                    out.push(Output::Me(me));
                    out.extend(push::conn_battery(&conn).map(Output::Battery));
                    self.unsaved = Some(Unsaved::new(Some((restored, challenged))));
                    out.extend(self.save());
                }
                login::Output::Failed(failure) => {
                    out.push(Output::End(Ended::Failed(failure)));
                    return true;
                }
            }
        }
        false
    }

    /// A `Conn` after login rotates the tokens again: they are stored before anything else.
    fn on_conn(&mut self, tag: &str, payload: Value, out: &mut Outputs<W>) {
        let body = payload.get(1).cloned().unwrap_or(Value::Null);
        if let Some(credentials) = &mut self.credentials {
            credentials.update_from_conn(&body);
            if let (Some(me), Some(name)) =
                (&mut self.me, body.get("pushname").and_then(Value::as_str))
            {
                me.pushname = name.to_owned();
                out.push(Output::Me(me.clone()));
            }
            let login = self.unsaved.take().and_then(|unsaved| unsaved.login);
            self.unsaved = Some(Unsaved::new(login));
            out.extend(self.save());
        }
        out.extend(push::conn_battery(&body).map(Output::Battery));
        out.push(Output::Emit(Event::Json {
            tag: tag.to_owned(),
            payload: push::redact_conn(payload),
        }));
    }

    fn save(&self) -> Option<Output<W>> {
        let credentials = self.credentials.clone()?;
        Some(Output::Save(Box::new(credentials)))
    }

    /// The login is complete and stored: say so, and do what the official client did right
    /// after login: announce presence (so the phone forwards events promptly) and ask whether
    /// the phone is online.
    fn finish_login(&mut self, restored: bool, challenged: bool, now: I, out: &mut Outputs<W>) {
        out.push(Output::Log(
            Level::Info,
            format!("logged in (restored: {restored}, challenged: {challenged})"),
        ));
        out.push(Output::State(State::Connected, None));
        if let Some(me) = self.me.clone() {
            out.push(Output::Emit(Event::Connected { me, restored }));
        }
        let available = actions::presence(Presence::Available);
        let presence = self.action("set", available.child);
        let tag = self.tags.next_tag();
        out.extend(self.seal(&tag, available.metric, available.flags, &presence));
        self.pending
            .insert(tag, Request::Internal, now + self.settings.request_timeout);
        self.probe_phone(now, out);
    }

    fn probe_phone(&mut self, now: I, out: &mut Outputs<W>) {
        let tag = self.tags.next_tag();
        out.push(Output::Send(Frame::Text(wire::text_frame(
            &tag,
            &json!(["admin", "test"]).to_string(),
        ))));
        self.pending
            .insert(tag, Request::Internal, now + self.settings.request_timeout);
        self.next_probe = Some(now + self.settings.phone_probe);
    }

    /// `<action type=… epoch=n>child</action>`, with the connection's next epoch.
    fn action(&mut self, kind: &'static str, child: Node) -> Node {
        self.epoch += 1;
        Node::new("action")
            .attr("type", kind)
            .attr("epoch", self.epoch.to_string())
            .with_content(Content::List(vec![child]))
    }

    /// The node as a sealed frame to send; nothing before login, when there are no keys.
    fn seal(&self, tag: &str, metric: u8, flags: u8, node: &Node) -> Option<Output<W>> {
        let cipher = self.cipher.as_ref()?;
        let frame = cipher.seal_client_frame(tag, metric, flags, &binary::encode(node));
        Some(Output::Send(Frame::Binary(frame)))
    }

    fn answer_json(&mut self, request: Request<W>, payload: &Value, out: &mut Outputs<W>) {
        match request {
            Request::Relay { id, event, waiter } => {
                let status = payload.get("status").and_then(Value::as_u64).unwrap_or(0);
                if status != 200 {
                    let error = RequestError::Server {
                        status: u16::try_from(status).unwrap_or(0),
                        message: format!("the server refused the message: {payload}"),
                    };
                    out.push(Output::Resolve(waiter, Err(error)));
                    return;
                }
                let stamped = match &event {
                    Some((Received::Message(message), _)) => Some(message.timestamp),
                    _ => None,
                };
                let t = payload
                    .get("t")
                    .and_then(Value::as_u64)
                    .or(stamped)
                    .unwrap_or(0);
                match event {
                    Some((Received::Message(mut event), raw)) => {
                        event.timestamp = t;
                        out.push(Output::Message { event, raw });
                    }
                    Some((Received::Notice(notice), _)) => out.push(Output::Emit(notice)),
                    None => {}
                }
                let sent = SendTextResult {
                    id,
                    status: SendStatus::Server(200),
                    t: Some(t),
                };
                out.push(Output::Resolve(waiter, Ok(Answer::Sent(sent))));
            }
            Request::Status(waiter) => {
                let status = payload.get("status").and_then(Value::as_u64).unwrap_or(0);
                let result = if status == 200 {
                    Ok(Answer::Done)
                } else {
                    Err(RequestError::Server {
                        status: u16::try_from(status).unwrap_or(0),
                        message: format!("the server refused the action: {payload}"),
                    })
                };
                out.push(Output::Resolve(waiter, result));
            }
            Request::Raw(waiter) => {
                out.push(Output::Resolve(
                    waiter,
                    Ok(Answer::Raw(ServerReply::Json(payload.clone()))),
                ));
            }
            Request::Internal => {
                if payload.get(0).and_then(Value::as_str) == Some("Pong") {
                    out.push(Output::PhoneOnline(payload.get(1).and_then(Value::as_bool)));
                }
            }
        }
    }
}

impl<I> Unsaved<I> {
    fn new(login: Option<(bool, bool)>) -> Self {
        Unsaved {
            login,
            retry_at: None,
            interval: SAVE_RETRY_FIRST,
        }
    }
}

fn warn<W>(message: String) -> Output<W> {
    Output::Log(Level::Warn, message)
}

fn resolve<W>(request: Request<W>, result: Result<Answer, RequestError>, out: &mut Outputs<W>) {
    match request {
        Request::Relay { waiter, .. } | Request::Status(waiter) | Request::Raw(waiter) => {
            out.push(Output::Resolve(waiter, result))
        }
        Request::Internal => {}
    }
}

/// What pushes mean, as outputs; a disconnect order ends the connection.
fn apply_pushes<W>(frame_tag: &str, pushes: Vec<Push>, out: &mut Outputs<W>) {
    for outcome in pushes {
        match outcome {
            Push::Event(event) => out.push(Output::Emit(event)),
            Push::Message { event, raw } => out.push(Output::Message { event, raw }),
            Push::Battery(battery) => out.push(Output::Battery(battery)),
            Push::PhoneOnline(online) => out.push(Output::PhoneOnline(online)),
            Push::List(list) => out.push(Output::List(list)),
            Push::Undecodable { what, reason } => {
                out.push(warn(format!(
                    "frame {frame_tag}: a pushed {what} does not decode: {reason}"
                )));
            }
            Push::Disconnect { replaced } => {
                out.push(Output::End(if replaced {
                    Ended::Replaced
                } else {
                    Ended::Unpaired
                }));
                return;
            }
        }
    }
}
