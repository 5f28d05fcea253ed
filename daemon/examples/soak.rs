//! Soak of the real binaries (issue 13), run by scripts/soak.sh, outside the test suite:
//! `wawebd sim` and `wawebd` as child processes, a session paired through the simulated phone,
//! then two phases while a sampler reads the daemon's VmRSS, open fds (/proc/PID/fd), threads
//! and the sizes of waweb.db and its WAL every SAMPLE seconds:
//! (a) `reconnect`: CYCLES times the simulator's `drop`, then the daemon's backoff (config
//!     `[reconnect] initial_ms = 20, max_ms = 100`), a restore and the next `connected` event;
//! (b) `mixed`: for MIXED seconds, in turns, a `flood` of 100 messages at 2,000/s, a `send_text`,
//!     a `chats` and a `messages` query (50 each), a subscriber that joins (and the oldest of four that
//!     leaves), and every tenth turn a document sent by a contact and `media_download`ed.
//!
//! Prints one CSV line per sample, then per phase the first and last thirds' mean RSS and
//! median fds, and exits non-zero when RSS of the last third exceeds 1.2 times the first's, the
//! fds differ by more than 4, or the WAL passes 128 MiB in the last third.
//!
//! Usage: soak [CYCLES] [MIXED_SECONDS] [SAMPLE_SECONDS]   (defaults 3000, 600, 5)

mod support;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Lines};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Sim, pair, proc_kb, request, start_daemon, start_sim};

const CONTACT: &str = "4915100000001";
const MEDIA_BYTES: usize = 64 * 1024;
const WAIT: Duration = Duration::from_secs(30);
/// The daemon's WAL limit (64 MiB, a RESTART checkpoint past it) and a second of writes.
const WAL_BOUND: u64 = 128 << 20;

/// One reading of the daemon's resources.
struct Sample {
    seconds: f64,
    phase: &'static str,
    progress: u64,
    rss_kib: u64,
    fds: usize,
    threads: u64,
    db_bytes: u64,
    wal_bytes: u64,
}

/// What the main thread is doing, for the sampler's lines.
struct Progress {
    phase: Mutex<&'static str>,
    done: AtomicU64,
    stop: AtomicBool,
}

fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

fn read_sample(pid: u32, state: &Path, started: Instant, progress: &Progress) -> Sample {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count());
    Sample {
        seconds: started.elapsed().as_secs_f64(),
        phase: *progress.phase.lock().unwrap(),
        progress: progress.done.load(Ordering::Relaxed),
        rss_kib: proc_kb(pid, "VmRSS"),
        fds,
        threads: proc_kb(pid, "Threads"),
        db_bytes: file_bytes(&state.join("waweb.db")),
        wal_bytes: file_bytes(&state.join("waweb.db-wal")),
    }
}

/// Samples every `every` until told to stop, printing each line as it goes.
fn sampler(
    pid: u32,
    state: PathBuf,
    every: Duration,
    progress: Arc<Progress>,
) -> std::thread::JoinHandle<Vec<Sample>> {
    println!("seconds,phase,progress,rss_kib,fds,threads,db_bytes,wal_bytes");
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut samples = Vec::new();
        loop {
            let sample = read_sample(pid, &state, started, &progress);
            println!(
                "{:.0},{},{},{},{},{},{},{}",
                sample.seconds,
                sample.phase,
                sample.progress,
                sample.rss_kib,
                sample.fds,
                sample.threads,
                sample.db_bytes,
                sample.wal_bytes
            );
            samples.push(sample);
            if progress.stop.load(Ordering::Relaxed) {
                return samples;
            }
            let until = Instant::now() + every;
            while Instant::now() < until && !progress.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    })
}

/// A socket connection for requests and their replies (it subscribes to nothing).
struct Rpc {
    writer: UnixStream,
    lines: Lines<BufReader<UnixStream>>,
    id: u64,
}

impl Rpc {
    fn connect(socket: &Path) -> Self {
        let stream = UnixStream::connect(socket).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let writer = stream.try_clone().unwrap();
        let lines = BufReader::new(stream).lines();
        Self {
            writer,
            lines,
            id: 0,
        }
    }

