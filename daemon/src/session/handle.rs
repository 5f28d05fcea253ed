//! The cheap, cloneable handle through which the socket server (and anyone else) asks the session
//! actor to do things.
//!
//! The actor owns all connection state; callers only send it a [`Command`] carrying a [`Call`]
//! and a one-shot reply sender, and await the answer. The channel is bounded, so a flood of requests waits for
//! the actor instead of queueing without limit. Tests stand in for the actor by building a handle
//! with [`SessionHandle::new`] and answering the receiver themselves.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use waweb_core::session::connection::{ServerReply, ServerRequest};
use waweb_proto::{Call, ErrorKind, RpcError};

/// What a call comes back with: its result object, or why it failed.
pub type Answer = Result<Value, SessionError>;

/// Where the actor sends one call's answer, typed as that method's result (`T`); it reaches the
/// caller as JSON.
pub struct Reply<T> {
    sender: oneshot::Sender<Answer>,
    result: PhantomData<fn(T)>,
}

impl<T: Serialize> Reply<T> {
    /// The typed side of a [`Command::Call`]'s sender; the actor picks `T` by the call's method.
    pub fn new(sender: oneshot::Sender<Answer>) -> Self {
        Reply {
            sender,
            result: PhantomData,
        }
    }

    /// Answers the caller; `Err` (with the answer) when the caller stopped waiting.
    pub fn send(self, result: Result<T, SessionError>) -> Result<(), Answer> {
        let answer = result.and_then(|result| {
            serde_json::to_value(result).map_err(|error| {
                SessionError::Internal(format!("cannot encode the result: {error}"))
            })
        });
        self.sender.send(answer)
    }
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply").finish_non_exhaustive()
    }
}

/// One request to the session actor, with the sender its answer goes to.
///
/// The actor should answer every command; if it drops the sender instead, the caller gets
/// [`SessionError::Stopped`].
#[derive(Debug)]
// Nearly every command is a call; the rare upload result is the one boxed.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run one call of the socket protocol. `version`, `subscribe` and `unsubscribe` are the
    /// socket server's own and are refused here.
    Call {
        /// The method and its params.
        call: Call,
        /// The answer: the method's result as JSON.
        reply: oneshot::Sender<Answer>,
    },
    /// A `send_media` upload ended (the session's own tasks send this): queue its message.
    Uploaded(Box<super::media_send::Uploaded>),
    /// One request on the open connection, for a session task ([`super::requests::Requests`]):
    /// answered with what the server replied, or why it could not be asked.
    Request {
        /// What to send.
        outgoing: ServerRequest,
        /// The server's reply as it came.
        reply: oneshot::Sender<Result<ServerReply, SessionError>>,
    },
    /// The server accepted our new push name (`set_push_name`): `status.me` shows it.
    PushName(String),
    /// New reconnect limits (SIGHUP re-read the config file); the connection stays as it is.
    ReconnectLimits {
        /// First reconnect delay (before jitter).
        initial: std::time::Duration,
        /// Longest reconnect delay.
        max: std::time::Duration,
    },
}

