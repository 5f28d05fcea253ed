//! Login with a big account, the real binaries (issue 14, target 3), run by
//! scripts/bench-login.sh. Pairs a daemon with `wawebd sim` once, gives the simulated phone
//! CHATS chats, CONTACTS contacts and PER_CHAT archived messages in each chat, and has every
//! login push those as history (`login_history`, PROTOCOL.md 8.3 step 4). Then RUNS times:
//! removes the store (the session stays), spawns `wawebd`, and measures from the spawn to
//! `connected` and to the last of the CHATS × PER_CHAT history messages having come out of the
//! journal (it is committed before it is delivered; the chat and contact lists were queued in
//! the same writer before it). After each run the store is counted with SQLite: every chat,
//! contact and message must be there.
//! Usage: login_bench [CHATS] [CONTACTS] [PER_CHAT] [RUNS]

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::{Value, json};
use support::{pair, request, spawn, start_daemon, start_sim};

/// The first number of the chats and contacts the simulator generates (`add_chats` `count`).
const FIRST_GENERATED: u64 = 4_917_000_000_000;

struct Run {
    connected: Duration,
    stored: Duration,
    chats: u64,
    contacts: u64,
    messages: u64,
}

/// Waits for the daemon's socket, subscribes from the journal's start and reads until `wanted`
/// distinct history messages of the generated chats came; the times are since `spawned`.
fn measure(socket: &Path, spawned: Instant, wanted: usize) -> (Duration, Duration) {
    let deadline = spawned + Duration::from_secs(120);
    let mut stream = loop {
        if let Ok(stream) = UnixStream::connect(socket) {
            break stream;
        }
        assert!(Instant::now() < deadline, "the daemon never listened");
        std::thread::sleep(Duration::from_micros(200));
    };
    request(
        &mut stream,
        1,
        "subscribe",
        json!({"events": ["connected", "message"], "since": 0}),
    );
    let mut connected = None;
    let mut seen = HashSet::with_capacity(wanted);
    for line in BufReader::new(stream).lines() {
        let line: Value = serde_json::from_str(&line.expect("the daemon's socket")).unwrap();
        let event = &line["params"];
        match event["type"].as_str() {
            Some("connected") => connected = Some(spawned.elapsed()),
            Some("message")
                if event["source"] == "history"
                    && event["chat"]
                        .as_str()
                        .is_some_and(|chat| chat.starts_with("4917")) =>
            {
                seen.insert(event["id"].as_str().unwrap_or_default().to_owned());
                if seen.len() == wanted {
                    let stored = spawned.elapsed();
                    return (connected.expect("connected before the history"), stored);
                }
            }
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {wanted} came",
            seen.len()
        );
    }
    panic!("the daemon went away after {} of {wanted}", seen.len());
}

fn count(db: &Connection, table: &str) -> u64 {
    db.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .unwrap()
}

fn run(dir: &Path, url: &str, wanted: usize) -> Run {
    let state = dir.join("state");
    for name in ["waweb.db", "waweb.db-wal", "waweb.db-shm"] {
        let _ = std::fs::remove_file(state.join(name));
    }
    let socket = dir.join("run/wawebd.sock");
    let _ = std::fs::remove_file(&socket);
    let spawned = Instant::now();
    let mut daemon = spawn(dir, url);
    let (connected, stored) = measure(&socket, spawned, wanted);
    let _ = std::process::Command::new("kill")
        .arg(daemon.0.id().to_string())
        .status();
    let _ = daemon.0.wait();
    let db = Connection::open(state.join("waweb.db")).unwrap();
    Run {
        connected,
        stored,
        chats: count(&db, "chats"),
        contacts: count(&db, "contacts"),
        messages: count(&db, "messages"),
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let chats = args.first().copied().unwrap_or(2_000).max(1);
    let contacts = args.get(1).copied().unwrap_or(5_000);
    let per_chat = args.get(2).copied().unwrap_or(10).max(1);
    let runs = args.get(3).copied().unwrap_or(5).max(1);

    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let (mut sim, url) = start_sim(false);
    let (daemon, socket) = start_daemon(dir, &url);
    pair(&mut sim, &socket);
    drop(daemon);
    let seeding = Instant::now();
    sim.command(json!({"cmd": "add_chats", "count": chats}));
    if contacts > 0 {
        sim.command(json!({"cmd": "add_contacts", "count": contacts}));
    }
    for n in 0..chats {
        let chat = format!("{}", FIRST_GENERATED + n);
        sim.command(json!({"cmd": "seed_history", "chat": chat, "count": per_chat}));
    }
    sim.command(json!({"cmd": "login_history", "per_chat": per_chat}));
    println!(
        "simulator: {chats} chats, {contacts} contacts, {} archived messages ({per_chat} per \
         chat) seeded in {:.1} s",
        chats * per_chat,
        seeding.elapsed().as_secs_f64()
    );
    let wanted = (chats * per_chat) as usize;
    let mut stored = Vec::new();
    for n in 1..=runs {
        let run = run(dir, &url, wanted);
        println!(
            "run {n}: connected {:.0} ms, all {wanted} history messages stored {:.0} ms; store: \
             {} chats, {} contacts, {} messages",
            run.connected.as_secs_f64() * 1e3,
            run.stored.as_secs_f64() * 1e3,
            run.chats,
            run.contacts,
            run.messages
        );
        assert!(run.chats >= chats, "chats missing from the store");
        assert!(run.contacts >= contacts, "contacts missing from the store");
        assert!(
            run.messages >= wanted as u64,
            "messages missing from the store"
        );
        stored.push(run.stored);
    }
    stored.sort_unstable();
    println!(
        "spawn to everything stored, median of {runs}: {:.0} ms (target: under 2,000 ms)",
        stored[stored.len() / 2].as_secs_f64() * 1e3
    );
}
