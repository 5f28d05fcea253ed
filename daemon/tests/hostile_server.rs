//! The real daemon against a server that sends garbage: the log stays short and a connection
//! that sends nothing else is closed and retried, and the session carries on.

mod support;

use serde_json::json;
use support::paired;

#[test]
fn a_flood_of_garbage_frames_is_summarised_and_its_connection_closed() {
    let (mut sim, daemon, mut client) = paired();
    // 10,000 unreadable frames: one log line each would be 10,000 lines.
    sim.command(json!({"cmd": "garbage", "times": 2000}));
    let disconnected = client.event("disconnected");
    assert_eq!(disconnected["reason"], "protocol_error", "{disconnected}");
    assert!(
        disconnected["retry_in_ms"].as_u64().is_some(),
        "{disconnected}"
    );
    // It comes back on its own, restoring the stored session.
    client.event("connected");
    assert_eq!(
        client.call(3, "status", json!({})).unwrap()["state"],
        "connected"
    );

    let log = daemon.log();
    let lines = log.lines().count();
    assert!(lines <= 10, "{lines} lines:\n{log}");
    assert!(log.contains("unreadable frames in a row"), "{log}");
}
