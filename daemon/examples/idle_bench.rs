//! Start-up and idle memory of the real binary (issue 14, target 5), run by
//! scripts/bench-idle.sh. Pairs a daemon with `wawebd sim` once so its state directory holds a
//! stored session, fills a second one's store (its own simulator and pairing) with CHATS chats and
//! MESSAGES messages (one transaction, through the daemon's own schema), then for the empty and
//! the full store in turn: RUNS times the time from spawning `wawebd` to its socket accepting a
//! connection (median, p90), and once its VmRSS and VmHWM after the session is `connected` to the
//! simulator and then idle for 2 s.
//! Usage: idle_bench [CHATS] [MESSAGES] [RUNS]

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use serde_json::{Value, json};
use support::{Killed, pair, proc_kb, request, spawn, start_daemon, start_sim};
use waweb_proto::message::Message;

/// Time from spawning the daemon to its socket accepting a connection, polled every 100 µs.
fn start_up(dir: &Path, url: &str) -> Duration {
    let socket = dir.join("run/wawebd.sock");
    let _ = std::fs::remove_file(&socket);
    let started = Instant::now();
    let mut daemon = spawn(dir, url);
    while UnixStream::connect(&socket).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never listened"
        );
        assert!(daemon.0.try_wait().unwrap().is_none(), "the daemon exited");
        std::thread::sleep(Duration::from_micros(100));
    }
    let took = started.elapsed();
    stop(daemon);
    took
}

/// SIGTERM, so the daemon closes its store as it would in use, and waits for it.
fn stop(mut daemon: Killed) {
    let _ = Command::new("kill").arg(daemon.0.id().to_string()).status();
    let _ = daemon.0.wait();
}

/// One mapping of /proc/PID/smaps: file name (or `[anon]`), permissions, Rss and the part of it
/// that is anonymous (copy-on-write pages of a file mapping, such as relocated `.data.rel.ro`).
struct Mapping {
    name: String,
    perms: String,
    size_kb: u64,
    rss_kb: u64,
    anon_kb: u64,
}

fn smaps(pid: u32) -> Vec<Mapping> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let mut mappings: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        let kb = || {
            line.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse().ok())
        };
        if first.contains('-') && !first.ends_with(':') {
            let rest: Vec<&str> = fields.collect();
            let name = rest
                .get(4..)
                .map(|parts| parts.join(" "))
                .unwrap_or_default();
            mappings.push(Mapping {
                name: if name.is_empty() {
                    "[anon]".into()
                } else {
                    name
                },
                perms: rest.first().copied().unwrap_or_default().into(),
                size_kb: 0,
                rss_kb: 0,
                anon_kb: 0,
            });
        } else if let Some(mapping) = mappings.last_mut() {
            match first {
                "Size:" => mapping.size_kb = kb().unwrap_or(0),
                "Rss:" => mapping.rss_kb = kb().unwrap_or(0),
                "Anonymous:" => mapping.anon_kb = kb().unwrap_or(0),
                _ => {}
            }
        }
    }
    mappings
}

