//! The real daemon against connections cut at chosen moments (issue 13, DESIGN.md 14.4): the
//! simulator's `drop_at` cuts during `init`, right after a QR, mid-restore, and while sending
//! (before the relay reaches the phone, and after it did but before its ack went out). In each:
//! the daemon reconnects with backoff and ends in the right state, the session file is whole,
//! a message is on the phone exactly once with one `ack` progression, and the journal keeps
//! every event from before the drop.

mod support;

use serde_json::{Value, json};
use support::{Client, Daemon, Setup, Sim, paired_with, reconnect_limits, short_backoff, wait_for};

const TO: &str = "4915100000001@s.whatsapp.net";

/// Waits for the simulator's report that `drop_at` fired at `at`.
fn dropped(sim: &mut Sim, at: &str) -> Value {
    sim.line_where(&format!("a drop at {at}"), |line| {
        line["type"] == "dropped" && line["at"] == at
    })
}

/// A daemon with short backoff that has asked to log in (subscribed first); no QR scanned.
fn pairing(sim: &Sim) -> (Daemon, Client) {
    let daemon = Daemon::start_with(&sim.ws_url, short_backoff);
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "subscribe", json!({})).unwrap();
    (daemon, client)
}

fn state(client: &mut Client, id: u64) -> String {
    let status = client.call(id, "status", json!({})).unwrap();
    status["state"].as_str().unwrap().to_owned()
}

#[test]
fn a_drop_during_the_first_init_is_retried_and_pairing_goes_on() {
    let mut sim = Sim::start();
    sim.command(json!({"cmd": "drop_at", "at": "init"}));
    let (daemon, mut client) = pairing(&sim);
    client.call(2, "login", json!({})).unwrap();
    dropped(&mut sim, "init");
    let disconnected = client.event("disconnected");
    assert!(disconnected["retry_in_ms"].is_u64(), "{disconnected}");
    // The retry serves a QR like a first try; scanning it pairs.
    let qr = client.event("qr");
    sim.command(json!({"cmd": "scan", "qr": qr["content"]}));
    client.event("connected");
    assert_eq!(state(&mut client, 3), "connected");
    assert!(daemon.session().unwrap()["wid"].is_string());
}

#[test]
fn a_drop_right_after_the_qr_serves_a_new_qr_and_the_old_one_is_dead() {
    let mut sim = Sim::start();
    sim.command(json!({"cmd": "drop_at", "at": "qr"}));
    let (daemon, mut client) = pairing(&sim);
    client.call(2, "login", json!({})).unwrap();
    let first = client.event("qr");
    dropped(&mut sim, "qr");
    let disconnected = client.event("disconnected");
    assert!(disconnected["retry_in_ms"].is_u64(), "{disconnected}");
    let second = client.event("qr");
    assert_ne!(
        first["content"], second["content"],
        "a new QR after the drop"
    );
    // The phone cannot pair with the QR of the connection that is gone.
    sim.submit(&json!({"cmd": "scan", "qr": first["content"]}));
    let refused = sim.line_where("the scan's answer", |line| line["cmd"] == "scan");
    assert_eq!(refused["type"], "error", "{refused}");
    sim.command(json!({"cmd": "scan", "qr": second["content"]}));
    client.event("connected");
    assert_eq!(state(&mut client, 3), "connected");
    assert!(daemon.session().unwrap()["wid"].is_string());
}

/// Paired, then the connection is dropped and the next restore is cut at `at`: the daemon
/// comes back on the try after, the session file whole and the journal intact.
fn restore_cut_at(at: &str) {
    let (mut sim, daemon, mut client) = paired_with(short_backoff);
    let before = daemon.session().expect("a session after pairing");
    let head = client.call(3, "subscribe", json!({})).unwrap()["head"]
        .as_u64()
        .unwrap();
    sim.command(json!({"cmd": "drop_at", "at": at}));
    sim.command(json!({"cmd": "drop"}));
    dropped(&mut sim, at);
    let restored = sim.line_where("the restore after the cut", |line| {
        line["type"] == "logged_in"
    });
    assert_eq!(restored["restored"], true, "{restored}");
    // The drop, the cut restore, then back: two disconnects with a backoff each.
    for _ in 0..2 {
        let disconnected = client.event("disconnected");
        assert!(disconnected["retry_in_ms"].is_u64(), "{disconnected}");
    }
    client.event("connected");
    let mut id = 10;
    wait_for(&format!("{at}: connected again"), || {
        id += 1;
        state(&mut client, id) == "connected"
    });
    let after = daemon.session().expect("the session file is kept");
    assert_eq!(after["wid"], before["wid"], "{at}");
    let mut reader = Client::connect(&daemon.socket);
    let replay = reader
        .call(
            1,
            "events",
            json!({"since": head.saturating_sub(1), "limit": 1}),
        )
        .unwrap();
    assert_eq!(replay["events"][0]["seq"], head, "{replay}");
}

