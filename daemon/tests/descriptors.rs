//! The real binaries under descriptor pressure, with systemd's default soft limit of 1,024:
//! clients that subscribe and hang up are reclaimed at once, clients over the cap are refused
//! with an error, and the session (status, a restore and its token save) keeps working.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(20);

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `wawebd sim` with its output lines read by a thread, so it never blocks on a full pipe.
struct Sim {
    _child: KillOnDrop,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
    ws_url: String,
}

impl Sim {
    fn start() -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wawebd"))
            .args(["sim", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && send.send(value).is_err()
                {
                    return;
                }
            }
        });
        let listening = lines.recv_timeout(DEADLINE).unwrap();
        assert_eq!(listening["type"], "listening", "{listening}");
        Sim {
            ws_url: listening["ws_url"].as_str().unwrap().to_owned(),
            _child: KillOnDrop(child),
            stdin,
            lines,
        }
    }

    fn command(&mut self, command: Value) {
        writeln!(self.stdin, "{command}").unwrap();
        let deadline = Instant::now() + DEADLINE;
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the simulator answers");
            if line["type"] == "done" && line["cmd"] == command["cmd"] {
                return;
            }
            assert_ne!(line["type"], "error", "{line}");
        }
    }
}

/// The daemon as systemd would start it without `LimitNOFILE=`: soft and hard limit 1,024.
struct Daemon {
    child: KillOnDrop,
    socket: PathBuf,
    state: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(server_url: &str) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/wawebd.sock");
        let state = dir.path().join("state");
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n 1024 && exec "$0" "$@""#)
            .arg(env!("CARGO_BIN_EXE_wawebd"))
            .arg("--server-url")
            .arg(server_url)
            .arg("--socket")
            .arg(&socket)
            .arg("--state-dir")
            .arg(&state)
            .env("XDG_CONFIG_HOME", dir.path())
            .env_remove("WAWEBD_CONFIG")
            .env("WAWEBD_LOG", "warn")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + DEADLINE;
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "the daemon never listened");
            std::thread::sleep(Duration::from_millis(10));
        }
        Daemon {
            child: KillOnDrop(child),
            socket,
            state,
            _dir: dir,
        }
    }

    fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.0.id()))
            .unwrap()
            .count()
    }

    fn soft_limit(&self) -> u64 {
        let limits =
            std::fs::read_to_string(format!("/proc/{}/limits", self.child.0.id())).unwrap();
        let line = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .unwrap();
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    }
}

/// A blocking JSON-lines client.
struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    events: Vec<Value>,
}

impl Client {
    fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        Client {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
            events: Vec::new(),
        }
    }

    fn line(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_str(&line).unwrap()),
            Err(error) => panic!("no line in time: {error}"),
        }
    }

    fn call(&mut self, id: u64, method: &str, params: Value) -> Result<Value, Value> {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(self.writer, "{request}").unwrap();
        loop {
            let line = self.line().expect("the daemon answers");
            if line["id"] == id {
                return match line.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(line["result"].clone()),
                };
            }
            if line["method"] == "event" {
                self.events.push(line["params"].clone());
            }
        }
    }

    fn event(&mut self, kind: &str) -> Value {
        if let Some(at) = self.events.iter().position(|event| event["type"] == kind) {
            return self.events.remove(at);
        }
        loop {
            let line = self.line().expect("the daemon stays");
            if line["params"]["type"] == kind {
                return line["params"].clone();
            }
        }
    }
}

fn paired() -> (Sim, Daemon, Client) {
    let mut sim = Sim::start();
    let daemon = Daemon::start(&sim.ws_url);
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "subscribe", json!({})).unwrap();
    client.call(2, "login", json!({})).unwrap();
    let qr = client.event("qr");
    sim.command(json!({"cmd": "scan", "qr": qr["content"]}));
    client.event("connected");
    (sim, daemon, client)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn subscribers_that_hang_up_leave_no_descriptor_behind() {
    let (_sim, daemon, mut client) = paired();
    client.call(3, "status", json!({})).unwrap();
    let before = daemon.descriptors();
    for round in 0..2000u64 {
        let mut subscriber = Client::connect(&daemon.socket);
        subscriber
            .call(round, "subscribe", json!({"events": ["logged_out"]}))
            .unwrap();
    }
    wait_for("the descriptors come back to where they started", || {
        daemon.descriptors() <= before
    });
    assert_eq!(
        client.call(4, "status", json!({})).unwrap()["state"],
        "connected"
    );
}

#[test]
fn clients_over_the_cap_are_refused_while_the_session_goes_on() {
    // This test holds more sockets than systemd's default limit: lift our own soft limit.
    use rustix::process::{Resource, getrlimit, setrlimit};
    let ours = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        rustix::process::Rlimit {
            current: ours.maximum,
            maximum: ours.maximum,
        },
    );
    let wanted = 1100;
    if getrlimit(Resource::Nofile)
        .current
        .is_some_and(|soft| soft < 2 * wanted + 64)
    {
        panic!(
            "this test needs a hard descriptor limit of at least {}",
            2 * wanted + 64
        );
    }

    let (mut sim, daemon, mut client) = paired();
    assert_eq!(daemon.soft_limit(), 1024);
    let session = std::fs::read(daemon.state.join("session.json")).unwrap();
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..wanted {
        let stream = UnixStream::connect(&daemon.socket).unwrap();
        held.push(stream);
    }
    // Those over the cap got one error line and were closed; the others answer a request.
    for mut stream in held.iter() {
        let _ = writeln!(stream, r#"{{"jsonrpc":"2.0","id":1,"method":"version"}}"#);
    }
    for stream in &held {
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        let reply: Value = serde_json::from_str(&line).unwrap();
        if reply.get("error").is_some() {
            assert_eq!(
                reply["error"]["data"]["kind"], "too_many_connections",
                "{line}"
            );
            assert_eq!(reply["id"], Value::Null);
            refused += 1;
        } else {
            assert_eq!(reply["id"], 1, "{line}");
        }
    }
    // The first client and 255 more fill the default cap of 256.
    assert_eq!(refused, wanted as usize - 255, "refused clients");
    assert!(daemon.descriptors() < 1024 - 64, "{}", daemon.descriptors());

    // The session is untouched: status answers, and a restore stores its rotated tokens.
    assert_eq!(
        client.call(10, "status", json!({})).unwrap()["state"],
        "connected"
    );
    sim.command(json!({"cmd": "drop"}));
    client.event("disconnected");
    assert_eq!(client.event("connected")["restored"], true);
    let status = client.call(11, "status", json!({})).unwrap();
    assert_eq!(
        (&status["state"], &status["session_stored"]),
        (&json!("connected"), &json!(true))
    );
    let rotated = std::fs::read(daemon.state.join("session.json")).unwrap();
    assert_ne!(rotated, session, "the restore's tokens are on disk");

    // Freed places are usable again.
    held.clear();
    wait_for("a place frees up", || {
        let Ok(mut stream) = UnixStream::connect(&daemon.socket) else {
            return false;
        };
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let _ = writeln!(stream, r#"{{"jsonrpc":"2.0","id":1,"method":"version"}}"#);
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).is_ok() && line.contains(r#""result""#)
    });
}
