//! The simulator's `flood`: messages at a rate, whole and in order, while the core keeps
//! answering; its end when the client goes away; its fields checked.

mod client;

use serde_json::{Value, json};
use waweb_core::binary::Node;

use client::*;

#[tokio::test(start_paused = true)]
async fn a_flood_arrives_whole_in_order_at_its_rate_while_commands_are_answered() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "Zmxvb2RmbG9vZGZsb29kZg==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let flood = json!({"cmd": "flood", "count": 500, "rate": 1000, "bytes": 40});
    let (done, events) = tokio::join!(sim.command(flood), async {
        let mut events = client.relays(100).await;
        // Halfway through, the core still answers at once.
        sim.command(json!({"cmd": "status"})).await.unwrap();
        events.extend(client.relays(400).await);
        events
    });
    let done = done.unwrap();
    assert_eq!(done["count"], 500);
    // 1,000 per second, the first at once: the 500th is due after 499 ms, sent on the next tick.
    let elapsed = done["elapsed_ms"].as_u64().unwrap();
    assert!((499..=520).contains(&elapsed), "{elapsed} ms");
    for (n, event) in (1..).zip(&events) {
        assert_eq!(event.kind, waweb_proto::message::MessageKind::Text);
        let text = event.text.as_deref().unwrap();
        assert!(text.starts_with(&format!("flood {n}/500")), "{text}");
        assert_eq!(text.len(), 40);
        assert_eq!(event.chat, "4915100000001@s.whatsapp.net");
        assert_eq!(event.push_name.as_deref(), Some("Alice"));
        assert!(!event.from_me);
    }
    let mut ids: Vec<&str> = events.iter().map(|event| event.id.as_str()).collect();
    assert_eq!(ids[0], done["first_id"]);
    assert_eq!(ids[499], done["last_id"]);
    assert!(ids.iter().all(|id| id.len() == 20 && id.starts_with("3A")));
    ids.dedup();
    assert_eq!(ids.len(), 500);
    let lines: Vec<Value> = std::iter::from_fn(|| output.try_recv().ok()).collect();
    let paired = lines.iter().find(|line| line["type"] == "paired").unwrap();
    assert_eq!(done["conn"], paired["conn"]);
    let answered: Vec<&Value> = lines
        .iter()
        .filter(|line| line["type"] == "done")
        .map(|line| &line["cmd"])
        .collect();
    assert_eq!(answered, ["scan", "status", "flood"]);

    // The history has them too: the newest 300 asked for.
    let query = Node::new("query")
        .attr("type", "message")
        .attr("jid", "4915100000001@s.whatsapp.net")
        .attr("kind", "before")
        .attr("count", "300")
        .attr("epoch", "2");
    client.send_node("h1", 7, 0x80, &query).await;
    let (_, history) = client.next_node().await;
    assert_eq!(history.children().len(), 300);
}

#[tokio::test(start_paused = true)]
async fn a_flood_ends_in_an_error_when_its_client_goes_away() {
    let sim = start().await;
    let mut client = connect(&sim, "Z29uZWdvbmVnb25lZ29uZQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let flood =
        json!({"cmd": "flood", "count": 1_000_000, "rate": 200_000, "from": "4915100000002"});
    let (done, ()) = tokio::join!(sim.command(flood), async {
        let events = client.relays(3000).await;
        assert_eq!(events[2999].push_name.as_deref(), Some("Bob"));
        sim.command(json!({"cmd": "drop"})).await.unwrap();
    });
    let message = done.unwrap_err().0;
    assert!(
        message.starts_with("the client's connection went away after "),
        "{message}"
    );
}

#[tokio::test]
async fn flood_checks_its_fields() {
    let sim = start().await;
    for (command, message) in [
        (json!({"rate": 10}), "flood needs \"count\""),
        (json!({"count": -1, "rate": 10}), "flood needs \"count\""),
        (
            json!({"count": 0, "rate": 10}),
            "count must be 1 to 10000000",
        ),
        (
            json!({"count": 10_000_001, "rate": 10}),
            "count must be 1 to 10000000",
        ),
        (json!({"count": 5}), "flood needs \"rate\""),
        (
            json!({"count": 5, "rate": 0}),
            "rate must be above 0 (messages per second)",
        ),
        (
            json!({"count": 5, "rate": 1, "bytes": 0}),
            "bytes must be 1 to 65536",
        ),
        (
            json!({"count": 5, "rate": 1, "bytes": 65_537}),
            "bytes must be 1 to 65536",
        ),
        (
            json!({"count": 5, "rate": 0.5}),
            "no paired client: scan a QR first",
        ),
    ] {
        let mut command = command;
        command["cmd"] = json!("flood");
        assert_eq!(
            sim.command(command.clone()).await.unwrap_err().0,
            message,
            "{command}"
        );
    }
}
