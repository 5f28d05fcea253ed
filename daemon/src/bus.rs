//! Event fan-out from the session to every subscriber, through the journal.
//!
//! An event is published once; the journal ([`crate::journal`]) gives it its `seq` and commits
//! it, then one bounded broadcast ring carries it to every subscriber. The bus keeps the latest
//! `state` event, so a plain subscriber starts from the current state and then sees every change
//! after it, with no gap and no duplicate between the two.
//!
//! A subscriber that falls more than the ring's capacity behind is not dropped: it goes back to
//! the journal, reads what it missed at its own pace, and joins the live stream again
//! (duplicates are skipped by seq). Only when the journal has pruned past it does it get
//! [`BusError::Lagged`]. A subscription can also start in the past ([`Bus::subscribe_since`]).
//!
//! ```text
//! publish ─▶ journal thread (seq, commit) ─▶ ring ─▶ subscriber … lagged ─▶ journal pages ─▶ ring
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use waweb_proto::{Event, State};

use crate::journal::{self, Journal, Stamped, unix_ms};

/// How many events a subscriber may fall behind before it reads from the journal instead.
pub const DEFAULT_CAPACITY: usize = 4096;

/// The event bus. Cloning is cheap; all clones publish to the same subscribers.
#[derive(Debug, Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: broadcast::Sender<Arc<Stamped>>,
    /// Delivering and subscribing both happen under this lock, so a new subscriber sees either
    /// the old state plus the new one as a delta, or the new one as its snapshot, never both
    /// and never neither; and knows exactly which seqs reached the ring before it.
    delivered: Mutex<Delivered>,
    /// Set once the daemon has opened its database; before that (and in tests without one)
    /// events go out unjournaled, without `seq`.
    journal: OnceLock<Journal>,
    /// The daemon's counters: every delivered event is counted here, once.
    metrics: crate::metrics::Metrics,
}

/// What has gone into the ring so far.
#[derive(Debug, Default)]
struct Delivered {
    /// The latest `state` event.
    state: Option<Arc<Stamped>>,
    /// The newest journaled seq sent.
    seq: u64,
}

