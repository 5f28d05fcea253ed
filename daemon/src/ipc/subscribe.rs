//! The socket server's own methods around events: `subscribe` (live, from a seq, or from a
//! named consumer's cursor), `unsubscribe`, and the journal's `commit`, `consumers` and
//! `events` (DESIGN.md 6.1).
//!
//! ```text
//! subscribe {"consumer":"bot"}  -> cursor 1037 (or the head for a new name) -> replay 1038… then live
//! commit {"consumer":"bot","seq":1040} -> {"name":"bot","seq":1040,"lag":1}
//! ```

use std::collections::BTreeSet;

use tokio::sync::OwnedSemaphorePermit;
use waweb_proto::{
    CommitParams, ErrorKind, EventType, EventsParams, EventsResult, Id, JournalParams, Reply,
    RpcError, SubscribeParams, SubscribeResult,
};

use super::{Out, Reader, response_line};
use crate::bus::Subscription;
use crate::journal::{self, Journal};

/// A journal method, run in its own task like a session call.
pub(super) enum JournalCall {
    Commit(CommitParams),
    Consumers,
    Events(JournalParams),
}

impl Reader {
    pub(super) async fn subscribe(&mut self, id: Option<Id>, params: SubscribeParams) {
        let SubscribeParams {
            events,
            since,
            consumer,
        } = params;
        let journal = self.shared.bus.journal().cloned();
        let head = journal.as_ref().map_or(0, Journal::head);
        let start = match (since, consumer, &journal) {
            (Some(since), _, _) if since > head => {
                let message = format!("since {since} is above the head ({head})");
                let error = RpcError::new(ErrorKind::InvalidParams, message);
                return self.answer(id, Err(error)).await;
            }
            (Some(since), _, _) => Some(since),
            (None, Some(name), Some(journal)) => match journal.open_consumer(name).await {
                Ok(cursor) => Some(cursor),
                Err(error) => return self.answer(id, Err(journal_error(error))).await,
            },
            (None, Some(_), None) => return self.answer(id, Err(no_journal())).await,
            (None, None, _) => None,
        };
        let had_subscription = !self.types.is_empty();
        self.types = match events {
            Some(events) if !events.is_empty() => events.into_iter().collect(),
            _ => EventType::ALL.into_iter().collect(),
        };
        // A new subscription is taken now, before the reply is queued, so nothing published in
        // between is missed; its snapshot or replay still comes out after the reply.
        let subscription = match start {
            Some(since) => Some(self.shared.bus.subscribe_since(since)),
            None => (!had_subscription).then(|| self.shared.bus.subscribe()),
        };
        let result = SubscribeResult {
            events: self.types.iter().copied().collect(),
            head,
            gap: start.map(|since| journal.as_ref().is_some_and(|j| j.gap_after(since))),
        };
        let reply = id.map(|id| response_line(self.shared.bus.metrics(), Some(id), encode(result)));
        self.send_filter(reply, subscription).await;
    }

    pub(super) async fn unsubscribe(&mut self, id: Option<Id>, params: EventsParams) {
        match params.events {
            Some(events) if !events.is_empty() => {
                for event in events {
                    self.types.remove(&event);
                }
            }
            _ => self.types.clear(),
        }
        let result = EventsResult {
            events: self.types.iter().copied().collect(),
        };
        let reply = id.map(|id| response_line(self.shared.bus.metrics(), Some(id), encode(result)));
        self.send_filter(reply, None).await;
    }

    async fn send_filter(&mut self, reply: Option<String>, subscription: Option<Subscription>) {
        let types: BTreeSet<EventType> = self.types.clone();
        let _ = self
            .out
            .send(Out::Filter {
                reply,
                types,
                subscription,
            })
            .await;
    }

    async fn answer(&self, id: Option<Id>, reply: Reply) {
        if id.is_some() {
            self.send(response_line(self.shared.bus.metrics(), id, reply))
                .await;
        }
    }

    /// Runs a journal method in its own task, so a long `events` read holds nothing up.
    pub(super) async fn spawn_journal(&mut self, id: Option<Id>, call: JournalCall) {
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        let journal = self.shared.bus.journal().cloned();
        let bus = self.shared.bus.clone();
        let out = self.out.clone();
        let account = self.account.clone();
        self.requests.spawn(async move {
            let _permit: OwnedSemaphorePermit = permit;
            let bulk = matches!(call, JournalCall::Events(_) | JournalCall::Consumers);
            let build = async {
                match journal {
                    Some(journal) => run_journal(&journal, call).await,
                    None => Err(no_journal()),
                }
            };
            account.answer(bulk, &out, &bus, id, build).await;
        });
    }
}

async fn run_journal(journal: &Journal, call: JournalCall) -> Reply {
    match call {
        JournalCall::Commit(CommitParams { consumer, seq }) => {
            let mut info = journal.commit(consumer, seq).await.map_err(journal_error)?;
            info.lag = journal.head().saturating_sub(info.seq);
            encode(info)
        }
        JournalCall::Consumers => encode(journal.consumers().await.map_err(journal_error)?),
        JournalCall::Events(params) => encode(journal.read(params).await.map_err(journal_error)?),
    }
}

fn encode<T: serde::Serialize>(result: T) -> Reply {
    serde_json::to_value(result).map_err(|error| {
        RpcError::new(
            ErrorKind::InternalError,
            format!("cannot encode the result: {error}"),
        )
    })
}

fn journal_error(error: journal::Error) -> RpcError {
    let kind = match error {
        journal::Error::AboveHead { .. } => ErrorKind::InvalidParams,
        journal::Error::Db(_) => ErrorKind::Io,
        journal::Error::Stopped => ErrorKind::InternalError,
    };
    RpcError::new(kind, error.to_string())
}

fn no_journal() -> RpcError {
    RpcError::new(ErrorKind::InternalError, "the journal is not open")
}
