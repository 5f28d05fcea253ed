//! The session actor: the only owner of the connection and the session's state. One loop awaits
//! the websocket, commands, timers and shutdown; the protocol decisions are in [`waweb_core::login`]
//! and the codecs, the waiting is here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use waweb_core::binary::{self, Content, Node};
use waweb_core::crypto::{self, KeyPair};
use waweb_core::login::{self, Credentials, Failure, Login, Output};
use waweb_core::message;
use waweb_core::session::liveness::{Due, Liveness};
use waweb_core::session::pending::Pending;
use waweb_core::session::push::{self, Push};
use waweb_core::wire::{self, FrameCipher, ServerText, TagCounter, flags, metric};
use waweb_proto::message::Media;
use waweb_proto::{
    Battery, Call, Event, LoginResult, LogoutResult, Me, MediaDownloadParams, MediaDownloadResult,
    QueryParams, QueryResult, Reason, SendTextParams, SendTextResult, State, StatusResult,
};

use super::backoff::Backoff;
use super::download::download;
use super::handle::{Command, Reply, SessionError};
use crate::bus::Bus;
use crate::config::Config;
use crate::http;
use crate::output::Protected;
use crate::store::Store;
use crate::transport::{Net, Socket};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);
const LOGOUT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the phone is probed with `["admin","test"]` while connected.
const PHONE_PROBE: Duration = Duration::from_secs(120);
/// Pauses before the quick retries of a failed session save (a full disk may clear up, a
/// descriptor may free), before the login is declared not stored.
const SAVE_RETRIES: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(100),
    Duration::from_millis(400),
];
/// Then the save is retried after this long, doubling up to [`SAVE_RETRY_MAX`].
const SAVE_RETRY_FIRST: Duration = Duration::from_secs(1);
const SAVE_RETRY_MAX: Duration = Duration::from_secs(30);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How a connection ended.
#[derive(Debug)]
enum Ended {
    Shutdown,
    /// Lost; reconnect after a backoff if there is a session.
    Lost(Reason),
    /// A login failure.
    Failed(Failure),
    /// Another browser took over.
    Replaced,
    /// The phone removed this device.
    Unpaired,
    /// `logout` succeeded while connected, or pairing was cancelled.
    LoggedOut,
}

enum PendingKind {
    SendText {
        id: String,
        jid: String,
        text: String,
        reply: Reply<SendTextResult>,
    },
    Query {
        reply: Reply<QueryResult>,
    },
    /// A request of our own (start-up queries, phone probe) whose answer only updates state.
    Internal,
}

impl PendingKind {
    /// Answers the waiting caller with `error` (internal requests have nobody waiting).
    fn fail(self, error: SessionError) {
        match self {
            PendingKind::SendText { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            PendingKind::Query { reply } => {
                let _ = reply.send(Err(error));
            }
            PendingKind::Internal => {}
        }
    }
}

/// Per-connection state.
struct Connection {
    socket: Socket,
    tags: TagCounter,
    cipher: Option<FrameCipher>,
    login: Login,
    ref_deadline: Option<Instant>,
    login_deadline: Instant,
    pending: Pending<PendingKind, Instant>,
    epoch: u64,
    liveness: Liveness<Instant>,
    next_probe: Instant,
    current_qr: Option<Event>,
    /// Set while the tokens the server sent are not on disk yet.
    unsaved: Option<Unsaved>,
}

/// A session save that failed and is being retried (PROTOCOL.md 5.4: the rotated tokens are
/// persisted before the connection is used).
struct Unsaved {
    /// The login to finish once the save succeeds (`restored`, `challenged`); `None` when the
    /// connection was already in use and only a later `Conn` rotated the tokens.
    login: Option<(bool, bool)>,
    retry_at: Instant,
    interval: Duration,
}

impl Unsaved {
    fn new(login: Option<(bool, bool)>) -> Self {
        Unsaved {
            login,
            retry_at: Instant::now() + SAVE_RETRY_FIRST,
            interval: SAVE_RETRY_FIRST,
        }
    }

    fn again(&mut self) {
        self.interval = (self.interval * 2).min(SAVE_RETRY_MAX);
        self.retry_at = Instant::now() + self.interval;
    }
}

impl Connection {
    fn next_epoch(&mut self) -> String {
        self.epoch += 1;
        self.epoch.to_string()
    }
}

/// What the session is after, which decides whether there is anything to connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    /// No session and nobody asked for one: wait for `login`.
    Idle,
    /// `login` asked for a QR: connect and pair.
    Pair,
    /// A session is stored: keep it connected, reconnecting with backoff.
    Restore,
    /// A session is stored but must not be retried (`replaced`, 403): wait for a restart or
    /// `logout`.
    Halted,
}

impl Goal {
    fn new(session_stored: bool) -> Goal {
        if session_stored {
            Goal::Restore
        } else {
            Goal::Idle
        }
    }
}

/// The actor's state.
pub struct Actor {
    config: Arc<Config>,
    net: Net,
    /// Every task the actor starts (session-file writer, media downloads), so the daemon can
    /// wait for all of them at shutdown, and the token that stops them.
    tasks: TaskTracker,
    stop: CancellationToken,
    store: Store,
    bus: Bus,
    credentials: Option<Credentials>,
    state: State,
    me: Option<Me>,
    battery: Option<Battery>,
    phone_online: Option<bool>,
    last_pong: Option<Instant>,
    reconnects: u64,
    goal: Goal,
    backoff: Backoff,
    /// Session-file writes, in order, off the actor's loop (they fsync).
    store_ops: Option<(mpsc::UnboundedSender<StoreOp>, tokio::task::JoinHandle<()>)>,
    /// Why the last session save failed, until one succeeds.
    session_error: Option<String>,
}

