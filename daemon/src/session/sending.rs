//! Sends through the outbox (DESIGN.md 6.2): a message is queued in the database first, goes
//! out when the connection is usable (at once, or when the session is restored, also after a
//! restart, with its original id), and its callers are answered when the server acknowledges
//! it, or when their `timeout_ms` runs out (the message stays queued).
//!
//! ```text
//! send_text {to, text, idempotency_key?} -> enqueue (ack 0) -> relay now | on connect
//!     <- server 200 -> finish (ack 1) -> every waiter of that id: {"id","status":200,"t"}
//! ```

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;
use waweb_core::message::{self, pb};
use waweb_core::session::connection::{Answer, Output, RequestError};
use waweb_proto::{
    Event, IDEMPOTENCY_KEY_MAX, OutboxCancelParams, OutboxCancelResult, OutboxResult, SendCommon,
    SendStatus, SendTextResult, SendWait,
};

use super::actor::{Actor, Goal};
use super::handle::{Reply, SessionError};
use super::online::{Link, Waiter, unix_now};
use crate::outbox::{CancelError, Done, Enqueued, NewMessage, Outbox};

/// How long a send waits for the server unless `timeout_ms` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(20_000);
/// The longest `timeout_ms` honoured.
const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);

type Answered = oneshot::Sender<Result<SendTextResult, SessionError>>;

/// The outbox as the actor holds it: the table, who waits for which message, and what the
/// current connection has relayed without an answer yet.
pub(super) struct Sending {
    pub(super) outbox: Outbox,
    waiters: HashMap<String, Vec<Answered>>,
    /// Message id -> recipient, for the ack events.
    in_flight: HashMap<String, String>,
}

impl Sending {
    pub(super) fn new(outbox: Outbox) -> Self {
        Sending {
            outbox,
            waiters: HashMap::new(),
            in_flight: HashMap::new(),
        }
    }

    fn answer(&mut self, id: &str, result: &Result<SendTextResult, SessionError>) {
        for waiter in self.waiters.remove(id).unwrap_or_default() {
            let _ = waiter.send(result.clone());
        }
    }
}

/// What every send method shares (DESIGN.md 6.2 and 7.1), taken from its params.
#[derive(Debug, Clone, Default)]
pub(super) struct SendOptions {
    pub(super) idempotency_key: Option<String>,
    pub(super) wait: Option<SendWait>,
    pub(super) timeout_ms: Option<u64>,
}

impl<P: SendCommon> From<&P> for SendOptions {
    fn from(params: &P) -> Self {
        SendOptions {
            idempotency_key: params.idempotency_key().map(str::to_owned),
            wait: params.wait(),
            timeout_ms: params.timeout_ms(),
        }
    }
}

/// A message ready for the outbox: to whom, what kind (the outbox's `kind` column) and its
/// content; the id and the rest of the `WebMessageInfo` are added when it is queued.
pub(super) struct Outgoing {
    pub(super) recipient: String,
    pub(super) kind: &'static str,
    pub(super) content: pb::Message,
}

impl Actor {
    /// What every send checks before doing any work (an upload, a lookup): the session can
    /// send, and the idempotency key is well-formed.
    pub(super) fn check_send(&self, options: &SendOptions) -> Result<(), SessionError> {
        if self.credentials.is_none() {
            return Err(SessionError::NotLoggedIn);
        }
        if self.goal == Goal::Halted {
            return Err(SessionError::NotConnected);
        }
        if let Some(key) = &options.idempotency_key
            && !(1..=IDEMPOTENCY_KEY_MAX).contains(&key.chars().count())
        {
            return Err(SessionError::InvalidParams(format!(
                "idempotency_key must be 1 to {IDEMPOTENCY_KEY_MAX} characters"
            )));
        }
        Ok(())
    }

