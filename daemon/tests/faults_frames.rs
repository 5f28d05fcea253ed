//! The real daemon against hostile server frames (issue 13, DESIGN.md 14.1): sealed frames with a
//! wrong HMAC, frames cut short, a flood of a million tiny frames, a 100 MiB frame, `replace`,
//! a half-open connection, and the growth of the backoff between reconnects. In each: the
//! daemon stays up, its log stays short, `status` answers at once with the right state, and it
//! reconnects with backoff (or, after `replaced`, stays away), idle while it waits.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{
    Client, Daemon, Sim, assert_idle, config_file, cpu_ticks, paired_with, short_backoff,
};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

const FROM: &str = "4915100000001@s.whatsapp.net";

/// The frame the hostile server announces: 100 MiB, 12.5 times the daemon's limit.
const HUGE_FRAME: u64 = 100 << 20;

/// `status` answers within `limit`; its state.
fn state_within(client: &mut Client, id: u64, limit: Duration) -> String {
    let started = Instant::now();
    let status = client.call(id, "status", json!({})).unwrap();
    let took = started.elapsed();
    assert!(took < limit, "status took {took:?}");
    status["state"].as_str().unwrap().to_owned()
}

/// The daemon's log lines that mention `what`.
fn lines_with(daemon: &Daemon, what: &str) -> usize {
    daemon
        .log()
        .lines()
        .filter(|line| line.contains(what))
        .count()
}

/// `count` frames of `kind` on the paired connection.
fn bad_frames(sim: &mut Sim, kind: &str, count: u64) {
    let done = sim.command_after(json!({"cmd": "bad_frames", "kind": kind, "count": count}));
    assert!(done.iter().all(|line| line["type"] != "error"), "{done:?}");
}

/// A few damaged frames are dropped and logged once, the connection stays; 64 in a row close
/// it as `protocol_error`, and it is restored after a backoff.
fn damaged_frames(kind: &str, logged_as: &str) {
    let (mut sim, daemon, mut client) = paired_with(short_backoff);
    bad_frames(&mut sim, kind, 5);
    // A message after them still arrives: the connection is whole.
    sim.command(json!({"cmd": "send_text", "from": FROM, "text": "after"}));
    let message = client.event("message");
    assert_eq!(message["text"], "after", "{message}");
    assert_eq!(
        state_within(&mut client, 10, Duration::from_secs(1)),
        "connected"
    );
    assert_eq!(lines_with(&daemon, logged_as), 1, "{}", daemon.log());

    bad_frames(&mut sim, kind, 100);
    let disconnected = client.event("disconnected");
    assert_eq!(disconnected["reason"], "protocol_error", "{disconnected}");
    assert!(disconnected["retry_in_ms"].is_u64(), "{disconnected}");
    assert_eq!(client.event("connected")["restored"], true);
    let log = daemon.log();
    assert!(log.lines().count() <= 6, "{log}");
    assert!(log.contains("64 unreadable frames in a row"), "{log}");
}

#[test]
fn frames_sealed_with_a_wrong_hmac_are_dropped_then_end_the_connection() {
    damaged_frames("hmac", "does not open");
}

#[test]
fn frames_cut_short_are_dropped_then_end_the_connection() {
    damaged_frames("truncated", "does not open");
}

#[test]
fn a_million_tiny_frames_leave_a_short_log_and_a_prompt_status() {
    let (mut sim, daemon, mut client) = paired_with(short_backoff);
    sim.submit(&json!({"cmd": "bad_frames", "kind": "tiny", "count": 1_000_000}));
    // Status answers promptly while the frames arrive and the daemon closes the connection.
    let mut id = 10;
    let disconnected = loop {
        id += 1;
        state_within(&mut client, id, Duration::from_millis(200));
        if let Some(at) = client
            .events
            .iter()
            .position(|e| e["type"] == "disconnected")
        {
            break client.events.remove(at);
        }
        std::thread::sleep(Duration::from_millis(5));
        assert!(id < 2_000, "no disconnect");
    };
    assert_eq!(disconnected["reason"], "protocol_error", "{disconnected}");
    assert!(disconnected["retry_in_ms"].is_u64(), "{disconnected}");
    assert_eq!(sim.answers("bad_frames", 1), 1);
    assert_eq!(client.event("connected")["restored"], true);
    assert_eq!(
        state_within(&mut client, 1, Duration::from_millis(200)),
        "connected"
    );
    let log = daemon.log();
    let lines = log.lines().count();
    assert!(lines < 50, "{lines} lines:\n{log}");
    assert!(log.contains("unreadable frames in a row"), "{log}");
    eprintln!(
        "{} prompt status calls during the flood, {lines} log lines",
        id - 10
    );
    assert_idle(&daemon);
}

