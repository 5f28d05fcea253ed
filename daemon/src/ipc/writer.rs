//! The writing half of a connection: the only code that writes to the socket.
//!
//! Replies and events pass through one bounded queue, so lines never interleave. While the
//! queue is full the writer takes no more events: the subscription falls behind the live stream
//! and later catches up from the journal, at the client's pace (see [`crate::bus`]). Only a
//! subscriber the journal can no longer serve gets an `error` event (`lagged`, with the last seq
//! it was sent) and is disconnected; nobody else notices.
//!
//! Every queued byte is also in the connection's [`Account`] of the daemon-wide backlog: while
//! that is over its bound a writer with lines queued takes no more replies, and one stuck
//! holding more than its part is disconnected (see [`super::backlog`]).

use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tracing::{debug, warn};
use waweb_proto::{Event, EventType, LAGGED};

use super::backlog::Account;
use super::{Options, Out};
use crate::bus::{BusError, Subscription};
use crate::journal::{self, Stamped};

/// The most bytes one write takes from the queue.
const WRITE_CHUNK: usize = 64 << 10;

type WriteFuture = Pin<Box<dyn Future<Output = (OwnedWriteHalf, io::Result<()>)> + Send>>;

/// The writing half of a connection: the only code that writes to the socket.
pub(super) struct Writer {
    pub(super) out: mpsc::Receiver<Out>,
    /// False once every sender is gone (the client closed its side and all replies are queued).
    pub(super) inputs_open: bool,
    /// Lines not yet written, each with its seq when it is a journaled event.
    pub(super) queue: VecDeque<(String, Option<u64>)>,
    pub(super) queued_bytes: usize,
    pub(super) types: BTreeSet<EventType>,
    pub(super) subscription: Option<Subscription>,
    pub(super) options: Options,
    /// Counts this connection in `socket_subscribers` while `subscription` is set.
    pub(super) subscribed: Option<crate::metrics::Subscribed>,
    pub(super) bus: crate::bus::Bus,
    /// What this connection holds unwritten, in the daemon-wide backlog.
    pub(super) account: Account,
}

/// The write in progress: when it started, and how many bytes it takes off the account.
struct Writing {
    future: WriteFuture,
    started: Instant,
    bytes: usize,
}

impl Writer {
    /// A connection's writer: nothing queued, no subscription, `account` its share of the
    /// daemon-wide backlog.
    pub(super) fn new(
        out: mpsc::Receiver<Out>,
        options: Options,
        bus: crate::bus::Bus,
        account: Account,
    ) -> Self {
        Writer {
            out,
            inputs_open: true,
            queue: VecDeque::new(),
            queued_bytes: 0,
            types: BTreeSet::new(),
            subscription: None,
            options,
            subscribed: None,
            bus,
            account,
        }
    }