    /// Queues `outgoing` (or finds the earlier send with its key), answers `reply` as `options`
    /// ask, and relays it now if the connection is usable. Every send method ends here.
    pub(super) async fn send(
        &mut self,
        outgoing: Outgoing,
        options: SendOptions,
        reply: Reply<SendTextResult>,
        link: Option<&mut Link>,
    ) -> Vec<Output<Waiter>> {
        let queued = match self.queue(outgoing, &options).await {
            Ok(queued) => queued,
            Err(error) => {
                let _ = reply.send(Err(error));
                return Vec::new();
            }
        };
        let (id, recipient, info) = match queued {
            Queued::New {
                id,
                recipient,
                info,
            } => (id, recipient, Some(info)),
            Queued::Earlier {
                id,
                recipient,
                state: Done::Pending,
            } => (id, recipient, None),
            Queued::Earlier {
                state: Done::Acked(result),
                ..
            } => {
                let _ = reply.send(Ok(result));
                return Vec::new();
            }
            Queued::Earlier {
                state: Done::Failed(why),
                ..
            } => {
                let _ = reply.send(Err(SessionError::Server {
                    status: 0,
                    message: why,
                }));
                return Vec::new();
            }
        };
        if options.wait == Some(SendWait::Queued) {
            let _ = reply.send(Ok(SendTextResult {
                id: id.clone(),
                status: SendStatus::Queued,
                t: None,
            }));
        } else {
            let timeout = options
                .timeout_ms
                .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
                .min(MAX_TIMEOUT);
            self.wait_for(&id, reply, timeout);
        }
        match (info, link) {
            (Some(info), Some(link)) if link.machine.is_usable() => {
                self.relay(link, id, recipient, &info)
            }
            _ => Vec::new(),
        }
    }

    /// Queues a checked send (publishing ack 0), or finds the earlier one with its key.
    async fn queue(
        &mut self,
        outgoing: Outgoing,
        options: &SendOptions,
    ) -> Result<Queued, SessionError> {
        let Outgoing {
            recipient,
            kind,
            content,
        } = outgoing;
        let id = message::new_message_id();
        let info = message::encode(&message::outgoing(&recipient, &id, content, unix_now()));
        let new = NewMessage {
            id: id.clone(),
            recipient: recipient.clone(),
            kind,
            message: info.clone(),
        };
        let enqueued = self
            .sending
            .outbox
            .enqueue(options.idempotency_key.clone(), new)
            .await
            .map_err(|error| SessionError::Io(format!("the outbox: {error}")))?;
        Ok(match enqueued {
            Enqueued::New => {
                self.bus.publish(ack(&id, 0, &recipient, None));
                Queued::New {
                    id,
                    recipient,
                    info,
                }
            }
            Enqueued::Existing {
                id,
                recipient,
                state,
            } => Queued::Earlier {
                id,
                recipient,
                state,
            },
        })
    }

