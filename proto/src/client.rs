//! Where the socket is, and a small blocking client for it.
//!
//! The client is deliberately plain: one [`UnixStream`], one request at a time, no threads. Events
//! that arrive while a call waits for its reply are kept and handed out later, in order, by
//! [`Client::recv_event`] and friends, so a `subscribe` followed by `login` loses nothing.
//!
//! The stream is std's, not interprocess's (which the daemon's listener uses for its race-free
//! mode): on Unix that `Stream` wraps the same std type, so it would add two crates to this one
//! for no change in what goes over the socket, and [`Client::from_stream`] takes std's type.

use std::collections::VecDeque;
use std::env;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::event::{Event, EventType};
use crate::journal::SubscribeParams;
use crate::methods::{Call, Method, Subscribe};
use crate::rpc::{EVENT_METHOD, Id, Notification, Request, Response, RpcError};

/// The environment variable naming the socket; it wins over `XDG_RUNTIME_DIR`.
pub const SOCKET_ENV: &str = "WAWEBD_SOCKET";

/// The environment variable naming the account whose socket to use (DESIGN.md section 10).
pub const ACCOUNT_ENV: &str = "WAWEBD_ACCOUNT";

/// The folder below `$XDG_RUNTIME_DIR` (or systemd's `RuntimeDirectory=wawebd`) holding the
/// sockets of every account: `wawebd.sock` for the default one, `<name>.sock` for the others.
pub const SOCKET_DIR: &str = "wawebd";

/// The default account's socket file in [`SOCKET_DIR`].
pub const DEFAULT_SOCKET_FILE: &str = "wawebd.sock";

/// The longest account name, in bytes.
pub const ACCOUNT_NAME_MAX: usize = 64;

/// The name of one account: its socket `<name>.sock`, its state folder `<name>/`, its unit
/// instance `wawebd@<name>.service`.
///
/// 1 to [`ACCOUNT_NAME_MAX`] ASCII letters, digits, `_` and `-`, starting with a letter or a
/// digit. Narrower than "a safe file name" on purpose: no `.` means no hidden file, no
/// `<name>.sock` that reads as another account's, and no clash with the files of the default
/// account's state folder (`session.json`, `waweb.db`), which holds the others' folders; no
/// leading `-` means no name that reads as an option; and every such name is its own systemd
/// escape, so `%i` in the units is the name itself. `wawebd` (the default account's socket
/// file) and `config` (the shared `config.toml`) are reserved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountName(String);