impl Inner {
    fn deliver(&self, stamped: Arc<Stamped>) {
        if let Some(event) = &stamped.event {
            self.metrics.observe(event);
        }
        let mut delivered = lock(&self.delivered);
        if matches!(stamped.event, Some(Event::State { .. })) {
            delivered.state = Some(stamped.clone());
        }
        if let Some(seq) = stamped.seq {
            delivered.seq = delivered.seq.max(seq);
        }
        let _ = self.sender.send(stamped);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The lock guards a plain `Option`; a panic elsewhere cannot leave it half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    /// A bus whose subscribers may fall [`DEFAULT_CAPACITY`] events behind the live stream.
    pub fn new() -> Bus {
        Bus::with_capacity(DEFAULT_CAPACITY)
    }

    /// A bus whose subscribers may fall `capacity` events behind (at least 1).
    pub fn with_capacity(capacity: usize) -> Bus {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Bus {
            inner: Arc::new(Inner {
                sender,
                delivered: Mutex::new(Delivered::default()),
                journal: OnceLock::new(),
                metrics: crate::metrics::Metrics::new(),
            }),
        }
    }

    /// Where the journal delivers committed events: this bus's subscribers (it holds the bus
    /// weakly, so dropping every [`Bus`] still closes the subscriptions).
    pub fn deliverer(&self) -> journal::Deliver {
        let inner = Arc::downgrade(&self.inner);
        Box::new(move |stamped| {
            if let Some(inner) = inner.upgrade() {
                inner.deliver(stamped);
            }
        })
    }

    /// From now on every event is journaled first. Set once; later calls are ignored.
    pub fn attach(&self, journal: Journal) {
        let _ = self.inner.journal.set(journal);
    }

    /// The daemon's counters.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// The journal, once attached.
    pub fn journal(&self) -> Option<&Journal> {
        self.inner.journal.get()
    }

    /// Publishes an event: journaled and then sent to every subscriber; without a journal
    /// (before the database is open) sent at once without `seq`. With no subscribers it is
    /// simply not sent (a `state` event is kept as the snapshot).
    pub fn publish(&self, event: Event) {
        let event = match self.inner.journal.get() {
            Some(journal) => match journal.append(event) {
                Ok(()) => return,
                // The journal thread is gone (shutdown): still tell whoever listens.
                Err(event) => event,
            },
            None => event,
        };
        self.deliver_unjournaled(event);
    }

    /// Sends an event to every subscriber without `seq`: there is no journal (yet, or any more).
    pub fn deliver_unjournaled(&self, event: Event) {
        self.inner
            .deliver(Arc::new(Stamped::new(event, None, unix_ms())));
    }

    /// Waits until every event published so far has been journaled and delivered.
    pub async fn flush(&self) {
        if let Some(journal) = self.inner.journal.get() {
            journal.flush().await;
        }
    }

    /// Commits what is queued and stops the journal (the daemon is stopping).
    pub async fn close(&self) {
        if let Some(journal) = self.inner.journal.get() {
            journal.close().await;
        }
    }

    /// A new subscription: the current `state` event first (if any was published), then every
    /// event published from now on.
    pub fn subscribe(&self) -> Subscription {
        let delivered = lock(&self.inner.delivered);
        // Everything up to `delivered.seq` went out before this receiver existed, everything
        // after comes through it: the position is exact, nothing is skipped that it lacks.
        let position = delivered.seq;
        Subscription {
            snapshot: delivered.state.clone(),
            receiver: self.inner.sender.subscribe(),
            inner: Arc::downgrade(&self.inner),
            position,
            replay: None,
        }
    }

    /// A subscription that first replays every journaled event after `since` (from the oldest
    /// kept, if those were pruned), then goes live with no gap and no duplicate. Without a
    /// journal it is a plain live subscription without the snapshot.
    pub fn subscribe_since(&self, since: u64) -> Subscription {
        let receiver = self.inner.sender.subscribe();
        let replay = self.journal().map(|_| Replay::new(false));
        Subscription {
            snapshot: None,
            receiver,
            inner: Arc::downgrade(&self.inner),
            position: since,
            replay,
        }
    }

    /// The state of the latest `state` event, if any was delivered.
    pub fn current_state(&self) -> Option<State> {
        match lock(&self.inner.delivered).state.as_deref() {
            Some(Stamped {
                event: Some(Event::State { state, .. }),
                ..
            }) => Some(*state),
            _ => None,
        }
    }

    /// How many subscriptions are alive.
    pub fn subscriber_count(&self) -> usize {
        self.inner.sender.receiver_count()
    }
}

/// The journal's head before a page was read, and the page.
type HeadAndPage = (u64, VecDeque<Stamped>);

/// Reading the journal instead of the ring.
#[derive(Debug)]
struct Replay {
    page: VecDeque<Stamped>,
    /// A page being read, with the head as it was before the read began.
    fetch: Option<JoinHandle<Result<HeadAndPage, journal::Error>>>,
    /// After falling behind: a pruned stretch is an error (for a replay the subscriber asked
    /// for, `subscribe` already said `gap`).
    catching_up: bool,
}

impl Replay {
    fn new(catching_up: bool) -> Replay {
        Replay {
            page: VecDeque::new(),
            fetch: None,
            catching_up,
        }
    }
}

/// One subscriber's view of the bus.
#[derive(Debug)]
pub struct Subscription {
    snapshot: Option<Arc<Stamped>>,
    receiver: broadcast::Receiver<Arc<Stamped>>,
    inner: Weak<Inner>,
    /// The last journaled seq handed out (or skipped as already known).
    position: u64,
    replay: Option<Replay>,
}

/// Why a subscription yielded no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The subscriber fell behind further than the journal reaches back (or there is no
    /// journal); `last_seq` is the last journaled seq it was given. It should be dropped: its
    /// view is no longer complete.
    #[error("fell behind past what the journal keeps (last seq {last_seq})")]
    Lagged {
        /// The last journaled seq handed out.
        last_seq: u64,
    },
    /// Every [`Bus`] clone is gone: the daemon is shutting down.
    #[error("the event bus is closed")]
    Closed,
}

impl Subscription {
    /// The next event: the snapshot first, then the replay (if any), then live events in the
    /// order they were committed. Cancel-safe: a page being read is kept for the next call.
    pub async fn recv(&mut self) -> Result<Arc<Stamped>, BusError> {
        loop {
            if let Some(snapshot) = self.snapshot.take() {
                return Ok(snapshot);
            }
            if self.replay.is_some() {
                match self.next_replayed().await? {
                    Some(event) => return Ok(event),
                    None => continue,
                }
            }
            match self.receiver.recv().await {
                Ok(event) => {
                    if let Some(seq) = event.seq {
                        if seq <= self.position {
                            continue;
                        }
                        self.position = seq;
                    }
                    return Ok(event);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let inner = self.inner.upgrade().ok_or(BusError::Closed)?;
                    if inner.journal.get().is_none() {
                        return Err(BusError::Lagged {
                            last_seq: self.position,
                        });
                    }
                    // Back to the journal from where this subscriber is; the new receiver is
                    // taken first, so nothing committed from now on is missed.
                    self.receiver = inner.sender.subscribe();
                    self.replay = Some(Replay::new(true));
                }
                Err(broadcast::error::RecvError::Closed) => return Err(BusError::Closed),
            }
        }
    }

