//! The replies not yet written, of all connections together: one budget, so clients that ask
//! for bulk pages and never read them cannot grow the daemon without bound (DESIGN.md 15.1).
//!
//! Each connection's writer queue is bounded on its own ([`super::Options::queue_bytes`]),
//! but 256 connections may each fill theirs. Every connection keeps an [`Account`] of what it
//! holds unwritten (its queue, the chunk being written, and bulk pages built for it and not yet
//! queued) in the one [`Backlog`]. Past [`super::Options::max_unwritten_bytes`]:
//!
//! ```text
//! writer, queue not empty -> takes nothing more from its channel (the reader, then the
//!                            client's next requests wait: backpressure)
//! writer, queue empty     -> still takes one line (a reading client is served)
//! bulk page to build      -> waits for room, unless its connection holds nothing unwritten;
//!                            at most BULK_BUILDS are built at once
//! writer stuck for the deadline holding more than half its share -> disconnected
//! ```
//!
//! So the total stays under the bound plus one line per connection plus `BULK_BUILDS` pages.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use waweb_proto::{Call, Id, Reply};

use super::throttled::Throttled;
use super::{Out, response_line};
use crate::bus::Bus;

/// How many bulk pages may be built at once, daemon-wide.
pub(crate) const BULK_BUILDS: usize = 2;

/// The unwritten reply bytes of all connections.
#[derive(Debug)]
pub(crate) struct Backlog {
    held: AtomicUsize,
    max: usize,
    /// Connections holding unwritten bytes now.
    busy: AtomicUsize,
    /// Woken whenever `held` falls from the bound or above to below it.
    room: Notify,
    builds: Arc<Semaphore>,
    /// `held` as the metric `waweb_socket_unwritten_bytes`.
    gauge: Gauge,
    /// The disconnect warning, one for all connections: a crowd of clients that do not read
    /// gets one line, then a count at most every 10 s ([`Throttled`]).
    cuts: Mutex<Throttled>,
}

impl Backlog {
    /// A bound of `max` bytes; `gauge` follows what is held.
    pub(crate) fn new(max: usize, gauge: Gauge) -> Arc<Backlog> {
        Arc::new(Backlog {
            held: AtomicUsize::new(0),
            max,
            busy: AtomicUsize::new(0),
            room: Notify::new(),
            builds: Arc::new(Semaphore::new(BULK_BUILDS)),
            gauge,
            cuts: Mutex::new(Throttled::new("clients disconnected for not reading")),
        })
    }

    /// The bytes held now.
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// True when the total is at the bound or above it.
    pub(crate) fn over(&self) -> bool {
        self.held() >= self.max
    }

    /// An equal part of the bound for each connection holding unwritten bytes.
    pub(crate) fn share(&self) -> usize {
        self.max / self.busy.load(Ordering::Acquire).max(1)
    }

    /// Resolves once `ready` holds, checked now and after each time the total falls below the
    /// bound.
    pub(crate) async fn until(&self, ready: impl Fn() -> bool) {
        loop {
            // Registered before the check, so a fall in between is not missed.
            let fallen = self.room.notified();
            if ready() {
                return;
            }
            fallen.await;
        }
    }

