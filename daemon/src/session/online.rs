//! One open connection: the socket and its protocol machine
//! ([`waweb_core::session::connection`]), wired to the actor. Frames, commands and the
//! machine's next wake-up are awaited here; what they mean is decided there, and what comes out
//! (frames to send, events, state, saves, answers) is done here.
//!
//! ```text
//! connect -> Connection::start -> loop { frame | command | sleep_until(next_wake) | shutdown }
//!         -> apply(outputs) … until Output::End, a closed socket or shutdown
//! ```

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;
use waweb_core::crypto::{self, KeyPair};
use waweb_core::login;
use waweb_core::session::connection::{
    self, Answer, Connection, Frame, Level, Output, RequestError, Start,
};
use waweb_proto::{Call, Event, Reason, State};

use super::actor::{Actor, Ended, Goal};
use super::handle::{Command, Reply, SessionError};
use crate::transport::Socket;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the phone is probed with `["admin","test"]` while connected.
const PHONE_PROBE: Duration = Duration::from_secs(120);

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Who waits for a request the server has not answered yet.
pub(super) enum Waiter {
    /// A message of the outbox, by id; its callers wait in [`super::sending`].
    Relay(String),
    /// A set-action or status command: `result` is the answer once the server said 200.
    Done {
        reply: Reply<Value>,
        result: Value,
        /// Published once the server said 200 (the `chat` event after a read receipt).
        then: Option<Box<Event>>,
    },
    /// A `send_media` call waiting for the upload hosts.
    MediaConn(Box<super::media_send::MediaCall>),
    /// A session task's [`Command::Request`]: the reply as it came.
    Raw(tokio::sync::oneshot::Sender<Result<connection::ServerReply, SessionError>>),
}

/// The open socket and what the protocol knows about it.
pub(super) struct Link {
    socket: Socket,
    pub(super) machine: Connection<Waiter, Instant>,
}

impl Link {
    pub(super) async fn send(&mut self, frame: Frame) -> Result<(), Ended> {
        let message = match frame {
            Frame::Text(text) => WsMessage::text(text),
            Frame::Binary(bytes) => WsMessage::binary(bytes),
        };
        self.socket
            .send(message)
            .await
            .map_err(|_| Ended::Lost(Reason::ConnectionLost))
    }
}

impl Actor {
    fn connection_settings(&self) -> connection::Settings {
        connection::Settings {
            login: login::Settings {
                version: self.config.client_version,
                browser: self.config.browser.clone(),
                reref_budget: self.config.reref_budget,
            },
            keepalive: self.config.keepalive,
            pong_timeout: self.config.pong_timeout,
            request_timeout: self.config.request_timeout,
            login_timeout: LOGIN_TIMEOUT,
            phone_probe: PHONE_PROBE,
        }
    }

    /// Connects, logs in and serves the connection until it ends.
    pub(super) async fn connect_and_serve(
        &mut self,
        commands: &mut mpsc::Receiver<Command>,
        shutdown: &CancellationToken,
    ) -> Ended {
        self.set_state(State::Connecting, None);
        let (net, config) = (self.net.clone(), self.config.clone());
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
        let (machine, outputs) = Connection::start(
            self.connection_settings(),
            self.login_start(),
            Instant::now(),
            unix_now(),
        );
        let mut link = Link { socket, machine };
        let mut ended = self.apply(&mut link, outputs).await.err();
        for command in deferred {
            match &ended {
                None => ended = self.on_call(Some(&mut link), command).await.err(),
                Some(_) => self.idle_command(command).await,
            }
        }
        let ended = match ended {
            Some(ended) => ended,
            None => self.serve(&mut link, commands, shutdown).await,
        };
        // Every request still waiting fails: the connection that would answer it is gone.
        let failed = link.machine.close();
        let _ = self.apply(&mut link, failed).await;
        if !matches!(ended, Ended::Lost(_)) {
            let _ = tokio::time::timeout(Duration::from_secs(2), link.socket.close(None)).await;
        }
        self.last_pong = None;
        ended
    }

    /// Restore the stored session, or pair with a fresh identity.
    fn login_start(&self) -> Start {
        match self
            .credentials
            .clone()
            .filter(|_| self.goal == Goal::Restore)
        {
            Some(credentials) => Start::Restore(credentials),
            None => {
                let mut client_id = [0u8; 16];
                crypto::fill_random(&mut client_id);
                Start::Pair {
                    client_id: STANDARD.encode(client_id),
                    keys: KeyPair::generate(),
                }
            }
        }
    }

    async fn serve(
        &mut self,
        link: &mut Link,
        commands: &mut mpsc::Receiver<Command>,
        shutdown: &CancellationToken,
    ) -> Ended {
        loop {
            let wake = link.machine.next_wake();
            let outputs = tokio::select! {
                frame = link.socket.next() => match frame {
                    Some(Ok(WsMessage::Text(text))) => link.machine.on_text(text.as_str(), Instant::now()),
                    Some(Ok(WsMessage::Binary(data))) => link.machine.on_binary(&data),
                    Some(Ok(WsMessage::Close(_))) | None => return Ended::Lost(Reason::ServerClosed),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => {
                        tracing::warn!("connection error: {error}");
                        return Ended::Lost(read_error_reason(&error));
                    }
                },
                command = commands.recv() => match command {
                    Some(command) => match self.on_call(Some(link), command).await {
                        Ok(outputs) => outputs,
                        Err(ended) => return ended,
                    },
                    None => return Ended::Shutdown,
                },
                () = sleep_until(wake) => link.machine.tick(Instant::now()),
                () = shutdown.cancelled() => return Ended::Shutdown,
            };
            if let Err(ended) = self.apply(link, outputs).await {
                return ended;
            }
        }
    }

