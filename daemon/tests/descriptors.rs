//! The real binaries under descriptor pressure, with systemd's default soft limit of 1,024:
//! clients that subscribe and hang up are reclaimed at once, 2,000 clients at once are refused
//! over the cap with an error, and the session (status, a message to a subscriber, a restore
//! and its token save) keeps working.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use serde_json::{Value, json};
use support::{Client, DEADLINE, paired, wait_for};

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
    let wanted = 2000;
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

    // The session is untouched while they are held: status answers, a message arrives to a
    // subscriber, and a restore stores its rotated tokens.
    assert_eq!(
        client.call(10, "status", json!({})).unwrap()["state"],
        "connected"
    );
    sim.command(json!({"cmd": "send_text", "from": "4915100000001", "text": "still here"}));
    assert_eq!(client.event("message")["text"], "still here");
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
