//! What the session does with a call while no connection is open (idle, backing off, halted),
//! and the two jobs that need no websocket: the HTTP logout (PROTOCOL.md section 6) and media
//! downloads, which run as tasks of their own.
//!
//! ```text
//! login  -> goal Pair (the actor connects)      logout -> HTTP logout, erase, logged_out
//! send_text / query -> not_logged_in | not_connected   media_download -> a download task
//! ```

use std::path::PathBuf;
use std::time::Duration;

use waweb_core::login::Credentials;
use waweb_proto::message::Media;
use waweb_proto::{
    Call, Event, LoginResult, LogoutResult, MediaDownloadParams, MediaDownloadResult, Reason, State,
};

use super::actor::{Actor, Goal, not_a_session_call};
use super::download::download;
use super::handle::{Command, Reply, SessionError};
use crate::http;
use crate::output::Protected;

const LOGOUT_TIMEOUT: Duration = Duration::from_secs(10);

impl Actor {
    /// Commands while there is no connection.
    pub(super) async fn idle_command(&mut self, command: Command) {
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

    pub(super) fn not_available(&self) -> SessionError {
        if self.credentials.is_some() {
            SessionError::NotConnected
        } else {
            SessionError::NotLoggedIn
        }
    }

    /// The logout request of PROTOCOL.md section 6, best effort.
    pub(super) async fn http_logout(&self, credentials: &Credentials) -> bool {
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

    pub(super) fn spawn_download(
        &self,
        media: Media,
        output: PathBuf,
        reply: Reply<MediaDownloadResult>,
    ) {
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
}
