//! wawebctl: the command-line client of wawebd.
//!
//! A library with a thin `main`, so tests run commands in-process: parse a [`Cli`], call
//! [`run`] with a writer for stdout, and map its [`Failure`] to an exit status with
//! [`Failure::exit_code`]. Everything goes through the socket protocol of [`waweb_proto`]; this
//! crate has no codecs and no async runtime.

mod accounts;
mod chats;
mod cli;
mod compose;
mod group;
mod history;
mod login;
mod metrics;
mod profile;
mod send_media;
mod table;

use login::LoginOptions;
pub mod qr;

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::CommandFactory;
use serde_json::Value;
use waweb_proto::methods::{self, Method};
use waweb_proto::{
    Client, ClientError, CommitParams, ConsumerName, ErrorKind, EventType, LogoutResult,
    MediaDownloadParams, MediaDownloadResult, NoParams, OutboxCancelParams, PROTOCOL_VERSION,
    QueryParams, SendTextParams, SendWait, StatusResult, SubscribeParams, VersionResult,
};

pub use cli::{Cli, Command, MediaCommand};
pub use qr::Qr;

/// The exit statuses, as `--help` lists them.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The daemon refused or failed the request, or anything else went wrong.
    pub const FAILURE: u8 = 1;
    /// Bad usage: unknown command or flag (clap uses 2 too), bad JSON argument, invalid params.
    pub const USAGE: u8 = 2;
    /// The daemon is not running, or went away.
    pub const NO_DAEMON: u8 = 3;
    /// Not logged in.
    pub const NOT_LOGGED_IN: u8 = 4;
    /// Logged in but not connected right now, or the server timed out.
    pub const UNAVAILABLE: u8 = 5;
    /// Login ended without a scan.
    pub const LOGIN_FAILED: u8 = 6;
}

/// Why a command failed: the exit status and the one line to print on stderr (empty when
/// there is nothing to say, as when stdout was closed by the reader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit status, one of [`exit`].
    pub code: u8,
    /// The reason, one line.
    pub message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    fn usage(message: impl Into<String>) -> Failure {
        Failure::new(exit::USAGE, message)
    }

    /// The process exit status.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Runs the binary: parse the command line, run it, report a failure on stderr.
pub fn main() -> ExitCode {
    use clap::Parser;
    use std::io::IsTerminal;

    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == MAN) {
        let man = ManArgs::parse_from(args.into_iter().skip(1));
        return report(write_man_pages(&man.out), None);
    }
    let cli = Cli::parse_from(args);
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let mut out = stdout.lock();
    let result = run(&cli, &mut out, terminal);
    report(result, Some(&mut out))
}

/// The exit status of a command; a failure is said on stderr after `out` is flushed.
fn report(result: Result<(), Failure>, out: Option<&mut dyn Write>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(out) = out {
                let _ = out.flush();
            }
            if !failure.message.is_empty() {
                eprintln!("wawebctl: {failure}");
            }
            failure.exit_code()
        }
    }
}