#[test]
fn replaced_stays_away_and_keeps_the_session() {
    let (mut sim, daemon, mut client) = paired_with(short_backoff);
    sim.command(json!({"cmd": "replace"}));
    let disconnected = client.event("disconnected");
    assert_eq!(
        (&disconnected["reason"], &disconnected["retry_in_ms"]),
        (&json!("replaced"), &Value::Null),
        "{disconnected}"
    );
    // Many backoffs long (400 ms at most here): no new connection, no CPU.
    assert_idle(&daemon);
    assert_eq!(
        state_within(&mut client, 10, Duration::from_secs(1)),
        "replaced"
    );
    assert!(daemon.session().is_some(), "the session is kept");
    let seen: Vec<Value> = sim.lines.try_iter().collect();
    assert!(
        seen.iter().all(|line| line["type"] != "client_connected"),
        "{seen:?}"
    );
}

/// Keepalives every 300 ms, pongs due within 400 ms, reconnects within 100-400 ms.
fn short_keepalive(_: &mut std::process::Command, dir: &std::path::Path) {
    config_file(
        dir,
        "[reconnect]\ninitial_ms = 100\nmax_ms = 400\n[keepalive]\ninterval_ms = 300\ntimeout_ms = 400\n",
    );
}

#[test]
fn a_half_open_connection_is_found_by_the_pong_deadline() {
    let (mut sim, daemon, mut client) = paired_with(short_keepalive);
    sim.command(json!({"cmd": "half_open"}));
    let started = Instant::now();
    let disconnected = client.event("disconnected");
    let found = started.elapsed();
    assert_eq!(disconnected["reason"], "pong_timeout", "{disconnected}");
    // Within one interval and one deadline (and some slack for a loaded machine).
    assert!(
        found < Duration::from_millis(700 + 500),
        "found after {found:?}"
    );
    assert_eq!(client.event("connected")["restored"], true);
    assert_eq!(
        state_within(&mut client, 10, Duration::from_secs(1)),
        "connected"
    );
    assert!(daemon.session().is_some(), "the session is kept");
}

/// One connection to the hostile server.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// When it was accepted.
    at: Instant,
    /// Payload bytes of the huge frame written so far.
    sent: u64,
    /// The daemon closed it.
    closed: bool,
}

type Attempts = Arc<Mutex<Vec<Attempt>>>;

/// A websocket server that upgrades every connection by hand, then announces a 100 MiB binary
/// frame (a 64-bit length) and streams its payload until the peer goes away.
fn huge_frame_server() -> (String, Attempts) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let attempts = Attempts::default();
    let seen = Arc::clone(&attempts);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let at = Instant::now();
            let n = {
                let mut seen = seen.lock().unwrap();
                seen.push(Attempt {
                    at,
                    sent: 0,
                    closed: false,
                });
                seen.len() - 1
            };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                stream_huge_frame(stream, |sent| seen.lock().unwrap()[n].sent = sent);
                seen.lock().unwrap()[n].closed = true;
            });
        }
    });
    (url, attempts)
}

