//! Paths and peers on the real daemon (issue 13, DESIGN.md 15.3): every method that takes a
//! path refuses the daemon's own files, directly and through symlinks, with -32602 and
//! nothing changed; a client of another uid is refused even through a socket of mode 0777.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Client, paired};

const CONTACT: &str = "4915100000003";

/// Every file of the state dir and the socket's dir, with the SHA-256 of its content (the
/// socket and other non-files by their kind).
fn snapshot(dirs: &[&Path]) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    for dir in dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.is_file() {
                format!(
                    "{:02x?}",
                    Sha256::digest(std::fs::read(&path).unwrap()).as_slice()
                )
            } else {
                format!("{:?}", meta.file_type())
            };
            files.insert(path, what);
        }
    }
    files
}

/// The daemon's own files a client might name, each also through a symlink in `free`.
fn own_files(state: &Path, socket: &Path, free: &Path) -> Vec<(String, PathBuf)> {
    let mut own = vec![("the socket".to_owned(), socket.to_owned())];
    for name in ["session.json", "waweb.db", "waweb.db-wal", "waweb.db-shm"] {
        let path = state.join(name);
        assert!(path.exists(), "{name} is not in the state dir");
        own.push((name.to_owned(), path));
    }
    let mut links = Vec::new();
    for (what, target) in &own {
        let link = free.join(format!("link-{}", links.len()));
        symlink(target, &link).unwrap();
        links.push((format!("a symlink to {what}"), link));
    }
    symlink(state, free.join("to-state")).unwrap();
    links.push((
        "session.json through a symlinked folder".to_owned(),
        free.join("to-state/session.json"),
    ));
    own.extend(links);
    own
}