/// Why the session could not do what was asked; each variant is one `data.kind` on the socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// There is no session: `not_logged_in` (-32001).
    #[error("not logged in; run login first")]
    NotLoggedIn,
    /// `login` while connected or holding a stored session: `already_logged_in` (-32002).
    #[error("already logged in; log out first to pair again")]
    AlreadyLoggedIn,
    /// Logged in, but the connection is down right now: `not_connected` (-32003).
    #[error("not connected to the server right now; try again once reconnected")]
    NotConnected,
    /// The server answered with a failure status: `server_error` (-32004).
    #[error("the server answered {status}: {message}")]
    Server {
        /// The server's status.
        status: u16,
        /// What the status means here.
        message: String,
    },
    /// The server did not answer in time: `timeout` (-32005).
    #[error("the server did not answer in time")]
    Timeout,
    /// The server has not acknowledged message `id` in time; it stays queued and goes out
    /// later: `timeout` (-32005) with `data.id` and `data.queued`.
    #[error("the server has not acknowledged message {id} yet; it stays queued")]
    QueuedTimeout {
        /// The message.
        id: String,
    },
    /// The media host sent nothing for the HTTP read timeout (a stalled download or upload):
    /// `timeout` (-32005).
    #[error("the media host stalled: {0}")]
    MediaTimeout(String),
    /// A MAC or hash did not match: `integrity` (-32006).
    #[error("integrity check failed: {0}")]
    Integrity(String),
    /// A local file or the media download failed: `io` (-32007).
    #[error("{0}")]
    Io(String),
    /// The media host no longer has the file: `media_expired` (-32008).
    #[error("media expired: {0}")]
    MediaExpired(String),
    /// The message named is not in the store: `not_found` (-32009).
    #[error("{0}")]
    NotFound(String),
    /// The params do not make sense for the session (a bad recipient, a relative output path):
    /// `invalid_params` (-32602).
    #[error("{0}")]
    InvalidParams(String),
    /// The actor is gone (the daemon is shutting down): `internal_error` (-32603).
    #[error("the session has stopped; the daemon is shutting down")]
    Stopped,
    /// A call the session does not serve, or a result it could not encode: `internal_error`
    /// (-32603).
    #[error("{0}")]
    Internal(String),
}

impl SessionError {
    /// The `data.kind` this error is reported as.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SessionError::NotLoggedIn => ErrorKind::NotLoggedIn,
            SessionError::AlreadyLoggedIn => ErrorKind::AlreadyLoggedIn,
            SessionError::NotConnected => ErrorKind::NotConnected,
            SessionError::Server { .. } => ErrorKind::ServerError,
            SessionError::Timeout
            | SessionError::QueuedTimeout { .. }
            | SessionError::MediaTimeout(_) => ErrorKind::Timeout,
            SessionError::Integrity(_) => ErrorKind::Integrity,
            SessionError::Io(_) => ErrorKind::Io,
            SessionError::MediaExpired(_) => ErrorKind::MediaExpired,
            SessionError::NotFound(_) => ErrorKind::NotFound,
            SessionError::InvalidParams(_) => ErrorKind::InvalidParams,
            SessionError::Stopped | SessionError::Internal(_) => ErrorKind::InternalError,
        }
    }

    /// The JSON-RPC error object for the socket.
    pub fn to_rpc_error(&self) -> RpcError {
        match self {
            SessionError::Server { status, .. } => {
                RpcError::server_error(*status, self.to_string())
            }
            SessionError::QueuedTimeout { id } => RpcError::queued_timeout(id, self.to_string()),
            _ => RpcError::new(self.kind(), self.to_string()),
        }
    }
}

impl From<SessionError> for RpcError {
    fn from(error: SessionError) -> Self {
        error.to_rpc_error()
    }
}

/// A handle to the session actor. Cloning it is cheap; every clone reaches the same actor.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    commands: mpsc::Sender<Command>,
}

impl SessionHandle {
    /// A handle and the receiving end the actor reads, with room for `capacity` waiting
    /// commands (at least 1).
    pub fn new(capacity: usize) -> (SessionHandle, mpsc::Receiver<Command>) {
        let (commands, receiver) = mpsc::channel(capacity.max(1));
        (SessionHandle { commands }, receiver)
    }

    /// A sender that does not keep the actor's channel open, for the actor's own tasks.
    pub fn downgrade(&self) -> mpsc::WeakSender<Command> {
        self.commands.downgrade()
    }

    /// A handle over an existing sender.
    pub fn from_sender(commands: mpsc::Sender<Command>) -> SessionHandle {
        SessionHandle { commands }
    }

    /// Gives the session new reconnect limits, used from its next wait on; `Stopped` when the
    /// actor is gone.
    pub async fn set_reconnect_limits(
        &self,
        initial: std::time::Duration,
        max: std::time::Duration,
    ) -> Result<(), SessionError> {
        self.commands
            .send(Command::ReconnectLimits { initial, max })
            .await
            .map_err(|_| SessionError::Stopped)
    }