/// Runs one command, writing its output to `out`.
///
/// `terminal` says that `out` is an interactive terminal: `login` then redraws the QR code in
/// place and counts its time down.
pub fn run(cli: &Cli, out: &mut dyn Write, terminal: bool) -> Result<(), Failure> {
    let result = match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "wawebctl", out);
            Ok(())
        }
        Command::Query {
            command,
            metric,
            flags,
            set,
            id_is_tag,
        } => {
            let json: Value = serde_json::from_str(command)
                .map_err(|error| Failure::usage(format!("the query is not JSON: {error}")))?;
            let params = match (metric, set) {
                (None, _) => QueryParams::json(json),
                (Some(_), false) => QueryParams {
                    node: Some(json),
                    metric: *metric,
                    flags: *flags,
                    ..QueryParams::default()
                },
                (Some(_), true) => QueryParams {
                    set: Some(json),
                    metric: *metric,
                    flags: *flags,
                    id_is_tag: *id_is_tag,
                    ..QueryParams::default()
                },
            };
            Session::connect(cli)?.query(out, params)
        }
        Command::Media {
            command:
                MediaCommand::Download {
                    media,
                    message,
                    from_me,
                    output,
                },
        } => {
            let params = match (media, message.as_deref()) {
                (_, Some([chat, id])) => MediaDownloadParams {
                    media: None,
                    message: Some(waweb_proto::MessageRef {
                        chat: chat.clone(),
                        id: id.clone(),
                        from_me: *from_me,
                        participant: None,
                    }),
                    output: absolute(output)?,
                },
                (Some(media), _) => media_params(media, output)?,
                _ => return Err(Failure::usage("give --media or --message CHAT ID")),
            };
            Session::connect(cli)?.media_download(out, params)
        }
        Command::Profile(command) => profile::run(cli, command, out),
        Command::Status => Session::connect(cli)?.status(out),
        Command::Login {
            png,
            svg,
            no_terminal,
        } => {
            let options = LoginOptions {
                png: png.as_deref(),
                svg: svg.as_deref(),
                draw: !no_terminal && !cli.json,
                live: terminal && !no_terminal && !cli.json,
            };
            Session::connect(cli)?.login(out, &options)
        }
        Command::Logout => Session::connect(cli)?.logout(out),
        Command::Events {
            types,
            since,
            consumer,
        } => Session::connect(cli)?.events(out, types, *since, consumer.as_ref()),
        Command::Consumers => Session::connect(cli)?.consumers(out),
        Command::Metrics => Session::connect(cli)?.metrics(out),
        Command::Compose(command) => compose::send(cli, command, out),
        Command::Receipt(command) => compose::receipt(cli, command, out),
        Command::Group { command } => group::run(cli, command, out),
        Command::History(command) => history::run(cli, command, out),
        Command::Chats(command) => chats::run(cli, command, out),
        Command::Send {
            to,
            text,
            reply,
            idempotency_key,
            queued,
            timeout_ms,
            media,
        } => {
            if let Some((kind, path)) = media.chosen() {
                let common = (idempotency_key.as_deref(), *queued, *timeout_ms);
                let caption = media.caption.as_deref();
                let mut params = send_media::params(to, kind, path, caption, common)?;
                params.quote = reply.quote(to);
                params.mentions = reply.mentions();
                return Session::connect(cli)?.send_media(out, params);
            }
            let params = SendTextParams {
                to: to.clone(),
                text: text.clone().unwrap_or_default(),
                quote: reply.quote(to),
                mentions: reply.mentions(),
                idempotency_key: idempotency_key.clone(),
                wait: queued.then_some(SendWait::Queued),
                timeout_ms: *timeout_ms,
            };
            Session::connect(cli)?.send(out, params)
        }
        Command::Outbox { cancel } => Session::connect(cli)?.outbox(out, cancel.as_deref()),
        Command::Version => version(cli, out),
        Command::Accounts { dir } => accounts::run(cli, dir.as_deref(), out),
    };
    match result {
        // The reader closed our stdout (`wawebctl events | head -n1`): it is done with us, which
        // is not worth a message or a failure.
        Err(failure) if failure.code == exit::OK => Ok(()),
        Err(failure) => Err(failure),
        Ok(()) => out.flush().or_else(quiet_pipe),
    }
}

fn quiet_pipe(error: io::Error) -> Result<(), Failure> {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Failure::new(
            exit::FAILURE,
            format!("cannot write the output: {error}"),
        ))
    }
}

/// A failed write to stdout; a closed pipe becomes the quiet [`exit::OK`] failure.
fn output(error: io::Error) -> Failure {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Failure::new(exit::OK, String::new())
    } else {
        Failure::new(exit::FAILURE, format!("cannot write the output: {error}"))
    }
}

/// The first argument of `wawebctl man --out DIR`, the packaging step that writes the man pages.
/// It is not part of [`Cli`] (clap_complete offers even hidden subcommands), so neither
/// `--help`, the completions nor the pages mention it.
pub const MAN: &str = "man";

/// Writes the man pages (wawebctl.1, wawebctl-SUBCOMMAND.1) into a folder; for packaging.
#[derive(Debug, clap::Parser)]
#[command(name = "wawebctl man")]
struct ManArgs {
    /// The folder (created if missing; existing pages are replaced)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes `wawebctl.1` and one `wawebctl-SUBCOMMAND.1` per subcommand into `dir`, rendered from
/// the definitions `--help` prints, so the package's pages cannot drift from the binary
/// (docs/DESIGN.md, section 13 "Packaging").
pub fn write_man_pages(dir: &Path) -> Result<(), Failure> {
    let written =
        std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Cli::command(), dir));
    written.map_err(|error| {
        Failure::new(
            exit::FAILURE,
            format!("cannot write the man pages into {}: {error}", dir.display()),
        )
    })
}

