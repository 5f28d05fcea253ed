//! The connection tasks, and the limit on how many run at once ([`Options::max_connections`]).
//!
//! A client that hung up still holds its place until its task reads the end of the stream.
//! Under a burst of connect-and-close that lags behind `accept`: a probe of 5,000 such
//! connections had the next, live client refused although no one else was connected. So at the
//! limit the accept loop first waits a moment for places to free up. When that wait finds none
//! (every place is a live client), the next refusals come at once for a while, so a flood of
//! live connections cannot hold the accept loop in waits.
//!
//! [`Options::max_connections`]: super::Options::max_connections

use std::future::Future;
use std::time::Duration;

use tokio::task::{JoinError, JoinSet};
use tokio::time::{Instant, timeout_at};
use tracing::warn;

/// How long the accept loop waits at the limit for a closed client's place.
const GRACE: Duration = Duration::from_millis(200);
/// After a wait that freed nothing, how long over-limit clients are refused without one.
const NO_GRACE_AFTER_A_VAIN_WAIT: Duration = Duration::from_secs(1);

pub(super) struct Slots {
    tasks: JoinSet<()>,
    limit: usize,
    vain_wait_at: Option<Instant>,
}

impl Slots {
    pub(super) fn new(limit: usize) -> Self {
        Slots {
            tasks: JoinSet::new(),
            limit,
            vain_wait_at: None,
        }
    }

    /// Whether one more connection fits: reaps the finished tasks and, at the limit, waits up
    /// to [`GRACE`] for one to finish (none after a vain wait in the last second).
    pub(super) async fn room(&mut self) -> bool {
        while let Some(done) = self.tasks.try_join_next() {
            log_panic(done);
        }
        if self.tasks.len() < self.limit {
            return true;
        }
        let now = Instant::now();
        if self
            .vain_wait_at
            .is_some_and(|at| now < at + NO_GRACE_AFTER_A_VAIN_WAIT)
        {
            return false;
        }
        let deadline = now + GRACE;
        while self.tasks.len() >= self.limit {
            match timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(done)) => log_panic(done),
                Ok(None) => break,
                Err(_) => {
                    self.vain_wait_at = Some(Instant::now());
                    return false;
                }
            }
        }
        true
    }

    pub(super) fn spawn(&mut self, connection: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(connection);
    }

    /// Waits for a connection task to end (never, while there is none).
    pub(super) async fn reap(&mut self) {
        match self.tasks.join_next().await {
            Some(done) => log_panic(done),
            None => std::future::pending().await,
        }
    }

    pub(super) async fn shutdown(&mut self) {
        self.tasks.shutdown().await;
    }
}

fn log_panic(done: Result<(), JoinError>) {
    if let Err(error) = done
        && error.is_panic()
    {
        warn!(%error, "a connection task panicked");
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;

    /// `n` tasks that end when their sender is dropped or fired.
    fn fill(slots: &mut Slots, n: usize) -> Vec<oneshot::Sender<()>> {
        (0..n)
            .map(|_| {
                let (end, ended) = oneshot::channel::<()>();
                slots.spawn(async move {
                    let _ = ended.await;
                });
                end
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn places_of_tasks_about_to_end_are_waited_for() {
        let mut slots = Slots::new(3);
        let ends = fill(&mut slots, 3);
        // Yield once so the three tasks start and wait.
        tokio::task::yield_now().await;
        // Their clients hung up, but on this thread the tasks have not run since.
        drop(ends);
        let before = Instant::now();
        assert!(slots.room().await, "a place freed up within the grace");
        assert!(before.elapsed() < GRACE);
    }

    #[tokio::test(start_paused = true)]
    async fn live_places_are_refused_after_one_wait_and_then_at_once() {
        let mut slots = Slots::new(2);
        let _ends = fill(&mut slots, 2);
        let before = Instant::now();
        assert!(!slots.room().await);
        assert_eq!(before.elapsed(), GRACE, "one wait of the grace");
        let before = Instant::now();
        assert!(!slots.room().await);
        assert_eq!(
            before.elapsed(),
            Duration::ZERO,
            "no wait right after a vain one"
        );
        tokio::time::advance(NO_GRACE_AFTER_A_VAIN_WAIT).await;
        let before = Instant::now();
        assert!(!slots.room().await);
        assert_eq!(before.elapsed(), GRACE, "a second later the grace is back");
    }

    #[tokio::test]
    async fn below_the_limit_there_is_room_at_once() {
        let mut slots = Slots::new(2);
        let _ends = fill(&mut slots, 1);
        assert!(slots.room().await);
    }
}