    /// Runs a call in the session and returns its result object.
    pub async fn call(&self, call: Call) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Call { call, reply })
            .await
            .map_err(|_| SessionError::Stopped)?;
        answer.await.map_err(|_| SessionError::Stopped)?
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use waweb_proto::{LoginResult, LogoutResult, QueryParams};

    use super::*;

    #[tokio::test]
    async fn a_handle_reaches_its_actor_and_notices_when_it_is_gone() {
        let (handle, mut commands) = SessionHandle::new(4);
        let actor = tokio::spawn(async move {
            while let Some(Command::Call { call, reply }) = commands.recv().await {
                match call {
                    Call::Logout => {
                        let _ = Reply::new(reply).send(Ok(LogoutResult {
                            server_notified: true,
                        }));
                    }
                    Call::Login => {
                        let _ = Reply::<LoginResult>::new(reply)
                            .send(Err(SessionError::AlreadyLoggedIn));
                    }
                    // Dropping the sender without answering.
                    _ => {}
                }
            }
        });
        assert_eq!(
            handle.clone().call(Call::Logout).await,
            Ok(json!({"server_notified": true}))
        );
        assert_eq!(
            handle.call(Call::Login).await,
            Err(SessionError::AlreadyLoggedIn)
        );
        let query = Call::Query(QueryParams::json(Value::Null));
        assert_eq!(handle.call(query).await, Err(SessionError::Stopped));
        actor.abort();
        let _ = actor.await;
        assert_eq!(handle.call(Call::Status).await, Err(SessionError::Stopped));
    }

    #[test]
    fn a_reply_sends_its_result_as_json() {
        let (sender, mut answer) = oneshot::channel();
        Reply::new(sender)
            .send(Ok(LoginResult {
                state: waweb_proto::State::Pairing,
            }))
            .unwrap();
        assert_eq!(answer.try_recv().unwrap(), Ok(json!({"state": "pairing"})));

        // A result JSON cannot hold (a map with non-string keys) is an internal error, not a
        // panic and not silence.
        let (sender, mut answer) = oneshot::channel();
        let unencodable = std::collections::BTreeMap::from([((1, 2), 3)]);
        Reply::new(sender).send(Ok(unencodable)).unwrap();
        let error = answer.try_recv().unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InternalError);
        assert!(
            error.to_string().starts_with("cannot encode the result: "),
            "{error}"
        );
    }

    #[test]
    fn errors_map_to_their_codes() {
        let cases = [
            (SessionError::NotLoggedIn, -32001, "not_logged_in"),
            (SessionError::AlreadyLoggedIn, -32002, "already_logged_in"),
            (SessionError::NotConnected, -32003, "not_connected"),
            (
                SessionError::Server {
                    status: 404,
                    message: "not found".into(),
                },
                -32004,
                "server_error",
            ),
            (SessionError::Timeout, -32005, "timeout"),
            (SessionError::MediaTimeout("30 s".into()), -32005, "timeout"),
            (SessionError::Integrity("mac".into()), -32006, "integrity"),
            (SessionError::Io("disk full".into()), -32007, "io"),
            (
                SessionError::MediaExpired("410".into()),
                -32008,
                "media_expired",
            ),
            (SessionError::NotFound("A".into()), -32009, "not_found"),
            (
                SessionError::InvalidParams("to".into()),
                -32602,
                "invalid_params",
            ),
            (SessionError::Stopped, -32603, "internal_error"),
            (
                SessionError::Internal("not here".into()),
                -32603,
                "internal_error",
            ),
        ];
        for (error, code, kind) in cases {
            let rpc = error.to_rpc_error();
            assert_eq!(rpc.code, code);
            assert_eq!(rpc.kind().as_str(), kind);
        }
        let server = SessionError::Server {
            status: 404,
            message: "not found".into(),
        }
        .to_rpc_error();
        assert_eq!(server.status(), Some(404));
    }
}
