//! What the examples that run the real binaries share: `wawebd sim` and `wawebd` as child
//! processes, JSON-RPC requests over the socket, and pairing through the simulated phone.

#![allow(dead_code)] // each example uses its own part

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wawebd() -> PathBuf {
    // target/<profile>/examples/loadgen -> target/<profile>/wawebd
    let exe = std::env::current_exe().expect("own path");
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("wawebd"))
        .expect("the wawebd binary beside the examples folder")
}

/// A field of /proc/PID/status as a number: kB for sizes (`VmRSS`), a count for `Threads`.
pub fn proc_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

pub struct Sim {
    _child: Killed,
    pub stdin: ChildStdin,
    pub lines: mpsc::Receiver<Value>,
}

impl Sim {
    pub fn command(&mut self, command: Value) -> Value {
        writeln!(self.stdin, "{command}").expect("the simulator reads commands");
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(600))
                .expect("the simulator answers");
            if line["cmd"] == command["cmd"] && (line["type"] == "done" || line["type"] == "error")
            {
                assert_eq!(line["type"], "done", "{line}");
                return line;
            }
        }
    }
}

/// `wawebd sim` and its websocket URL; `received` lines are dropped unless `received`.
pub fn start_sim(received: bool) -> (Sim, String) {
    let mut child = Command::new(wawebd())
        .args(["sim", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wawebd sim starts");
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str::<Value>(&line)
                && (received || value["type"] != "received")
                && send.send(value).is_err()
            {
                return;
            }
        }
    });
    let listening = lines.recv_timeout(Duration::from_secs(20)).unwrap();
    let url = listening["ws_url"].as_str().unwrap().to_owned();
    (
        Sim {
            _child: Killed(child),
            stdin,
            lines,
        },
        url,
    )
}

/// The daemon on `dir` (its `state` folder), not waiting for anything.
pub fn spawn(dir: &Path, url: &str) -> Killed {
    Killed(
        Command::new(wawebd())
            .arg("--server-url")
            .arg(url)
            .arg("--socket")
            .arg(dir.join("run/wawebd.sock"))
            .arg("--state-dir")
            .arg(dir.join("state"))
            .env("XDG_CONFIG_HOME", dir)
            .env("WAWEBD_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("wawebd starts"),
    )
}

pub fn start_daemon(dir: &Path, url: &str) -> (Killed, PathBuf) {
    start_daemon_with(dir, url, &[])
}

/// The daemon with these environment variables besides (or instead of) the usual ones.
pub fn start_daemon_with(
    dir: &Path,
    url: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> (Killed, PathBuf) {
    let socket = dir.join("run/wawebd.sock");
    let child = Command::new(wawebd())
        .arg("--server-url")
        .arg(url)
        .arg("--socket")
        .arg(&socket)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env("XDG_CONFIG_HOME", dir)
        .env("WAWEBD_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .spawn()
        .expect("wawebd starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the daemon never listened");
        std::thread::sleep(Duration::from_millis(10));
    }
    (Killed(child), socket)
}

pub fn request(stream: &mut UnixStream, id: u64, method: &str, params: Value) {
    let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    writeln!(stream, "{line}").unwrap();
}

/// One call over `stream` (used for nothing else meanwhile), its result; panics on an error.
pub fn call(stream: &mut UnixStream, id: u64, method: &str, params: Value) -> Value {
    request(stream, id, method, params);
    let mut lines = BufReader::new(stream.try_clone().unwrap()).lines();
    for line in lines.by_ref() {
        let line: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if line["id"] == id {
            assert!(line.get("error").is_none(), "{line}");
            return line["result"].clone();
        }
    }
    panic!("the daemon went away");
}

/// `bytes` in `time` as `N MB/s (M MiB/s)`.
pub fn rate(bytes: u64, time: Duration) -> String {
    let seconds = time.as_secs_f64();
    format!(
        "{:.0} MB/s ({:.0} MiB/s)",
        bytes as f64 / seconds / 1e6,
        bytes as f64 / seconds / 1_048_576.0
    )
}

pub fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Resets the peak RSS (`VmHWM`) of a process to its current RSS (`clear_refs` 5, Linux 4.0+),
/// so the next reading is the peak of what happens from now on. False where that is refused.
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Logs in through the simulated phone.
pub fn pair(sim: &mut Sim, socket: &Path) {
    let mut stream = UnixStream::connect(socket).unwrap();
    let mut lines = BufReader::new(stream.try_clone().unwrap()).lines();
    request(
        &mut stream,
        1,
        "subscribe",
        json!({"events": ["qr", "connected"]}),
    );
    request(&mut stream, 2, "login", json!({}));
    for line in lines.by_ref() {
        let line: Value = serde_json::from_str(&line.unwrap()).unwrap();
        match line["params"]["type"].as_str() {
            Some("qr") => {
                sim.command(json!({"cmd": "scan", "qr": line["params"]["content"]}));
            }
            Some("connected") => return,
            _ => {}
        }
    }
    panic!("the daemon went away while pairing");
}

/// User plus system CPU time of a process so far, in clock ticks (1/100 s on Linux).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised name; utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

pub fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// One received `message` event of a flood: its number, when the simulator built it (unix ns,
/// from the text `flood N/COUNT @NS`), when its line was read here.
pub struct Arrival {
    pub n: u64,
    pub built_ns: u128,
    pub read_ns: u128,
}

pub fn parse_arrival(line: &str) -> Option<Arrival> {
    let read_ns = unix_ns();
    let text = &line[line.find("\"text\":\"flood ")? + 14..];
    let (n, rest) = text.split_once('/')?;
    let built = &rest[rest.find('@')? + 1..];
    let built: String = built.chars().take_while(char::is_ascii_digit).collect();
    Some(Arrival {
        n: n.parse().ok()?,
        built_ns: built.parse().ok()?,
        read_ns,
    })
}