impl AccountName {
    /// Checks `name` against the rules above.
    pub fn new(name: &str) -> Result<AccountName, AccountNameError> {
        let first = name.chars().next().ok_or(AccountNameError::Empty)?;
        if name.len() > ACCOUNT_NAME_MAX {
            return Err(AccountNameError::TooLong(name.len()));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(AccountNameError::Character(bad));
        }
        if !first.is_ascii_alphanumeric() {
            return Err(AccountNameError::Start(first));
        }
        if ["wawebd", "config"].contains(&name) {
            return Err(AccountNameError::Reserved(name.to_owned()));
        }
        Ok(AccountName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The account's socket file in [`SOCKET_DIR`]: `<name>.sock`.
    pub fn socket_file(&self) -> String {
        format!("{}.sock", self.0)
    }

    /// Which account a file in [`SOCKET_DIR`] is the socket of: `Some(None)` for
    /// [`DEFAULT_SOCKET_FILE`], `Some(Some(name))` for `<name>.sock`, `None` for anything else.
    pub fn of_socket_file(file: &str) -> Option<Option<AccountName>> {
        if file == DEFAULT_SOCKET_FILE {
            return Some(None);
        }
        let name = file.strip_suffix(".sock")?;
        AccountName::new(name).ok().map(Some)
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for AccountName {
    type Err = AccountNameError;

    fn from_str(name: &str) -> Result<AccountName, AccountNameError> {
        AccountName::new(name)
    }
}

/// Why a string is not an [`AccountName`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountNameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`ACCOUNT_NAME_MAX`] bytes (this many).
    TooLong(usize),
    /// The name holds a character other than ASCII letters, digits, `_` and `-`.
    Character(char),
    /// The name starts with something other than a letter or a digit.
    Start(char),
    /// The name is one of the reserved ones.
    Reserved(String),
}

impl fmt::Display for AccountNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid account name: ")?;
        match self {
            AccountNameError::Empty => f.write_str("it is empty"),
            AccountNameError::TooLong(len) => {
                write!(f, "{len} bytes, at most {ACCOUNT_NAME_MAX} allowed")
            }
            AccountNameError::Character(c) => write!(
                f,
                "{c:?} is not allowed (only ASCII letters, digits, _ and -)"
            ),
            AccountNameError::Start(c) => {
                write!(
                    f,
                    "it starts with {c:?}; it must start with a letter or a digit"
                )
            }
            AccountNameError::Reserved(name) => write!(
                f,
                "{name:?} is reserved (for the default account, give no account at all)"
            ),
        }
    }
}

impl std::error::Error for AccountNameError {}

/// The default socket path: `$WAWEBD_SOCKET`, else the socket of the account `$WAWEBD_ACCOUNT`
/// names, else `$XDG_RUNTIME_DIR/wawebd/wawebd.sock`.
///
/// There is deliberately no fallback to a shared temporary directory: anyone could create that
/// path first and impersonate the daemon. Without either variable this is an error that says
/// what to set. (Under systemd the daemon itself prefers `$RUNTIME_DIRECTORY`; that variable is
/// not read here because a client running in some other unit would see that unit's directory.)
///
/// Written by hand, not with the `directories` crate, whose `runtime_dir()` needs a home
/// directory (none for a uid without a passwd entry and without `HOME`, even with
/// `XDG_RUNTIME_DIR` set), cannot be given an environment ([`socket_path_from`]), and would
/// make this crate depend on more than serde.
///
/// ```
/// # use std::ffi::OsString;
/// let path = waweb_proto::socket_path_from(|name| {
///     (name == "XDG_RUNTIME_DIR").then(|| OsString::from("/run/user/1000"))
/// });
/// assert_eq!(path.unwrap().to_str(), Some("/run/user/1000/wawebd/wawebd.sock"));
/// ```
pub fn default_socket_path() -> Result<PathBuf, SocketPathError> {
    socket_path_from(|name| env::var_os(name))
}

/// [`default_socket_path`] with the environment passed in, for tests and for callers that
/// resolve variables their own way. Empty values count as unset.
///
/// `$WAWEBD_SOCKET` wins; else `$WAWEBD_ACCOUNT` names an account, whose socket is
/// [`account_socket_path_from`]; else the default account's socket below `$XDG_RUNTIME_DIR`.
pub fn socket_path_from(
    var: impl Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, SocketPathError> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    if let Some(path) = set(SOCKET_ENV) {
        return Ok(PathBuf::from(path));
    }
    let file = match set(ACCOUNT_ENV) {
        Some(name) => {
            let name =
                name.to_str()
                    .ok_or(SocketPathError::Account(AccountNameError::Character(
                        char::REPLACEMENT_CHARACTER,
                    )))?;
            AccountName::new(name)
                .map_err(SocketPathError::Account)?
                .socket_file()
        }
        None => DEFAULT_SOCKET_FILE.to_owned(),
    };
    Ok(socket_dir_from(var)?.join(file))
}

/// The socket of the account `name`: `$XDG_RUNTIME_DIR/wawebd/<name>.sock`, whatever
/// `$WAWEBD_SOCKET` and `$WAWEBD_ACCOUNT` say (a name given explicitly wins over them).
///
/// ```
/// # use std::ffi::OsString;
/// let alice = waweb_proto::AccountName::new("alice").unwrap();
/// let path = waweb_proto::account_socket_path_from(&alice, |name| {
///     (name == "XDG_RUNTIME_DIR").then(|| OsString::from("/run/user/1000"))
/// });
/// assert_eq!(path.unwrap().to_str(), Some("/run/user/1000/wawebd/alice.sock"));
/// ```
pub fn account_socket_path(name: &AccountName) -> Result<PathBuf, SocketPathError> {
    account_socket_path_from(name, |var| env::var_os(var))
}

/// [`account_socket_path`] with the environment passed in.
pub fn account_socket_path_from(
    name: &AccountName,
    var: impl Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, SocketPathError> {
    Ok(socket_dir_from(var)?.join(name.socket_file()))
}

/// The folder of every account's socket: `$XDG_RUNTIME_DIR/wawebd`.
pub fn socket_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, SocketPathError> {
    match var("XDG_RUNTIME_DIR").filter(|value| !value.is_empty()) {
        Some(dir) if Path::new(&dir).is_absolute() => Ok(Path::new(&dir).join(SOCKET_DIR)),
        Some(dir) => Err(SocketPathError::RelativeRuntimeDir(PathBuf::from(dir))),
        None => Err(SocketPathError::Unset),
    }
}

/// Why no default socket path could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketPathError {
    /// Neither `WAWEBD_SOCKET` nor `XDG_RUNTIME_DIR` is set.
    Unset,
    /// `XDG_RUNTIME_DIR` is not absolute, which the XDG spec says to ignore.
    RelativeRuntimeDir(PathBuf),
    /// `WAWEBD_ACCOUNT` is not a valid account name.
    Account(AccountNameError),
}

impl fmt::Display for SocketPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketPathError::Unset => f.write_str(
                "no socket path: neither WAWEBD_SOCKET nor XDG_RUNTIME_DIR is set; \
                 pass --socket PATH or set one of them",
            ),
            SocketPathError::RelativeRuntimeDir(dir) => write!(
                f,
                "XDG_RUNTIME_DIR is not absolute ({}); pass --socket PATH or set WAWEBD_SOCKET",
                dir.display()
            ),
            SocketPathError::Account(error) => write!(f, "{ACCOUNT_ENV}: {error}"),
        }
    }
}