    /// The `result` of `method`; panics on an error reply.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        request(&mut self.writer, self.id, method, params);
        loop {
            let line = self.lines.next().expect("the daemon answers").unwrap();
            let reply: Value = serde_json::from_str(&line).unwrap();
            if reply["id"] == self.id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }
}

/// Subscribes to connection and message events: `connected` events and received media
/// messages go to the channel, messages are counted.
fn events(socket: &Path, messages: Arc<AtomicU64>) -> mpsc::Receiver<Value> {
    let mut stream = UnixStream::connect(socket).unwrap();
    let events = json!({"events": ["connected", "message"]});
    request(&mut stream, 1, "subscribe", events);
    let (send, received) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::with_capacity(1 << 20, stream);
        for line in reader.lines().map_while(Result::ok) {
            let Ok(line) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let event = &line["params"];
            let wanted = match event["type"].as_str() {
                Some("connected") => true,
                Some("message") => {
                    messages.fetch_add(1, Ordering::Relaxed);
                    event["media"].is_object()
                }
                _ => false,
            };
            if wanted && send.send(event.clone()).is_err() {
                return;
            }
        }
    });
    received
}

fn next_event(events: &mpsc::Receiver<Value>, kind: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {kind} event within {WAIT:?}"));
        if event["type"] == kind {
            return event;
        }
    }
}

fn reconnects(sim: &mut Sim, events: &mpsc::Receiver<Value>, cycles: u64, progress: &Progress) {
    *progress.phase.lock().unwrap() = "reconnect";
    for cycle in 1..=cycles {
        sim.command(json!({"cmd": "drop"}));
        next_event(events, "connected");
        progress.done.store(cycle, Ordering::Relaxed);
    }
}

/// A subscriber that reads until it is shut down.
fn subscriber(socket: &Path) -> UnixStream {
    let mut stream = UnixStream::connect(socket).unwrap();
    request(&mut stream, 1, "subscribe", json!({"events": ["message"]}));
    let reader = stream.try_clone().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(reader).lines().map_while(Result::ok) {});
    stream
}

/// A contact sends a document; the daemon downloads it, with the right length.
fn media_round(sim: &mut Sim, rpc: &mut Rpc, events: &mpsc::Receiver<Value>, dir: &Path) {
    let source = dir.join("document.bin");
    sim.command(json!({"cmd": "send_media", "from": CONTACT, "kind": "document", "path": source}));
    let event = next_event(events, "message");
    let reference = json!({"chat": event["chat"], "id": event["id"], "from_me": event["from_me"]});
    let output = dir.join("downloaded.bin");
    let result = rpc.call(
        "media_download",
        json!({"message": reference, "output": output}),
    );
    assert_eq!(result["bytes"], MEDIA_BYTES, "{result}");
    std::fs::remove_file(&output).unwrap();
}

struct Mixed<'a> {
    sim: &'a mut Sim,
    socket: &'a Path,
    events: &'a mpsc::Receiver<Value>,
    dir: &'a Path,
}

fn mixed(run: Mixed, seconds: u64, progress: &Progress) -> u64 {
    *progress.phase.lock().unwrap() = "mixed";
    progress.done.store(0, Ordering::Relaxed);
    std::fs::write(run.dir.join("document.bin"), vec![0x5a; MEDIA_BYTES]).unwrap();
    let mut rpc = Rpc::connect(run.socket);
    let mut subscribers = VecDeque::new();
    let chat = format!("{CONTACT}@s.whatsapp.net");
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut turn = 0;
    while Instant::now() < until {
        turn += 1;
        run.sim
            .command(json!({"cmd": "flood", "count": 100, "rate": 2000, "bytes": 60}));
        let text = format!("soak turn {turn}");
        let sent = rpc.call("send_text", json!({"to": CONTACT, "text": text}));
        assert!(sent["id"].is_string(), "{sent}");
        rpc.call("chats", json!({"limit": 50}));
        rpc.call("messages", json!({"chat": chat, "count": 50}));
        subscribers.push_back(subscriber(run.socket));
        if subscribers.len() > 4 {
            let leaving: UnixStream = subscribers.pop_front().unwrap();
            leaving.shutdown(Shutdown::Both).unwrap();
        }
        if turn % 10 == 0 {
            media_round(run.sim, &mut rpc, run.events, run.dir);
        }
        progress.done.store(turn, Ordering::Relaxed);
    }
    turn
}

