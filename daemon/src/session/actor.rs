//! The session actor: the only owner of the connection and the session's state. One loop awaits
//! the websocket, commands, timers and shutdown. What the protocol means is decided in
//! [`waweb_core::session::connection`] (after the socket is open) and [`waweb_core::login`];
//! this file holds the lifecycle between connections (backoff, logout, the end of a session),
//! [`super::online`] the wiring of one open connection.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use waweb_core::login::{Credentials, Failure};
use waweb_core::session::connection;
use waweb_proto::{Battery, Event, Me, Reason, State, StatusResult};

use super::backoff::Backoff;
use super::file::SessionFile;
use super::handle::Command;
use super::media_send::MediaSending;
use super::sending::Sending;
use crate::bus::Bus;
use crate::chats::Chats;
use crate::config::Config;
use crate::outbox::Outbox;
use crate::store::Store;
use crate::transport::Net;

/// How often the pairing one `login` started is retried after losing its connection.
pub(super) const PAIRING_RETRIES: u32 = 5;

/// How a connection ended.
#[derive(Debug)]
pub(super) enum Ended {
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

impl From<connection::Ended> for Ended {
    fn from(ended: connection::Ended) -> Self {
        match ended {
            connection::Ended::Lost(reason) => Ended::Lost(reason),
            connection::Ended::Failed(failure) => Ended::Failed(failure),
            connection::Ended::Replaced => Ended::Replaced,
            connection::Ended::Unpaired => Ended::Unpaired,
        }
    }
}

/// What the session is after, which decides whether there is anything to connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Goal {
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

/// The actor's state: the facts `status` reports, which outlive any one connection.
pub struct Actor {
    pub(super) config: Arc<Config>,
    pub(super) net: Net,
    /// Every task the actor starts (session-file writer, media downloads), so the daemon can
    /// wait for all of them at shutdown, and the token that stops them.
    pub(super) tasks: TaskTracker,
    pub(super) stop: CancellationToken,
    pub(super) file: SessionFile,
    pub(super) bus: Bus,
    pub(super) credentials: Option<Credentials>,
    pub(super) state: State,
    pub(super) me: Option<Me>,
    pub(super) battery: Option<Battery>,
    pub(super) phone_online: Option<bool>,
    pub(super) last_pong: Option<Instant>,
    reconnects: u64,
    pub(super) goal: Goal,
    /// Lost connections of the pairing that `login` started, each retried up to
    /// [`PAIRING_RETRIES`].
    pub(super) pairing_retries: u32,
    pub(super) backoff: Backoff,
    /// The outbox, its waiters and what the connection has relayed.
    pub(super) sending: Sending,
    /// The server's media limits, `mediaConn` and the uploads in flight.
    pub(super) media: MediaSending,
    /// The actor's own command channel, for its tasks ([`super::requests`]); weak, so the
    /// actor does not keep itself alive.
    pub(super) commands: mpsc::WeakSender<Command>,
    /// The block list, as the server last sent it with our changes since (profile.rs).
    pub(super) blocked: super::profile::Blocked,
    /// The store's chats: which exist, whether the server sent its lists.
    pub(super) chats: Chats,
}

impl Actor {
    /// An actor for a loaded session (or none); `commands` is how its own tasks (uploads)
    /// reach it again.
    pub fn new(
        config: Arc<Config>,
        net: Net,
        (tasks, stop): (TaskTracker, CancellationToken),
        store: Store,
        bus: Bus,
        credentials: Option<Credentials>,
        commands: mpsc::WeakSender<Command>,
    ) -> Self {
        let backoff = Backoff::new(config.reconnect_initial, config.reconnect_max);
        let bus_journal = bus.journal().cloned();
        let goal = if credentials.is_some() {
            Goal::Restore
        } else {
            Goal::Idle
        };
        Self {
            config,
            net,
            file: SessionFile::new(store, tasks.clone()),
            tasks,
            stop,
            bus,
            credentials,
            state: State::LoggedOut,
            me: None,
            battery: None,
            phone_online: None,
            last_pong: None,
            reconnects: 0,
            goal,
            pairing_retries: 0,
            backoff,
            sending: Sending::new(Outbox::new(bus_journal)),
            media: MediaSending::new(commands.clone()),
            commands,
            blocked: Default::default(),
            chats: Chats::new(),
        }
    }

    pub(super) fn set_state(&mut self, state: State, reason: Option<Reason>) {
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

    pub(super) fn status(&self) -> StatusResult {
        StatusResult {
            state: self.state,
            me: self.me.clone(),
            server_url: self.config.server_url.clone(),
            session_stored: self.credentials.is_some() && self.file.error().is_none(),
            session_error: self.file.error().map(str::to_owned),
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

    pub(super) fn set_battery(&mut self, battery: Battery) {
        if self.battery != Some(battery) {
            self.battery = Some(battery);
            self.bus.publish(Event::Battery(battery));
        }
    }

    /// Forgets the session and waits until the file is gone (callers report that it is).
    pub(super) async fn erase(&mut self) {
        self.goal = Goal::Idle;
        self.credentials = None;
        self.me = None;
        self.blocked.forget();
        self.battery = None;
        self.phone_online = None;
        self.file.erase().await;
    }

    /// Runs until `shutdown` is cancelled; the session file is up to date when it returns.
    pub async fn run(mut self, commands: mpsc::Receiver<Command>) {
        let shutdown = self.stop.clone();
        self.serve_until_shutdown(commands, shutdown).await;
        self.file.close().await;
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
                    // A pairing that lost its connection tries again with a new QR, a few
                    // times per `login` (DESIGN.md 14.4), so a blip does not end it.
                    let retry = match self.goal {
                        Goal::Restore => true,
                        Goal::Pair => {
                            self.pairing_retries += 1;
                            self.pairing_retries <= PAIRING_RETRIES
                        }
                        Goal::Idle | Goal::Halted => false,
                    };
                    if retry {
                        if !self.wait_backoff(reason, &mut commands, &shutdown).await {
                            return;
                        }
                    } else {
                        // Out of retries: the pairing gave up; the user asks again. No
                        // session existed, so nothing is erased; `logged_out` says it is over
                        // (`wawebctl login` waited for it before, in vain).
                        self.goal = Goal::Idle;
                        self.bus.publish(Event::Disconnected {
                            reason: reason.clone(),
                            retry_in_ms: None,
                        });
                        self.bus.publish(Event::LoggedOut {
                            reason: reason.clone(),
                            status: None,
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
        let goal = self.goal;
        loop {
            tokio::select! {
                () = sleep_until(until) => return true,
                command = commands.recv() => match command {
                    Some(command) => {
                        self.idle_command(command).await;
                        // A logout ends the wait (and what it waited for); nothing else does.
                        if self.goal != goal {
                            return true;
                        }
                    }
                    None => return false,
                },
                () = shutdown.cancelled() => return false,
            }
        }
    }
}