    /// Answers `reply` when message `id` is acknowledged or refused, or after `timeout`.
    fn wait_for(&mut self, id: &str, reply: Reply<SendTextResult>, timeout: Duration) {
        let (answered, answer) = oneshot::channel();
        let waiters = self.sending.waiters.entry(id.to_owned()).or_default();
        waiters.retain(|waiter| !waiter.is_closed());
        waiters.push(answered);
        let id = id.to_owned();
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let result = tokio::select! {
                answer = tokio::time::timeout(timeout, answer) => match answer {
                    Ok(Ok(result)) => result,
                    Ok(Err(_)) => Err(SessionError::Stopped),
                    Err(_) => Err(SessionError::QueuedTimeout { id }),
                },
                () = stop.cancelled() => Err(SessionError::Stopped),
            };
            let _ = reply.send(result);
        });
    }

    fn relay(
        &mut self,
        link: &mut Link,
        id: String,
        recipient: String,
        info: &[u8],
    ) -> Vec<Output<Waiter>> {
        self.sending.outbox.mark_sent(&id);
        let outputs = link.machine.relay(
            &id,
            &recipient,
            info,
            Waiter::Relay(id.clone()),
            Instant::now(),
        );
        self.sending.in_flight.insert(id, recipient);
        outputs
    }

    /// The connection is usable: everything queued goes out, oldest first, with its id.
    pub(super) async fn flush_outbox(&mut self, link: &mut Link) -> Vec<Output<Waiter>> {
        let pending = match self.sending.outbox.pending().await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!("could not read the outbox: {error}");
                return Vec::new();
            }
        };
        let mut outputs = Vec::new();
        for message in pending {
            if !self.sending.in_flight.contains_key(&message.id) {
                outputs.extend(self.relay(link, message.id, message.recipient, &message.message));
            }
        }
        outputs
    }

    /// The server answered a relay (or the connection ended before it did).
    pub(super) fn relay_answered(&mut self, id: String, result: Result<Answer, RequestError>) {
        let Some(recipient) = self.sending.in_flight.remove(&id) else {
            return;
        };
        let result = match result {
            Ok(Answer::Sent(result)) => {
                self.sending.outbox.finish(&id, Ok(&result));
                self.bus.publish(ack(&id, 1, &recipient, None));
                Ok(result)
            }
            Err(RequestError::Server { status, message }) => {
                self.sending.outbox.finish(&id, Err(&message));
                self.bus
                    .publish(ack(&id, -1, &recipient, Some(message.clone())));
                Err(SessionError::Server { status, message })
            }
            // No answer on this connection: still queued, sent again on the next one.
            Ok(Answer::Done | Answer::Raw(_)) | Err(_) => return,
        };
        self.sending.answer(&id, &result);
    }

    /// A receipt (ack 2 and up) from the server for a message it has not answered yet on
    /// this connection: the phone has it, so the server had it. That happens when the
    /// connection was cut after the relay arrived and before its answer went out; the resend's
    /// answer may then come after the receipt. The send is done now (ack 1 before the
    /// receipt, the callers answered with the receipt's time), not after it: one progression
    /// 0, 1, 2… and no second ack 1 (DESIGN.md 14.4).
    pub(super) fn receipt_before_answer(&mut self, receipt: &Event) {
        let Event::Ack { id, ack, .. } = receipt else {
            return;
        };
        if *ack >= 2 && self.sending.in_flight.contains_key(id) {
            let result = SendTextResult {
                id: id.clone(),
                status: SendStatus::Server(200),
                t: Some(unix_now()),
            };
            self.relay_answered(id.clone(), Ok(Answer::Sent(result)));
        }
    }

    /// `outbox`.
    pub(super) async fn outbox_list(&self) -> Result<OutboxResult, SessionError> {
        self.sending
            .outbox
            .list()
            .await
            .map_err(|error| SessionError::Io(format!("the outbox: {error}")))
    }

    /// `outbox_cancel`: a message not sent yet is dropped (ack -1, `cancelled`).
    pub(super) async fn outbox_cancel(
        &mut self,
        params: OutboxCancelParams,
    ) -> Result<OutboxCancelResult, SessionError> {
        let recipient =
            self.sending
                .outbox
                .cancel(&params.id)
                .await
                .map_err(|error| match error {
                    CancelError::Journal(error) => SessionError::Io(format!("the outbox: {error}")),
                    other => SessionError::InvalidParams(other.to_string()),
                })?;
        let why = "cancelled before it was sent".to_owned();
        self.bus
            .publish(ack(&params.id, -1, &recipient, Some(why.clone())));
        let refused = Err(SessionError::Server {
            status: 0,
            message: why,
        });
        self.sending.answer(&params.id, &refused);
        Ok(OutboxCancelResult {
            id: params.id,
            cancelled: true,
        })
    }
}

/// What queuing a send came to.
enum Queued {
    New {
        id: String,
        recipient: String,
        info: Vec<u8>,
    },
    Earlier {
        id: String,
        recipient: String,
        state: Done,
    },
}

fn ack(id: &str, ack: i64, chat: &str, error: Option<String>) -> Event {
    Event::Ack {
        id: id.to_owned(),
        ack,
        chat: chat.to_owned(),
        error,
    }
}
