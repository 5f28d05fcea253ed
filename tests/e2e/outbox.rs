//! The outbox over the socket (DESIGN.md 6.2): sends queued while disconnected, idempotency
//! keys, timeouts that leave the message queued, cancelling, and the refusals.

use serde_json::{Value, json};

use crate::support::{Client, Harness, Options};

const TO: &str = "4915100000001@s.whatsapp.net";

/// A harness in paused time: a dropped connection stays down for a real backoff (≥ 250 ms),
/// long enough to send into.
async fn paused() -> (Harness, Client) {
    let mut harness = Harness::start_with(Options {
        paused: true,
        ..Options::default()
    })
    .await;
    let client = harness.pair().await;
    (harness, client)
}

/// The connection drops; returns once the daemon knows.
async fn drop_connection(harness: &Harness, client: &mut Client) {
    harness.sim_command(json!({"cmd": "drop"})).await;
    client.event("disconnected").await;
}

/// How many times the simulated server took message `id` in (`duplicate: false`), waiting
/// for `until` relays of it to be seen.
async fn relayed(harness: &mut Harness, id: &str, until: usize) -> usize {
    let mut first = 0;
    let mut seen = 0;
    while seen < until {
        let line = harness.sim_line("relayed").await;
        if line["id"] == id {
            seen += 1;
            first += usize::from(line["duplicate"] == false);
        }
    }
    first
}

async fn ack(client: &mut Client, id: &Value, ack: i64) -> Value {
    loop {
        let event = client.event("ack").await;
        if &event["id"] == id && event["ack"] == ack {
            return event;
        }
    }
}

#[tokio::test]
async fn a_send_while_disconnected_goes_out_once_with_its_id_after_the_restore() {
    let (mut harness, mut client) = paused().await;
    drop_connection(&harness, &mut client).await;
    let mut sender = harness.client().await;
    let result = sender
        .call("send_text", json!({"to": TO, "text": "while down"}))
        .await
        .unwrap();
    assert_eq!(result["status"], 200, "answered once the server took it");
    let id = result["id"].clone();
    ack(&mut client, &id, 0).await;
    ack(&mut client, &id, 1).await;
    assert_eq!(relayed(&mut harness, id.as_str().unwrap(), 1).await, 1);
    let outbox = sender.call("outbox", Value::Null).await.unwrap();
    assert_eq!(outbox, json!({"messages": []}));
}

#[tokio::test]
async fn a_repeated_key_returns_the_first_result_and_sends_nothing_more() {
    let (mut harness, _client) = paused().await;
    let mut sender = harness.client().await;
    let params = json!({"to": TO, "text": "once", "idempotency_key": "order-17"});
    let first = sender.call("send_text", params.clone()).await.unwrap();
    let again = sender.call("send_text", params).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        relayed(&mut harness, first["id"].as_str().unwrap(), 1).await,
        1
    );
    let other = sender
        .call(
            "send_text",
            json!({"to": TO, "text": "twice", "idempotency_key": "order-18"}),
        )
        .await
        .unwrap();
    assert_ne!(other["id"], first["id"]);
    let long = "k".repeat(129);
    let refused = sender
        .call(
            "send_text",
            json!({"to": TO, "text": "x", "idempotency_key": long}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32602);
}

#[tokio::test]
async fn a_timeout_names_the_message_and_leaves_it_queued() {
    let (mut harness, mut client) = paused().await;
    drop_connection(&harness, &mut client).await;
    let mut sender = harness.client().await;
    let error = sender
        .call(
            "send_text",
            json!({"to": TO, "text": "slow", "timeout_ms": 100, "idempotency_key": "slow-1"}),
        )
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32005);
    assert_eq!(error["data"]["queued"], true);
    let id = error["data"]["id"].clone();
    // It still goes out, once, and the same key now answers with its result.
    ack(&mut client, &id, 1).await;
    let again = sender
        .call(
            "send_text",
            json!({"to": TO, "text": "slow", "idempotency_key": "slow-1"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (again["id"].clone(), again["status"].clone()),
        (id.clone(), json!(200))
    );
    assert_eq!(relayed(&mut harness, id.as_str().unwrap(), 1).await, 1);
}

#[tokio::test]
async fn a_queued_message_can_be_listed_and_cancelled_before_it_goes() {
    let (harness, mut client) = paused().await;
    drop_connection(&harness, &mut client).await;
    let mut sender = harness.client().await;
    let queued = sender
        .call(
            "send_text",
            json!({"to": "+49 151 0000-0001", "text": "never mind", "wait": "queued"}),
        )
        .await
        .unwrap();
    assert_eq!(queued["status"], "queued");
    let listed = sender.call("outbox", Value::Null).await.unwrap();
    let entry = &listed["messages"][0];
    assert_eq!(
        (
            &entry["id"],
            &entry["to"],
            &entry["kind"],
            &entry["attempts"]
        ),
        (&queued["id"], &json!(TO), &json!("text"), &json!(0))
    );
    let cancelled = sender
        .call("outbox_cancel", json!({"id": queued["id"]}))
        .await
        .unwrap();
    assert_eq!(cancelled, json!({"id": queued["id"], "cancelled": true}));
    let failed = ack(&mut client, &queued["id"], -1).await;
    assert_eq!(failed["error"], "cancelled before it was sent");
    let unknown = sender
        .call("outbox_cancel", json!({"id": queued["id"]}))
        .await
        .unwrap_err();
    assert_eq!(unknown["code"], -32602);
    client.event("connected").await;
    assert_eq!(
        sender.call("outbox", Value::Null).await.unwrap(),
        json!({"messages": []})
    );
}

#[tokio::test]
async fn sends_are_refused_without_a_session_or_after_a_takeover() {
    let mut harness = Harness::start().await;
    let mut client = harness.client().await;
    let refused = client
        .call("send_text", json!({"to": TO, "text": "x"}))
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32001);
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "replace"})).await;
    client.state("replaced").await;
    let refused = client
        .call("send_text", json!({"to": TO, "text": "x"}))
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32003);
    assert_eq!(
        client.call("outbox", Value::Null).await.unwrap(),
        json!({"messages": []}),
        "nothing was queued"
    );
}
