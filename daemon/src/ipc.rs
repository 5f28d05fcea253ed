//! The Unix socket server: JSON-RPC 2.0 lines in, replies and events out.
//!
//! [`Listener`] owns the socket file: it refuses to start next to a live daemon, replaces a
//! stale file, makes the file 0600 inside a 0700 directory and removes it again on drop.
//! [`serve`] runs one task per connection until the shutdown future resolves.
//!
//! Each connection has two halves running side by side. The reader takes lines (at most
//! [`MAX_LINE`] bytes; longer ones are skipped without being held in memory), answers what it
//! can at once (parse errors, `version`, `subscribe`), and spawns a task for every session
//! request, so a slow `query` does not hold up a `status` behind it. The writer is the only one
//! that touches the socket's write side: replies and events pass through one bounded queue, so
//! lines never interleave. An event that finds that queue full means the client is not reading;
//! it gets an `error` event and is disconnected, and nobody else notices.

use std::collections::BTreeSet;
use std::fs::{self, DirBuilder};
use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::unix::OwnedReadHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::{debug, warn};
use waweb_proto::{
    Call, ErrorKind, EventType, Id, MAX_LINE, PROTOCOL_VERSION, Reply, Response, RpcError,
    VersionResult,
};

use crate::bus::{Bus, Subscription};
use crate::metrics::Metrics;
use crate::session::{SessionError, SessionHandle};
use slots::Slots;

/// The WhatsApp Web version reported by `version` unless [`Options::wa_version`] says otherwise.
pub const WA_VERSION: [u32; 3] = [2, 2142, 12];

/// The default of [`Options::max_connections`]: far below the 1,024 descriptors systemd allows
/// by default, so the daemon's own files always find one.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Tuning of the socket server; [`Options::default`] is what the daemon uses.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `wa_version` of the `version` result.
    pub wa_version: [u32; 3],
    /// How many lines (replies and events) may wait to be written to one connection. An event
    /// arriving when this many are waiting disconnects the subscriber as lagging.
    pub queue_lines: usize,
    /// The same bound in bytes, so a few huge events cannot pile up either.
    pub queue_bytes: usize,
    /// How many requests of one connection may run at once; reading pauses beyond that.
    pub max_in_flight: usize,
    /// How long a lagging subscriber gets to take its last line and the `error` event before the
    /// connection is cut regardless.
    pub evict_grace: Duration,
    /// How many clients may be connected at once. One more is told so and closed at once, so
    /// socket clients can never use up the descriptors the websocket and the session file need.
    pub max_connections: usize,
    /// How many bytes of unfinished lines all connections together may hold (each one's line is
    /// bounded by `MAX_LINE` besides); a line that would go over is dropped with
    /// `line_too_long`.
    pub max_unfinished_bytes: usize,
    /// How many bytes of replies all connections together may hold unwritten; past it, writers
    /// with lines queued take no more and bulk pages wait (DESIGN.md 15.1).
    pub max_unwritten_bytes: usize,
    /// How long a client over its share of that bound may go without a byte written before it
    /// is disconnected.
    pub stuck_after: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            wa_version: WA_VERSION,
            queue_lines: 4096,
            queue_bytes: 32 << 20,
            max_in_flight: 64,
            evict_grace: Duration::from_secs(2),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_unfinished_bytes: 32 << 20,
            max_unwritten_bytes: 64 << 20,
            stuck_after: Duration::from_secs(10),
        }
    }
}

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    /// A daemon answered on the path.
    #[error("another wawebd is running on {}", path.display())]
    AlreadyRunning {
        /// The socket path.
        path: PathBuf,
    },
    /// Something other than a socket is at the path; it is left alone.
    #[error("{} exists and is not a socket; refusing to replace it", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// A filesystem or socket call failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ListenerError {
    let path = path.to_owned();
    move |source| ListenerError::Io {
        action,
        path,
        source,
    }
}