#[test]
fn a_drop_at_the_init_of_a_restore_is_restored_on_the_next_try() {
    restore_cut_at("init");
}

#[test]
fn a_drop_mid_restore_is_restored_on_the_next_try_with_the_session_whole() {
    restore_cut_at("restore");
}

/// Every ack event of message `id` in the journal after `since`, as its `ack` numbers.
fn acks_of(client: &mut Client, since: u64, id: &str) -> Vec<i64> {
    let events = client
        .call(
            90,
            "events",
            json!({"since": since, "types": ["ack"], "limit": 1000}),
        )
        .unwrap();
    let events = events["events"].as_array().unwrap().clone();
    events
        .iter()
        .filter(|event| event["id"] == id)
        .map(|event| event["ack"].as_i64().unwrap())
        .collect()
}

/// A `send_text` whose relay is cut at `at` (`send`: after the phone has it, before the ack;
/// `send_before`: before it reaches the phone): the caller gets one 200, the phone has the
/// message once, the outbox is empty and the journal holds one ack progression for it (0, 1, receipts).
fn send_cut_at(at: &str, relays: &[bool], setup: Setup) {
    let (mut sim, daemon, mut client) = paired_with(setup);
    let head = client.call(3, "subscribe", json!({})).unwrap()["head"]
        .as_u64()
        .unwrap();
    sim.command(json!({"cmd": "drop_at", "at": at}));
    let sent = client
        .call(
            4,
            "send_text",
            json!({"to": TO, "text": "through the drop", "timeout_ms": 15_000}),
        )
        .unwrap();
    assert_eq!(sent["status"], 200, "{sent}");
    let id = sent["id"].as_str().unwrap().to_owned();
    assert_eq!(
        client.call(5, "outbox", json!({})).unwrap(),
        json!({"messages": []})
    );
    // The phone's chat holds it once: the contact reads exactly this one of ours.
    sim.submit(&json!({"cmd": "read", "from": TO, "id": id}));
    let lines = sim.lines_until("the read's answer", |line| line["cmd"] == "read");
    let read = lines.last().unwrap();
    assert_eq!(read["ids"], json!([id]), "{read}");
    let drops = lines.iter().filter(|line| line["type"] == "dropped");
    assert_eq!(drops.map(|line| &line["at"]).collect::<Vec<_>>(), [at]);
    // Every relay of the id the phone saw: a repeat is answered, never delivered again.
    let seen: Vec<bool> = lines
        .iter()
        .filter(|line| line["type"] == "relayed" && line["id"] == id.as_str())
        .map(|line| line["duplicate"].as_bool().unwrap())
        .collect();
    assert_eq!(seen, relays, "{at}: first delivery, then repeats");
    let acks = acks_of(&mut client, head, &id);
    // One progression: queued, server, then the receipts in order (a receipt that overtook
    // the resend's answer must not put ack 1 after ack 2). Ack 3 may come twice: the phone's
    // own read and the `read` above.
    assert_eq!(acks.get(..2), Some(&[0, 1][..]), "{at}: {acks:?}");
    assert!(acks[2..].iter().all(|ack| *ack >= 2), "{at}: {acks:?}");
    assert!(acks.windows(2).all(|w| w[0] <= w[1]), "{at}: {acks:?}");
    // A subscriber that resumes from before the send gets every event since, without a gap,
    // the ack 1 among them.
    let mut reader = Client::connect(&daemon.socket);
    reader.call(1, "subscribe", json!({"since": head})).unwrap();
    let mut seq = head;
    loop {
        let event = reader.line().expect("the replay")["params"].clone();
        seq += 1;
        assert_eq!(event["seq"], seq, "{at}: {event}");
        if event["type"] == "ack" && event["id"] == id.as_str() && event["ack"] == 1 {
            break;
        }
    }
}

#[test]
fn a_message_cut_after_the_phone_got_it_is_there_once_and_acked_once() {
    // The first wait (at least 250 ms) outlasts the phone's delivery receipt (200 ms after
    // the delivery): the simulator keeps it for the next login and sends it right after
    // `Conn`, before it answers the resent relay, so the receipt overtakes that answer.
    send_cut_at("send", &[false, true], |_, dir| {
        reconnect_limits(dir, 1000, 1000)
    });
}

#[test]
fn a_message_cut_before_the_phone_got_it_is_sent_again_and_there_once() {
    send_cut_at("send_before", &[false], short_backoff);
}

