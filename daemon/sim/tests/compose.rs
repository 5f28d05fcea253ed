//! What the simulated phone reads in relayed messages (quotes, mentions, locations, contacts,
//! revokes, in the `received` line's `decoded`), set-actions answered and reported, and the
//! `read` command's receipts, with a scripted legacy client built from PROTOCOL.md.

mod client;

use std::time::Duration;

use serde_json::{Value, json};
use waweb_core::binary::{self, Content, Node};
use waweb_core::message::{self, compose, pb};
use waweb_core::wire::FrameCipher;
use waweb_sim::{Config, Sim};

use client::*;

const ALICE: &str = "4915100000001@s.whatsapp.net";

async fn relay(client: &mut Client, content: pb::Message) -> String {
    relay_seeing(client, content).await.0
}

/// Relays `content`; its id and the pushes that came before the server's answer.
async fn relay_seeing(client: &mut Client, content: pb::Message) -> (String, Vec<Value>) {
    let id = message::new_message_id();
    let info = message::outgoing(ALICE, &id, content, 1_600_000_000);
    let node = Node::new("action")
        .attr("type", "relay")
        .attr("epoch", "3")
        .with_content(Content::List(vec![
            Node::new("message").with_content(Content::Bytes(message::encode(&info))),
        ]));
    client.send_node(&id, 16, 0x80, &node).await;
    let (before, reply) = client.until_tag(&id).await;
    assert_eq!(reply["status"], 200);
    let pushes = before
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Text(text) => {
                let json = text.split_once(',')?.1;
                serde_json::from_str(json).ok()
            }
            _ => None,
        })
        .collect();
    (id, pushes)
}

async fn received(output: &mut tokio::sync::broadcast::Receiver<Value>, tag: &str) -> Value {
    loop {
        let line = wait_for(output, "received").await;
        if line["tag"] == tag {
            return line;
        }
    }
}

#[tokio::test]
async fn the_phone_reads_quotes_mentions_locations_contacts_and_revokes() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "Y29tcG9zZWNvbXBvc2Vjbw==").await;
    client.pair(&sim).await;
    client.login_pushes().await;

    let quote = compose::Quote {
        chat: ALICE.into(),
        id: "3AA55DBD30C9CD2FD815".into(),
        from_me: false,
        participant: None,
        content: Some(compose::text("original".into(), None)),
    };
    let context = compose::context(
        Some(quote),
        vec![ALICE.into()],
        "4915100000000@s.whatsapp.net",
    );
    let id = relay(
        &mut client,
        compose::text("re @4915100000001".into(), context),
    )
    .await;
    let line = received(&mut output, &id).await;
    assert_eq!(
        line["decoded"][0]["message"],
        json!({"extendedTextMessage": {"text": "re @4915100000001", "contextInfo": {
            "stanzaId": "3AA55DBD30C9CD2FD815", "participant": ALICE,
            "quotedMessage": {"conversation": "original"}, "mentionedJid": [ALICE]}}})
    );
    assert_eq!(
        line["decoded"][0]["key"],
        json!({"remoteJid": ALICE, "fromMe": true, "id": id})
    );

    let location = compose::location(52.5, 13.25, Some("Tor".into()), None, None).unwrap();
    let id = relay(&mut client, location).await;
    assert_eq!(
        received(&mut output, &id).await["decoded"][0]["message"],
        json!({"locationMessage": {"degreesLatitude": 52.5, "degreesLongitude": 13.25, "name": "Tor"}})
    );

    let cards = vec![
        (
            "Ada".to_owned(),
            "BEGIN:VCARD\nFN:Ada\nEND:VCARD".to_owned(),
        ),
        (
            "Bob".to_owned(),
            "BEGIN:VCARD\nFN:Bob\nEND:VCARD".to_owned(),
        ),
    ];
    let id = relay(&mut client, compose::contacts(cards, None).unwrap()).await;
    assert_eq!(
        received(&mut output, &id).await["decoded"][0]["message"]["contactsArrayMessage"]["contacts"]
            [1],
        json!({"displayName": "Bob", "vcard": "BEGIN:VCARD\nFN:Bob\nEND:VCARD"})
    );

    let oops = relay(&mut client, compose::text("oops".into(), None)).await;
    let id = relay(&mut client, compose::revoke(ALICE, &oops)).await;
    assert_eq!(
        received(&mut output, &id).await["decoded"][0]["message"],
        json!({"protocolMessage": {"key": {"remoteJid": ALICE, "fromMe": true, "id": oops}, "type": "REVOKE"}})
    );
    // The phone's history now holds a REVOKE stub where the message was.
    let query = Node::new("query")
        .attr("type", "message")
        .attr("jid", ALICE)
        .attr("kind", "before")
        .attr("count", "10")
        .attr("epoch", "9");
    client.send_node("h1", 7, 0x80, &query).await;
    // Acks (text frames) may come first.
    let history = loop {
        if let Frame::Binary(data) = client.next().await {
            let cipher = FrameCipher::new(client.keys.as_ref().unwrap());
            let (tag, bytes) = cipher.open_server_frame(&data).unwrap();
            if tag == "h1" {
                break binary::decode(&bytes).unwrap();
            }
        }
    };
    let last = history.children().last().unwrap().content_bytes().unwrap();
    let last = message::decode_web_message_info(last).unwrap();
    assert_eq!(last.key.unwrap().id.as_deref(), Some(oops.as_str()));
    assert_eq!((last.message, last.message_stub_type), (None, Some(1)));
}