impl std::error::Error for SocketPathError {}

/// What can go wrong talking to the daemon.
#[derive(Debug)]
pub enum ClientError {
    /// No socket path was given and none could be derived from the environment.
    NoSocketPath(SocketPathError),
    /// The socket could not be connected. `NotFound` and `ConnectionRefused` mean the daemon is
    /// not running; see [`ClientError::is_daemon_absent`].
    Connect {
        /// The socket path tried.
        path: PathBuf,
        /// What `connect` said.
        source: io::Error,
    },
    /// Reading from or writing to the socket failed.
    Io(io::Error),
    /// The daemon closed the connection (it stopped, or dropped this client).
    Closed,
    /// No reply came within the limit set with [`Client::set_reply_timeout`]: the daemon is
    /// wedged, or something that is not a daemon holds the socket.
    TimedOut(Duration),
    /// The daemon answered the request with an error object.
    Rpc(RpcError),
    /// A line from the daemon could not be understood: not JSON, or JSON of an unexpected
    /// shape. Usually a daemon of another protocol version.
    Protocol(String),
}

impl ClientError {
    /// Whether this says that no daemon is listening on the socket.
    pub fn is_daemon_absent(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { source, .. }
                if matches!(source.kind(), io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused)
        )
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NoSocketPath(error) => write!(f, "{error}"),
            ClientError::Connect { path, source } => {
                write!(f, "cannot connect to {}: {source}", path.display())
            }
            ClientError::Io(error) => write!(f, "socket error: {error}"),
            ClientError::Closed => f.write_str("the daemon closed the connection"),
            ClientError::TimedOut(limit) => {
                write!(f, "the daemon did not answer within {limit:?}")
            }
            ClientError::Rpc(error) => f.write_str(&error.message),
            ClientError::Protocol(what) => write!(f, "unexpected data from the daemon: {what}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::NoSocketPath(error) => Some(error),
            ClientError::Connect { source, .. } => Some(source),
            ClientError::Io(error) => Some(error),
            ClientError::Rpc(error) => Some(error),
            ClientError::Closed | ClientError::TimedOut(_) | ClientError::Protocol(_) => None,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(error: io::Error) -> Self {
        ClientError::Io(error)
    }
}

/// A blocking connection to the daemon.
///
/// ```no_run
/// use waweb_proto::{Client, EventType, NoParams, methods::Status};
///
/// let mut client = Client::connect_default()?;
/// let status = client.call::<Status>(&NoParams)?;
/// println!("{}", status.state);
///
/// client.subscribe(&[EventType::Message])?;
/// for event in client.events() {
///     println!("{:?}", event?);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: i64,
    /// Notifications read while waiting for a reply, oldest first.
    pending: VecDeque<Notification>,
    /// The start of a line whose rest has not arrived yet (kept across read timeouts).
    partial: Vec<u8>,
    /// How long a call waits for its reply (`None`: as long as it takes).
    reply_timeout: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("next_id", &self.next_id)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the socket at `path`.
    pub fn connect(path: impl AsRef<Path>) -> Result<Client, ClientError> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_owned(),
            source,
        })?;
        Client::from_stream(stream)
    }

    /// Connects to [`default_socket_path`].
    pub fn connect_default() -> Result<Client, ClientError> {
        let path = default_socket_path().map_err(ClientError::NoSocketPath)?;
        Client::connect(path)
    }

    /// Wraps an already connected stream.
    pub fn from_stream(stream: UnixStream) -> Result<Client, ClientError> {
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
            next_id: 1,
            pending: VecDeque::new(),
            partial: Vec::new(),
            reply_timeout: None,
        })
    }

    /// Bounds how long each call waits for its reply, and each request for the socket to take
    /// it; past it the call fails with [`ClientError::TimedOut`]. `None` (the default) waits as
    /// long as it takes. Waiting for notifications is bounded separately, by the timeout given
    /// to [`Client::recv_notification`].
    pub fn set_reply_timeout(&mut self, limit: Option<Duration>) -> Result<(), ClientError> {
        // A zero timeout means "block forever" to the kernel, and is refused.
        let limit = limit.map(|limit| limit.max(Duration::from_millis(1)));
        self.writer.set_write_timeout(limit)?;
        self.reply_timeout = limit;
        Ok(())
    }

    /// Calls a method with typed params and result.
    ///
    /// The request is the one [`Call::request`] builds for `M::call(params)`. An error reply is
    /// [`ClientError::Rpc`]; a result of an unexpected shape is [`ClientError::Protocol`].
    pub fn call<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, ClientError> {
        let result = self.send_call(&M::call(params.clone()))?;
        serde_json::from_value(result).map_err(|error| {
            ClientError::Protocol(format!("the result of `{}` does not fit: {error}", M::NAME))
        })
    }

    /// Sends a [`Call`] and returns its `result` as it came.
    pub fn send_call(&mut self, call: &Call) -> Result<Value, ClientError> {
        let params = call
            .params()
            .map_err(|error| ClientError::Protocol(format!("cannot encode the params: {error}")))?;
        self.call_raw(call.name(), params)
    }

    /// Calls any method by name and returns its `result` as it came.
    pub fn call_raw(&mut self, method: &str, params: Option<Value>) -> Result<Value, ClientError> {
        let id = Id::Number(self.next_id);
        self.next_id += 1;
        self.send(&Request::new(id.clone(), method, params))?;
        let limit = self.reply_timeout;
        let deadline = limit.map(|limit| Instant::now() + limit);
        loop {
            let line = self
                .read_line(deadline)?
                .ok_or(ClientError::TimedOut(limit.unwrap_or_default()))?;
            match parse_line(&line)? {
                Incoming::Notification(notification) => self.pending.push_back(notification),
                Incoming::Response(response) if response.id.as_ref() == Some(&id) => {
                    return response.reply.map_err(ClientError::Rpc);
                }
                // A reply without an id rejects a line the daemon could not read; ours is the
                // only request in flight.
                Incoming::Response(Response {
                    id: None,
                    reply: Err(error),
                }) => return Err(ClientError::Rpc(error)),
                // A stale reply (to nothing we are waiting for): not ours to report.
                Incoming::Response(_) => {}
            }
        }
    }

    /// Sends a notification: a request without id, which the daemon runs and never answers.
    pub fn notify(&mut self, method: &str, params: Option<Value>) -> Result<(), ClientError> {
        self.send(&Request::notification(method, params))
    }

    /// Subscribes to some event types (all when `types` is empty) and returns every type now
    /// subscribed.
    pub fn subscribe(&mut self, types: &[EventType]) -> Result<Vec<EventType>, ClientError> {
        let params = if types.is_empty() {
            SubscribeParams::all()
        } else {
            SubscribeParams::only(types.iter().copied())
        };
        Ok(self.call::<Subscribe>(&params)?.events)
    }

    /// The next notification, waiting at most `timeout` (`None`: as long as it takes).
    ///
    /// `Ok(None)` means the time ran out; [`ClientError::Closed`] means the daemon went away.
    pub fn recv_notification(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<Notification>, ClientError> {
        if let Some(notification) = self.pending.pop_front() {
            return Ok(Some(notification));
        }
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            let Some(line) = self.read_line(deadline)? else {
                return Ok(None);
            };
            match parse_line(&line)? {
                Incoming::Notification(notification) => return Ok(Some(notification)),
                // Replies to notifications do not exist and replies to finished calls are
                // stale; neither is an event.
                Incoming::Response(_) => {}
            }
        }
    }

    /// The next event, waiting at most `timeout`; other notifications and event types this
    /// version does not know are skipped.
    pub fn recv_event(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, ClientError> {
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            let Some(notification) = self.recv_notification(left)? else {
                return Ok(None);
            };
            if notification.method != EVENT_METHOD {
                continue;
            }
            if let Some(event) = parse_event(notification.params)? {
                return Ok(Some(event));
            }
        }
    }

    /// The events, as an iterator that ends when the daemon closes the connection.
    pub fn events(&mut self) -> Events<'_> {
        Events { client: self }
    }

    fn send(&mut self, request: &Request) -> Result<(), ClientError> {
        let mut line = serde_json::to_vec(request).map_err(|error| {
            ClientError::Protocol(format!("cannot encode the request: {error}"))
        })?;
        line.push(b'\n');
        match self.writer.write_all(&line) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Err(ClientError::Closed),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(ClientError::TimedOut(
                    self.reply_timeout.unwrap_or_default(),
                ))
            }
            Err(error) => Err(ClientError::Io(error)),
        }
    }

    /// One line without its `\n`, or `None` when `deadline` passed first.
    ///
    /// Bytes read before a timeout stay in `partial`, so a line split across reads is never
    /// lost or cut, even inside a multi-byte character.
    fn read_line(&mut self, deadline: Option<Instant>) -> Result<Option<Vec<u8>>, ClientError> {
        loop {
            let timeout = match deadline {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() && !self.reader.buffer().contains(&b'\n') {
                        return Ok(None);
                    }
                    // A zero timeout means "block forever" to the kernel, and is refused.
                    Some(left.max(Duration::from_millis(1)))
                }
            };
            self.reader.get_ref().set_read_timeout(timeout)?;
            match self.reader.read_until(b'\n', &mut self.partial) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(_) if self.partial.last() == Some(&b'\n') => {
                    let mut line = std::mem::take(&mut self.partial);
                    line.pop();
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Ok(Some(line));
                }
                // End of stream in the middle of a line.
                Ok(_) => return Err(ClientError::Closed),
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                        return Ok(None);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(ClientError::Closed);
                }
                Err(error) => return Err(ClientError::Io(error)),
            }
        }
    }
}

