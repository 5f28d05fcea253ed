//! `wawebctl accounts`: the daemons of every account (DESIGN.md section 10), found by their
//! sockets in one folder, each asked for its status.
//!
//! ```text
//! ACCOUNT STATE       ME                           SOCKET
//! -       connected   4915100000001@s.whatsapp.net /run/user/1000/wawebd/wawebd.sock
//! alice   not running -                            /run/user/1000/wawebd/alice.sock
//! ```

use std::io::{self, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use waweb_proto::methods::{self, Method};
use waweb_proto::{AccountName, Client, ClientError, NoParams, StatusResult};

use crate::{Cli, Failure, exit, output, table};

/// How long one daemon may take to answer `status`: a hung one must not hold up the list.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// What asking one socket gave.
enum Probe {
    /// It answered: the result as it came, and as this version reads it.
    Running(Value, Box<StatusResult>),
    /// Nobody listens (a socket left behind by a crash, or a daemon stopping).
    NotRunning,
    /// Something listens but gave no status: why.
    Unreachable(String),
}

/// Lists the sockets in `dir` (default: `$XDG_RUNTIME_DIR/wawebd`) with each daemon's state.
pub(crate) fn run(cli: &Cli, dir: Option<&Path>, out: &mut dyn Write) -> Result<(), Failure> {
    let dir = match dir {
        Some(dir) => dir.to_owned(),
        None => waweb_proto::socket_dir_from(|name| cli.var(name))
            .map_err(|error| Failure::usage(format!("{error} (or pass --dir DIR)")))?,
    };
    let sockets = find(&dir)?;
    let mut rows = Vec::new();
    for (account, socket) in &sockets {
        let probe = probe(socket);
        if cli.json {
            let (running, status, error) = match &probe {
                Probe::Running(raw, _) => (true, raw.clone(), Value::Null),
                Probe::NotRunning => (false, Value::Null, json!("not running")),
                Probe::Unreachable(why) => (true, Value::Null, json!(why)),
            };
            let line = json!({
                "account": account.as_ref().map(AccountName::as_str),
                "socket": socket.display().to_string(),
                "running": running,
                "status": status,
                "error": error,
            });
            writeln!(out, "{line}").map_err(output)?;
        } else {
            rows.push(row(account.as_ref(), socket, &probe));
        }
    }
    if !cli.json {
        table::write(out, &["ACCOUNT", "STATE", "ME", "SOCKET"], &rows).map_err(output)?;
    }
    Ok(())
}

fn row(account: Option<&AccountName>, socket: &Path, probe: &Probe) -> Vec<String> {
    let (state, me) = match probe {
        Probe::Running(_, status) => (
            status.state.as_str().to_owned(),
            table::or_dash(status.me.as_ref().map(|me| me.wid.clone())),
        ),
        Probe::NotRunning => ("not running".to_owned(), "-".to_owned()),
        Probe::Unreachable(why) => (format!("unreachable ({why})"), "-".to_owned()),
    };
    vec![
        table::or_dash(account),
        state,
        me,
        socket.display().to_string(),
    ]
}

/// The account sockets in `dir`, the default account first, then by name. A missing folder
/// holds none (no daemon ever ran, or the runtime dir was cleaned at logout).
fn find(dir: &Path) -> Result<Vec<(Option<AccountName>, PathBuf)>, Failure> {
    let cannot = |error: io::Error| {
        Failure::new(
            exit::FAILURE,
            format!("cannot list {}: {error}", dir.display()),
        )
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(cannot(error)),
    };
    let mut sockets = Vec::new();
    for entry in entries {
        let entry = entry.map_err(cannot)?;
        let is_socket = entry.file_type().is_ok_and(|kind| kind.is_socket());
        let name = entry.file_name();
        let account = name.to_str().and_then(AccountName::of_socket_file);
        if let (true, Some(account)) = (is_socket, account) {
            sockets.push((account, entry.path()));
        }
    }
    sockets.sort();
    Ok(sockets)
}

fn probe(socket: &Path) -> Probe {
    let stream = match UnixStream::connect(socket) {
        Ok(stream) => stream,
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Probe::NotRunning;
        }
        Err(error) => return Probe::Unreachable(error.to_string()),
    };
    let asked = Client::from_stream(stream).and_then(|mut client| {
        client.set_reply_timeout(Some(STATUS_TIMEOUT))?;
        client.send_call(&methods::Status::call(NoParams))
    });
    match asked {
        Ok(raw) => match serde_json::from_value::<StatusResult>(raw.clone()) {
            Ok(status) => Probe::Running(raw, Box::new(status)),
            Err(error) => Probe::Unreachable(format!("unexpected status: {error}")),
        },
        // It went away between connect and reply: stopping.
        Err(ClientError::Closed) => Probe::NotRunning,
        Err(ClientError::Rpc(error)) => Probe::Unreachable(error.message),
        Err(error) => Probe::Unreachable(error.to_string()),
    }
}