/// The bound socket; dropping it removes the socket file (if it is still ours).
///
/// Permissions: a missing parent directory is created 0700, and the socket file is 0600 from the
/// moment it exists: interprocess sets the mode on the socket with `fchmod` *before* `bind`, and
/// Linux gives the new file the socket's mode (masked by the umask, which can only narrow it), so
/// there is no window in which another user could connect. (tokio's `UnixListener::bind`
/// creates the file with `0777 & !umask` and needs a `chmod` afterwards; changing the umask
/// around it would race with every other thread creating files.) The 0700 directory and the
/// peer-credential check on every connection back this up, so even a socket in a shared
/// directory never serves another user.
///
/// Only the listener comes from interprocess: it wraps a plain [`UnixListener`], and every
/// connection stays a [`UnixStream`] (owned halves, `peer_cred`, the duplicated descriptor of
/// [`hung_up`]); interprocess's own `Stream` offers none of that better (its split halves are
/// deprecated in 2.4.7). docs/DESIGN.md section 1 has the measurements.
#[derive(Debug)]
pub struct Listener {
    listener: UdsListener,
    path: PathBuf,
    /// Device and inode of the file we bound, so drop never removes a successor's socket.
    identity: (u64, u64),
    /// Our effective uid: the one user (besides root) allowed to connect.
    owner: u32,
}

impl Listener {
    /// Binds the socket at `path`. Must be called within a Tokio runtime.
    pub fn bind(path: impl AsRef<Path>) -> Result<Listener, ListenerError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            prepare_dir(dir)?;
        }
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                match std::os::unix::net::UnixStream::connect(path) {
                    Ok(_) => {
                        return Err(ListenerError::AlreadyRunning {
                            path: path.to_owned(),
                        });
                    }
                    Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                        debug!(path = %path.display(), "removing a stale socket");
                        fs::remove_file(path).map_err(io_error("remove the stale socket", path))?;
                    }
                    Err(error) => return Err(io_error("probe the existing socket", path)(error)),
                }
            }
            Ok(_) => {
                return Err(ListenerError::NotASocket {
                    path: path.to_owned(),
                });
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error("inspect", path)(error)),
        }

        let listener = bind_private(path).map_err(io_error("bind", path))?;
        let finish = || -> Result<((u64, u64), u32), ListenerError> {
            // interprocess listens with a backlog of 128, where tokio's bind asked for the
            // system's maximum (-1: net.core.somaxconn); Linux updates the backlog of a socket
            // that listens again, so bursts of clients queue as they did.
            rustix::net::listen(listener.as_fd(), -1)
                .map_err(|error| io_error("listen on", path)(error.into()))?;
            // Already 0600 unless the umask took bits from the owner; then this restores them.
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .map_err(io_error("set the mode of", path))?;
            let meta = fs::symlink_metadata(path).map_err(io_error("inspect", path))?;
            Ok((
                (meta.dev(), meta.ino()),
                own_uid().map_err(io_error("find our uid for", path))?,
            ))
        };
        match finish() {
            Ok((identity, owner)) => Ok(Listener {
                listener,
                path: path.to_owned(),
                identity,
                owner,
            }),
            Err(error) => {
                let _ = fs::remove_file(path);
                Err(error)
            }
        }
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The listening socket, to accept on.
    fn inner(&self) -> &UnixListener {
        self.listener.inner()
    }
}

/// interprocess's Tokio listener on a Unix socket: a [`UnixListener`] inside.
type UdsListener = interprocess::os::unix::uds_local_socket::tokio::Listener;

/// Creates the socket file at `path` with mode 0600 from the start (`fchmod` before `bind`), and
/// listens on it. The file must not exist.
fn bind_private(path: &Path) -> io::Result<UdsListener> {
    use interprocess::local_socket::{GenericFilePath, ListenerOptions, ToFsName};
    use interprocess::os::unix::local_socket::ListenerOptionsExt;

    ListenerOptions::new()
        .name(path.to_fs_name::<GenericFilePath>()?)
        .mode(0o600)
        // Not interprocess's unconditional unlink on drop: ours checks that the file is still
        // the one we bound. A stale file was handled before, a live daemon refused.
        .reclaim_name(false)
        .try_overwrite(false)
        .create_tokio_as::<UdsListener>()
}