/// --socket, else --account's socket, else waweb_proto's default (`WAWEBD_SOCKET`, then
/// `WAWEBD_ACCOUNT`, then the default account's socket): flags before variables.
fn socket_path(cli: &Cli) -> Result<PathBuf, Failure> {
    let var = |name: &str| cli.var(name);
    let path = match (&cli.socket, &cli.account) {
        (Some(path), _) => return Ok(path.clone()),
        (None, Some(name)) => waweb_proto::account_socket_path_from(name, var),
        (None, None) => waweb_proto::socket_path_from(var),
    };
    path.map_err(|error| Failure::usage(error.to_string()))
}

/// How long a call waits for its answer unless `--timeout` says otherwise: longer than the
/// daemon's own 20 s request timeout, so a slow server is reported by the daemon, not by us.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The same for calls that move a whole media file, which may take minutes on a slow link.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(600);

/// How long a call waits for its answer: `--timeout`, else the default for its kind, or
/// the send's own `timeout_ms` (plus a margin for the daemon's answer) when that is longer.
fn reply_limit(timeout: Option<u64>, method: &str, params: Option<&Value>) -> Option<Duration> {
    match timeout {
        Some(0) => return None,
        Some(seconds) => return Some(Duration::from_secs(seconds)),
        None => {}
    }
    let base = match method {
        "media_download" | "send_media" => MEDIA_TIMEOUT,
        _ => DEFAULT_TIMEOUT,
    };
    let asked = params
        .and_then(|params| params.get("timeout_ms"))
        .and_then(Value::as_u64)
        .map(|ms| Duration::from_millis(ms).saturating_add(Duration::from_secs(5)));
    Some(asked.map_or(base, |asked| asked.max(base)))
}

/// A connection to the daemon, and how to talk about it.
struct Session {
    client: Client,
    path: PathBuf,
    json: bool,
    /// `--timeout`, in seconds (0: no limit).
    timeout: Option<u64>,
}

impl Session {
    fn connect(cli: &Cli) -> Result<Session, Failure> {
        let path = socket_path(cli)?;
        let mut client = Client::connect(&path).map_err(|error| failure(error, &path))?;
        // Until a call sets its own: what any method without a longer default gets.
        client
            .set_reply_timeout(reply_limit(cli.timeout, "", None))
            .map_err(|error| failure(error, &path))?;
        Ok(Session {
            client,
            path,
            json: cli.json,
            timeout: cli.timeout,
        })
    }

    fn fail(&self, error: ClientError) -> Failure {
        let skewed = matches!(error, ClientError::Protocol(_));
        let mut failure = failure(error, &self.path);
        if skewed {
            failure.message.push_str(&skew_hint(&self.path));
        }
        failure
    }

    /// Calls `M`, returning the result as it came and as the type this version expects.
    fn call<M: Method>(&mut self, params: M::Params) -> Result<(Value, M::Result), Failure> {
        let call = M::call(params);
        let params = call.params().map_err(|error| {
            Failure::new(exit::FAILURE, format!("cannot encode the params: {error}"))
        })?;
        let limit = reply_limit(self.timeout, call.name(), params.as_ref());
        let raw = self
            .client
            .set_reply_timeout(limit)
            .and_then(|()| self.client.call_raw(call.name(), params))
            .map_err(|error| self.fail(error))?;
        let typed = serde_json::from_value(raw.clone()).map_err(|error| {
            let message = format!(
                "unexpected data from the daemon: the result of {} does not fit ({error})",
                M::NAME
            );
            Failure::new(exit::FAILURE, message + &skew_hint(&self.path))
        })?;
        Ok((raw, typed))
    }

    /// Prints a result object as one compact JSON line (`--json`).
    fn print_raw(&self, out: &mut dyn Write, raw: &Value) -> Result<(), Failure> {
        writeln!(out, "{raw}").map_err(output)
    }

    fn status(mut self, out: &mut dyn Write) -> Result<(), Failure> {
        let (raw, status) = self.call::<methods::Status>(NoParams)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        write_status(out, &status).map_err(output)
    }

    fn logout(mut self, out: &mut dyn Write) -> Result<(), Failure> {
        let (raw, LogoutResult { server_notified }) = self.call::<methods::Logout>(NoParams)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        let note = if server_notified {
            "the server was told"
        } else {
            "the server could not be told; remove this device on the phone if it is still listed"
        };
        writeln!(out, "logged out and the session erased ({note})").map_err(output)
    }

