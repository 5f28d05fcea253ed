//! Every session call, in one place: one arm per method, with or without an open connection
//! (`link`). What a call means on a connection is the machine's
//! ([`waweb_core::session::connection`]); here it is routed and answered. The two jobs that
//! need no websocket live here too: the HTTP logout (PROTOCOL.md section 6) and media
//! downloads, which run as tasks of their own.
//!
//! ```text
//! login      -> offline: goal Pair (the actor connects)   online: the current QR again | already_logged_in
//! logout     -> offline: HTTP logout, erase                online: goodbye (HTTP if it fails), erase; the connection ends
//! send_text  -> offline: queued in the outbox                online: queued, then relayed at once (see sending.rs)
//! send_location, send_contact, forward, revoke: as send_text (built in compose.rs)
//! query      -> a session task (query.rs): the reply as it came, JSON or node
//! media_download {message} -> a session task (query.rs), refreshing an expired URL once
//! on_whatsapp, profile_picture, about, set_*, block, unblock, blocklist -> profile.rs
//! group_*    -> a session task each (groups.rs): GroupMetadata, invite codes, group set-actions
//! chats, contacts, chat_modify -> session tasks (chats.rs): the store, asking the server for a list it lacks
//! mark_read, mark_unread, mark_played, set_presence, set_typing, subscribe_presence
//!            -> offline: not_connected                       online: a set-action or command (receipts.rs)
//! ```

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;
use waweb_core::login::Credentials;
use waweb_core::session::connection::{LoginCall, Logout, Output};
use waweb_proto::message::Media;
use waweb_proto::{Call, Event, LoginResult, LogoutResult, MediaDownloadResult, Reason, State};

use super::actor::{Actor, Ended, Goal};
use super::compose::Compose;
use super::download::download;
use super::groups;
use super::handle::{Command, Reply, SessionError};
use super::online::{Link, Waiter};
use super::receipts::ReceiptCall;
use crate::http;
use crate::output::Protected;

const LOGOUT_TIMEOUT: Duration = Duration::from_secs(10);

impl Actor {
    /// A call while no connection is open (idle, connecting, backing off, halted).
    pub(super) async fn idle_command(&mut self, command: Command) {
        let _ = self.on_call(None, command).await;
    }