impl Drop for Listener {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|meta| (meta.dev(), meta.ino()) == self.identity);
        if ours && let Err(error) = fs::remove_file(&self.path) {
            warn!(path = %self.path.display(), %error, "cannot remove the socket");
        }
    }
}

fn prepare_dir(dir: &Path) -> Result<(), ListenerError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            if meta.permissions().mode() & 0o077 != 0 {
                warn!(
                    dir = %dir.display(),
                    "the socket's directory is open to other users; only the peer check protects the socket"
                );
            }
            Ok(())
        }
        Ok(_) => Err(io_error("use as the socket's directory", dir)(
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        )),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_error("create", dir))?;
            // The mode given to mkdir is masked by the umask; make sure it is exactly 0700.
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_error("set the mode of", dir))
        }
        Err(error) => Err(io_error("inspect", dir)(error)),
    }
}

/// Our effective uid, read as the kernel reports it to a peer: through a socket pair.
fn own_uid() -> io::Result<u32> {
    let (ours, _theirs) = UnixStream::pair()?;
    Ok(ours.peer_cred()?.uid())
}

/// Only our own user and root may use the socket.
fn peer_allowed(peer: u32, owner: u32) -> bool {
    peer == owner || peer == 0
}

#[cfg(test)]
mod listener_tests;
mod slots;

/// Serves the socket until `shutdown` resolves, then closes every connection and removes the
/// socket file. Uses [`Options::default`].
pub async fn serve(
    listener: Listener,
    handle: SessionHandle,
    bus: Bus,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, handle, bus, Options::default(), shutdown).await;
}

