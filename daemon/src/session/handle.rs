//! The cheap, cloneable handle through which the socket server (and anyone else) asks the session
//! actor to do things.
//!
//! The actor owns all connection state; callers only send it a [`Command`] carrying a one-shot
//! reply sender and await the answer. The channel is bounded, so a flood of requests waits for
//! the actor instead of queueing without limit. Tests stand in for the actor by building a handle
//! with [`SessionHandle::new`] and answering the receiver themselves.

use std::path::PathBuf;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use waweb_proto::message::Media;
use waweb_proto::{
    ErrorKind, LoginResult, LogoutResult, MediaDownloadResult, QueryResult, RpcError,
    SendTextResult, StatusResult,
};

/// Where the actor sends one command's answer.
pub type Reply<T> = oneshot::Sender<Result<T, SessionError>>;

/// One request to the session actor, with the sender its answer goes to.
///
/// The actor should answer every command; if it drops the sender instead, the caller gets
/// [`SessionError::Stopped`].
#[derive(Debug)]
pub enum Command {
    /// Report the session's status.
    Status {
        /// The answer.
        reply: Reply<StatusResult>,
    },
    /// Start pairing (or re-emit the current QR while pairing).
    Login {
        /// The answer.
        reply: Reply<LoginResult>,
    },
    /// Say goodbye to the server and erase the session.
    Logout {
        /// The answer.
        reply: Reply<LogoutResult>,
    },
    /// Send a text message and wait for the server's acknowledgement.
    SendText {
        /// The recipient as the caller wrote it: a phone number or a JID, not yet normalised.
        to: String,
        /// The message text.
        text: String,
        /// The answer.
        reply: Reply<SendTextResult>,
    },
    /// Send a raw JSON command to the server and wait for its reply.
    Query {
        /// The command.
        json: Value,
        /// The answer.
        reply: Reply<QueryResult>,
    },
    /// Download, decrypt and verify an attachment into `output`.
    MediaDownload {
        /// The attachment as a `message` event described it.
        media: Media,
        /// Where to write it, as the caller gave it (not yet checked to be absolute).
        output: PathBuf,
        /// The answer.
        reply: Reply<MediaDownloadResult>,
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
    /// A MAC or hash did not match: `integrity` (-32006).
    #[error("integrity check failed: {0}")]
    Integrity(String),
    /// A local file or the media download failed: `io` (-32007).
    #[error("{0}")]
    Io(String),
    /// The media host no longer has the file: `media_expired` (-32008).
    #[error("media expired: {0}")]
    MediaExpired(String),
    /// The params do not make sense for the session (a bad recipient, a relative output path):
    /// `invalid_params` (-32602).
    #[error("{0}")]
    InvalidParams(String),
    /// The actor is gone (the daemon is shutting down): `internal_error` (-32603).
    #[error("the session has stopped; the daemon is shutting down")]
    Stopped,
}

impl SessionError {
    /// The `data.kind` this error is reported as.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SessionError::NotLoggedIn => ErrorKind::NotLoggedIn,
            SessionError::AlreadyLoggedIn => ErrorKind::AlreadyLoggedIn,
            SessionError::NotConnected => ErrorKind::NotConnected,
            SessionError::Server { .. } => ErrorKind::ServerError,
            SessionError::Timeout => ErrorKind::Timeout,
            SessionError::Integrity(_) => ErrorKind::Integrity,
            SessionError::Io(_) => ErrorKind::Io,
            SessionError::MediaExpired(_) => ErrorKind::MediaExpired,
            SessionError::InvalidParams(_) => ErrorKind::InvalidParams,
            SessionError::Stopped => ErrorKind::InternalError,
        }
    }

    /// The JSON-RPC error object for the socket.
    pub fn to_rpc_error(&self) -> RpcError {
        match self {
            SessionError::Server { status, .. } => {
                RpcError::server_error(*status, self.to_string())
            }
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

    /// A handle over an existing sender.
    pub fn from_sender(commands: mpsc::Sender<Command>) -> SessionHandle {
        SessionHandle { commands }
    }

    /// The session's status.
    pub async fn status(&self) -> Result<StatusResult, SessionError> {
        self.ask(|reply| Command::Status { reply }).await
    }

    /// Starts pairing; QR codes follow as `qr` events.
    pub async fn login(&self) -> Result<LoginResult, SessionError> {
        self.ask(|reply| Command::Login { reply }).await
    }

    /// Logs out and erases the session.
    pub async fn logout(&self) -> Result<LogoutResult, SessionError> {
        self.ask(|reply| Command::Logout { reply }).await
    }

    /// Sends a text message.
    pub async fn send_text(
        &self,
        to: String,
        text: String,
    ) -> Result<SendTextResult, SessionError> {
        self.ask(|reply| Command::SendText { to, text, reply })
            .await
    }

    /// Sends a raw JSON command to the server.
    pub async fn query(&self, json: Value) -> Result<QueryResult, SessionError> {
        self.ask(|reply| Command::Query { json, reply }).await
    }

    /// Downloads an attachment into `output`.
    pub async fn media_download(
        &self,
        media: Media,
        output: PathBuf,
    ) -> Result<MediaDownloadResult, SessionError> {
        self.ask(|reply| Command::MediaDownload {
            media,
            output,
            reply,
        })
        .await
    }

    async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, SessionError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| SessionError::Stopped)?;
        answer.await.map_err(|_| SessionError::Stopped)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_handle_reaches_its_actor_and_notices_when_it_is_gone() {
        let (handle, mut commands) = SessionHandle::new(4);
        let actor = tokio::spawn(async move {
            while let Some(command) = commands.recv().await {
                match command {
                    Command::Logout { reply } => {
                        let _ = reply.send(Ok(LogoutResult {
                            server_notified: true,
                        }));
                    }
                    Command::Login { reply } => {
                        let _ = reply.send(Err(SessionError::AlreadyLoggedIn));
                    }
                    // Dropping the sender without answering.
                    _ => {}
                }
            }
        });
        assert_eq!(
            handle.clone().logout().await,
            Ok(LogoutResult {
                server_notified: true
            })
        );
        assert_eq!(handle.login().await, Err(SessionError::AlreadyLoggedIn));
        assert_eq!(handle.query(Value::Null).await, Err(SessionError::Stopped));
        actor.abort();
        let _ = actor.await;
        assert_eq!(handle.status().await, Err(SessionError::Stopped));
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
            (SessionError::Integrity("mac".into()), -32006, "integrity"),
            (SessionError::Io("disk full".into()), -32007, "io"),
            (
                SessionError::MediaExpired("410".into()),
                -32008,
                "media_expired",
            ),
            (
                SessionError::InvalidParams("to".into()),
                -32602,
                "invalid_params",
            ),
            (SessionError::Stopped, -32603, "internal_error"),
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
