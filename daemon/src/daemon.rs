//! The daemon as a library: wiring only. `main` (or a test) gives it a configuration and a
//! shutdown future; it loads the session, binds the socket, starts the session actor and serves
//! until the future resolves, then stops everything and removes the socket.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::bus::Bus;
use crate::config::Config;
use crate::db::Db;
use crate::ipc::{self, Listener, ListenerError};
use crate::journal::Journal;
use crate::session::{Actor, Command, SessionHandle};
use crate::store::{self, Store};
use crate::transport::Net;

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The state directory or the session file.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The control socket.
    #[error(transparent)]
    Socket(#[from] ListenerError),
    /// The TLS settings (the CA file).
    #[error(transparent)]
    Net(#[from] crate::http::Error),
    /// The database (`waweb.db`).
    #[error(transparent)]
    Db(#[from] crate::db::Error),
    /// The journal thread.
    #[error(transparent)]
    Journal(#[from] crate::journal::Error),
    /// The metrics endpoint (`--metrics-listen`).
    #[error(transparent)]
    Metrics(#[from] crate::metrics::http::BindError),
}

/// A daemon ready to run; its bus can be subscribed to and its session handle cloned before it
/// starts (the demo does both).
#[derive(Debug)]
pub struct Daemon {
    config: Arc<Config>,
    bus: Bus,
    handle: SessionHandle,
    commands: mpsc::Receiver<Command>,
    /// One shutdown for every task: the token stops them, the tracker waits for them all (the
    /// actor, the socket server, the session-file writer, media downloads, and whatever the
    /// binary runs beside them through [`Daemon::spawn`]).
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Daemon {
    /// A daemon for `config`.
    pub fn new(config: Config) -> Self {
        let (handle, commands) = SessionHandle::new(64);
        Self {
            config: Arc::new(config),
            bus: Bus::new(),
            handle,
            commands,
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Runs `task` beside the daemon (the watchdog, systemd's `STATUS=`): it is cancelled at
    /// shutdown and waited for like the daemon's own tasks.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let _ = stop.run_until_cancelled(task).await;
        });
    }

    /// A handle to the session, as the socket server has.
    pub fn handle(&self) -> SessionHandle {
        self.handle.clone()
    }

    /// The event bus every subscriber reads.
    pub fn bus(&self) -> Bus {
        self.bus.clone()
    }

    /// Runs until `shutdown` resolves. `on_ready` is called once the session is loaded and the
    /// socket is listening (the moment to tell systemd `READY=1`).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()>,
        on_ready: impl FnOnce(),
    ) -> Result<(), Error> {
        let net = Net::with_limits(self.config.ca_file.as_deref(), self.config.http)?;
        let store = open_store(&self.config.state_dir)?;
        let credentials = store.load()?;
        self.open_journal()?;
        tracing::info!(
            state_dir = %self.config.state_dir.display(),
            session_stored = credentials.is_some(),
            "session loaded"
        );
        let listener = Listener::bind(&self.config.socket)?;
        tracing::info!(socket = %listener.path().display(), "listening");
        let metrics_listener = match self.config.metrics_listen {
            Some(address) => Some(self.bind_metrics(address).await?),
            None => None,
        };
        let Daemon {
            config,
            bus,
            handle,
            commands,
            stop,
            tasks,
        } = self;
        let options = ipc::Options {
            max_connections: config.max_connections,
            ..ipc::Options::default()
        };
        let actor = Actor::new(
            config,
            net,
            (tasks.clone(), stop.clone()),
            store,
            bus.clone(),
            credentials,
            handle.downgrade(),
        );
        tasks.spawn(actor.run(commands));
        if let Some(metrics_listener) = metrics_listener {
            tasks.spawn(crate::metrics::http::serve(
                metrics_listener,
                handle.clone(),
                bus.clone(),
                (tasks.clone(), stop.clone()),
            ));
        }
        on_ready();
        tasks.spawn(ipc::serve_with(
            listener,
            handle,
            bus.clone(),
            options,
            stop.clone().cancelled_owned(),
        ));
        shutdown.await;
        tracing::info!("shutting down");
        stop.cancel();
        tasks.close();
        tasks.wait().await;
        // The last events (the final `state`) reach the database before the daemon exits.
        bus.close().await;
        Ok(())
    }

    /// Binds the metrics endpoint and records the bound address (port 0 becomes the real one)
    /// for `metrics` and the log.
    async fn bind_metrics(&self, address: std::net::SocketAddr) -> Result<TcpListener, Error> {
        let listener = crate::metrics::http::bind(address).await?;
        let bound = listener
            .local_addr()
            .map_err(|source| crate::metrics::http::BindError { address, source })?;
        self.bus.metrics().set_listen(bound);
        tracing::info!(address = %bound, "serving metrics");
        Ok(listener)
    }

    /// Opens `waweb.db` (moving a corrupt one aside) and puts the journal in front of the bus.
    fn open_journal(&self) -> Result<(), Error> {
        let opened = Db::open(&self.config.state_dir)?;
        if let Some(aside) = &opened.moved_aside {
            tracing::warn!(
                moved_to = %aside.display(),
                "the database was unreadable; it was moved aside and a new one started"
            );
        }
        let journal = Journal::start(
            opened.db,
            opened.writer,
            self.config.journal.clone(),
            self.bus.deliverer(),
        )?;
        tracing::info!(head = journal.head(), "journal open");
        self.bus.attach(journal);
        Ok(())
    }
}

/// Opens the state directory: finishes what a crash left of a save, and makes the daemon's
/// files that others could access 0600 (docs/DESIGN.md 15.2), saying so.
fn open_store(state_dir: &std::path::Path) -> Result<Store, Error> {
    let (store, leftovers) = Store::open(state_dir)?;
    if leftovers.recovered {
        tracing::warn!(
            "a save was interrupted after it was written: its session (the newest tokens) is now the session file"
        );
    }
    if leftovers.removed > 0 {
        tracing::warn!(
            count = leftovers.removed,
            "removed temp files of interrupted session saves"
        );
    }
    for file in store::tighten_files(state_dir)? {
        let mode = format!("{:04o}", file.mode);
        let path = file.path.display();
        if file.path == store.path() {
            tracing::warn!(%path, %mode, "the session file was open to other users; it is now 0600 (if others could read it, log out and pair again)");
        } else {
            tracing::warn!(%path, %mode, "a file of the daemon's was open to other users; it is now 0600");
        }
    }
    Ok(store)
}