    fn send(self, out: &mut dyn Write, params: SendTextParams) -> Result<(), Failure> {
        self.sent::<methods::SendText>(out, params)
    }

    fn outbox(mut self, out: &mut dyn Write, cancel: Option<&str>) -> Result<(), Failure> {
        if let Some(id) = cancel {
            let params = OutboxCancelParams { id: id.to_owned() };
            let (raw, _) = self.call::<methods::OutboxCancel>(params)?;
            if self.json {
                return self.print_raw(out, &raw);
            }
            return writeln!(out, "cancelled {id}").map_err(output);
        }
        let (raw, result) = self.call::<methods::Outbox>(NoParams)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        if result.messages.is_empty() {
            return writeln!(out, "the outbox is empty").map_err(output);
        }
        for message in result.messages {
            writeln!(
                out,
                "{}\t{}\t{}\tqueued at {}\t{} attempts",
                message.id, message.to, message.kind, message.queued_at, message.attempts
            )
            .map_err(output)?;
        }
        Ok(())
    }

    fn query(mut self, out: &mut dyn Write, params: QueryParams) -> Result<(), Failure> {
        let (raw, _) = self.call::<methods::Query>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        let pretty = serde_json::to_string_pretty(&raw).unwrap_or_else(|_| raw.to_string());
        writeln!(out, "{pretty}").map_err(output)
    }

    fn media_download(
        mut self,
        out: &mut dyn Write,
        params: MediaDownloadParams,
    ) -> Result<(), Failure> {
        let (
            raw,
            MediaDownloadResult {
                path,
                bytes,
                sha256,
            },
        ) = self.call::<methods::MediaDownload>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        writeln!(
            out,
            "wrote {} ({bytes} bytes, sha256 {sha256})",
            path.display()
        )
        .map_err(output)
    }

    fn events(
        mut self,
        out: &mut dyn Write,
        types: &[EventType],
        since: Option<u64>,
        consumer: Option<&ConsumerName>,
    ) -> Result<(), Failure> {
        let params = SubscribeParams {
            events: (!types.is_empty()).then(|| types.to_vec()),
            since,
            consumer: consumer.cloned(),
        };
        self.client
            .call::<methods::Subscribe>(&params)
            .map_err(|error| self.fail(error))?;
        let mut last_error = None;
        loop {
            let notification = match self.client.recv_notification(None) {
                Ok(Some(notification)) => notification,
                Ok(None) => continue,
                Err(ClientError::Closed) => {
                    return Err(match last_error {
                        Some(message) => Failure::new(exit::FAILURE, message),
                        None => Failure::new(
                            exit::NO_DAEMON,
                            format!("the daemon closed the connection ({})", self.path.display()),
                        ),
                    });
                }
                Err(error) => return Err(self.fail(error)),
            };
            if notification.params.get("type").and_then(Value::as_str) == Some("error") {
                let message = notification.params.get("message").and_then(Value::as_str);
                last_error = Some(format!(
                    "the daemon dropped this subscriber: {}",
                    message.unwrap_or("no reason given")
                ));
            }
            writeln!(out, "{}", notification.params).map_err(output)?;
            out.flush().map_err(output)?;
            // Only what was written counts as handled: the cursor moves after the line is out.
            let seq = notification.params.get("seq").and_then(Value::as_u64);
            if let (Some(consumer), Some(seq)) = (consumer, seq) {
                let commit = CommitParams {
                    consumer: consumer.clone(),
                    seq,
                };
                self.client
                    .call::<methods::Commit>(&commit)
                    .map_err(|error| self.fail(error))?;
            }
        }
    }

    fn consumers(mut self, out: &mut dyn Write) -> Result<(), Failure> {
        let result = self
            .client
            .call::<methods::Consumers>(&NoParams)
            .map_err(|error| self.fail(error))?;
        if self.json {
            let value = serde_json::to_value(&result)
                .map_err(|e| Failure::new(exit::FAILURE, e.to_string()))?;
            return writeln!(out, "{value}").map_err(output);
        }
        writeln!(out, "head {}", result.head).map_err(output)?;
        for consumer in result.consumers {
            writeln!(
                out,
                "{}\tseq {}\tlag {}",
                consumer.name, consumer.seq, consumer.lag
            )
            .map_err(output)?;
        }
        Ok(())
    }
}