#[tokio::test]
async fn set_actions_are_answered_200_and_reported_with_metric_and_flags() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "c2V0YWN0aW9uc2V0YWN0aQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let typing = Node::new("action")
        .attr("type", "set")
        .attr("epoch", "4")
        .with_content(Content::List(vec![
            Node::new("presence")
                .attr("type", "composing")
                .attr("to", ALICE),
        ]));
    client.send_node("t1", 8, 0x04, &typing).await;
    let (_, reply) = client.until_tag("t1").await;
    assert_eq!(reply, json!({"status": 200}));
    let line = received(&mut output, "t1").await;
    assert_eq!(
        (line["metric"].clone(), line["flags"].clone()),
        (json!(8), json!(4))
    );
    assert_eq!(
        line["node"]["content"][0]["attrs"],
        json!({"type": "composing", "to": ALICE})
    );
    // The presence subscription is answered, then Alice's presence is pushed.
    client
        .send_json(
            "p1",
            json!(["action", "presence", "subscribe", "4915100000001@c.us"]),
        )
        .await;
    let (_, reply) = client.until_tag("p1").await;
    assert_eq!(reply, json!({"status": 200}));
    let (_, presence) = client.next_json().await;
    assert_eq!(presence[0], "Presence");
    assert_eq!(presence[1]["id"], "4915100000001@c.us");
}

#[tokio::test]
async fn read_acks_the_clients_messages_up_to_the_one_named() {
    let sim = Sim::start(Config {
        reply_gap: Duration::from_millis(5),
        push_delay: Duration::from_millis(5),
        auto_read: false,
        ..Config::default()
    })
    .await
    .unwrap();
    let mut client = connect(&sim, "cmVhZHJlYWRyZWFkcmVhZA==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let mut ids = Vec::new();
    let mut pushes = Vec::new();
    for text in ["one", "two", "three"] {
        let (id, before) = relay_seeing(&mut client, compose::text(text.into(), None)).await;
        ids.push(id);
        pushes.extend(before);
    }
    // Each is delivered (ack 2) and, without auto_read, not read.
    while pushes.len() < 3 {
        pushes.push(client.next_json().await.1);
    }
    for push in &pushes {
        assert_eq!(
            (push[0].clone(), push[1]["ack"].clone()),
            (json!("Msg"), json!(2))
        );
    }
    let done = sim
        .command(json!({"cmd": "read", "from": "4915100000001", "id": ids[1]}))
        .await
        .unwrap();
    assert_eq!(done["ids"], json!(ids[..2]));
    for id in &ids[..2] {
        let (_, push) = client.next_json().await;
        assert_eq!(push[0], "Msg");
        assert_eq!(
            (
                push[1]["id"].as_str(),
                push[1]["ack"].clone(),
                push[1]["to"].clone()
            ),
            (Some(id.as_str()), json!(3), json!("4915100000001@c.us"))
        );
    }
    let error = sim
        .command(json!({"cmd": "read", "from": "4915100000001", "id": "NOPE"}))
        .await
        .unwrap_err();
    assert!(error.0.contains("NOPE"), "{error}");
    let error = sim
        .command(json!({"cmd": "read", "from": "4915100000001"}))
        .await
        .unwrap_err();
    assert_eq!(error.0, "read needs \"id\"");
}
