//! Every task the simulator starts, in one tracker with one stop token, so
//! [`crate::Sim::shutdown`] leaves nothing running: accept loops, connections, timers.
//!
//! ```text
//! tasks.spawn(accept_loop)     // cancelled at shutdown
//! tasks.spawn_to_end(writer)   // ends by itself (its channel closes); awaited at shutdown
//! tasks.stop().await           // cancel, then wait for every task
//! ```

use std::future::Future;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A cheap, cloneable handle to the simulator's task set.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Tasks {
    /// Runs `task` until it ends or the simulator stops.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tracker.spawn(async move {
            let _ = stop.run_until_cancelled(task).await;
        });
    }

    /// Runs `task`, which ends by itself once the simulator stops (a writer whose channel
    /// closes, after it sent its close frame), to its end.
    pub fn spawn_to_end<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// Cancels every task and waits until all have ended.
    pub async fn stop(&self) {
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}