fn version(cli: &Cli, out: &mut dyn Write) -> Result<(), Failure> {
    let ours = env!("CARGO_PKG_VERSION");
    let mut session = match Session::connect(cli) {
        Ok(session) => session,
        Err(failure) => {
            if !cli.json {
                writeln!(out, "wawebctl {ours} (protocol {PROTOCOL_VERSION})").map_err(output)?;
            }
            return Err(failure);
        }
    };
    let (raw, daemon) = session.call::<methods::Version>(NoParams)?;
    if cli.json {
        session.print_raw(out, &raw)?;
    } else {
        let [major, minor, patch] = daemon.wa_version;
        writeln!(out, "wawebctl {ours} (protocol {PROTOCOL_VERSION})").map_err(output)?;
        writeln!(
            out,
            "wawebd {} (protocol {}, WhatsApp Web {major}.{minor}.{patch})",
            daemon.daemon, daemon.protocol
        )
        .map_err(output)?;
    }
    if daemon.protocol != PROTOCOL_VERSION {
        return Err(Failure::new(
            exit::FAILURE,
            format!(
                "protocol mismatch: wawebd speaks {}, wawebctl {PROTOCOL_VERSION}; restart the \
                 daemon after upgrading, or use the wawebctl that came with it",
                daemon.protocol
            ),
        ));
    }
    Ok(())
}

/// After a reply that did not parse: ask the daemon for its version and say whether that is the
/// cause, rather than leaving the user with a parse error.
fn skew_hint(path: &Path) -> String {
    let daemon = Client::connect(path).and_then(|mut client| {
        client.set_reply_timeout(Some(DEFAULT_TIMEOUT))?;
        client.call::<methods::Version>(&NoParams)
    });
    match daemon {
        Ok(VersionResult {
            protocol, daemon, ..
        }) if protocol != PROTOCOL_VERSION => format!(
            "; wawebd {daemon} speaks protocol {protocol} and wawebctl {PROTOCOL_VERSION}: \
             restart the daemon after upgrading"
        ),
        Ok(_) => String::new(),
        Err(_) => "; is the daemon of another version? restart it after upgrading".to_owned(),
    }
}

/// Classifies a client error by exit status, with a message that says what to do.
fn failure(error: ClientError, path: &Path) -> Failure {
    match error {
        ClientError::NoSocketPath(error) => Failure::usage(error.to_string()),
        error @ ClientError::Connect { .. } if error.is_daemon_absent() => {
            // An account's socket: name its command and unit, not the default account's.
            let account = path
                .file_name()
                .and_then(|file| file.to_str())
                .and_then(waweb_proto::AccountName::of_socket_file)
                .flatten();
            let (flag, unit) = match &account {
                Some(name) => (format!(" --account {name}"), format!("wawebd@{name}")),
                None => (String::new(), "wawebd".to_owned()),
            };
            Failure::new(
                exit::NO_DAEMON,
                format!(
                    "the daemon is not running on {} (start it with: wawebd{flag}, or: systemctl --user start {unit})",
                    path.display()
                ),
            )
        }
        ClientError::Connect { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
            Failure::new(
                exit::FAILURE,
                format!(
                    "permission denied on {}: the daemon belongs to another user",
                    path.display()
                ),
            )
        }
        ClientError::Closed => Failure::new(
            exit::NO_DAEMON,
            format!("the daemon closed the connection ({})", path.display()),
        ),
        ClientError::TimedOut(limit) => Failure::new(
            exit::UNAVAILABLE,
            format!(
                "no answer from {} within {limit:?}: the daemon is stuck, or what listens there is not wawebd (wait longer with --timeout)",
                path.display()
            ),
        ),
        ClientError::Rpc(error) => {
            let code = match error.kind() {
                ErrorKind::NotLoggedIn => exit::NOT_LOGGED_IN,
                ErrorKind::NotConnected | ErrorKind::Timeout => exit::UNAVAILABLE,
                ErrorKind::InvalidParams => exit::USAGE,
                _ => exit::FAILURE,
            };
            let mut message = error.message.clone();
            match error.kind() {
                // The daemon's wording speaks of the `login` method; name the command instead.
                ErrorKind::NotLoggedIn => message = "not logged in (run: wawebctl login)".into(),
                ErrorKind::MethodNotFound => message
                    .push_str("; is the daemon older than wawebctl? restart it after upgrading"),
                _ => {}
            }
            Failure::new(code, message)
        }
        other => Failure::new(exit::FAILURE, other.to_string()),
    }
}

