//! `send_media` in the actor: what it checks before any work, where `mediaConn` comes from (a
//! cache kept for the reply's `ttl`, else a query on the connection), the upload task
//! ([`super::upload`]) and the way back: the task hands the content message to the actor as a
//! [`Command::Uploaded`], and the actor sends it through the outbox like every send.
//!
//! ```text
//! send_media -> check_send, params, recipient -> key queued before? answer as a repeat (no upload)
//!            -> key uploading now? wait for that upload
//!            -> mediaConn (cache | query) -> task: upload::run -> Command::Uploaded
//!            -> send(Outgoing { kind: "image", content }) -> {"id","status","t","media"}
//! ```

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use waweb_core::media::upload::{Limits, MediaConn};
use waweb_core::message::{self, compose, pb};
use waweb_core::session::connection::{Answer, Output, RequestError, ServerReply, ServerRequest};
use waweb_proto::{SendMediaParams, SendMediaResult, SendTextResult};

use super::actor::Actor;
use super::handle::{Command, Reply, SessionError};
use super::online::{Link, Waiter};
use super::sending::{Outgoing, SendOptions};
use super::upload::{self, Job};
use crate::output::Protected;

/// A `send_media` call on its way: its params and where its answer goes.
#[derive(Debug)]
pub struct MediaCall {
    params: SendMediaParams,
    reply: Reply<SendMediaResult>,
    /// The quote and mentions, looked up and checked before anything is uploaded.
    context: Option<pb::ContextInfo>,
}

/// An upload task's outcome, on its way back to the actor.
#[derive(Debug)]
pub struct Uploaded {
    call: MediaCall,
    outcome: Result<pb::Message, SessionError>,
}

/// What the actor knows for sending media.
pub(super) struct MediaSending {
    /// The server's limits, from the last `Props` (the defaults before any).
    pub(super) limits: Limits,
    /// The last `mediaConn` and when it expires.
    conn: Option<(MediaConn, Instant)>,
    /// Calls waiting for an upload in flight with their idempotency key.
    uploading: HashMap<String, Vec<MediaCall>>,
    /// How upload tasks reach the actor again; weak, so it does not keep the actor's channel
    /// open once every handle is gone.
    commands: mpsc::WeakSender<Command>,
}

impl MediaSending {
    pub(super) fn new(commands: mpsc::WeakSender<Command>) -> Self {
        MediaSending {
            limits: Limits::default(),
            conn: None,
            uploading: HashMap::new(),
            commands,
        }
    }

    /// The calls that waited for `call`'s upload; its key is free again.
    fn take_waiting(&mut self, call: &MediaCall) -> Vec<MediaCall> {
        call.params
            .idempotency_key
            .as_ref()
            .and_then(|key| self.uploading.remove(key))
            .unwrap_or_default()
    }

    fn valid_conn(&self) -> Option<MediaConn> {
        self.conn
            .as_ref()
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(conn, _)| conn.clone())
    }
}

fn options_of(params: &SendMediaParams) -> SendOptions {
    SendOptions {
        idempotency_key: params.idempotency_key.clone(),
        wait: params.wait,
        timeout_ms: params.timeout_ms,
    }
}

impl Actor {
    /// `send_media`: refused, answered as a repeat, or uploaded and then queued.
    pub(super) async fn send_media(
        &mut self,
        params: SendMediaParams,
        reply: Reply<SendMediaResult>,
        link: Option<&mut Link>,
    ) -> Vec<Output<Waiter>> {
        let checked = self
            .check_send(&options_of(&params))
            .and_then(|()| upload::check_params(&params))
            .and_then(|()| {
                message::parse_recipient(&params.to)
                    .map(drop)
                    .map_err(|error| SessionError::InvalidParams(error.to_string()))
            });
        if let Err(error) = checked {
            let _ = reply.send(Err(error));
            return Vec::new();
        }
        let context = self
            .context(params.quote.clone(), params.mentions.clone())
            .await;
        let context = match context {
            Ok(context) => context,
            Err(error) => {
                let _ = reply.send(Err(error));
                return Vec::new();
            }
        };
        let call = MediaCall {
            params,
            reply,
            context,
        };
        if let Some(key) = call.params.idempotency_key.clone() {
            if let Some(waiting) = self.media.uploading.get_mut(&key) {
                waiting.push(call);
                return Vec::new();
            }
            match self.sending.outbox.message_of_key(&key).await {
                Ok(Some(info)) => return self.repeat(call, &info, link).await,
                Ok(None) => {}
                Err(error) => {
                    let _ = call
                        .reply
                        .send(Err(SessionError::Io(format!("the outbox: {error}"))));
                    return Vec::new();
                }
            }
            self.media.uploading.insert(key, Vec::new());
        }
        if let Some(conn) = self.media.valid_conn() {
            self.spawn_upload(call, conn);
            return Vec::new();
        }
        match link {
            Some(link) if link.machine.is_usable() => link.machine.request(
                ServerRequest::Json(json!(["query", "mediaConn"])),
                Waiter::MediaConn(Box::new(call)),
                Instant::now(),
            ),
            // Without a connection there are no upload hosts to ask for.
            _ => {
                let error = self.not_available();
                self.upload_failed(call, error);
                Vec::new()
            }
        }
    }