    /// One call: the outputs it gives the open connection, or how it ended that connection.
    /// Without a connection there are neither.
    pub(super) async fn on_call(
        &mut self,
        link: Option<&mut Link>,
        command: Command,
    ) -> Result<Vec<Output<Waiter>>, Ended> {
        let (call, reply) = match command {
            Command::Call { call, reply } => (call, reply),
            Command::Uploaded(uploaded) => return Ok(self.on_uploaded(uploaded, link).await),
            Command::PushName(name) => {
                self.renamed(name);
                return Ok(Vec::new());
            }
            Command::ReconnectLimits { initial, max } => {
                self.backoff.set_limits(initial, max);
                return Ok(Vec::new());
            }
            Command::Request { outgoing, reply } => {
                return Ok(match link {
                    Some(link) => {
                        link.machine
                            .request(outgoing, Waiter::Raw(reply), Instant::now())
                    }
                    None => {
                        let _ = reply.send(Err(self.not_available()));
                        Vec::new()
                    }
                });
            }
        };
        match (call, link) {
            (Call::Status, _) => {
                let _ = Reply::new(reply).send(Ok(self.status()));
            }
            (Call::Login, link) => {
                let _ = Reply::new(reply).send(self.login(link));
            }
            (Call::Logout, Some(link)) => {
                return Err(self.logout_online(link, Reply::new(reply)).await);
            }
            (Call::Logout, None) => self.logout_offline(Reply::new(reply)).await,
            (Call::SendText(params), link) => {
                return Ok(self
                    .send_composed(Compose::Text(params), Reply::new(reply), link)
                    .await);
            }
            (Call::SendLocation(params), link) => {
                return Ok(self
                    .send_composed(Compose::Location(params), Reply::new(reply), link)
                    .await);
            }
            (Call::SendContact(params), link) => {
                return Ok(self
                    .send_composed(Compose::Contact(params), Reply::new(reply), link)
                    .await);
            }
            (Call::Forward(params), link) => {
                return Ok(self
                    .send_composed(Compose::Forward(params), Reply::new(reply), link)
                    .await);
            }
            (Call::Revoke(params), link) => {
                return Ok(self
                    .send_composed(Compose::Revoke(params), Reply::new(reply), link)
                    .await);
            }
            (Call::MarkRead(params), link) => {
                return Ok(self
                    .receipt_call(ReceiptCall::Read(params), reply, link)
                    .await);
            }
            (Call::MarkUnread(params), link) => {
                return Ok(self
                    .receipt_call(ReceiptCall::Unread(params), reply, link)
                    .await);
            }
            (Call::MarkPlayed(params), link) => {
                return Ok(self
                    .receipt_call(ReceiptCall::Played(params), reply, link)
                    .await);
            }
            (Call::SetPresence(params), link) => {
                return Ok(self
                    .receipt_call(ReceiptCall::Presence(params), reply, link)
                    .await);
            }
            (Call::SetTyping(params), link) => {
                return Ok(self
                    .receipt_call(ReceiptCall::Typing(params), reply, link)
                    .await);
            }
            (Call::SubscribePresence(params), link) => {
                let call = ReceiptCall::Subscribe(params);
                return Ok(self.receipt_call(call, reply, link).await);
            }
            (Call::SendMedia(params), link) => {
                return Ok(self.send_media(params, Reply::new(reply), link).await);
            }
            (Call::Outbox, _) => {
                let _ = Reply::new(reply).send(self.outbox_list().await);
            }
            (Call::OutboxCancel(params), _) => {
                let _ = Reply::new(reply).send(self.outbox_cancel(params).await);
            }
            (Call::Query(params), _) => self.query_call(params, reply),
            (Call::MediaDownload(params), _) => self.media_download_call(params, reply),
            (
                call @ (Call::OnWhatsapp(_)
                | Call::ProfilePicture(_)
                | Call::SetProfilePicture(_)
                | Call::About(_)
                | Call::SetAbout(_)
                | Call::SetPushName(_)
                | Call::Block(_)
                | Call::Unblock(_)
                | Call::Blocklist),
                _,
            ) => self.profile_call(call, reply),
            (Call::GroupInfo(params), _) => {
                self.spawn_call(reply, |task| groups::info(task, params));
            }
            (Call::GroupCreate(params), _) => {
                let (limits, own) = (self.media.limits, self.group_author());
                self.spawn_call(reply, move |task| groups::create(task, params, limits, own));
            }
            (Call::GroupParticipants(params), _) => {
                let own = self.group_author();
                self.spawn_call(reply, |task| groups::participants(task, params, own));
            }
            (Call::GroupLeave(params), _) => {
                let own = self.group_author();
                self.spawn_call(reply, |task| groups::leave(task, params, own));
            }
            (Call::GroupSubject(params), _) => {
                let (limits, own) = (self.media.limits, self.group_author());
                self.spawn_call(reply, move |task| groups::rename(task, params, limits, own));
            }
            (Call::GroupDescription(params), _) => {
                let (limits, own) = (self.media.limits, self.group_author());
                self.spawn_call(reply, move |task| {
                    groups::describe(task, params, limits, own)
                });
            }
            (Call::GroupSettings(params), _) => {
                let own = self.group_author();
                self.spawn_call(reply, |task| groups::settings(task, params, own));
            }
            (Call::GroupInvite(params), _) => {
                self.spawn_call(reply, |task| groups::invite(task, params));
            }
            (Call::GroupJoin(params), _) => {
                self.spawn_call(reply, |task| groups::join(task, params));
            }
            (Call::Messages(params), _) => self.spawn_call(reply, |task| task.messages(params)),
            (Call::GetMessage(reference), _) => {
                self.spawn_call(reply, |task| task.message(reference));
            }
            (Call::Chats(params), _) => self.chats_call(params, reply),
            (Call::Contacts(params), _) => self.contacts_call(params, reply),
            (Call::ChatModify(params), _) => self.chat_modify_call(params, reply),
            (Call::Search(params), _) => self.spawn_call(reply, |task| task.search(params)),
            (
                Call::Version
                | Call::Subscribe(_)
                | Call::Unsubscribe(_)
                | Call::Commit(_)
                | Call::Metrics
                | Call::Consumers
                | Call::Events(_),
                _,
            ) => {
                // The socket server answers these itself and never sends them here.
                let error = SessionError::Internal("this method is not a session request".into());
                let _ = reply.send(Err(error));
            }
        }
        Ok(Vec::new())
    }

