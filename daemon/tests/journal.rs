//! Nothing lost, with the real binaries: a named consumer that stops, a daemon killed with
//! SIGKILL in the middle of a stream of 1,000 messages and started again, and the consumer coming back by name
//! to receive exactly the rest, in order, each seq once (DESIGN.md 6.1).

mod support;

use std::collections::HashSet;

use serde_json::{Value, json};
use support::{Client, paired, wait_for};

const FROM: &str = "4915100000001@s.whatsapp.net";

fn send(n: usize) -> Value {
    json!({"cmd": "send_text", "from": FROM, "text": format!("m{n}")})
}

/// A message event's seq and its number `n` (from the text `m<n>`).
fn numbered(event: &Value) -> (u64, usize) {
    let seq = event["seq"].as_u64().expect("a journaled event has a seq");
    let text = event["text"].as_str().unwrap();
    (seq, text.trim_start_matches('m').parse().unwrap())
}

/// The next live message event: the login's history batch (the last message of each chat,
/// `source: "history"`) repeats an old one after every restore.
fn next_live(client: &mut Client) -> Value {
    loop {
        let event = client.event("message");
        if event["source"] == "live" {
            return event;
        }
    }
}

/// Every live message event after `since` in the journal, through `events` pages.
fn journal_messages(client: &mut Client, mut since: u64) -> Vec<(u64, usize)> {
    let mut messages = Vec::new();
    for id in 1000.. {
        let page = client
            .call(
                id,
                "events",
                json!({"since": since, "types": ["message"], "limit": 1000}),
            )
            .unwrap();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            return messages;
        }
        messages.extend(
            events
                .iter()
                .filter(|event| event["source"] == "live")
                .map(numbered),
        );
        since = events.last().unwrap()["seq"].as_u64().unwrap();
    }
    unreachable!()
}

/// The consumer `bot`, subscribed to messages from its cursor.
fn subscribe_bot(socket: &std::path::Path) -> Client {
    let mut bot = Client::connect(socket);
    let subscribed = bot
        .call(
            1,
            "subscribe",
            json!({"events": ["message"], "consumer": "bot"}),
        )
        .unwrap();
    assert_eq!(subscribed["gap"], false);
    bot
}

#[test]
fn a_consumer_resumes_exactly_where_it_stopped_across_a_sigkill() {
    let (mut sim, mut daemon, mut live) = paired();

    // A bot reads part of the traffic, committing as it goes, then stops.
    let mut bot = subscribe_bot(&daemon.socket);
    for n in 0..400 {
        sim.submit(&send(n));
    }
    let mut first_run = Vec::new();
    for id in 0..150 {
        let message = numbered(&next_live(&mut bot));
        bot.call(
            10 + id,
            "commit",
            json!({"consumer": "bot", "seq": message.0}),
        )
        .unwrap();
        first_run.push(message);
    }
    let committed = first_run.last().unwrap().0;
    drop(bot);
    assert_eq!(sim.answers("send_text", 400), 400);

    // More traffic; the daemon is killed while it flows.
    for n in 400..700 {
        sim.submit(&send(n));
    }
    let mut live_seen = Vec::new();
    while live_seen.len() < 450 {
        live_seen.push(numbered(&next_live(&mut live)));
    }
    daemon.kill();
    // Whatever the live subscriber was sent before the kill is in the journal afterwards.
    while let Some(line) = live.line() {
        if line["params"]["type"] == "message" && line["params"]["source"] == "live" {
            live_seen.push(numbered(&line["params"]));
        }
    }
    let sent_before_kill = sim.answers("send_text", 300);
    assert!(sent_before_kill >= 50, "the kill came mid-traffic");

    daemon.restart();
    let mut client = Client::connect(&daemon.socket);
    wait_for("the session is restored", || {
        client.call(1, "status", json!({})).unwrap()["state"] == "connected"
    });
    for n in 700..1000 {
        sim.command(send(n));
    }

    // The bot comes back by name: exactly what it had not committed, in order, each once.
    let mut bot = subscribe_bot(&daemon.socket);
    let mut second_run: Vec<(u64, usize)> = Vec::new();
    while second_run.last().is_none_or(|(_, n)| *n != 999) {
        second_run.push(numbered(&next_live(&mut bot)));
    }
    assert_eq!(
        second_run,
        journal_messages(&mut client, committed),
        "the rest of the journal, exactly"
    );
    assert!(
        second_run
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1)
    );
    assert!(second_run[0].0 > committed);
    let mut numbers = HashSet::new();
    for (_, n) in first_run.iter().chain(&second_run) {
        assert!(numbers.insert(*n), "m{n} delivered twice");
    }
    for n in (0..150).chain(700..1000) {
        assert!(numbers.contains(&n), "m{n} is missing");
    }
    let journal: HashSet<(u64, usize)> = journal_messages(&mut client, 0).into_iter().collect();
    for message in &live_seen {
        assert!(journal.contains(message), "{message:?} was sent, then lost");
    }
}

#[test]
fn a_send_queued_before_a_sigkill_reaches_the_phone_once_with_its_id() {
    let (mut sim, mut daemon, mut client) = paired();
    // The server stops answering: the relay goes nowhere and is never acknowledged.
    sim.command(json!({"cmd": "half_open"}));
    let queued = client
        .call(
            10,
            "send_text",
            json!({"to": FROM, "text": "before the kill", "wait": "queued", "idempotency_key": "k1"}),
        )
        .unwrap();
    assert_eq!(queued["status"], "queued");
    let id = queued["id"].as_str().unwrap().to_owned();
    daemon.kill();
    daemon.restart();

    let mut client = Client::connect(&daemon.socket);
    client
        .call(1, "subscribe", json!({"events": ["ack"]}))
        .unwrap();
    loop {
        let ack = client.event("ack");
        if ack["id"] == id.as_str() && ack["ack"] == 1 {
            break;
        }
    }
    let again = client
        .call(
            2,
            "send_text",
            json!({"to": FROM, "text": "before the kill", "idempotency_key": "k1"}),
        )
        .unwrap();
    assert_eq!(
        (again["id"].as_str(), again["status"].as_u64()),
        (Some(id.as_str()), Some(200))
    );
    assert_eq!(
        client.call(3, "outbox", json!({})).unwrap(),
        json!({"messages": []})
    );
    let mut relays: Vec<Value> = Vec::new();
    let deadline = std::time::Instant::now() + support::DEADLINE;
    while relays.is_empty() {
        let line = sim
            .lines
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("the relay reaches the simulator");
        if line["type"] == "relayed" && line["id"] == id.as_str() {
            relays.push(line);
        }
    }
    relays.extend(
        sim.lines
            .try_iter()
            .filter(|line| line["type"] == "relayed" && line["id"] == id.as_str()),
    );
    assert_eq!(relays.len(), 1, "{relays:?}");
    assert_eq!(relays[0]["duplicate"], false);
}