/// `method` with `params` fails with -32602 and a message that contains `said`.
fn refused(client: &mut Client, id: u64, method: &str, params: Value, said: &str) {
    let Err(error) = client.call(id, method, params.clone()) else {
        panic!("{method} {params} was accepted");
    };
    assert_eq!(error["code"], -32602, "{method} {params}: {error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(said), "{method} {params}: {error}");
}

#[test]
fn methods_taking_paths_refuse_the_daemons_own_files_and_change_nothing() {
    let (mut sim, daemon, mut client) = paired();
    let free = std::fs::canonicalize(daemon.dir.path())
        .unwrap()
        .join("free");
    std::fs::create_dir(&free).unwrap();
    let document = free.join("scan.pdf");
    std::fs::write(&document, b"%PDF-1.4 a document").unwrap();
    sim.command(
        json!({"cmd": "send_media", "from": CONTACT, "kind": "document", "path": document}),
    );
    let event = client.event("message");
    let message = json!({"chat": event["chat"], "id": event["id"], "from_me": event["from_me"]});
    let run = daemon.socket.parent().unwrap();
    let own = own_files(&daemon.state, &daemon.socket, &free);
    let before = snapshot(&[&daemon.state, run]);

    // Writers: `media_download` (a stored message, an inline media object) and
    // `profile_picture` with an output.
    let writers = |output: &Path| {
        [
            (
                "media_download",
                json!({"message": message, "output": output}),
            ),
            (
                "media_download",
                json!({"media": event["media"], "output": output}),
            ),
            ("profile_picture", json!({"jid": CONTACT, "output": output})),
        ]
    };
    // Readers: `send_media` and `set_profile_picture`.
    let readers = |path: &Path| {
        [
            (
                "send_media",
                json!({"to": CONTACT, "kind": "document", "path": path}),
            ),
            ("set_profile_picture", json!({"path": path})),
        ]
    };
    let mut id = 10;
    let mut cases = 0;
    let mut check = |client: &mut Client, calls: Vec<(&str, Value)>, said: &str| {
        for (method, params) in calls {
            id += 1;
            cases += 1;
            refused(client, id, method, params, said);
        }
    };
    for (what, path) in &own {
        eprintln!("{what}: {}", path.display());
        let calls = writers(path).into_iter().chain(readers(path)).collect();
        check(&mut client, calls, "inside the daemon's");
    }
    // A new name in our folders, for writing.
    for path in [daemon.state.join("new.jpg"), run.join("new.jpg")] {
        check(&mut client, writers(&path).into(), "inside the daemon's");
    }
    let relative = Path::new("photo.jpg");
    check(
        &mut client,
        writers(relative).into(),
        "output must be an absolute path",
    );
    check(
        &mut client,
        readers(relative).into(),
        "path must be an absolute path",
    );
    let missing = free.join("missing/photo.jpg");
    check(&mut client, writers(&missing).into(), "does not exist");
    check(&mut client, readers(&missing).into(), "No such file");
    check(&mut client, writers(&free).into(), "is a directory");
    check(&mut client, readers(&free).into(), "not a regular file");
    eprintln!("{cases} refusals");

    // Nothing of ours changed, and the daemon goes on: the same download to a free place works.
    assert_eq!(snapshot(&[&daemon.state, run]), before);
    let output = free.join("copy.pdf");
    let done = client
        .call(
            id + 1,
            "media_download",
            json!({"message": message, "output": output}),
        )
        .unwrap();
    assert_eq!(done["path"], json!(output), "{done}");
    assert_eq!(
        std::fs::read(&output).unwrap(),
        std::fs::read(&document).unwrap()
    );
    let status = client.call(id + 2, "status", json!({})).unwrap();
    assert_eq!(status["state"], "connected", "{status}");
}

/// Set for the copy of this binary that runs as another user: the socket to try.
const PEER_SOCKET: &str = "WAWEB_TEST_PEER_SOCKET";

/// The client that [`another_uid_is_refused_even_through_a_socket_of_mode_0777`] runs as
/// `nobody` (this test binary again): asks for `status` and prints the one line it gets back.
fn peer_client(socket: &std::ffi::OsStr) {
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    stream.set_read_timeout(Some(support::DEADLINE)).unwrap();
    // The refusal may come, and the connection close, before this is written.
    let _ = writeln!(stream, r#"{{"jsonrpc":"2.0","id":1,"method":"status"}}"#);
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("a line");
    println!("REPLY {}", line.trim_end());
    // Then the daemon closes the connection: an end of file, or a reset when it closed with
    // our request still unread in its buffer.
    line.clear();
    match reader.read_line(&mut line) {
        Ok(0) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("not closed: {other:?} {line}"),
    }
    println!("CLOSED");
}

fn uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn another_uid_is_refused_even_through_a_socket_of_mode_0777() {
    use std::os::unix::fs::PermissionsExt;
    if let Some(socket) = std::env::var_os(PEER_SOCKET) {
        return peer_client(&socket);
    }
    let sim = support::Sim::start();
    let daemon = support::Daemon::start(&sim.ws_url);
    let mut owner = Client::connect(&daemon.socket);
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let run = daemon.socket.parent().unwrap();
    if uid() != 0 {
        // Without root there is no second uid to connect as: what stands in its way here is
        // the socket's own mode, and the uid rule is `ipc::tests::only_our_user_and_root_may_connect`.
        eprintln!("not root: no client of another uid can be run; checking the modes instead");
        assert_eq!((mode(&daemon.socket), mode(run)), (0o600, 0o700));
        let status = owner.call(1, "status", json!({})).unwrap();
        assert!(status["state"].is_string(), "{status}");
        return;
    }
    // Open the way as far as the file system goes: only the peer check is left.
    let set = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    set(daemon.dir.path(), 0o755);
    set(run, 0o755);
    set(&daemon.socket, 0o777);
    // This test binary may sit under a folder only root may enter (a CI checkout in a 0700
    // temp dir): nobody runs a copy of it from a folder anyone may enter.
    let exe_dir = tempfile::tempdir().unwrap();
    set(exe_dir.path(), 0o755);
    let exe = exe_dir.path().join("peer-client");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    set(&exe, 0o755);
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "another_uid_is_refused_even_through_a_socket_of_mode_0777",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PEER_SOCKET, &daemon.socket)
        .output()
        .expect("setpriv runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("CLOSED"),
        "the connection stayed open: {stdout}"
    );
    let reply: Value = stdout
        .split("REPLY ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .map(|line| serde_json::from_str(line).unwrap())
        .unwrap_or_else(|| panic!("no reply: {stdout}\n{stderr}"));
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert_eq!(
        reply["error"]["data"]["kind"], "permission_denied",
        "{reply}"
    );
    assert_eq!(
        reply["error"]["message"], "uid 65534 may not use this socket; only uid 0 and root may",
        "{reply}"
    );
    assert_eq!(reply["id"], Value::Null, "{reply}");

    // One warning, and the owner is served all along.
    let status = owner
        .call(1, "status", json!({}))
        .unwrap_or_else(|error| panic!("{error}: {}", daemon.log()));
    assert!(status["state"].is_string(), "{status}");
    let log = daemon.log();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("refusing a connection from another user"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("65534"), "{log}");
}