/// A change to the session file, applied in order by one task.
enum StoreOp {
    Save(
        Box<Credentials>,
        tokio::sync::oneshot::Sender<Result<(), String>>,
    ),
    Erase(tokio::sync::oneshot::Sender<()>),
}

/// Applies session-file changes in the order they were made, on blocking threads.
async fn apply_store_ops(store: Store, mut ops: mpsc::UnboundedReceiver<StoreOp>) {
    while let Some(op) = ops.recv().await {
        let store = store.clone();
        let _ = tokio::task::spawn_blocking(move || match op {
            StoreOp::Save(credentials, done) => {
                let _ = done.send(store.save(&credentials).map_err(|error| error.to_string()));
            }
            StoreOp::Erase(done) => {
                if let Err(error) = store.erase() {
                    tracing::error!("could not erase the session file: {error}");
                }
                let _ = done.send(());
            }
        })
        .await;
    }
}

impl Actor {
    /// An actor for a loaded session (or none).
    pub fn new(
        config: Arc<Config>,
        net: Net,
        (tasks, stop): (TaskTracker, CancellationToken),
        store: Store,
        bus: Bus,
        credentials: Option<Credentials>,
    ) -> Self {
        let backoff = Backoff::new(config.reconnect_initial, config.reconnect_max);
        let credentials_stored = credentials.is_some();
        Self {
            config,
            net,
            tasks,
            stop,
            store,
            bus,
            credentials,
            state: State::LoggedOut,
            me: None,
            battery: None,
            phone_online: None,
            last_pong: None,
            reconnects: 0,
            goal: Goal::new(credentials_stored),
            backoff,
            store_ops: None,
            session_error: None,
        }
    }

    fn set_state(&mut self, state: State, reason: Option<Reason>) {
        if self.state == state && reason.is_none() {
            return;
        }
        self.state = state;
        let message = reason
            .as_ref()
            .map(|reason| reason.description().to_owned());
        match &reason {
            Some(reason) => tracing::info!(
                state = state.as_str(),
                reason = reason.as_str(),
                "state changed"
            ),
            None => tracing::info!(state = state.as_str(), "state changed"),
        }
        self.bus.publish(Event::State {
            state,
            reason,
            message,
        });
    }

    fn status(&self) -> StatusResult {
        StatusResult {
            state: self.state,
            me: self.me.clone(),
            server_url: self.config.server_url.clone(),
            session_stored: self.credentials.is_some() && self.session_error.is_none(),
            session_error: self.session_error.clone(),
            last_pong_ms_ago: match self.state {
                State::Connected | State::Pairing | State::LoggingIn => {
                    self.last_pong.map(|at| at.elapsed().as_millis() as u64)
                }
                _ => None,
            },
            phone_online: self.phone_online,
            battery: self.battery,
            reconnects: self.reconnects,
        }
    }