/// The events of a [`Client`]; see [`Client::events`].
#[derive(Debug)]
pub struct Events<'a> {
    client: &'a mut Client,
}

impl Iterator for Events<'_> {
    type Item = Result<Event, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.client.recv_event(None) {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) | Err(ClientError::Closed) => None,
            Err(error) => Some(Err(error)),
        }
    }
}

enum Incoming {
    Response(Response),
    Notification(Notification),
}

fn parse_line(line: &[u8]) -> Result<Incoming, ClientError> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|error| ClientError::Protocol(format!("a line is not JSON: {error}")))?;
    let is_notification = value.get("method").is_some();
    if is_notification {
        serde_json::from_value(value)
            .map(Incoming::Notification)
            .map_err(|error| ClientError::Protocol(format!("bad notification: {error}")))
    } else {
        serde_json::from_value(value)
            .map(Incoming::Response)
            .map_err(|error| ClientError::Protocol(format!("bad response: {error}")))
    }
}

/// Reads an event, `None` for a type this version does not know.
fn parse_event(params: Value) -> Result<Option<Event>, ClientError> {
    let known = params
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.parse::<EventType>().is_ok());
    if !known {
        return Ok(None);
    }
    serde_json::from_value(params)
        .map(Some)
        .map_err(|error| ClientError::Protocol(format!("bad event: {error}")))
}