fn mib(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

/// Where the resident memory is: anonymous (heap, stacks) against file-backed (the binary's
/// pages), the thread count, the largest mappings by RSS, and the executable's own mappings by
/// permission (`r-xp` is `.text`; `r--p` headers, `.rodata`, `.eh_frame` and the relocated
/// read-only data; `rw-p` `.data`/`.bss`), each as resident of mapped, with its anonymous part.
fn breakdown(pid: u32) -> String {
    let mappings = smaps(pid);
    let mut by_name: Vec<(u64, &str)> = Vec::new();
    for mapping in &mappings {
        match by_name.iter_mut().find(|(_, name)| *name == mapping.name) {
            Some((total, _)) => *total += mapping.rss_kb,
            None => by_name.push((mapping.rss_kb, &mapping.name)),
        }
    }
    by_name.sort_unstable_by_key(|(kb, _)| std::cmp::Reverse(*kb));
    let short = |name: &str| name.rsplit('/').next().unwrap_or(name).to_owned();
    let top: Vec<String> = by_name
        .iter()
        .take(6)
        .map(|(kb, name)| format!("{} {}", short(name), mib(*kb)))
        .collect();
    let exe: Vec<String> = mappings
        .iter()
        .filter(|mapping| short(&mapping.name) == "wawebd" && mapping.rss_kb > 0)
        .map(|m| {
            let (perms, rss, size, anon) =
                (&m.perms, mib(m.rss_kb), mib(m.size_kb), mib(m.anon_kb));
            format!("{perms} {rss} of {size} (anon {anon})")
        })
        .collect();
    format!(
        "RssAnon {} MiB, RssFile {} MiB, {} threads; by mapping (MiB): {}; wawebd (MiB): {}",
        mib(proc_kb(pid, "RssAnon")),
        mib(proc_kb(pid, "RssFile")),
        proc_kb(pid, "Threads"),
        top.join(", "),
        exe.join(", ")
    )
}

/// Starts the daemon, waits until `status` says `connected`, idles 2 s, reads its memory.
fn idle_memory(dir: &Path, url: &str) -> (u64, u64) {
    let socket = dir.join("run/wawebd.sock");
    let _ = std::fs::remove_file(&socket);
    let daemon = spawn(dir, url);
    let deadline = Instant::now() + Duration::from_secs(20);
    let stream = loop {
        if let Ok(stream) = UnixStream::connect(&socket) {
            break stream;
        }
        assert!(Instant::now() < deadline, "never listened");
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut writer = stream.try_clone().unwrap();
    let mut lines = BufReader::new(stream).lines();
    loop {
        request(&mut writer, 1, "status", json!({}));
        let reply: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        if reply["result"]["state"] == "connected" {
            break;
        }
        assert!(Instant::now() < deadline, "never connected: {reply}");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_secs(2));
    let pid = daemon.0.id();
    let memory = (proc_kb(pid, "VmRSS"), proc_kb(pid, "VmHWM"));
    println!("  {}", breakdown(pid));
    drop((writer, lines));
    stop(daemon);
    memory
}

/// One message row as the daemon writes it: the `message` event line and raw bytes of a
/// typical text message's size.
fn event(chat: &str, id: &str, from_me: bool, timestamp: u64, n: u64) -> String {
    let value = json!({
        "id": id, "chat": chat, "from_me": from_me, "participant": null,
        "timestamp": timestamp, "push_name": if from_me { Value::Null } else { json!("Contact") },
        "kind": "text", "text": format!("message number {n} of the benchmark store"),
    });
    let message: Message = serde_json::from_value(value).expect("the daemon's message shape");
    serde_json::to_string(&message).unwrap()
}

/// Fills the store of `state` with `chats` chats and `messages` messages in one transaction.
fn fill(state: &Path, chats: u64, messages: u64) -> Duration {
    let started = Instant::now();
    let mut db = Connection::open(state.join("waweb.db")).unwrap();
    let transaction = db.transaction().unwrap();
    {
        let mut chat_row = transaction
            .prepare("INSERT OR REPLACE INTO chats (jid, name, t, read_t, read_n) VALUES (?1, ?2, ?3, ?3, ?4)")
            .unwrap();
        let mut message_row = transaction
            .prepare(
                "INSERT INTO messages (chat, id, from_me, timestamp, event, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let raw = vec![0x5a_u8; 120];
        let jid = |c: u64| format!("49151{c:08}@s.whatsapp.net");
        for n in 0..messages {
            let chat = jid(n % chats);
            let id = format!("3EB0{n:016X}");
            let timestamp = 1_600_000_000 + n;
            let from_me = n % 3 == 0;
            let line = event(&chat, &id, from_me, timestamp, n);
            message_row
                .execute(params![chat, id, from_me, timestamp, line, raw])
                .unwrap();
        }
        for c in 0..chats {
            let t = 1_600_000_000 + messages.saturating_sub(chats) + c;
            chat_row
                .execute(params![jid(c), format!("Chat {c}"), t, messages])
                .unwrap();
        }
    }
    transaction.commit().unwrap();
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    started.elapsed()
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let chats = args.first().copied().unwrap_or(1_000).max(1);
    let messages = args.get(1).copied().unwrap_or(1_000_000);
    let runs = args.get(2).copied().unwrap_or(20).max(1);
    // Each store gets its own simulator and pairing: a login rotates the session's tokens, so
    // a copied session would be refused by the simulator that saw the original log in.
    for (name, chats, messages) in [("empty store", 0, 0), ("full store", chats, messages)] {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        let (mut sim, url) = start_sim(false);
        let (daemon, socket) = start_daemon(dir, &url);
        pair(&mut sim, &socket);
        stop(daemon);
        if messages > 0 {
            let took = fill(&dir.join("state"), chats, messages);
            let db_bytes = std::fs::metadata(dir.join("state/waweb.db")).unwrap().len();
            println!(
                "store: {chats} chats, {messages} messages, {:.0} MiB, filled in {:.1} s",
                db_bytes as f64 / 1048576.0,
                took.as_secs_f64()
            );
        }
        let mut times: Vec<Duration> = (0..runs).map(|_| start_up(dir, &url)).collect();
        times.sort_unstable();
        let (rss, hwm) = idle_memory(dir, &url);
        println!(
            "{name}: start-up to socket accepting over {runs} runs: median {:.2} ms, p90 {:.2} ms, \
             max {:.2} ms; connected to wawebd sim and idle 2 s: VmRSS {:.1} MiB, VmHWM {:.1} MiB",
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            percentile(&times, 1.0),
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
    }
}