/// [`serve`] with explicit [`Options`].
pub async fn serve_with(
    listener: Listener,
    handle: SessionHandle,
    bus: Bus,
    options: Options,
    shutdown: impl Future<Output = ()>,
) {
    let backlog = Backlog::new(options.max_unwritten_bytes, bus.metrics().unwritten());
    let shared = Arc::new(Shared {
        handle,
        bus,
        owner: listener.owner,
        lines: LineBudget::new(options.max_unfinished_bytes),
        backlog,
        options,
    });
    let mut connections = Slots::new(shared.options.max_connections);
    let mut refusals = Throttled::new("refused connections over the limit");
    let mut accept_errors = Throttled::new("failed accepts");
    tokio::pin!(shutdown);
    loop {
        let mut pause = false;
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.inner().accept() => match accepted {
                Ok((stream, _)) => {
                    if connections.room().await {
                        connections.spawn(connection(stream, shared.clone()));
                    } else {
                        let limit = shared.options.max_connections;
                        refuse(&stream, limit, shared.bus.metrics());
                        refusals.hit(|count| {
                            warn!(limit, count, "too many clients connected; refusing new ones")
                        });
                    }
                }
                Err(error) => {
                    // Typically out of file descriptors: wait a little instead of spinning.
                    accept_errors.hit(|count| warn!(%error, count, "cannot accept a connection"));
                    pause = true;
                }
            },
            () = connections.reap() => {}
        }
        if pause {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    connections.shutdown().await;
    drop(listener);
}

/// Tells a client over the limit why it is closed. A fresh socket's send buffer is empty, so the
/// line is written at once without waiting; the stream is dropped right after.
///
/// What the client already sent (typically its first request, written right after `connect`)
/// is read and dropped first: closing a Unix socket with unread input makes the peer's next read
/// fail with `ECONNRESET`, and the client would never see the error line.
fn refuse(stream: &UnixStream, limit: usize, metrics: &Metrics) {
    let error = RpcError::new(
        ErrorKind::TooManyConnections,
        format!("the daemon serves at most {limit} clients at once; close one and try again"),
    );
    let _ = stream.try_write(response_line(metrics, None, Err(error)).as_bytes());
    let mut sink = [0u8; 4096];
    // Bounded: a client streaming data at us cannot keep the accept loop here.
    for _ in 0..16 {
        match stream.try_read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// What every connection shares.
struct Shared {
    handle: SessionHandle,
    bus: Bus,
    owner: u32,
    options: Options,
    /// Bytes of unfinished lines, across connections.
    lines: Arc<LineBudget>,
    /// Bytes of unwritten replies, across connections.
    backlog: Arc<Backlog>,
}

/// What the reader hands the writer, in order.
enum Out {
    /// A reply line, `\n` included.
    Line(String),
    /// A bulk reply line, already in the connection's [`Account`].
    Page(String),
    /// A new event filter, after the reply that announces it (if the request had an id). An
    /// empty filter ends the subscription; `subscription` is set when there was none before.
    Filter {
        reply: Option<String>,
        types: BTreeSet<EventType>,
        subscription: Option<Subscription>,
    },
}

async fn connection(stream: UnixStream, shared: Arc<Shared>) {
    let peer = match stream.peer_cred() {
        Ok(cred) => cred,
        Err(error) => {
            debug!(%error, "cannot read the peer's credentials; closing");
            return;
        }
    };
    let (read, mut write) = stream.into_split();
    if !peer_allowed(peer.uid(), shared.owner) {
        warn!(uid = peer.uid(), pid = ?peer.pid(), "refusing a connection from another user");
        let error = RpcError::new(
            ErrorKind::PermissionDenied,
            format!(
                "uid {} may not use this socket; only uid {} and root may",
                peer.uid(),
                shared.owner
            ),
        );
        let line = response_line(shared.bus.metrics(), None, Err(error));
        let _ = timeout(Duration::from_secs(1), write.write_all(line.as_bytes())).await;
        return;
    }
    debug!(pid = ?peer.pid(), "client connected");

    let (out, out_rx) = mpsc::channel(16);
    let account = Account::new(shared.backlog.clone());
    let writer = Writer::new(
        out_rx,
        shared.options.clone(),
        shared.bus.clone(),
        account.clone(),
    )
    .run(write);
    tokio::pin!(writer);

    let mut reader = Reader {
        permits: Arc::new(Semaphore::new(shared.options.max_in_flight.max(1))),
        shared,
        out,
        requests: JoinSet::new(),
        types: BTreeSet::new(),
        account,
    };
    let read = tokio::select! {
        () = &mut writer => return,
        read = reader.read_all(read) => read,
    };

    // The client closed its sending side. That is either a half-close by a client that still
    // reads (answer what it asked, then keep streaming events if it subscribed) or a client that
    // is gone altogether; only the second hangs the socket up, and then the connection ends at
    // once, whatever its filter, instead of waiting for an event to fail to be written.
    let Reader {
        mut requests, out, ..
    } = reader;
    let finish = async move {
        while requests.join_next().await.is_some() {}
        drop(out);
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = &mut writer => {}
        () = finish => {}
        () = hung_up(read) => debug!("client hung up"),
    }
    debug!("client disconnected");
}

/// Resolves once the peer has closed its end entirely (`EPOLLHUP`), as opposed to only its
/// sending side (`shutdown(SHUT_WR)`, which leaves a client that still reads).
///
/// The watch runs on a duplicate of the descriptor with its own readiness, because clearing the
/// shared one would stall the writer; it costs one descriptor per half-closed client only.
async fn hung_up(read: Option<OwnedReadHalf>) {
    let Some(read) = read else {
        // The read side failed outright: the peer is gone.
        return;
    };
    let watched = read
        .as_ref()
        .as_fd()
        .try_clone_to_owned()
        .map(std::os::unix::net::UnixStream::from)
        .and_then(|stream| {
            stream.set_nonblocking(true)?;
            UnixStream::from_std(stream)
        });
    drop(read);
    let Ok(watched) = watched else {
        // Out of descriptors: fall back to noticing the peer on the next write.
        return std::future::pending().await;
    };
    loop {
        match watched.ready(Interest::WRITABLE).await {
            Ok(ready) if ready.is_write_closed() => return,
            // Only writable: forget that readiness (nothing is ever written on this duplicate)
            // and wait for the next change of the socket's state.
            Ok(_) => {
                let _ = watched.try_io(Interest::WRITABLE, || {
                    Err::<(), _>(io::ErrorKind::WouldBlock.into())
                });
            }
            Err(_) => return,
        }
    }
}

/// The reading half of a connection: parses lines and dispatches requests.
struct Reader {
    shared: Arc<Shared>,
    out: mpsc::Sender<Out>,
    requests: JoinSet<()>,
    permits: Arc<Semaphore>,
    /// The event types subscribed, as the client asked; the writer gets a copy of each change.
    types: BTreeSet<EventType>,
    /// This connection's part of the backlog: bulk pages are built only when there is room.
    account: Account,
}

impl Reader {
    /// Reads until the client closes its side, and gives the read half back; `None` when reading
    /// failed, which means the peer is gone.
    async fn read_all(&mut self, read: OwnedReadHalf) -> Option<OwnedReadHalf> {
        let mut lines = LineReader::new(read, MAX_LINE, self.shared.lines.clone());
        loop {
            let next = tokio::select! {
                next = lines.next() => next,
                Some(done) = self.requests.join_next(), if !self.requests.is_empty() => {
                    if let Err(error) = done
                        && error.is_panic()
                    {
                        warn!(%error, "a request task panicked");
                    }
                    continue;
                }
            };
            match next {
                Ok(Some(Line::Text(line))) => self.handle_line(&line).await,
                Ok(Some(Line::TooLong)) => {
                    let error = RpcError::new(
                        ErrorKind::LineTooLong,
                        format!("line longer than {MAX_LINE} bytes; it was skipped"),
                    );
                    self.send(response_line(self.shared.bus.metrics(), None, Err(error)))
                        .await;
                }
                Ok(Some(Line::Busy)) => {
                    let error = RpcError::new(
                        ErrorKind::LineTooLong,
                        "the daemon holds too many unfinished lines of all its clients; this \
                         line was skipped (send whole lines)",
                    );
                    self.send(response_line(self.shared.bus.metrics(), None, Err(error)))
                        .await;
                }
                Ok(None) => return Some(lines.into_inner()),
                Err(error) => {
                    debug!(%error, "reading from the client failed");
                    return None;
                }
            }
        }
    }

    async fn send(&self, line: String) {
        // Fails only when the writer is gone, and then the connection is ending anyway.
        let _ = self.out.send(Out::Line(line)).await;
    }

    async fn handle_line(&mut self, line: &[u8]) {
        let value: Value = match serde_json::from_slice(line) {
            Ok(value) => value,
            Err(error) => {
                let error = RpcError::new(ErrorKind::ParseError, format!("not JSON: {error}"));
                return self
                    .send(response_line(self.shared.bus.metrics(), None, Err(error)))
                    .await;
            }
        };
        let (id, call) = match parse_request(value) {
            Ok(request) => request,
            // An unreadable request is answered even without an id: the client cannot know
            // whether its id was seen.
            Err((id, error)) => {
                return self
                    .send(response_line(self.shared.bus.metrics(), id, Err(error)))
                    .await;
            }
        };
        let call = match call {
            Ok(call) => call,
            Err(error) => {
                if id.is_some() {
                    self.send(response_line(self.shared.bus.metrics(), id, Err(error)))
                        .await;
                }
                return;
            }
        };
        match call {
            Call::Version => {
                let result = VersionResult {
                    daemon: env!("CARGO_PKG_VERSION").to_owned(),
                    protocol: PROTOCOL_VERSION,
                    wa_version: self.shared.options.wa_version,
                };
                if id.is_some() {
                    self.send(response_line(
                        self.shared.bus.metrics(),
                        id,
                        to_reply(Ok(result)),
                    ))
                    .await;
                }
            }
            Call::Subscribe(params) => self.subscribe(id, params).await,
            Call::Unsubscribe(params) => self.unsubscribe(id, params).await,
            Call::Commit(params) => self.spawn_journal(id, JournalCall::Commit(params)).await,
            Call::Consumers => self.spawn_journal(id, JournalCall::Consumers).await,
            Call::Events(params) => self.spawn_journal(id, JournalCall::Events(params)).await,
            session_call => self.spawn(id, session_call).await,
        }
    }

    /// Runs a session request in its own task, so later requests need not wait for it.
    async fn spawn(&mut self, id: Option<Id>, call: Call) {
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        let handle = self.shared.handle.clone();
        let bus = self.shared.bus.clone();
        let out = self.out.clone();
        let account = self.account.clone();
        self.requests.spawn(async move {
            let _permit: OwnedSemaphorePermit = permit;
            let bulk = backlog::is_bulk(&call);
            let build = async {
                match call {
                    Call::Metrics => to_reply(Ok(crate::metrics::gather(&handle, &bus).await)),
                    call => run_call(&handle, call).await,
                }
            };
            account.answer(bulk, &out, &bus, id, build).await;
        });
    }
}

/// Splits a request into its id and call.
///
/// The outer error is an invalid request (answered even without an id, with the id when one
/// could be read); the inner one a bad method or bad params (answered only when there is an id).
#[allow(clippy::type_complexity)]
fn parse_request(
    value: Value,
) -> Result<(Option<Id>, Result<Call, RpcError>), (Option<Id>, RpcError)> {
    let invalid = |message: &str| RpcError::new(ErrorKind::InvalidRequest, message);
    let mut object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            let error = RpcError::new(
                ErrorKind::BatchUnsupported,
                "batches are not supported; send each request on its own line",
            );
            return Err((None, error));
        }
        _ => return Err((None, invalid("a request must be a JSON object"))),
    };
    let id = match object.remove("id") {
        None => None,
        Some(value) => match Id::from_value(&value) {
            Some(id) => Some(id),
            None => {
                let message =
                    "`id` must be an integer or a string (leave it out for a notification)";
                return Err((None, invalid(message)));
            }
        },
    };
    if object.remove("jsonrpc") != Some(Value::String("2.0".into())) {
        return Err((id, invalid("`jsonrpc` must be \"2.0\"")));
    }
    let method = match object.remove("method") {
        Some(Value::String(method)) => method,
        Some(_) => return Err((id, invalid("`method` must be a string"))),
        None => return Err((id, invalid("`method` is missing"))),
    };
    let params = object.remove("params");
    Ok((id, Call::parse(&method, params)))
}

/// A call for the session; `version`, `subscribe` and `unsubscribe` never get here.
async fn run_call(handle: &SessionHandle, call: Call) -> Reply {
    handle.call(call).await.map_err(RpcError::from)
}

fn to_reply<T: Serialize>(result: Result<T, SessionError>) -> Reply {
    let value = result.map_err(|error| error.to_rpc_error())?;
    serde_json::to_value(value).map_err(|error| {
        RpcError::new(
            ErrorKind::InternalError,
            format!("cannot encode the result: {error}"),
        )
    })
}

/// The reply as a line; an error reply is counted in `socket_errors`.
fn response_line(metrics: &Metrics, id: Option<Id>, reply: Reply) -> String {
    if let Err(error) = &reply {
        metrics.socket_error(error.kind().as_str());
    }
    let response = Response { id, reply };
    let mut line = serde_json::to_string(&response).unwrap_or_else(|error| {
        // Only a non-string map key could fail, and results have none; still never panic.
        let error = RpcError::new(
            ErrorKind::InternalError,
            format!("cannot encode the reply: {error}"),
        );
        let fallback = Response {
            id: response.id.clone(),
            reply: Err(error),
        };
        serde_json::to_string(&fallback).unwrap_or_default()
    });
    line.push('\n');
    line
}

mod backlog;
#[doc(hidden)]
pub mod fuzzing;
mod lines;
mod subscribe;
mod throttled;
mod writer;

use backlog::{Account, Backlog};
use lines::{Line, LineBudget, LineReader};
use subscribe::JournalCall;
use throttled::Throttled;
use writer::Writer;

#[cfg(test)]
mod backlog_tests;
#[cfg(test)]
mod tests;