#[test]
fn a_pairing_that_keeps_losing_its_connection_gives_up_and_says_so() {
    let mut sim = Sim::start();
    let (_daemon, mut client) = pairing(&sim);
    sim.command(json!({"cmd": "drop_at", "at": "init"}));
    client.call(2, "login", json!({})).unwrap();
    // The first try and five retries, each cut during init.
    for _ in 0..6 {
        dropped(&mut sim, "init");
        sim.command(json!({"cmd": "drop_at", "at": "init"}));
    }
    let mut retries = 0;
    let logged_out = loop {
        let line = client.line().expect("the daemon stays");
        match line["params"]["type"].as_str() {
            Some("disconnected") if line["params"]["retry_in_ms"].is_u64() => retries += 1,
            Some("qr") => panic!("no QR was served: {line}"),
            Some("logged_out") => break line["params"].clone(),
            _ => {}
        }
    };
    assert_eq!(retries, 5, "{logged_out}");
    assert_eq!(logged_out["reason"], "connection_lost", "{logged_out}");
    assert_eq!(state(&mut client, 3), "logged_out");
    // Nothing more is tried until the next `login`, which pairs again.
    sim.command(json!({"cmd": "drop_at", "at": "qr"}));
    client.call(4, "login", json!({})).unwrap();
    dropped(&mut sim, "qr");
}

#[test]
fn a_drop_mid_upload_sends_the_media_once_after_reconnecting() {
    let (mut sim, daemon, mut client) = paired_with(short_backoff);
    let path = daemon.dir.path().join("notes.txt");
    std::fs::write(&path, b"a document whose upload outlived its connection").unwrap();
    sim.command(json!({"cmd": "drop_at", "at": "upload"}));
    let sent = client
        .call(
            4,
            "send_media",
            json!({"to": TO, "kind": "document", "path": path, "timeout_ms": 15_000}),
        )
        .unwrap();
    assert_eq!(sent["status"], 200, "{sent}");
    let id = sent["id"].as_str().unwrap().to_owned();
    // The cut was seen, and the answer came over the next connection.
    let disconnected = client.event("disconnected");
    assert!(disconnected["retry_in_ms"].is_u64(), "{disconnected}");
    assert_eq!(
        client.call(5, "outbox", json!({})).unwrap(),
        json!({"messages": []})
    );
    sim.submit(&json!({"cmd": "read", "from": TO, "id": id}));
    let lines = sim.lines_until("the read's answer", |line| line["cmd"] == "read");
    assert_eq!(lines.last().unwrap()["ids"], json!([id]));
    let drops = lines.iter().filter(|line| line["type"] == "dropped");
    assert_eq!(
        drops.map(|line| &line["at"]).collect::<Vec<_>>(),
        ["upload"]
    );
    // One upload (a relay that was never answered is sent again; its blob is not), one
    // delivery, and the phone could read the blob.
    let uploads = lines.iter().filter(|line| line["type"] == "upload");
    assert_eq!(
        uploads.map(|line| &line["status"]).collect::<Vec<_>>(),
        [200]
    );
    let delivered: Vec<&Value> = lines
        .iter()
        .filter(|line| line["type"] == "relayed" && line["id"] == id.as_str())
        .filter(|line| line["duplicate"] == false)
        .collect();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let verified = lines
        .iter()
        .find(|line| line["type"] == "received" && line["tag"] == id.as_str())
        .expect("the relay reached the phone");
    assert_eq!(verified["media_ok"], true, "{verified}");
}

#[test]
fn a_logout_between_two_tries_of_a_pairing_cancels_it() {
    let mut sim = Sim::start();
    // A first wait of 250 ms to 1 s: the logout lands in it.
    let daemon = Daemon::start_with(&sim.ws_url, |_, dir| reconnect_limits(dir, 1000, 1000));
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "subscribe", json!({})).unwrap();
    sim.command(json!({"cmd": "drop_at", "at": "init"}));
    client.call(2, "login", json!({})).unwrap();
    dropped(&mut sim, "init");
    let logout = client.call(3, "logout", json!({})).unwrap();
    assert_eq!(logout, json!({"server_notified": false}));
    let logged_out = client.event("logged_out");
    assert_eq!(logged_out["reason"], "logout", "{logged_out}");
    assert_eq!(state(&mut client, 4), "logged_out");
    // The backoff ran out long ago: no new try came.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let tries = sim
        .lines
        .try_iter()
        .filter(|line| line["type"] == "client_connected");
    assert_eq!(tries.count(), 0);
    assert_eq!(state(&mut client, 5), "logged_out");
}