    /// Does what the machine asked for, in order; a save's outcome goes back to the machine
    /// before anything else happens.
    async fn apply(&mut self, link: &mut Link, outputs: Vec<Output<Waiter>>) -> Result<(), Ended> {
        let mut queue = VecDeque::from(outputs);
        while let Some(output) = queue.pop_front() {
            match output {
                Output::Send(frame) => link.send(frame).await?,
                Output::Emit(event) => {
                    if let Event::Blocklist(list) = &event {
                        self.blocked.replace(&list.jids);
                    }
                    self.receipt_before_answer(&event);
                    self.publish(event)
                }
                Output::Message { event, raw } => self.chats.arrived(&self.bus, *event, raw),
                Output::List(list) => self.chats.list(&self.bus, list, false).await,
                Output::State(state, reason) => {
                    self.set_state(state, reason);
                    if state == State::Connected {
                        // Usable now: what waited in the outbox goes first, oldest first.
                        let sends = self.flush_outbox(link).await;
                        queue.extend(sends);
                    }
                }
                Output::Me(me) => self.me = Some(me),
                Output::Battery(battery) => self.set_battery(battery),
                Output::Limits(limits) => self.media.limits = limits,
                Output::PhoneOnline(online) => self.phone_online = online,
                Output::Pong => {
                    self.last_pong = Some(Instant::now());
                    // Only a connection that stays up and answers earns a fresh backoff; one
                    // the server drops right after login keeps backing off instead of looping.
                    if link.machine.is_usable() && self.state == State::Connected {
                        self.backoff.reset();
                    }
                }
                Output::Save(credentials) => {
                    self.goal = Goal::Restore;
                    let stored = self.file.save(&credentials).await.is_ok();
                    self.credentials = Some(*credentials);
                    for next in link.machine.saved(stored, Instant::now()).into_iter().rev() {
                        queue.push_front(next);
                    }
                }
                Output::Resolve(waiter, result) => self.resolve(waiter, result),
                Output::Log(Level::Info, line) => tracing::info!("{line}"),
                Output::Log(Level::Warn, line) => tracing::warn!("{line}"),
                Output::End(ended) => return Err(ended.into()),
            }
        }
        Ok(())
    }

    fn resolve(&mut self, waiter: Waiter, result: Result<Answer, RequestError>) {
        match waiter {
            Waiter::Relay(id) => self.relay_answered(id, result),
            Waiter::Done {
                reply,
                result: done,
                then,
            } => {
                let result = match result {
                    Ok(Answer::Done) => {
                        if let Some(event) = then {
                            self.publish(*event);
                        }
                        Ok(done)
                    }
                    Ok(_) => Err(SessionError::Internal("an answer of the wrong kind".into())),
                    Err(error) => Err(self.request_error(error)),
                };
                let _ = reply.send(result);
            }
            Waiter::MediaConn(call) => self.media_conn_answered(*call, result),
            Waiter::Raw(reply) => {
                let result = match result {
                    Ok(Answer::Raw(server)) => Ok(server),
                    Ok(_) => Err(SessionError::Internal("an answer of the wrong kind".into())),
                    Err(error) => Err(self.request_error(error)),
                };
                let _ = reply.send(result);
            }
        }
    }

    /// What a failed request means for its caller.
    pub(super) fn request_error(&self, error: RequestError) -> SessionError {
        match error {
            RequestError::NotReady => self.not_available(),
            RequestError::InvalidParams(why) => SessionError::InvalidParams(why),
            RequestError::Server { status, message } => SessionError::Server { status, message },
            RequestError::Timeout => SessionError::Timeout,
            RequestError::NotConnected => SessionError::NotConnected,
        }
    }
}

/// Why a read from the websocket failed: the server broke the websocket protocol (a frame over
/// [`crate::transport::MAX_FRAME_BYTES`], a bad frame header, text that is not UTF-8):
/// `protocol_error`, like a run of unreadable frames; anything else (a reset, the TCP
/// connection ending without a close frame, an IO error): `connection_lost`. Both reconnect
/// with backoff.
fn read_error_reason(error: &tokio_tungstenite::tungstenite::Error) -> Reason {
    use tokio_tungstenite::tungstenite::Error;
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    match error {
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Reason::ConnectionLost,
        Error::Capacity(_) | Error::Protocol(_) | Error::Utf8(_) => Reason::ProtocolError,
        _ => Reason::ConnectionLost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::Error;
    use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};

    #[test]
    fn broken_websocket_rules_are_protocol_errors_and_the_rest_lost_connections() {
        let too_long = Error::Capacity(CapacityError::MessageTooLong {
            size: 100 << 20,
            max_size: crate::transport::MAX_FRAME_BYTES,
        });
        assert_eq!(read_error_reason(&too_long), Reason::ProtocolError);
        let masked = Error::Protocol(ProtocolError::MaskedFrameFromServer);
        assert_eq!(read_error_reason(&masked), Reason::ProtocolError);
        let reset = Error::Io(std::io::ErrorKind::ConnectionReset.into());
        assert_eq!(read_error_reason(&reset), Reason::ConnectionLost);
        // A drop (TCP gone without a close frame) is a lost connection, not a broken protocol.
        let dropped = Error::Protocol(ProtocolError::ResetWithoutClosingHandshake);
        assert_eq!(read_error_reason(&dropped), Reason::ConnectionLost);
    }
}