/// The upgrade, then the huge frame, telling `progress` the payload bytes written so far;
/// returns once the peer closed the connection.
fn stream_huge_frame(mut stream: TcpStream, mut progress: impl FnMut(u64)) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        request.push(byte[0]);
    }
    let request = String::from_utf8_lossy(&request);
    let Some(key) = request.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_owned())
    }) else {
        return;
    };
    let upgrade = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    // FIN + binary, unmasked, length 127: the next 8 bytes are the length.
    let mut header = vec![0x82, 127];
    header.extend_from_slice(&HUGE_FRAME.to_be_bytes());
    if stream.write_all(upgrade.as_bytes()).is_err() || stream.write_all(&header).is_err() {
        return;
    }
    let chunk = vec![0u8; 64 << 10];
    let mut sent = 0;
    while sent < HUGE_FRAME {
        if stream.write_all(&chunk).is_err() {
            return;
        }
        sent += chunk.len() as u64;
        progress(sent);
    }
    // All of it went out: wait for the peer to close.
    let mut rest = [0u8; 4096];
    while matches!(stream.read(&mut rest), Ok(n) if n > 0) {}
}

#[test]
fn a_100_mib_frame_is_refused_unread_and_retried_with_growing_backoff() {
    let (url, attempts) = huge_frame_server();
    // Waits of 25 ms to 100, 200, 400, 800, 800 ms: up to the max and at it.
    let daemon = Daemon::start_with(&url, |_, dir| support::reconnect_limits(dir, 100, 800));
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "subscribe", json!({})).unwrap();
    let (started, ticks) = (Instant::now(), cpu_ticks(daemon.child.0.id()));
    client.call(2, "login", json!({})).unwrap();
    let mut retries = Vec::new();
    let logged_out = loop {
        let line = client.line().expect("the daemon stays");
        let event = &line["params"];
        match event["type"].as_str() {
            Some("disconnected") => {
                assert_eq!(event["reason"], "protocol_error", "{event}");
                if let Some(retry) = event["retry_in_ms"].as_u64() {
                    retries.push(retry);
                }
                let peak = daemon.peak_rss_kib();
                assert!(peak < 60 << 10, "{peak} KiB at most after {event}");
            }
            Some("logged_out") => break event.clone(),
            _ => {}
        }
    };
    // Idle between the attempts: a few ticks for six connections, not a core spinning (a
    // tick is 10 ms; the waits add up to at least 125 ms).
    let (elapsed, used) = (started.elapsed(), cpu_ticks(daemon.child.0.id()) - ticks);
    assert!(
        Duration::from_millis(used * 10) < elapsed / 4,
        "{used} ticks in {elapsed:?}"
    );
    // A pairing gives up after five retries (as for lost connections, DESIGN.md 14.4).
    assert_eq!(logged_out["reason"], "protocol_error", "{logged_out}");
    assert_eq!(retries.len(), 5, "{retries:?}");
    for (n, retry) in retries.iter().enumerate() {
        let ceiling = (100u64 << n).min(800);
        assert!(
            (25..=ceiling).contains(retry),
            "wait {n}: {retry} ms of {retries:?}"
        );
    }
    let attempts_of_server = Arc::clone(&attempts);
    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), 6, "the first try and five retries");
    for (n, pair) in attempts.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let waited = Duration::from_millis(retries[n]);
        assert!(
            gap >= waited && gap < waited + Duration::from_millis(900),
            "gap {n}: {gap:?}, announced {waited:?}"
        );
    }
    // The frame was refused on its header: the daemon closed the connection long before 100
    // MiB arrived, and never held it.
    support::wait_for("every connection is closed", || {
        attempts_closed(&attempts_of_server)
    });
    for (n, attempt) in attempts_of_server.lock().unwrap().iter().enumerate() {
        assert!(attempt.sent < 32 << 20, "connection {n}: {attempt:?}");
    }
    let peak = daemon.peak_rss_kib();
    assert!(peak < 60 << 10, "{peak} KiB at most");
    eprintln!(
        "waits {retries:?} ms, {used} ticks in {elapsed:?}, peak RSS {peak} KiB: {attempts:?}"
    );
    assert_eq!(
        state_within(&mut client, 3, Duration::from_secs(1)),
        "logged_out"
    );
    assert_idle(&daemon);
    let log = daemon.log();
    assert!(log.lines().count() < 30, "{log}");
}

fn attempts_closed(attempts: &Attempts) -> bool {
    attempts
        .lock()
        .unwrap()
        .iter()
        .all(|attempt| attempt.closed)
}
