//! The session file as the actor sees it: saves and erases applied in order by one task, on
//! blocking threads (they fsync), off the actor's loop. A save is awaited and retried a few
//! times, so a login is only reported once it would survive a crash; why the last save failed
//! is kept for `status` until one succeeds.
//!
//! ```text
//! save(credentials) -> Ok   (on disk)    | Err  (tried at 0, 100 ms, 400 ms; error() says why)
//! erase()           -> the file and any temp files are gone
//! ```

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;
use waweb_core::login::Credentials;

use crate::store::Store;

/// Pauses before the quick retries of a failed save (a full disk may clear up, a descriptor
/// may free), before the save is reported as failed. Slower retries are the connection's
/// (`waweb_core::session::connection::SAVE_RETRY_FIRST`).
const SAVE_RETRIES: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(100),
    Duration::from_millis(400),
];

/// A change to the session file, applied in order by one task.
enum Op {
    Save(Box<Credentials>, oneshot::Sender<Result<(), String>>),
    Erase(oneshot::Sender<()>),
}

/// The writer task, started on first use.
pub(super) struct SessionFile {
    store: Store,
    tasks: TaskTracker,
    writer: Option<(mpsc::UnboundedSender<Op>, tokio::task::JoinHandle<()>)>,
    error: Option<String>,
}

impl SessionFile {
    pub(super) fn new(store: Store, tasks: TaskTracker) -> Self {
        SessionFile {
            store,
            tasks,
            writer: None,
            error: None,
        }
    }

    /// Why the last save failed, until one succeeds.
    pub(super) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn send(&mut self, op: Op) {
        let (ops, _) = self.writer.get_or_insert_with(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let task = self.tasks.spawn(apply(self.store.clone(), receiver));
            (sender, task)
        });
        let _ = ops.send(op);
    }

    /// Stores the session and waits until it is on disk, retrying a few times.
    pub(super) async fn save(&mut self, credentials: &Credentials) -> Result<(), ()> {
        for pause in SAVE_RETRIES {
            tokio::time::sleep(pause).await;
            let (done, saved) = oneshot::channel();
            self.send(Op::Save(Box::new(credentials.clone()), done));
            let error = match saved.await {
                Ok(Ok(())) => {
                    if self.error.take().is_some() {
                        tracing::info!("the session is stored again");
                    }
                    return Ok(());
                }
                Ok(Err(error)) => error,
                Err(_) => "the session writer stopped".to_owned(),
            };
            tracing::error!("could not store the session: {error}");
            self.error = Some(error);
        }
        Err(())
    }

    /// Removes the session file and waits until it is gone.
    pub(super) async fn erase(&mut self) {
        self.error = None;
        let (done, erased) = oneshot::channel();
        self.send(Op::Erase(done));
        let _ = erased.await;
    }

    /// Waits for the writes still queued.
    pub(super) async fn close(&mut self) {
        if let Some((ops, task)) = self.writer.take() {
            drop(ops);
            let _ = task.await;
        }
    }
}

/// Applies session-file changes in the order they were made, on blocking threads.
async fn apply(store: Store, mut ops: mpsc::UnboundedReceiver<Op>) {
    while let Some(op) = ops.recv().await {
        let store = store.clone();
        let _ = tokio::task::spawn_blocking(move || match op {
            Op::Save(credentials, done) => {
                let _ = done.send(store.save(&credentials).map_err(|error| error.to_string()));
            }
            Op::Erase(done) => {
                if let Err(error) = store.erase() {
                    tracing::error!("could not erase the session file: {error}");
                }
                let _ = done.send(());
            }
        })
        .await;
    }
}
