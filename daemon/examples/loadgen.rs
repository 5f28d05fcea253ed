//! Load for the whole daemon, as a user runs it: `wawebd sim` and `wawebd` as child processes,
//! a session paired over the socket, one subscriber reading `message` events from the socket,
//! and the simulator's `flood` pushing messages over the loopback websocket. Reports
//! throughput (with the simulator's own sending time beside it, so the two can be compared)
//! and the latency from a frame being built to its JSON line being read from the socket.
//! Every message is checked to arrive once, in order.
//!
//! ```text
//! cargo run --release -p wawebd --example loadgen -- [COUNT] [LATENCY_RATE] [LATENCY_COUNT]
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wawebd() -> PathBuf {
    // target/<profile>/examples/loadgen -> target/<profile>/wawebd
    let exe = std::env::current_exe().expect("own path");
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("wawebd"))
        .expect("the wawebd binary beside the examples folder")
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

struct Sim {
    _child: Killed,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
}

impl Sim {
    fn command(&mut self, command: Value) -> Value {
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

fn start_sim() -> (Sim, String) {
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
                && value["type"] != "received"
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

fn start_daemon(dir: &Path, url: &str) -> (Killed, PathBuf) {
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

fn request(stream: &mut UnixStream, id: u64, method: &str, params: Value) {
    let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    writeln!(stream, "{line}").unwrap();
}

/// Logs in through the simulated phone.
fn pair(sim: &mut Sim, socket: &Path) {
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

/// One received `message` event: its number in the flood, when the simulator built it, when
/// its line was read here.
struct Arrival {
    n: u64,
    built_ns: u128,
    read_ns: u128,
}

fn parse_arrival(line: &str) -> Option<Arrival> {
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

/// Subscribes to messages and hands every arrival to the returned channel.
fn subscriber(socket: &Path) -> mpsc::Receiver<Arrival> {
    let mut stream = UnixStream::connect(socket).unwrap();
    request(&mut stream, 1, "subscribe", json!({"events": ["message"]}));
    let (send, arrivals) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::with_capacity(1 << 20, stream);
        for line in reader.lines().map_while(Result::ok) {
            if let Some(arrival) = parse_arrival(&line)
                && send.send(arrival).is_err()
            {
                return;
            }
        }
    });
    arrivals
}

/// Floods `count` messages at `rate`; checks they all arrive once and in order; returns the
/// arrivals, the time from the command to the last one, and the simulator's own time.
fn flood(
    sim: &mut Sim,
    arrivals: &mpsc::Receiver<Arrival>,
    count: u64,
    rate: u64,
) -> (Vec<Arrival>, Duration, u64) {
    let started = Instant::now();
    writeln!(
        sim.stdin,
        "{}",
        json!({"cmd": "flood", "count": count, "rate": rate})
    )
    .unwrap();
    let mut got = Vec::with_capacity(count as usize);
    while (got.len() as u64) < count {
        let arrival = arrivals
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("only {} of {count} messages arrived", got.len()));
        assert_eq!(arrival.n, got.len() as u64 + 1, "in order, each once");
        got.push(arrival);
    }
    let elapsed = started.elapsed();
    let done = loop {
        let line = sim.lines.recv_timeout(Duration::from_secs(60)).unwrap();
        if line["cmd"] == "flood" {
            break line;
        }
    };
    (got, elapsed, done["elapsed_ms"].as_u64().unwrap_or(0))
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let count = args.first().copied().unwrap_or(200_000);
    let latency_rate = args.get(1).copied().unwrap_or(1_000);
    let latency_count = args.get(2).copied().unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let (mut sim, url) = start_sim();
    let (_daemon, socket) = start_daemon(dir.path(), &url);
    pair(&mut sim, &socket);
    let arrivals = subscriber(&socket);
    std::thread::sleep(Duration::from_millis(200));

    let (_, elapsed, sim_ms) = flood(&mut sim, &arrivals, count, 10_000_000);
    let rate = count as f64 / elapsed.as_secs_f64();
    println!(
        "throughput: {count} messages in {:.3} s = {rate:.0} messages/s through the daemon \
         (the simulator took {sim_ms} ms to send them); none lost, in order",
        elapsed.as_secs_f64()
    );

    // The throughput run left tens of megabytes of WAL; let their checkpoint finish, as it
    // would long before in steady use at this rate, so it does not fall into the latency run.
    std::thread::sleep(Duration::from_secs(3));
    let (got, _, _) = flood(&mut sim, &arrivals, latency_count, latency_rate);
    let mut micros: Vec<u128> = got
        .iter()
        .map(|a| a.read_ns.saturating_sub(a.built_ns) / 1000)
        .collect();
    micros.sort_unstable();
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    println!(
        "latency at {latency_rate}/s over {latency_count} messages, frame built -> line read: \
         p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
        at(0.5),
        at(0.99),
        at(0.999),
        micros[micros.len() - 1]
    );
    let journal = Command::new("ls")
        .arg("-l")
        .arg(dir.path().join("state"))
        .output();
    if let Ok(output) = journal {
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
}