    /// Registers for the next fall below the bound (see [`Backlog::until`]).
    pub(crate) fn fallen(&self) -> tokio::sync::futures::Notified<'_> {
        self.room.notified()
    }

    /// Counts a connection disconnected for not reading; `log` gets the count of them since
    /// the last line when it is time for one.
    pub(crate) fn cut(&self, log: impl FnOnce(u64)) {
        self.cuts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .hit(log);
    }

    fn add(&self, bytes: usize) {
        self.held.fetch_add(bytes, Ordering::AcqRel);
        self.gauge.inc_by(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    fn sub(&self, bytes: usize) {
        let before = self.held.fetch_sub(bytes, Ordering::AcqRel);
        self.gauge.dec_by(i64::try_from(bytes).unwrap_or(i64::MAX));
        if before >= self.max && before - bytes < self.max {
            self.room.notify_waiters();
        }
    }
}

/// One connection's part of the [`Backlog`], shared by its writer and its request tasks; what
/// is left in it goes back when the last of them is gone (the connection ended).
#[derive(Debug, Clone)]
pub(crate) struct Account {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    backlog: Arc<Backlog>,
    bytes: AtomicUsize,
}

impl Account {
    pub(crate) fn new(backlog: Arc<Backlog>) -> Account {
        Account {
            inner: Arc::new(Inner {
                backlog,
                bytes: AtomicUsize::new(0),
            }),
        }
    }

    pub(crate) fn backlog(&self) -> &Arc<Backlog> {
        &self.inner.backlog
    }

    /// The bytes this connection holds unwritten.
    pub(crate) fn bytes(&self) -> usize {
        self.inner.bytes.load(Ordering::Acquire)
    }

    pub(crate) fn grow(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        if self.inner.bytes.fetch_add(bytes, Ordering::AcqRel) == 0 {
            self.backlog().busy.fetch_add(1, Ordering::AcqRel);
        }
        self.backlog().add(bytes);
    }

    pub(crate) fn shrink(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        if self.inner.bytes.fetch_sub(bytes, Ordering::AcqRel) == bytes {
            self.backlog().busy.fetch_sub(1, Ordering::AcqRel);
        }
        self.backlog().sub(bytes);
    }

    /// True while the total is over the bound and this connection holds more than half of its
    /// share: it is one of those keeping the total up.
    pub(crate) fn over_share(&self) -> bool {
        let backlog = self.backlog();
        backlog.over() && self.bytes().saturating_mul(2) > backlog.share()
    }

    /// Waits until a bulk page may be built for this connection: the total is under the bound
    /// or this connection holds nothing unwritten, and a build slot is free. The slot is the
    /// returned permit.
    pub(crate) async fn room_to_build(&self) -> Option<OwnedSemaphorePermit> {
        let backlog = self.backlog();
        let ready = || !backlog.over() || self.bytes() == 0;
        loop {
            backlog.until(ready).await;
            let permit = backlog.builds.clone().acquire_owned().await.ok()?;
            // Others may have built while this one waited for the slot.
            if ready() {
                return Some(permit);
            }
        }
    }

    /// Runs a request (`build`) and hands its reply line to the writer (with an `id`). A bulk
    /// one is started only once there is room, encoded on a blocking thread (a page of 1 MiB
    /// would hold a runtime thread for a long while), and in this account from then on.
    pub(crate) async fn answer(
        &self,
        bulk: bool,
        out: &mpsc::Sender<Out>,
        bus: &Bus,
        id: Option<Id>,
        build: impl Future<Output = Reply>,
    ) {
        if !bulk {
            let reply = build.await;
            if id.is_some() {
                let _ = out
                    .send(Out::Line(response_line(bus.metrics(), id, reply)))
                    .await;
            }
            return;
        }
        let Some(permit) = self.room_to_build().await else {
            return;
        };
        let reply = build.await;
        if id.is_none() {
            return;
        }
        let bus = bus.clone();
        let encode = move || response_line(bus.metrics(), id, reply);
        let Ok(line) = tokio::task::spawn_blocking(encode).await else {
            return;
        };
        let bytes = line.len();
        self.grow(bytes);
        drop(permit);
        if out.send(Out::Page(line)).await.is_err() {
            self.shrink(bytes);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let bytes = *self.bytes.get_mut();
        if bytes > 0 {
            self.backlog.busy.fetch_sub(1, Ordering::AcqRel);
            self.backlog.sub(bytes);
        }
    }
}

/// The methods whose replies are pages of stored data, as large as their `limit` makes them.
pub(crate) fn is_bulk(call: &Call) -> bool {
    matches!(
        call,
        Call::Events(_)
            | Call::Messages(_)
            | Call::Search(_)
            | Call::Chats(_)
            | Call::Contacts(_)
            | Call::Outbox
            | Call::Blocklist
            | Call::Consumers
    )
}
