//! What the tests of the real binaries share: `wawebd sim` as a child process with its output
//! read by a thread, the daemon as systemd would start it (soft and hard descriptor limit
//! 1,024), and a blocking JSON-lines client; waits with deadlines.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `wawebd sim` with its output lines read by a thread, so it never blocks on a full pipe.
pub struct Sim {
    _child: KillOnDrop,
    pub stdin: ChildStdin,
    pub lines: mpsc::Receiver<Value>,
    pub ws_url: String,
}

impl Sim {
    pub fn start() -> Sim {
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

    /// Writes a command without waiting for its answer.
    pub fn submit(&mut self, command: &Value) {
        writeln!(self.stdin, "{command}").unwrap();
    }

    /// Waits for the answers (`done` or `error`) of `count` commands named `cmd`; how many
    /// were `done`.
    pub fn answers(&mut self, cmd: &str, count: usize) -> usize {
        let deadline = Instant::now() + DEADLINE;
        let (mut answered, mut done) = (0, 0);
        while answered < count {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the simulator answers");
            let kind = line["type"].as_str().unwrap_or_default();
            if (kind == "done" || kind == "error") && line["cmd"] == cmd {
                answered += 1;
                done += usize::from(kind == "done");
            }
        }
        done
    }

    /// Waits for (and returns) the next output line that `wanted` accepts; the lines before it
    /// are passed over.
    pub fn line_where(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let mut lines = self.lines_until(what, wanted);
        lines.pop().unwrap()
    }

    /// Every output line up to and including the next one that `wanted` accepts.
    pub fn lines_until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + DEADLINE;
        let mut lines = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("the simulator never reported {what}"));
            let last = wanted(&line);
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    pub fn command(&mut self, command: Value) {
        self.command_after(command);
    }

    /// [`Sim::command`], returning the output lines written before its `done`: everything the
    /// simulator saw happen until then.
    pub fn command_after(&mut self, command: Value) -> Vec<Value> {
        writeln!(self.stdin, "{command}").unwrap();
        let deadline = Instant::now() + DEADLINE;
        let mut before = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the simulator answers");
            if line["type"] == "done" && line["cmd"] == command["cmd"] {
                return before;
            }
            assert_ne!(line["type"], "error", "{line}");
            before.push(line);
        }
    }
}

/// A [`Setup`] with short reconnect limits, so a backoff takes milliseconds instead of seconds.
pub fn short_backoff(_: &mut Command, dir: &Path) {
    reconnect_limits(dir, 100, 400);
}

/// Writes the daemon's config file with these `[reconnect]` limits (its first wait is at least
/// a quarter of `initial_ms`).
pub fn reconnect_limits(dir: &Path, initial_ms: u64, max_ms: u64) {
    config_file(
        dir,
        &format!("[reconnect]\ninitial_ms = {initial_ms}\nmax_ms = {max_ms}\n"),
    );
}

/// Writes the daemon's config file (`$XDG_CONFIG_HOME/wawebd/config.toml`) with `text`.
pub fn config_file(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join("wawebd")).unwrap();
    std::fs::write(dir.join("wawebd/config.toml"), text).unwrap();
}

/// Changes the daemon's command before it starts (more flags, another environment, stderr to
/// a file), given the daemon's temporary directory; used on every restart too.
pub type Setup = fn(&mut Command, &Path);

/// The daemon as systemd would start it without `LimitNOFILE=`: soft and hard limit 1,024.
pub struct Daemon {
    pub child: KillOnDrop,
    pub socket: PathBuf,
    pub state: PathBuf,
    pub dir: tempfile::TempDir,
    server_url: String,
    setup: Setup,
}

impl Daemon {
    pub fn start(server_url: &str) -> Daemon {
        Self::start_with(server_url, |_, _| {})
    }