    /// The next replayed event; `None` when the replay has caught up (it then ends).
    async fn next_replayed(&mut self) -> Result<Option<Arc<Stamped>>, BusError> {
        let lagged = BusError::Lagged {
            last_seq: self.position,
        };
        let Some(replay) = &mut self.replay else {
            return Ok(None);
        };
        if let Some(event) = replay.page.pop_front() {
            self.position = event.seq.unwrap_or(self.position);
            return Ok(Some(Arc::new(event)));
        }
        let inner = self.inner.upgrade().ok_or(BusError::Closed)?;
        let Some(journal) = inner.journal.get().cloned() else {
            self.replay = None;
            return Ok(None);
        };
        drop(inner);
        let fetch = replay.fetch.get_or_insert_with(|| {
            let db = journal.db().clone();
            let after = self.position;
            tokio::task::spawn_blocking(move || {
                // The head is taken before the read: it is stored only after its commit, so
                // every seq up to it is visible to the read. A head taken after the read may
                // include a batch committed meanwhile, which an empty page would then wrongly
                // show as pruned.
                let head = journal.head();
                let page = journal::read_page(&db.reader()?, after, i64::MAX as u64)?;
                Ok((head, page))
            })
        });
        let page = fetch.await;
        replay.fetch = None;
        let (head, page) = match page {
            Ok(Ok(read)) => read,
            Ok(Err(error)) => {
                tracing::warn!("a subscriber's replay could not read the journal: {error}");
                return Err(lagged);
            }
            Err(_) => return Err(lagged),
        };
        let first = page.front().and_then(|event| event.seq);
        match first {
            Some(first) if first > self.position + 1 => {
                if replay.catching_up {
                    return Err(lagged);
                }
                // The subscriber asked for a start that was pruned; `gap` told it.
                self.position = first - 1;
            }
            None if replay.catching_up && head > self.position => {
                // Everything after it is gone: pruned by age while it was behind.
                return Err(lagged);
            }
            None => {
                self.replay = None;
                return Ok(None);
            }
            Some(_) => {}
        }
        replay.page = page;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(state: State) -> Event {
        Event::State {
            state,
            reason: None,
            message: None,
        }
    }

    async fn next(subscription: &mut Subscription) -> Event {
        let stamped = subscription.recv().await.unwrap();
        assert_eq!(stamped.seq, None, "no journal, no seq");
        stamped.event.clone().unwrap()
    }

    fn json(tag: &str) -> Event {
        Event::Json {
            tag: tag.into(),
            payload: serde_json::Value::Null,
        }
    }

    #[tokio::test]
    async fn a_new_subscriber_starts_from_the_current_state() {
        let bus = Bus::new();
        bus.publish(json("before anyone listened"));
        bus.publish(state(State::Connecting));
        bus.publish(state(State::Pairing));
        let mut subscription = bus.subscribe();
        bus.publish(json("after"));
        assert_eq!(next(&mut subscription).await, state(State::Pairing));
        assert_eq!(next(&mut subscription).await, json("after"));
        assert_eq!(bus.current_state(), Some(State::Pairing));
        assert_eq!(bus.subscriber_count(), 1);
    }

    #[tokio::test]
    async fn without_a_state_there_is_no_snapshot() {
        let bus = Bus::new();
        let mut subscription = bus.subscribe();
        bus.publish(json("first"));
        assert_eq!(next(&mut subscription).await, json("first"));
        assert_eq!(bus.current_state(), None);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged_and_others_are_not() {
        let bus = Bus::with_capacity(4);
        let mut slow = bus.subscribe();
        let mut fast = bus.subscribe();
        for n in 0..10 {
            bus.publish(json(&n.to_string()));
            assert_eq!(next(&mut fast).await, json(&n.to_string()));
        }
        assert_eq!(
            slow.recv().await.unwrap_err(),
            BusError::Lagged { last_seq: 0 }
        );
    }

    #[tokio::test]
    async fn dropping_every_bus_closes_subscriptions() {
        let bus = Bus::new();
        let mut subscription = bus.subscribe();
        drop(bus);
        assert_eq!(subscription.recv().await.unwrap_err(), BusError::Closed);
    }
}