    pub(super) async fn run(mut self, write: OwnedWriteHalf) {
        let mut idle = Some(write);
        let mut writing: Option<Writing> = None;
        let backlog = self.account.backlog().clone();
        let mut recheck = Instant::now();
        loop {
            if self.subscription.is_some() != self.subscribed.is_some() {
                self.subscribed = self
                    .subscription
                    .as_ref()
                    .map(|_| self.bus.metrics().subscribed());
            }
            if writing.is_none()
                && !self.queue.is_empty()
                && let Some(mut write) = idle.take()
            {
                let chunk = self.take_chunk();
                let bytes = chunk.len();
                writing = Some(Writing {
                    future: Box::pin(async move {
                        let result = write.write_all(chunk.as_bytes()).await;
                        (write, result)
                    }),
                    started: Instant::now(),
                    bytes,
                });
            }
            if writing.is_none() && !self.inputs_open && self.subscription.is_none() {
                break;
            }
            let room = self.queue.len() < self.options.queue_lines
                && self.queued_bytes < self.options.queue_bytes;
            // Registered before the check, so room made in between is not missed.
            let fallen = backlog.fallen();
            let paused = !self.queue.is_empty() && backlog.over();
            // Nothing wakes this writer when the others grow the total: a write stuck past the
            // deadline is looked at again every tenth of it.
            let stuck_at = writing
                .as_ref()
                .filter(|_| self.subscription.is_none())
                .map(|writing| (writing.started + self.options.stuck_after).max(recheck));
            tokio::select! {
                biased;
                (write, result) = finish_write(&mut writing) => {
                    if let Some(done) = writing.take() {
                        self.account.shrink(done.bytes);
                    }
                    if let Err(error) = result {
                        debug!(%error, "writing to the client failed");
                        return;
                    }
                    idle = Some(write);
                }
                () = at(stuck_at) => {
                    if !self.account.over_share() {
                        recheck = Instant::now() + self.options.stuck_after / 10;
                        continue;
                    }
                    self.bus.metrics().client_cut();
                    let (unwritten, share) = (self.account.bytes(), backlog.share());
                    backlog.cut(|count| {
                        warn!(
                            unwritten,
                            share,
                            count,
                            "disconnecting a client that does not read: its unwritten replies \
                             kept the daemon over its bound for {:?} without a byte written \
                             (count: clients cut since the last such line)",
                            self.options.stuck_after
                        );
                    });
                    return;
                }
                () = fallen, if paused => {}
                out = self.out.recv(), if self.inputs_open && room && !paused => match out {
                    Some(Out::Line(line)) => self.push(line),
                    Some(Out::Page(line)) => self.push_charged(line),
                    Some(Out::Filter { reply, types, subscription }) => {
                        if let Some(reply) = reply {
                            self.push(reply);
                        }
                        if types.is_empty() {
                            self.subscription = None;
                        } else if subscription.is_some() {
                            self.subscription = subscription;
                        }
                        self.types = types;
                    }
                    None => self.inputs_open = false,
                },
                event = next_event(&mut self.subscription), if room => match event {
                    Ok(event) => {
                        let wanted = self.types.contains(&event.kind)
                            || matches!(event.event, Some(Event::Error { .. }));
                        if wanted {
                            self.push_event(event.line(), event.seq);
                        }
                    }
                    Err(BusError::Lagged { last_seq }) => {
                        // The queue is dropped: what the client got ends before its first event.
                        let last_seq = self
                            .queue
                            .iter()
                            .find_map(|(_, seq)| *seq)
                            .map_or(last_seq, |first| first.saturating_sub(1));
                        let message = format!(
                            "this subscriber fell behind further than the journal reaches back; \
                             it is disconnected after seq {last_seq}: subscribe again with since"
                        );
                        return self.evict(writing, idle, message, last_seq).await;
                    }
                    // The daemon is stopping; replies can still go out.
                    Err(BusError::Closed) => self.subscription = None,
                },
            }
        }
        if let Some(mut write) = idle {
            let _ = write.shutdown().await;
        }
    }

    /// The queued lines, whole, up to [`WRITE_CHUNK`] bytes (at least one line): one write
    /// for many events instead of a system call each.
    fn take_chunk(&mut self) -> String {
        let mut chunk = self.queue.pop_front().unwrap_or_default().0;
        while let Some((next, _)) = self.queue.front()
            && chunk.len() + next.len() <= WRITE_CHUNK
        {
            let (next, _) = self.queue.pop_front().unwrap_or_default();
            chunk.push_str(&next);
        }
        self.queued_bytes -= chunk.len();
        chunk
    }

    fn push(&mut self, line: String) {
        self.account.grow(line.len());
        self.push_charged(line);
    }

    /// [`Writer::push`] of an event line, with its seq.
    fn push_event(&mut self, line: String, seq: Option<u64>) {
        self.account.grow(line.len());
        self.queued_bytes += line.len();
        self.queue.push_back((line, seq));
    }

    /// Queues a line already in the account (a bulk page, counted since it was built).
    fn push_charged(&mut self, line: String) {
        self.queued_bytes += line.len();
        self.queue.push_back((line, None));
    }

    /// Drops the backlog, lets the line being written finish and sends the `error` event, each
    /// within the grace period, then closes the connection.
    async fn evict(
        self,
        writing: Option<Writing>,
        idle: Option<OwnedWriteHalf>,
        message: String,
        last_seq: u64,
    ) {
        debug!(%message, "disconnecting a lagging subscriber");
        let grace = self.options.evict_grace;
        drop(self);
        let write = match (writing, idle) {
            (Some(writing), _) => match timeout(grace, writing.future).await {
                Ok((write, Ok(()))) => write,
                _ => return,
            },
            (None, Some(write)) => write,
            (None, None) => return,
        };
        let event = Event::Error {
            kind: LAGGED.to_owned(),
            message,
            last_seq: Some(last_seq),
        };
        let line = Stamped::new(event, None, journal::unix_ms()).line();
        let mut write = write;
        let _ = timeout(grace, async {
            write.write_all(line.as_bytes()).await?;
            write.shutdown().await
        })
        .await;
    }
}

async fn finish_write(writing: &mut Option<Writing>) -> (OwnedWriteHalf, io::Result<()>) {
    match writing {
        Some(writing) => (&mut writing.future).await,
        None => std::future::pending().await,
    }
}

/// Resolves at `deadline`; never without one.
async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn next_event(subscription: &mut Option<Subscription>) -> Result<Arc<Stamped>, BusError> {
    match subscription {
        Some(subscription) => subscription.recv().await,
        None => std::future::pending().await,
    }
}