/// Prints the first and last thirds of a phase; the complaints, if it grew.
fn judge(samples: &[Sample], phase: &str) -> Vec<String> {
    let of: Vec<&Sample> = samples.iter().filter(|s| s.phase == phase).collect();
    if of.len() < 3 {
        println!("{phase}: only {} samples, too few to judge", of.len());
        return Vec::new();
    }
    let third = of.len() / 3;
    let (first, last) = (&of[..third], &of[of.len() - third..]);
    let rss = |part: &[&Sample]| part.iter().map(|s| s.rss_kib).sum::<u64>() / part.len() as u64;
    let fds = |part: &[&Sample]| {
        let mut fds: Vec<usize> = part.iter().map(|s| s.fds).collect();
        fds.sort_unstable();
        fds[fds.len() / 2]
    };
    let (rss_first, rss_last, fds_first, fds_last) = (rss(first), rss(last), fds(first), fds(last));
    println!(
        "{phase}: {} samples; mean RSS {rss_first} -> {rss_last} KiB ({:.2}x), median fds \
         {fds_first} -> {fds_last}, threads {} -> {}, db {} -> {} bytes, wal {} -> {} bytes",
        of.len(),
        rss_last as f64 / rss_first as f64,
        of[0].threads,
        of[of.len() - 1].threads,
        of[0].db_bytes,
        of[of.len() - 1].db_bytes,
        of[0].wal_bytes,
        of[of.len() - 1].wal_bytes
    );
    let mut complaints = Vec::new();
    if rss_last as f64 > 1.2 * rss_first as f64 {
        complaints.push(format!("{phase}: RSS grew {rss_first} -> {rss_last} KiB"));
    }
    let wal_last = last.iter().map(|s| s.wal_bytes).max().unwrap_or(0);
    if wal_last > WAL_BOUND {
        complaints.push(format!("{phase}: the WAL reached {wal_last} bytes"));
    }
    if fds_last.abs_diff(fds_first) > 4 {
        complaints.push(format!("{phase}: fds went {fds_first} -> {fds_last}"));
    }
    complaints
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let cycles = args.first().copied().unwrap_or(3_000);
    let mixed_seconds = args.get(1).copied().unwrap_or(600);
    let every = Duration::from_secs(args.get(2).copied().unwrap_or(5).max(1));
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    std::fs::create_dir_all(dir.join("wawebd")).unwrap();
    let config = "[reconnect]\ninitial_ms = 20\nmax_ms = 100\n";
    std::fs::write(dir.join("wawebd/config.toml"), config).unwrap();
    let (mut sim, url) = start_sim(false);
    let (daemon, socket) = start_daemon(dir, &url);
    pair(&mut sim, &socket);
    let messages = Arc::new(AtomicU64::new(0));
    let events = events(&socket, messages.clone());
    let progress = Arc::new(Progress {
        phase: Mutex::new("paired"),
        done: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let pid = daemon.0.id();
    let sampling = sampler(pid, dir.join("state"), every, progress.clone());
    let started = Instant::now();
    reconnects(&mut sim, &events, cycles, &progress);
    let reconnect_secs = started.elapsed().as_secs_f64();
    let run = Mixed {
        sim: &mut sim,
        socket: &socket,
        events: &events,
        dir,
    };
    let turns = mixed(run, mixed_seconds, &progress);
    progress.stop.store(true, Ordering::Relaxed);
    let samples = sampling.join().unwrap();
    println!(
        "{cycles} reconnect cycles in {reconnect_secs:.0} s ({:.1} ms each); {turns} mixed turns \
         in {mixed_seconds} s; {} message events read",
        reconnect_secs * 1000.0 / cycles.max(1) as f64,
        messages.load(Ordering::Relaxed)
    );
    let mut complaints = judge(&samples, "reconnect");
    complaints.extend(judge(&samples, "mixed"));
    if !complaints.is_empty() {
        eprintln!("soak: growth: {}", complaints.join("; "));
        std::process::exit(1);
    }
}