    /// `login`: pair when there is no session; on a connection that is pairing, show the
    /// current QR again.
    fn login(&mut self, link: Option<&mut Link>) -> Result<LoginResult, SessionError> {
        let pairing = Ok(LoginResult {
            state: State::Pairing,
        });
        match link.map(|link| link.machine.login_call()) {
            Some(LoginCall::Pairing(qr)) => {
                if let Some(qr) = qr {
                    self.bus.publish(*qr);
                }
                pairing
            }
            Some(LoginCall::AlreadyLoggedIn) => Err(SessionError::AlreadyLoggedIn),
            None if self.credentials.is_some() => Err(SessionError::AlreadyLoggedIn),
            None => {
                if self.goal != Goal::Pair {
                    self.pairing_retries = 0;
                }
                self.goal = Goal::Pair;
                pairing
            }
        }
    }

    /// `logout` with a connection: goodbye over the websocket when logged in (HTTP if that
    /// fails), nothing to tell while pairing, the HTTP request while restoring. The
    /// connection ends either way.
    async fn logout_online(&mut self, link: &mut Link, reply: Reply<LogoutResult>) -> Ended {
        let server_notified = match link.machine.logout() {
            Logout::CancelPairing => false,
            Logout::Goodbye(frame) => {
                link.send(frame).await.is_ok() || self.http_logout_stored().await
            }
            Logout::Restoring => self.http_logout_stored().await,
        };
        if self.credentials.is_some() {
            self.erase().await;
        }
        self.bus.publish(Event::LoggedOut {
            reason: Reason::Logout,
            status: None,
        });
        let _ = reply.send(Ok(LogoutResult { server_notified }));
        Ended::LoggedOut
    }

    /// `logout` without a connection: the HTTP request, then the session is forgotten.
    async fn logout_offline(&mut self, reply: Reply<LogoutResult>) {
        if self.goal == Goal::Pair && self.credentials.is_none() {
            // Between two tries of a pairing: it is cancelled, as on a connection.
            self.goal = Goal::Idle;
            self.bus.publish(Event::LoggedOut {
                reason: Reason::Logout,
                status: None,
            });
            self.set_state(State::LoggedOut, Some(Reason::Logout));
            let _ = reply.send(Ok(LogoutResult {
                server_notified: false,
            }));
            return;
        }
        if self.credentials.is_none() {
            let _ = reply.send(Err(SessionError::NotLoggedIn));
            return;
        }
        let server_notified = self.http_logout_stored().await;
        self.erase().await;
        self.bus.publish(Event::LoggedOut {
            reason: Reason::Logout,
            status: None,
        });
        self.set_state(State::LoggedOut, Some(Reason::Logout));
        let _ = reply.send(Ok(LogoutResult { server_notified }));
    }

    /// The HTTP logout for the stored session, if there is one.
    async fn http_logout_stored(&self) -> bool {
        match &self.credentials {
            Some(credentials) => self.http_logout(credentials).await,
            None => false,
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

    pub(super) fn spawn_download(
        &self,
        media: Media,
        output: PathBuf,
        reply: Reply<MediaDownloadResult>,
    ) {
        let protected = Protected::new(&self.config.state_dir, &self.config.socket);
        let http = self.net.http.clone();
        let stop = self.stop.clone();
        let bus = self.bus.clone();
        self.tasks.spawn(async move {
            let result = match protected.check_output(&output) {
                Ok(()) => tokio::select! {
                    result = download(&http, media, output, bus.metrics()) => result,
                    () = stop.cancelled() => Err(SessionError::Stopped),
                },
                Err(error) => Err(SessionError::InvalidParams(error.to_string())),
            };
            let _ = reply.send(result);
        });
    }
}