    /// The server answered `["query","mediaConn"]` for `call`.
    pub(super) fn media_conn_answered(
        &mut self,
        call: MediaCall,
        result: Result<Answer, RequestError>,
    ) {
        let conn = match result {
            Ok(Answer::Raw(ServerReply::Json(reply))) => {
                MediaConn::from_reply(&reply).map_err(|error| SessionError::Server {
                    status: match error {
                        waweb_core::media::upload::Error::Status(status) => status,
                        _ => 0,
                    },
                    message: error.to_string(),
                })
            }
            Ok(_) => Err(SessionError::Internal(
                "mediaConn answered with a node".into(),
            )),
            Err(error) => Err(self.request_error(error)),
        };
        match conn {
            Ok(conn) => {
                let until = Instant::now() + conn.ttl;
                if conn.ttl > Duration::ZERO {
                    self.media.conn = Some((conn.clone(), until));
                }
                self.spawn_upload(call, conn);
            }
            Err(error) => self.upload_failed(call, error),
        }
    }

    fn spawn_upload(&self, call: MediaCall, conn: MediaConn) {
        let job = Job {
            params: call.params.clone(),
            limits: self.media.limits,
            conn,
            scheme: self.config.upload_scheme(),
            protected: Protected::new(&self.config.state_dir, &self.config.socket),
            http: self.net.http.clone(),
            bus: self.bus.clone(),
        };
        let commands = self.media.commands.clone();
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let outcome = tokio::select! {
                outcome = upload::run(job) => outcome,
                () = stop.cancelled() => Err(SessionError::Stopped),
            };
            let uploaded = Box::new(Uploaded { call, outcome });
            let Some(commands) = commands.upgrade().filter(|_| !stop.is_cancelled()) else {
                let _ = uploaded.call.reply.send(Err(SessionError::Stopped));
                return;
            };
            // At shutdown the actor reads no more: the call then gets `Stopped` as its reply
            // is dropped.
            tokio::select! {
                sent = commands.send(Command::Uploaded(uploaded)) => {
                    if let Err(mpsc::error::SendError(Command::Uploaded(uploaded))) = sent {
                        let _ = uploaded.call.reply.send(Err(SessionError::Stopped));
                    }
                }
                () = stop.cancelled() => {}
            }
        });
    }

    /// An upload ended: queue its message (and answer the calls that waited for it), or fail.
    pub(super) async fn on_uploaded(
        &mut self,
        uploaded: Box<Uploaded>,
        mut link: Option<&mut Link>,
    ) -> Vec<Output<Waiter>> {
        let Uploaded { call, outcome } = *uploaded;
        let content = match outcome {
            Ok(content) => content,
            Err(error) => {
                if matches!(
                    error,
                    SessionError::Server {
                        status: 401 | 403,
                        ..
                    }
                ) {
                    // The host refused the credential: ask for a fresh one next time.
                    self.media.conn = None;
                }
                self.upload_failed(call, error);
                return Vec::new();
            }
        };
        let content = compose::with_context(content, call.context.clone());
        let waiting = self.media.take_waiting(&call);
        let mut outputs = self
            .queue_media(call, content.clone(), link.as_deref_mut())
            .await;
        for call in waiting {
            // The key is in the outbox now: these find the same message there.
            outputs.extend(
                self.queue_media(call, content.clone(), link.as_deref_mut())
                    .await,
            );
        }
        outputs
    }

    /// A key already in the outbox: its stored message answers, and nothing is uploaded.
    async fn repeat(
        &mut self,
        call: MediaCall,
        info: &[u8],
        link: Option<&mut Link>,
    ) -> Vec<Output<Waiter>> {
        match message::decode_web_message_info(info) {
            Ok(info) => {
                let content = info.message.unwrap_or_default();
                self.queue_media(call, content, link).await
            }
            Err(error) => {
                let error = SessionError::Internal(format!("the queued message: {error}"));
                let _ = call.reply.send(Err(error));
                Vec::new()
            }
        }
    }

    fn upload_failed(&mut self, call: MediaCall, error: SessionError) {
        let waiting = self.media.take_waiting(&call);
        for call in std::iter::once(call).chain(waiting) {
            let _ = call.reply.send(Err(error.clone()));
        }
    }

    /// Sends the content through the outbox; the call's answer adds the attachment to
    /// `send_text`'s result.
    async fn queue_media(
        &mut self,
        call: MediaCall,
        content: pb::Message,
        link: Option<&mut Link>,
    ) -> Vec<Output<Waiter>> {
        let MediaCall { params, reply, .. } = call;
        let (Ok(recipient), Some(media)) = (
            message::parse_recipient(&params.to),
            message::media_of(&content),
        ) else {
            let error = SessionError::Internal("the uploaded message has no media".into());
            let _ = reply.send(Err(error));
            return Vec::new();
        };
        let media = media.to_event();
        let thumbnail_skipped = upload::thumbnail_skipped(&content);
        let outgoing = Outgoing {
            recipient,
            kind: params.kind.as_str(),
            content,
        };
        let (sender, answer) = oneshot::channel();
        let outputs = self
            .send(outgoing, options_of(&params), Reply::new(sender), link)
            .await;
        self.tasks.spawn(async move {
            let sent = match answer.await {
                Ok(answer) => answer,
                Err(_) => Err(SessionError::Stopped),
            };
            let result = sent.and_then(|sent| {
                serde_json::from_value::<SendTextResult>(sent)
                    .map_err(|error| SessionError::Internal(error.to_string()))
            });
            let _ = reply.send(result.map(|sent| SendMediaResult {
                sent,
                media,
                thumbnail_skipped,
            }));
        });
        outputs
    }
}