/// Reads `--media`: inline JSON, `@FILE` or `-`; a media object, a message event or a whole
/// notification line.
fn media_params(media: &str, output: &Path) -> Result<MediaDownloadParams, Failure> {
    let text = if media == "-" {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| Failure::usage(format!("cannot read --media from stdin: {error}")))?;
        text
    } else if let Some(file) = media.strip_prefix('@') {
        std::fs::read_to_string(file)
            .map_err(|error| Failure::usage(format!("cannot read --media from {file}: {error}")))?
    } else {
        media.to_owned()
    };
    // Events come one per line; take the first non-empty one.
    let line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let mut value: Value = serde_json::from_str(line)
        .map_err(|error| Failure::usage(format!("--media is not JSON: {error}")))?;
    if let Some(params) = value.get_mut("params") {
        value = params.take();
    }
    if value.get("type").is_some() || value.get("from_me").is_some() {
        value = match value.get_mut("media").map(Value::take) {
            Some(Value::Null) | None => return Err(Failure::usage("this message has no media")),
            Some(media) => media,
        };
    }
    let media = serde_json::from_value(value)
        .map_err(|error| Failure::usage(format!("--media is not a media object: {error}")))?;
    let output = absolute(output)?;
    Ok(MediaDownloadParams {
        media: Some(media),
        message: None,
        output,
    })
}

/// The daemon has its own working directory: it is handed absolute paths.
fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let dir = std::env::current_dir().map_err(|error| {
        Failure::new(
            exit::FAILURE,
            format!("cannot find the current directory: {error}"),
        )
    })?;
    Ok(dir.join(path))
}

fn write_status(out: &mut dyn Write, status: &StatusResult) -> io::Result<()> {
    let unknown = || "unknown".to_owned();
    writeln!(out, "state:           {}", status.state)?;
    match &status.me {
        Some(me) => writeln!(
            out,
            "account:         {} \"{}\" ({})",
            me.wid, me.pushname, me.platform
        )?,
        None => writeln!(out, "account:         none")?,
    }
    let stored = if status.session_stored { "yes" } else { "no" };
    writeln!(out, "session stored:  {stored}")?;
    if let Some(error) = &status.session_error {
        writeln!(out, "session error:   {error}")?;
    }
    writeln!(out, "server:          {}", status.server_url)?;
    let pong = status
        .last_pong_ms_ago
        .map(|ms| format!("{:.1} s ago", ms as f64 / 1000.0))
        .unwrap_or_else(unknown);
    writeln!(out, "last pong:       {pong}")?;
    let phone = match status.phone_online {
        Some(true) => "online".to_owned(),
        Some(false) => "offline".to_owned(),
        None => unknown(),
    };
    writeln!(out, "phone:           {phone}")?;
    let battery = status
        .battery
        .map(|battery| {
            let mut notes = Vec::new();
            if battery.plugged {
                notes.push("charging");
            }
            if battery.powersave {
                notes.push("power saving");
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join(", "))
            };
            format!("{}%{notes}", battery.percent)
        })
        .unwrap_or_else(unknown);
    writeln!(out, "battery:         {battery}")?;
    writeln!(out, "reconnects:      {}", status.reconnects)
}

#[cfg(test)]
mod reply_limit_tests {
    use super::*;

    #[test]
    fn limits_follow_the_flag_the_method_and_a_longer_send_wait() {
        let minutes = |m: u64| Some(Duration::from_secs(m * 60));
        assert_eq!(reply_limit(None, "status", None), Some(DEFAULT_TIMEOUT));
        assert_eq!(reply_limit(None, "media_download", None), minutes(10));
        let wait = serde_json::json!({"to": "1", "text": "hi", "timeout_ms": 120_000});
        assert_eq!(
            reply_limit(None, "send_text", Some(&wait)),
            Some(Duration::from_secs(125))
        );
        let short = serde_json::json!({"timeout_ms": 1_000});
        assert_eq!(
            reply_limit(None, "send_text", Some(&short)),
            Some(DEFAULT_TIMEOUT)
        );
        assert_eq!(
            reply_limit(Some(3), "send_media", Some(&wait)),
            Some(Duration::from_secs(3))
        );
        assert_eq!(reply_limit(Some(0), "status", None), None);
    }
}
