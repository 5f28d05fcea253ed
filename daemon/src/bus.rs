//! Event fan-out from the session to every subscriber.
//!
//! One bounded broadcast ring carries each event once, shared by all subscribers; a subscriber
//! that falls more than the ring's capacity behind loses its place and is told so
//! ([`BusError::Lagged`]) instead of making the daemon buffer for it. The bus also keeps the
//! latest `state` event, so a subscriber starts from the current state and then sees every change
//! after it, with no gap and no duplicate between the two.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;
use waweb_proto::{Event, State};

/// How many events a subscriber may fall behind before it is considered lagging.
pub const DEFAULT_CAPACITY: usize = 4096;

/// The event bus. Cloning is cheap; all clones publish to the same subscribers.
#[derive(Debug, Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: broadcast::Sender<Arc<Event>>,
    /// The latest `state` event. Publishing a state and subscribing both happen under this
    /// lock, so a new subscriber sees either the old state plus the new one as a delta, or the
    /// new one as its snapshot, never both and never neither.
    state: Mutex<Option<Arc<Event>>>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    /// A bus whose subscribers may fall [`DEFAULT_CAPACITY`] events behind.
    pub fn new() -> Bus {
        Bus::with_capacity(DEFAULT_CAPACITY)
    }

    /// A bus whose subscribers may fall `capacity` events behind (at least 1).
    pub fn with_capacity(capacity: usize) -> Bus {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Bus {
            inner: Arc::new(Inner {
                sender,
                state: Mutex::new(None),
            }),
        }
    }

    /// Sends an event to every current subscriber; with no subscribers it is simply dropped
    /// (apart from a `state` event, which is kept as the snapshot).
    pub fn publish(&self, event: Event) {
        let event = Arc::new(event);
        if matches!(*event, Event::State { .. }) {
            let mut state = self.lock_state();
            *state = Some(event.clone());
            let _ = self.inner.sender.send(event);
        } else {
            let _ = self.inner.sender.send(event);
        }
    }

    /// A new subscription: the current `state` event first (if any was published), then every
    /// event published from now on.
    pub fn subscribe(&self) -> Subscription {
        let state = self.lock_state();
        Subscription {
            snapshot: state.clone(),
            receiver: self.inner.sender.subscribe(),
        }
    }

    /// The state of the latest `state` event, if any was published.
    pub fn current_state(&self) -> Option<State> {
        match self.lock_state().as_deref() {
            Some(Event::State { state, .. }) => Some(*state),
            _ => None,
        }
    }

    /// How many subscriptions are alive.
    pub fn subscriber_count(&self) -> usize {
        self.inner.sender.receiver_count()
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, Option<Arc<Event>>> {
        // The lock guards a plain `Option`; a panic elsewhere cannot leave it half-written.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One subscriber's view of the bus.
#[derive(Debug)]
pub struct Subscription {
    snapshot: Option<Arc<Event>>,
    receiver: broadcast::Receiver<Arc<Event>>,
}

/// Why a subscription yielded no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The subscriber fell behind and this many events were lost to it. It should be dropped:
    /// its view is no longer complete.
    #[error("fell {0} events behind")]
    Lagged(u64),
    /// Every [`Bus`] clone is gone: the daemon is shutting down.
    #[error("the event bus is closed")]
    Closed,
}

impl Subscription {
    /// The next event: the snapshot first, then the events in the order they were published.
    pub async fn recv(&mut self) -> Result<Arc<Event>, BusError> {
        if let Some(snapshot) = self.snapshot.take() {
            return Ok(snapshot);
        }
        match self.receiver.recv().await {
            Ok(event) => Ok(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Err(BusError::Lagged(missed)),
            Err(broadcast::error::RecvError::Closed) => Err(BusError::Closed),
        }
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
        assert_eq!(*subscription.recv().await.unwrap(), state(State::Pairing));
        assert_eq!(*subscription.recv().await.unwrap(), json("after"));
        assert_eq!(bus.current_state(), Some(State::Pairing));
        assert_eq!(bus.subscriber_count(), 1);
    }

    #[tokio::test]
    async fn without_a_state_there_is_no_snapshot() {
        let bus = Bus::new();
        let mut subscription = bus.subscribe();
        bus.publish(json("first"));
        assert_eq!(*subscription.recv().await.unwrap(), json("first"));
        assert_eq!(bus.current_state(), None);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged_and_others_are_not() {
        let bus = Bus::with_capacity(4);
        let mut slow = bus.subscribe();
        let mut fast = bus.subscribe();
        for n in 0..10 {
            bus.publish(json(&n.to_string()));
            assert_eq!(*fast.recv().await.unwrap(), json(&n.to_string()));
        }
        assert_eq!(slow.recv().await.unwrap_err(), BusError::Lagged(6));
    }

    #[tokio::test]
    async fn dropping_every_bus_closes_subscriptions() {
        let bus = Bus::new();
        let mut subscription = bus.subscribe();
        drop(bus);
        assert_eq!(subscription.recv().await.unwrap_err(), BusError::Closed);
    }
}
