//! The real daemon against network and server faults (issue 13, DESIGN.md 14.1): a server that
//! accepts and never answers, one that never finishes the websocket upgrade, and login
//! refusals with every status PROTOCOL.md names. In each: the daemon stays up, `status`
//! answers promptly with the right state, the session file is kept or erased as specified and
//! still parses, it waits without burning CPU, and events journaled before the fault are still
//! readable after it.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Client, Daemon, assert_idle, paired_with, short_backoff, wait_for};

/// `status` answers within a second; its state.
fn prompt_state(client: &mut Client, id: u64) -> String {
    let started = Instant::now();
    let status = client.call(id, "status", json!({})).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "status took {:?}",
        started.elapsed()
    );
    status["state"].as_str().unwrap().to_owned()
}

/// A TCP server on 127.0.0.1 that hands every accepted connection to `serve` on its own thread
/// and keeps the streams open; how many connections it accepted.
fn raw_server(serve: fn(&mut TcpStream)) -> (String, Arc<Mutex<Vec<TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let kept = Arc::new(Mutex::new(Vec::new()));
    let streams = Arc::clone(&kept);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            serve(&mut stream);
            streams.lock().unwrap().push(stream);
        }
    });
    (url, kept)
}

/// Against a server that never gets the daemon connected: it stays up, answers `status` with
/// `connecting`, tries once (no hot loop of new connections) and is idle while it waits.
fn stuck_server(serve: fn(&mut TcpStream)) {
    let (url, accepted) = raw_server(serve);
    let daemon = Daemon::start_with(&url, short_backoff);
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "login", json!({})).unwrap();
    wait_for("the daemon connects to the server", || {
        !accepted.lock().unwrap().is_empty()
    });
    assert_eq!(prompt_state(&mut client, 2), "connecting");
    assert_idle(&daemon);
    assert_eq!(prompt_state(&mut client, 3), "connecting");
    assert_eq!(accepted.lock().unwrap().len(), 1, "one attempt at a time");
}

#[test]
fn a_server_that_accepts_and_never_answers_is_waited_for_idly() {
    stuck_server(|_| {});
}

#[test]
fn a_server_that_never_finishes_the_websocket_upgrade_is_waited_for_idly() {
    stuck_server(|stream| {
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        // The status line and one header, then nothing: the upgrade never completes.
        let _ = stream.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
    });
}

/// What a refusal at the next restore login leads to.
struct Expected {
    status: u64,
    /// The state `status` reports once the daemon settled.
    state: &'static str,
    /// The session file is kept.
    kept: bool,
    /// It reconnects on its own (the refusal is one-shot in the simulator).
    reconnects: bool,
}

fn refused_restore(expected: &Expected) {
    let (mut sim, daemon, mut client) = paired_with(short_backoff);
    let before = daemon.session().expect("a session after pairing");
    let head = client.call(3, "subscribe", json!({})).unwrap()["head"]
        .as_u64()
        .unwrap();
    sim.command(json!({"cmd": "refuse_next", "status": expected.status}));
    sim.command(json!({"cmd": "drop"}));
    let what = format!("{}: the daemon reaches {}", expected.status, expected.state);
    let mut id = 10;
    if expected.reconnects {
        let disconnected = client.event("disconnected");
        assert!(
            disconnected["retry_in_ms"].as_u64().is_some(),
            "{disconnected}"
        );
        // The drop's backoff, then the refused restore's: a second disconnect, then back.
        client.event("disconnected");
        client.event("connected");
    } else {
        let logged_out = client.event("logged_out");
        assert_eq!(logged_out["status"], expected.status, "{logged_out}");
    }
    wait_for(&what, || {
        id += 1;
        prompt_state(&mut client, id) == expected.state
    });
    assert_eq!(
        daemon.session().is_some(),
        expected.kept,
        "{}",
        expected.status
    );
    if expected.kept {
        assert!(before["wid"].is_string(), "{}", expected.status);
        assert_eq!(daemon.session().unwrap()["wid"], before["wid"]);
    }
    if !expected.reconnects {
        assert_idle(&daemon);
    }
    // Everything journaled before the fault is still there for a reader that resumes.
    let mut reader = Client::connect(&daemon.socket);
    reader
        .call(1, "subscribe", json!({"since": head.saturating_sub(1)}))
        .unwrap();
    let replayed = reader.line().unwrap();
    assert_eq!(replayed["params"]["seq"], head, "{replayed}");
}

#[test]
fn refusals_of_a_restore_give_the_state_and_session_the_protocol_names() {
    let cases = [
        // 401, 419: the session is dead: erased, logged out.
        (401, "logged_out", false, false),
        (419, "logged_out", false, false),
        // 403: refused, but the session is kept for a restart or logout to decide.
        (403, "logged_out", true, false),
        // 405, 409 and 429 (slow down): kept and retried with backoff.
        (405, "connected", true, true),
        (409, "connected", true, true),
        (429, "connected", true, true),
    ];
    for (status, state, kept, reconnects) in cases {
        refused_restore(&Expected {
            status,
            state,
            kept,
            reconnects,
        });
    }
}