    /// [`Daemon::start`] with `setup` applied to the command (it runs after the defaults, so
    /// it can undo them: `WAWEBD_LOG=warn`, stderr to `daemon.log`).
    pub fn start_with(server_url: &str, setup: Setup) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/wawebd.sock");
        let state = dir.path().join("state");
        let child = Self::spawn(server_url, dir.path(), &socket, &state, setup);
        Daemon {
            child,
            socket,
            state,
            dir,
            server_url: server_url.to_owned(),
            setup,
        }
    }

    fn spawn(
        server_url: &str,
        dir: &Path,
        socket: &Path,
        state: &Path,
        setup: Setup,
    ) -> KillOnDrop {
        let child = Self::command(server_url, dir, socket, state, setup)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + DEADLINE;
        while UnixStream::connect(socket).is_err() {
            assert!(Instant::now() < deadline, "the daemon never listened");
            std::thread::sleep(Duration::from_millis(10));
        }
        KillOnDrop(child)
    }

    /// Starts the daemon again on the same state (after [`Daemon::kill`]) when it is expected
    /// not to come up: waits (with the deadline) for it to exit; its exit status and stderr.
    pub fn run_to_exit(&self) -> (std::process::ExitStatus, String) {
        let mut command = Self::command(
            &self.server_url,
            self.dir.path(),
            &self.socket,
            &self.state,
            self.setup,
        );
        let mut child = KillOnDrop(command.stderr(Stdio::piped()).spawn().unwrap());
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the daemon did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut stderr).unwrap();
        (status, stderr)
    }

    /// The command that starts the daemon (defaults, then `setup`).
    fn command(server_url: &str, dir: &Path, socket: &Path, state: &Path, setup: Setup) -> Command {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            // `WAWEBD_TEST_UMASK` (a setup's) starts the daemon under that umask.
            .arg(r#"ulimit -n 1024 && umask "${WAWEBD_TEST_UMASK:-$(umask)}" && exec "$0" "$@""#)
            .arg(env!("CARGO_BIN_EXE_wawebd"))
            .arg("--server-url")
            .arg(server_url)
            .arg("--socket")
            .arg(socket)
            .arg("--state-dir")
            .arg(state)
            .env("XDG_CONFIG_HOME", dir)
            .env_remove("WAWEBD_CONFIG")
            .env("WAWEBD_LOG", "warn")
            .stdin(Stdio::null())
            .stderr(Self::log_file(dir));
        setup(&mut command, dir);
        command
    }

    /// Where the daemon's stderr goes (appended to across restarts).
    fn log_file(dir: &Path) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("daemon.log"))
            .unwrap()
    }

    /// Everything the daemon logged so far (at `warn`).
    #[allow(dead_code)] // not every test binary reads the log
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap()
    }

    /// SIGKILL: no shutdown of any kind, as a crash or the OOM killer would.
    pub fn kill(&mut self) {
        self.child.0.kill().unwrap();
        self.child.0.wait().unwrap();
    }

    /// Starts the daemon again on the same state (after [`Daemon::kill`]); the stale socket
    /// file is replaced.
    pub fn restart(&mut self) {
        self.child = Self::spawn(
            &self.server_url,
            self.dir.path(),
            &self.socket,
            &self.state,
            self.setup,
        );
    }

    /// [`Daemon::restart`], then a client subscribed to everything once the stored session is
    /// restored (`connected`).
    pub fn restart_connected(&mut self) -> Client {
        self.restart();
        let mut client = Client::connect(&self.socket);
        client.call(1, "subscribe", json!({})).unwrap();
        if client.call(2, "status", json!({})).unwrap()["state"] != "connected" {
            client.event("connected");
        }
        client
    }

    /// The session file: None when erased, else its JSON (it must parse).
    pub fn session(&self) -> Option<Value> {
        let text = std::fs::read_to_string(self.state.join("session.json")).ok()?;
        Some(serde_json::from_str(&text).expect("the session file parses"))
    }

    pub fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.0.id()))
            .unwrap()
            .count()
    }

    /// The daemon's resident set (`VmRSS` of /proc/PID/status), in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The largest resident set the daemon ever had (`VmHWM`), in KiB: a buffer allocated and
    /// freed between two samples of [`Daemon::rss_kib`] still shows here.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.0.id())).unwrap();
        let line = status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .unwrap();
        line.split_whitespace().next().unwrap().parse().unwrap()
    }

    pub fn soft_limit(&self) -> u64 {
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
pub struct Client {
    pub reader: BufReader<UnixStream>,
    pub writer: UnixStream,
    pub events: Vec<Value>,
}

impl Client {
    pub fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        Client {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
            events: Vec::new(),
        }
    }

    pub fn line(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_str(&line).unwrap()),
            Err(error) => panic!("no line in time: {error}"),
        }
    }

    pub fn call(&mut self, id: u64, method: &str, params: Value) -> Result<Value, Value> {
        self.send(id, method, params);
        self.reply(id)
    }

    /// Writes a request without waiting for its reply (read it with [`Client::reply`]).
    pub fn send(&mut self, id: u64, method: &str, params: Value) {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(self.writer, "{request}").unwrap();
    }

    /// The reply to request `id`: its result or its error object; events meanwhile are kept.
    pub fn reply(&mut self, id: u64) -> Result<Value, Value> {
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

    pub fn event(&mut self, kind: &str) -> Value {
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

pub fn paired() -> (Sim, Daemon, Client) {
    paired_with(|_, _| {})
}

/// [`paired`] with a daemon started through [`Daemon::start_with`].
pub fn paired_with(setup: Setup) -> (Sim, Daemon, Client) {
    let (sim, daemon, client, _) = paired_with_qr(setup);
    (sim, daemon, client)
}

/// [`paired_with`], and the content of the QR code the phone scanned.
pub fn paired_with_qr(setup: Setup) -> (Sim, Daemon, Client, String) {
    let mut sim = Sim::start();
    let daemon = Daemon::start_with(&sim.ws_url, setup);
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "subscribe", json!({})).unwrap();
    client.call(2, "login", json!({})).unwrap();
    let qr = client.event("qr");
    let content = qr["content"].as_str().unwrap().to_owned();
    sim.command(json!({"cmd": "scan", "qr": content}));
    client.event("connected");
    (sim, daemon, client, content)
}

/// CPU time (user + system, clock ticks) the process used so far.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised name; utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Asserts the daemon used less than ~5% of a core over one second.
pub fn assert_idle(daemon: &Daemon) {
    let pid = daemon.child.0.id();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    // Clock ticks are 1/100 s on Linux: 5 ticks in 1 s is 5% of a core.
    assert!(used <= 5, "{used} ticks of CPU in 1 s while waiting");
}

pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Set in the copy of a test binary that runs inside its own mount namespace
/// ([`in_mount_namespace`]).
pub const IN_NAMESPACE: &str = "WAWEB_TEST_MOUNT_NS";

/// Runs the test `name` of this binary again inside a private mount namespace (a user
/// namespace too when not root), where it may mount a tmpfs; the mount goes with it.
pub fn in_mount_namespace(name: &str) {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next().map(|id| id == "0"))
        .unwrap();
    let mut command = Command::new("unshare");
    if !root {
        command.args(["--user", "--map-root-user"]);
    }
    let output = command
        .args(["--mount", "--propagation", "private"])
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(IN_NAMESPACE, "1")
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the test did not run: {stdout}"
    );
}

/// Mounts a tmpfs of `size` (`4m`) on the folder `dir` (inside [`in_mount_namespace`]).
pub fn mount_tmpfs(dir: &Path, size: &str) {
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o"])
        .arg(format!("size={size},mode=700"))
        .arg("tmpfs")
        .arg(dir)
        .status()
        .unwrap();
    assert!(mounted.success(), "mount tmpfs on {}", dir.display());
}

/// Fills the file system of `dir` with one file until it refuses more (ENOSPC).
pub fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    for chunk in [65_536, 4096, 512, 1] {
        let block = vec![0u8; chunk];
        loop {
            match file.write_all(&block) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::StorageFull => break,
                Err(error) => panic!("filling {}: {error}", path.display()),
            }
        }
    }
    path
}

/// `PRAGMA integrity_check` of the database at `path`, and the seqs in its journal.
pub fn database(path: &Path) -> (String, std::collections::HashSet<u64>) {
    let db = rusqlite::Connection::open(path).unwrap();
    let check = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    let mut query = db.prepare("SELECT seq FROM journal").unwrap();
    let seqs = query
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (check, seqs)
}