    fn store_op(&mut self, op: StoreOp) {
        let (ops, _) = self.store_ops.get_or_insert_with(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let task = self
                .tasks
                .spawn(apply_store_ops(self.store.clone(), receiver));
            (sender, task)
        });
        let _ = ops.send(op);
    }

    /// Stores the session and waits until it is on disk, retrying a few times: a login is only
    /// reported once it would survive a crash. The error is kept for `status` until a save
    /// succeeds.
    async fn persist(&mut self) -> Result<(), ()> {
        let Some(credentials) = self.credentials.clone() else {
            return Ok(());
        };
        for pause in SAVE_RETRIES {
            tokio::time::sleep(pause).await;
            let (done, saved) = tokio::sync::oneshot::channel();
            self.store_op(StoreOp::Save(Box::new(credentials.clone()), done));
            let error = match saved.await {
                Ok(Ok(())) => {
                    if self.session_error.take().is_some() {
                        tracing::info!("the session is stored again");
                    }
                    return Ok(());
                }
                Ok(Err(error)) => error,
                Err(_) => "the session writer stopped".to_owned(),
            };
            tracing::error!("could not store the session: {error}");
            self.session_error = Some(error);
        }
        Err(())
    }

    /// The new tokens could not be stored: stay off `connected` and retry (see [`Unsaved`]).
    fn hold_unsaved(&mut self, connection: &mut Connection, login: Option<(bool, bool)>) {
        let login = connection
            .unsaved
            .take()
            .and_then(|unsaved| unsaved.login)
            .or(login);
        connection.unsaved = Some(Unsaved::new(login));
        tracing::error!(
            "logged in, but the new session tokens are not on disk; retrying before going online"
        );
        self.set_state(State::LoggingIn, Some(Reason::SessionNotStored));
    }

    /// A retry of a failed save; once it succeeds the login is finished (or, for a later
    /// `Conn`, the connection is back in use).
    async fn retry_save(&mut self, connection: &mut Connection) -> Result<(), Ended> {
        if self.persist().await.is_err() {
            if let Some(unsaved) = &mut connection.unsaved {
                unsaved.again();
            }
            return Ok(());
        }
        match connection.unsaved.take().and_then(|unsaved| unsaved.login) {
            Some((restored, challenged)) => {
                self.finish_login(connection, restored, challenged).await
            }
            None => {
                self.set_state(State::Connected, None);
                Ok(())
            }
        }
    }

    /// Forgets the session and waits until the file is gone (callers report that it is).
    async fn erase(&mut self) {
        self.goal = Goal::Idle;
        self.credentials = None;
        self.me = None;
        self.battery = None;
        self.phone_online = None;
        let (done, erased) = tokio::sync::oneshot::channel();
        self.store_op(StoreOp::Erase(done));
        let _ = erased.await;
    }

    /// Runs until `shutdown` is cancelled; the session file is up to date when it returns.
    pub async fn run(mut self, commands: mpsc::Receiver<Command>) {
        let shutdown = self.stop.clone();
        self.serve_until_shutdown(commands, shutdown).await;
        if let Some((ops, task)) = self.store_ops.take() {
            drop(ops);
            let _ = task.await;
        }
    }

    async fn serve_until_shutdown(
        &mut self,
        mut commands: mpsc::Receiver<Command>,
        shutdown: CancellationToken,
    ) {
        // The first state is published even though it equals the initial value: it is the
        // snapshot every subscriber starts from.
        self.bus.publish(Event::State {
            state: self.state,
            reason: None,
            message: None,
        });
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            if matches!(self.goal, Goal::Idle | Goal::Halted) {
                // Idle: nothing to connect to until someone logs in.
                tokio::select! {
                    command = commands.recv() => match command {
                        Some(command) => self.idle_command(command).await,
                        None => return,
                    },
                    () = shutdown.cancelled() => return,
                }
                continue;
            }
            let ended = self.connect_and_serve(&mut commands, &shutdown).await;
            tracing::debug!(?ended, "connection ended");
            match ended {
                Ended::Shutdown => return,
                Ended::LoggedOut => {
                    self.goal = Goal::Idle;
                    self.set_state(State::LoggedOut, Some(Reason::Logout));
                }
                Ended::Replaced => {
                    self.goal = Goal::Halted;
                    self.bus.publish(Event::Disconnected {
                        reason: Reason::Replaced,
                        retry_in_ms: None,
                    });
                    self.set_state(State::Replaced, Some(Reason::Replaced));
                }
                Ended::Unpaired => self.end_session(Reason::Unpaired, None).await,
                Ended::Failed(failure) => self.on_failure(failure, &mut commands, &shutdown).await,
                Ended::Lost(reason) => {
                    if self.goal == Goal::Restore {
                        if !self.wait_backoff(reason, &mut commands, &shutdown).await {
                            return;
                        }
                    } else {
                        // A pairing attempt that lost its connection ends; the user asks again.
                        // No session existed, so this is a lost connection, not a logout.
                        self.goal = Goal::Idle;
                        self.bus.publish(Event::Disconnected {
                            reason: reason.clone(),
                            retry_in_ms: None,
                        });
                        self.set_state(State::LoggedOut, Some(reason));
                    }
                }
            }
        }
    }

    async fn end_session(&mut self, reason: Reason, status: Option<u16>) {
        self.erase().await;
        tracing::warn!(
            reason = reason.as_str(),
            "session ended: {}",
            reason.description()
        );
        self.bus.publish(Event::LoggedOut {
            reason: reason.clone(),
            status,
        });
        self.set_state(State::LoggedOut, Some(reason));
    }

    async fn on_failure(
        &mut self,
        failure: Failure,
        commands: &mut mpsc::Receiver<Command>,
        shutdown: &CancellationToken,
    ) {
        tracing::warn!(
            reason = failure.reason.as_str(),
            status = failure.status,
            "login failed: {}",
            failure.message
        );
        if failure.erase_session {
            self.end_session(failure.reason, failure.status).await;
        } else if failure.retry && self.credentials.is_some() {
            self.wait_backoff(failure.reason, commands, shutdown).await;
        } else {
            // A session is kept, but not retried in a loop (403 and friends): a restart or
            // logout decides.
            self.goal = if self.credentials.is_some() {
                Goal::Halted
            } else {
                Goal::Idle
            };
            self.bus.publish(Event::LoggedOut {
                reason: failure.reason.clone(),
                status: failure.status,
            });
            self.set_state(State::LoggedOut, Some(failure.reason));
        }
    }

    /// Waits out a backoff while still answering commands; false on shutdown.
    async fn wait_backoff(
        &mut self,
        reason: Reason,
        commands: &mut mpsc::Receiver<Command>,
        shutdown: &CancellationToken,
    ) -> bool {
        let delay = self.backoff.next_delay();
        self.reconnects += 1;
        self.phone_online = None;
        tracing::info!(
            reason = reason.as_str(),
            retry_in_ms = delay.as_millis() as u64,
            "disconnected"
        );
        self.bus.publish(Event::Disconnected {
            reason: reason.clone(),
            retry_in_ms: Some(delay.as_millis() as u64),
        });
        self.set_state(State::Reconnecting, Some(reason));
        let until = Instant::now() + delay;
        loop {
            tokio::select! {
                () = sleep_until(until) => return true,
                command = commands.recv() => match command {
                    Some(command) => {
                        self.idle_command(command).await;
                        if self.credentials.is_none() {
                            return true;
                        }
                    }
                    None => return false,
                },
                () = shutdown.cancelled() => return false,
            }
        }
    }

    /// Commands while there is no connection.
    async fn idle_command(&mut self, command: Command) {
        let Command::Call { call, reply } = command;
        match call {
            Call::Status => {
                let _ = Reply::new(reply).send(Ok(self.status()));
            }
            Call::Login => {
                let reply = Reply::new(reply);
                let result = if self.credentials.is_some() {
                    Err(SessionError::AlreadyLoggedIn)
                } else {
                    self.goal = Goal::Pair;
                    Ok(LoginResult {
                        state: State::Pairing,
                    })
                };
                let _ = reply.send(result);
            }
            Call::Logout => {
                let reply = Reply::new(reply);
                let Some(credentials) = self.credentials.clone() else {
                    let _ = reply.send(Err(SessionError::NotLoggedIn));
                    return;
                };
                let server_notified = self.http_logout(&credentials).await;
                self.erase().await;
                self.bus.publish(Event::LoggedOut {
                    reason: Reason::Logout,
                    status: None,
                });
                self.set_state(State::LoggedOut, Some(Reason::Logout));
                let _ = reply.send(Ok(LogoutResult { server_notified }));
            }
            Call::SendText(_) => {
                let _ = reply.send(Err(self.not_available()));
            }
            Call::Query(_) => {
                let _ = reply.send(Err(self.not_available()));
            }
            Call::MediaDownload(MediaDownloadParams { media, output }) => {
                self.spawn_download(media, output, Reply::new(reply))
            }
            Call::Version | Call::Subscribe(_) | Call::Unsubscribe(_) => {
                let _ = reply.send(Err(not_a_session_call()));
            }
        }
    }

    fn not_available(&self) -> SessionError {
        if self.credentials.is_some() {
            SessionError::NotConnected
        } else {
            SessionError::NotLoggedIn
        }
    }

    /// The logout request of PROTOCOL.md section 6, best effort.
    async fn http_logout(&self, credentials: &Credentials) -> bool {
        let url = format!(
            "{}?t={}&m={}",
            self.config.logout_url(),
            http::percent_encode(credentials.browser_token.expose()),
            http::percent_encode(&credentials.keys.logout_token())
        );
        match tokio::time::timeout(LOGOUT_TIMEOUT, self.net.http.post_empty(&url)).await {
            Ok(Ok(status)) => {
                tracing::info!(status, "logout request answered");
                (200..300).contains(&status)
            }
            Ok(Err(error)) => {
                tracing::warn!("logout request failed: {error}");
                false
            }
            Err(_) => {
                tracing::warn!("logout request timed out");
                false
            }
        }
    }

    fn spawn_download(&self, media: Media, output: PathBuf, reply: Reply<MediaDownloadResult>) {
        let protected = Protected::new(&self.config.state_dir, &self.config.socket);
        let http = self.net.http.clone();
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let result = match protected.check_output(&output) {
                Ok(()) => tokio::select! {
                    result = download(&http, media, output) => result,
                    () = stop.cancelled() => Err(SessionError::Stopped),
                },
                Err(error) => Err(SessionError::InvalidParams(error.to_string())),
            };
            let _ = reply.send(result);
        });
    }

    // ---- one connection ----

    async fn connect_and_serve(
        &mut self,
        commands: &mut mpsc::Receiver<Command>,
        shutdown: &CancellationToken,
    ) -> Ended {
        self.set_state(State::Connecting, None);
        let config = self.config.clone();
        let net = self.net.clone();
        let connecting = net.connect(&config.server_url, CONNECT_TIMEOUT);
        tokio::pin!(connecting);
        // Status is answered at once; anything else waits the few moments until the
        // connection exists (or has failed) and is then handled as usual.
        let mut deferred = Vec::new();
        let socket = loop {
            tokio::select! {
                socket = &mut connecting => break socket,
                command = commands.recv() => match command {
                    Some(Command::Call { call: Call::Status, reply }) => {
                        let _ = Reply::new(reply).send(Ok(self.status()));
                    }
                    Some(command) => deferred.push(command),
                    None => return Ended::Shutdown,
                },
                () = shutdown.cancelled() => return Ended::Shutdown,
            }
        };
        let socket = match socket {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!("{error}");
                for command in deferred {
                    self.idle_command(command).await;
                }
                return Ended::Lost(Reason::ConnectionLost);
            }
        };
        self.set_state(State::LoggingIn, None);
        let settings = login::Settings {
            version: self.config.client_version,
            browser: self.config.browser.clone(),
            reref_budget: self.config.reref_budget,
        };
        let mut tags = TagCounter::new(unix_now());
        let restore = self
            .credentials
            .clone()
            .filter(|_| self.goal == Goal::Restore);
        let (login, outputs) = match restore {
            Some(credentials) => Login::restore(settings, credentials, &mut tags),
            None => {
                let mut client_id = [0u8; 16];
                crypto::fill_random(&mut client_id);
                Login::pair(
                    settings,
                    STANDARD.encode(client_id),
                    KeyPair::generate(),
                    &mut tags,
                )
            }
        };
        let now = Instant::now();
        let mut connection = Connection {
            socket,
            tags,
            cipher: None,
            login,
            ref_deadline: None,
            login_deadline: now + LOGIN_TIMEOUT,
            pending: Pending::new(),
            epoch: 0,
            liveness: Liveness::new(now, self.config.keepalive, self.config.pong_timeout),
            next_probe: now + PHONE_PROBE,
            current_qr: None,
            unsaved: None,
        };
        let mut ended = self.apply_login(&mut connection, outputs).await;
        for command in deferred {
            if ended.is_none() {
                ended = self.connected_command(&mut connection, command).await.err();
            } else {
                self.idle_command(command).await;
            }
        }
        let ended = match ended {
            Some(ended) => ended,
            None => self.serve(&mut connection, commands, shutdown).await,
        };
        for pending in connection.pending.drain() {
            pending.fail(SessionError::NotConnected);
        }
        if !matches!(ended, Ended::Lost(_)) {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), connection.socket.close(None)).await;
        }
        self.last_pong = None;
        ended
    }

    async fn send_text_frame(
        connection: &mut Connection,
        tag: &str,
        json: &Value,
    ) -> Result<(), Ended> {
        let frame = wire::text_frame(tag, &json.to_string());
        connection
            .socket
            .send(WsMessage::text(frame))
            .await
            .map_err(|_| Ended::Lost(Reason::ConnectionLost))
    }

    async fn send_node(
        connection: &mut Connection,
        tag: &str,
        metric: u8,
        flags: u8,
        node: &Node,
    ) -> Result<(), Ended> {
        let Some(cipher) = &connection.cipher else {
            return Err(Ended::Lost(Reason::ConnectionLost));
        };
        let frame = cipher.seal_client_frame(tag, metric, flags, &binary::encode(node));
        connection
            .socket
            .send(WsMessage::binary(frame))
            .await
            .map_err(|_| Ended::Lost(Reason::ConnectionLost))
    }

    async fn apply_login(
        &mut self,
        connection: &mut Connection,
        outputs: Vec<Output>,
    ) -> Option<Ended> {
        for output in outputs {
            match output {
                Output::Send { tag, json } => {
                    if let Err(ended) = Self::send_text_frame(connection, &tag, &json).await {
                        return Some(ended);
                    }
                }
                Output::Qr {
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
                    connection.current_qr = Some(event.clone());
                    // A QR wait can take minutes; the login deadline is for the server only.
                    connection.login_deadline = Instant::now() + ttl + LOGIN_TIMEOUT;
                    self.set_state(State::Pairing, None);
                    self.bus.publish(event);
                }
                Output::ArmRefTimer(ttl) => {
                    connection.ref_deadline = Some(Instant::now() + ttl);
                    connection.login_deadline = Instant::now() + ttl + LOGIN_TIMEOUT;
                }
                Output::Challenged => tracing::info!("the server asked for the restore challenge"),
                Output::LoggedIn {
                    credentials,
                    conn,
                    restored,
                    challenged,
                } => {
                    connection.cipher = Some(FrameCipher::new(&credentials.keys));
                    connection.ref_deadline = None;
                    connection.current_qr = None;
                    self.me = Some(login::me_from_conn(&conn, &credentials));
                    self.credentials = Some(*credentials);
                    self.goal = Goal::Restore;
                    self.battery_from_conn(&conn);
                    if self.persist().await.is_err() {
                        self.hold_unsaved(connection, Some((restored, challenged)));
                        continue;
                    }
                    if let Err(ended) = self.finish_login(connection, restored, challenged).await {
                        return Some(ended);
                    }
                }
                Output::Failed(failure) => return Some(Ended::Failed(failure)),
            }
        }
        None
    }

    /// The login is complete and its tokens are on disk: say so, and start using the connection.
    async fn finish_login(
        &mut self,
        connection: &mut Connection,
        restored: bool,
        challenged: bool,
    ) -> Result<(), Ended> {
        tracing::info!(restored, challenged, "logged in");
        self.set_state(State::Connected, None);
        if let Some(me) = self.me.clone() {
            self.bus.publish(Event::Connected { me, restored });
        }
        self.after_login(connection).await
    }

    /// What the official client did right after login: announce presence (so the phone
    /// forwards events promptly) and ask whether the phone is online.
    async fn after_login(&mut self, connection: &mut Connection) -> Result<(), Ended> {
        let epoch = connection.next_epoch();
        let presence = Node::new("action")
            .attr("type", "set")
            .attr("epoch", epoch)
            .with_content(Content::List(vec![
                Node::new("presence").attr("type", "available"),
            ]));
        let tag = connection.tags.next_tag();
        Self::send_node(
            connection,
            &tag,
            metric::PRESENCE,
            flags::IGNORE | flags::AVAILABLE,
            &presence,
        )
        .await?;
        self.track_internal(connection, tag);
        self.probe_phone(connection).await
    }

    fn track_internal(&self, connection: &mut Connection, tag: String) {
        let deadline = Instant::now() + self.config.request_timeout;
        connection
            .pending
            .insert(tag, PendingKind::Internal, deadline);
    }

    async fn probe_phone(&mut self, connection: &mut Connection) -> Result<(), Ended> {
        let tag = connection.tags.next_tag();
        Self::send_text_frame(connection, &tag, &json!(["admin", "test"])).await?;
        self.track_internal(connection, tag);
        connection.next_probe = Instant::now() + PHONE_PROBE;
        Ok(())
    }

    fn battery_from_conn(&mut self, conn: &Value) {
        if let Some(battery) = push::conn_battery(conn) {
            self.set_battery(battery);
        }
    }

    fn set_battery(&mut self, battery: Battery) {
        if self.battery != Some(battery) {
            self.battery = Some(battery);
            self.bus.publish(Event::Battery(battery));
        }
    }

    async fn serve(
        &mut self,
        connection: &mut Connection,
        commands: &mut mpsc::Receiver<Command>,
        shutdown: &CancellationToken,
    ) -> Ended {
        loop {
            let request_deadline = connection.pending.next_deadline();
            let login_deadline = (!connection.login.is_done()).then_some(connection.login_deadline);
            let save_retry = connection.unsaved.as_ref().map(|unsaved| unsaved.retry_at);
            let far = Instant::now() + Duration::from_secs(3600);
            let result = tokio::select! {
                frame = connection.socket.next() => self.on_frame(connection, frame).await,
                command = commands.recv() => match command {
                    Some(command) => self.connected_command(connection, command).await,
                    None => Err(Ended::Shutdown),
                },
                () = sleep_until(connection.liveness.next_wake()) => {
                    match connection.liveness.due(Instant::now()) {
                        Some(Due::Keepalive) => connection.socket.send(WsMessage::text(wire::KEEPALIVE)).await.map_err(|_| Ended::Lost(Reason::ConnectionLost)),
                        Some(Due::Dead) => {
                            tracing::warn!("no pong within {:?}", connection.liveness.pong_timeout());
                            Err(Ended::Lost(Reason::PongTimeout))
                        }
                        None => Ok(()),
                    }
                }
                () = sleep_until(connection.ref_deadline.unwrap_or(far)), if connection.ref_deadline.is_some() => {
                    connection.ref_deadline = None;
                    let outputs = connection.login.on_ref_expired(&mut connection.tags);
                    match self.apply_login(connection, outputs).await {
                        Some(ended) => Err(ended),
                        None => Ok(()),
                    }
                }
                () = sleep_until(login_deadline.unwrap_or(far)), if login_deadline.is_some() => {
                    tracing::warn!("the server did not complete the login in time");
                    Err(Ended::Lost(Reason::ConnectionLost))
                }
                () = sleep_until(request_deadline.unwrap_or(far)), if request_deadline.is_some() => {
                    self.expire_requests(connection);
                    Ok(())
                }
                () = sleep_until(connection.next_probe), if connection.login.is_done() && connection.unsaved.is_none() => {
                    self.probe_phone(connection).await
                }
                () = sleep_until(save_retry.unwrap_or(far)), if save_retry.is_some() => {
                    self.retry_save(connection).await
                }
                () = shutdown.cancelled() => Err(Ended::Shutdown),
            };
            if let Err(ended) = result {
                return ended;
            }
        }
    }

    fn expire_requests(&mut self, connection: &mut Connection) {
        for pending in connection.pending.expire(Instant::now()) {
            pending.fail(SessionError::Timeout);
        }
    }

    async fn on_frame(
        &mut self,
        connection: &mut Connection,
        frame: Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<(), Ended> {
        match frame {
            Some(Ok(WsMessage::Text(text))) => self.on_text(connection, text.as_str()).await,
            Some(Ok(WsMessage::Binary(data))) => {
                self.on_binary(connection, &data);
                Ok(())
            }
            Some(Ok(WsMessage::Close(_))) | None => Err(Ended::Lost(Reason::ServerClosed)),
            Some(Ok(_)) => Ok(()),
            Some(Err(error)) => {
                tracing::warn!("connection error: {error}");
                Err(Ended::Lost(Reason::ConnectionLost))
            }
        }
    }

    async fn on_text(&mut self, connection: &mut Connection, text: &str) -> Result<(), Ended> {
        let (tag, json) = match wire::parse_server_text(text) {
            Ok(ServerText::Pong(_)) => {
                self.last_pong = Some(Instant::now());
                connection.liveness.pong();
                // Only a connection that stays up and answers earns a fresh backoff; one the
                // server drops right after login keeps backing off instead of looping.
                if connection.login.is_done() && self.state == State::Connected {
                    self.backoff.reset();
                }
                return Ok(());
            }
            Ok(ServerText::EmptyAck(_)) => return Ok(()),
            Ok(ServerText::Json { tag, json }) => (tag, json),
            Err(error) => {
                tracing::warn!("unreadable text frame from the server: {error}");
                return Ok(());
            }
        };
        let payload: Value = match serde_json::from_str(json) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(tag, "text frame is not JSON: {error}");
                return Ok(());
            }
        };
        if let Some(outputs) = connection
            .login
            .on_json(tag, &payload, &mut connection.tags)
        {
            return match self.apply_login(connection, outputs).await {
                Some(ended) => Err(ended),
                None => Ok(()),
            };
        }
        if let Some(pending) = connection.pending.take(tag) {
            self.resolve_json(pending, &payload);
            return Ok(());
        }
        if payload.get(0).and_then(Value::as_str) == Some("Conn") {
            self.on_conn(connection, tag, payload).await;
            return Ok(());
        }
        self.on_push(tag, payload)
    }

    /// A `Conn` after login rotates the tokens again: they are stored before anything else.
    async fn on_conn(&mut self, connection: &mut Connection, tag: &str, payload: Value) {
        let body = payload.get(1).cloned().unwrap_or(Value::Null);
        if let Some(credentials) = &mut self.credentials {
            credentials.update_from_conn(&body);
            if let (Some(me), Some(name)) =
                (&mut self.me, body.get("pushname").and_then(Value::as_str))
            {
                me.pushname = name.to_owned();
            }
            if self.persist().await.is_err() {
                self.hold_unsaved(connection, None);
            }
        }
        self.battery_from_conn(&body);
        self.bus.publish(Event::Json {
            tag: tag.to_owned(),
            payload: push::redact_conn(payload),
        });
    }

    fn resolve_json(&mut self, pending: PendingKind, payload: &Value) {
        match pending {
            PendingKind::SendText {
                id,
                jid,
                text,
                reply,
            } => {
                let status = payload.get("status").and_then(Value::as_u64).unwrap_or(0);
                let result = if status == 200 {
                    let t = payload
                        .get("t")
                        .and_then(Value::as_u64)
                        .unwrap_or_else(unix_now);
                    self.publish_own_message(&id, &jid, &text, t);
                    Ok(SendTextResult { id, status: 200, t })
                } else {
                    Err(SessionError::Server {
                        status: u16::try_from(status).unwrap_or(0),
                        message: format!("the server refused the message: {payload}"),
                    })
                };
                let _ = reply.send(result);
            }
            PendingKind::Query { reply } => {
                let _ = reply.send(Ok(QueryResult::Reply(payload.clone())));
            }
            PendingKind::Internal => {
                if payload.get(0).and_then(Value::as_str) == Some("Pong") {
                    self.phone_online = payload.get(1).and_then(Value::as_bool);
                }
            }
        }
    }

    fn publish_own_message(&self, id: &str, jid: &str, text: &str, t: u64) {
        self.bus
            .publish(Event::Message(waweb_proto::message::Message {
                id: id.to_owned(),
                chat: jid.to_owned(),
                from_me: true,
                participant: None,
                timestamp: t,
                push_name: None,
                kind: waweb_proto::message::MessageKind::Text,
                text: Some(text.to_owned()),
                media: None,
            }));
    }

    /// An unsolicited JSON push: typed event where one exists, otherwise `json`.
    fn on_push(&mut self, tag: &str, payload: Value) -> Result<(), Ended> {
        let own = self
            .me
            .as_ref()
            .map(|me| me.wid.as_str())
            .unwrap_or_default();
        let pushes = push::json_push(tag, payload, own);
        self.apply_pushes(tag, pushes)
    }

    /// Applies what the pushes mean: events out, the session's facts updated.
    fn apply_pushes(&mut self, frame_tag: &str, pushes: Vec<Push>) -> Result<(), Ended> {
        for outcome in pushes {
            match outcome {
                Push::Event(event) => self.bus.publish(event),
                Push::Battery(battery) => self.set_battery(battery),
                Push::PhoneOnline(online) => self.phone_online = online,
                Push::Undecodable { what, reason } => {
                    tracing::warn!(frame_tag, what, "a pushed {what} does not decode: {reason}")
                }
                Push::Disconnect { replaced: true } => return Err(Ended::Replaced),
                Push::Disconnect { replaced: false } => return Err(Ended::Unpaired),
            }
        }
        Ok(())
    }

    fn on_binary(&mut self, connection: &mut Connection, data: &[u8]) {
        let Some(cipher) = &connection.cipher else {
            tracing::warn!("binary frame before login; ignored");
            return;
        };
        let (tag, bytes) = match cipher.open_server_frame(data) {
            Ok(opened) => opened,
            Err(error) => {
                tracing::warn!("dropping a server frame that does not open: {error}");
                return;
            }
        };
        let node = match binary::decode(&bytes) {
            Ok(node) => node,
            Err(error) => {
                tracing::warn!(
                    tag,
                    "dropping a server frame whose node does not decode: {error}"
                );
                return;
            }
        };
        if let Some(pending) = connection.pending.take(tag) {
            match pending {
                PendingKind::Query { reply } => {
                    let node_json = serde_json::to_value(&node).unwrap_or(Value::Null);
                    let _ = reply.send(Ok(QueryResult::ReplyNode(node_json)));
                }
                PendingKind::SendText { reply, .. } => {
                    let _ = reply.send(Err(SessionError::Server {
                        status: 0,
                        message: "unexpected binary answer to a message".into(),
                    }));
                }
                PendingKind::Internal => {}
            }
            return;
        }
        let _ = self.apply_pushes(tag, push::node_push(tag, node));
    }

    // ---- commands while connected ----

    /// `logout` with a connection: goodbye over the websocket when logged in (HTTP if that
    /// fails), nothing to tell while pairing, the HTTP request while restoring.
    async fn logout_connected(
        &mut self,
        connection: &mut Connection,
        reply: Reply<LogoutResult>,
    ) -> Result<(), Ended> {
        let logged_in = connection.login.is_done() && connection.cipher.is_some();
        if logged_in {
            // The server has no reply to goodbye; it drops the session and closes.
            let sent = connection
                .socket
                .send(WsMessage::text(
                    "goodbye,,[\"admin\",\"Conn\",\"disconnect\"]",
                ))
                .await
                .is_ok();
            let server_notified = match (sent, self.credentials.clone()) {
                (true, _) => true,
                (false, Some(credentials)) => self.http_logout(&credentials).await,
                (false, None) => false,
            };
            self.erase().await;
            self.bus.publish(Event::LoggedOut {
                reason: Reason::Logout,
                status: None,
            });
            let _ = reply.send(Ok(LogoutResult { server_notified }));
            return Err(Ended::LoggedOut);
        }
        if connection.login.is_pairing() {
            // Cancelling a pairing: nothing is stored, nothing to tell the server.
            self.bus.publish(Event::LoggedOut {
                reason: Reason::Logout,
                status: None,
            });
            let _ = reply.send(Ok(LogoutResult {
                server_notified: false,
            }));
            return Err(Ended::LoggedOut);
        }
        // Restoring: tell the server over HTTP instead.
        let Some(credentials) = self.credentials.clone() else {
            let _ = reply.send(Err(SessionError::NotLoggedIn));
            return Ok(());
        };
        let server_notified = self.http_logout(&credentials).await;
        self.erase().await;
        self.bus.publish(Event::LoggedOut {
            reason: Reason::Logout,
            status: None,
        });
        let _ = reply.send(Ok(LogoutResult { server_notified }));
        Err(Ended::LoggedOut)
    }

    /// `send_text`: the relay of PROTOCOL.md 8.4, answered once the server acks it.
    async fn send_text(
        &mut self,
        connection: &mut Connection,
        to: &str,
        text: String,
        reply: Reply<SendTextResult>,
    ) -> Result<(), Ended> {
        let jid = match message::parse_recipient(to) {
            Ok(jid) => jid,
            Err(error) => {
                let _ = reply.send(Err(SessionError::InvalidParams(error.to_string())));
                return Ok(());
            }
        };
        let id = message::new_message_id();
        let info = message::text_message(&jid, &id, &text, unix_now());
        let epoch = connection.next_epoch();
        let node = Node::new("action")
            .attr("type", "relay")
            .attr("epoch", epoch)
            .with_content(Content::List(vec![
                Node::new("message").with_content(Content::Bytes(message::encode(&info))),
            ]));
        let own = self.me.as_ref().is_some_and(|me| me.wid == jid);
        let flag = if own {
            flags::ACK_REQUEST
        } else {
            flags::IGNORE
        };
        if let Err(ended) = Self::send_node(connection, &id, metric::MESSAGE, flag, &node).await {
            let _ = reply.send(Err(SessionError::NotConnected));
            return Err(ended);
        }
        let deadline = Instant::now() + self.config.request_timeout;
        let waiting = PendingKind::SendText {
            id: id.clone(),
            jid,
            text,
            reply,
        };
        connection.pending.insert(id, waiting, deadline);
        Ok(())
    }

    async fn connected_command(
        &mut self,
        connection: &mut Connection,
        command: Command,
    ) -> Result<(), Ended> {
        let logged_in = connection.login.is_done() && connection.cipher.is_some();
        // Not before the tokens are on disk (PROTOCOL.md 5.4).
        let usable = logged_in && connection.unsaved.is_none();
        let Command::Call { call, reply } = command;
        match call {
            Call::Status => {
                let _ = Reply::new(reply).send(Ok(self.status()));
            }
            Call::Login => {
                let reply = Reply::new(reply);
                if let (false, Some(qr)) = (logged_in, connection.current_qr.clone()) {
                    self.bus.publish(qr);
                    let _ = reply.send(Ok(LoginResult {
                        state: State::Pairing,
                    }));
                } else if !logged_in && connection.login.is_pairing() {
                    let _ = reply.send(Ok(LoginResult {
                        state: State::Pairing,
                    }));
                } else {
                    let _ = reply.send(Err(SessionError::AlreadyLoggedIn));
                }
            }
            Call::Logout => return self.logout_connected(connection, Reply::new(reply)).await,
            Call::SendText(SendTextParams { to, text }) => {
                let reply = Reply::new(reply);
                if !usable {
                    let _ = reply.send(Err(self.not_available()));
                    return Ok(());
                }
                return self.send_text(connection, &to, text, reply).await;
            }
            Call::Query(QueryParams { json }) => {
                let reply = Reply::new(reply);
                if !usable {
                    let _ = reply.send(Err(self.not_available()));
                    return Ok(());
                }
                let tag = connection.tags.next_tag();
                if let Err(ended) = Self::send_text_frame(connection, &tag, &json).await {
                    let _ = reply.send(Err(SessionError::NotConnected));
                    return Err(ended);
                }
                let deadline = Instant::now() + self.config.request_timeout;
                connection
                    .pending
                    .insert(tag, PendingKind::Query { reply }, deadline);
            }
            Call::MediaDownload(MediaDownloadParams { media, output }) => {
                self.spawn_download(media, output, Reply::new(reply))
            }
            Call::Version | Call::Subscribe(_) | Call::Unsubscribe(_) => {
                let _ = reply.send(Err(not_a_session_call()));
            }
        }
        Ok(())
    }
}

/// The answer to `version`, `subscribe` and `unsubscribe`, which the socket server answers
/// itself and never sends here.
fn not_a_session_call() -> SessionError {
    SessionError::Internal("this method is not a session request".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conn_events_never_carry_secrets() {
        let payload = json!(["Conn", {"secret": "s", "clientToken": "c", "serverToken": "t", "browserToken": "b", "pushname": "Ada"}]);
        assert_eq!(
            push::redact_conn(payload),
            json!(["Conn", {"pushname": "Ada"}])
        );
        assert_eq!(http::percent_encode("1@a+b/="), "1%40a%2Bb%2F%3D");
    }
}
