//! Sending everything but media, and receipts, presence and typing (DESIGN.md 7.1, 7.2),
//! checked where it counts: what the simulator's phone decoded from the wire (its `received`
//! line: node, metric, flags, decoded `WebMessageInfo`), against PROTOCOL.md 1.4, 8.5 and 11.2.

use serde_json::{Value, json};
use waweb_core::message::{self, compose, pb};
use wawebd::db::Db;

use crate::support::{Client, Harness, Options};

const ALICE: &str = "4915100000001@s.whatsapp.net";
const BOB: &str = "4915100000002@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

/// The `received` line of the frame tagged `tag` (a relay is tagged with its message id).
async fn received(harness: &mut Harness, tag: &str) -> Value {
    loop {
        let line = harness.sim_line("received").await;
        if line["tag"] == tag {
            return line;
        }
    }
}

/// The next `received` line of a set-action whose child is `child`: (metric, flags, child).
async fn set_action(harness: &mut Harness, child: &str) -> (Value, Value, Value) {
    loop {
        let line = harness.sim_line("received").await;
        let node = &line["node"];
        if node["tag"] == "action"
            && node["attrs"]["type"] == "set"
            && node["content"][0]["tag"] == child
        {
            assert!(node["attrs"]["epoch"].as_str().is_some(), "{node}");
            return (
                line["metric"].clone(),
                line["flags"].clone(),
                node["content"][0].clone(),
            );
        }
    }
}

/// Sends with `method` and returns the message id and what the phone decoded of it.
async fn sent(
    harness: &mut Harness,
    client: &mut Client,
    method: &str,
    params: Value,
) -> (String, Value) {
    let result = client.call(method, params).await.unwrap();
    assert_eq!(result["status"], 200, "{result}");
    let id = result["id"].as_str().unwrap().to_owned();
    let line = received(harness, &id).await;
    assert_eq!(
        (line["metric"].clone(), line["flags"].clone()),
        (json!(16), json!(0x80)),
        "a relay: PROTOCOL.md 8.4"
    );
    assert_eq!(line["decoded"][0]["key"]["id"], id.as_str());
    assert_eq!(line["decoded"][0]["key"]["fromMe"], true);
    (id, line["decoded"][0].clone())
}

/// Puts a message into the daemon's store, as the receive path does.
fn store(harness: &Harness, info: &pb::WebMessageInfo) {
    let event = message::to_event(info).unwrap();
    let mut opened = Db::open(&harness.config.state_dir).unwrap();
    let transaction = opened.writer.transaction().unwrap();
    wawebd::messages::insert(&transaction, &event, Some(&message::encode(info))).unwrap();
    transaction.commit().unwrap();
}

fn incoming(
    chat: &str,
    id: &str,
    content: pb::Message,
    participant: Option<&str>,
) -> pb::WebMessageInfo {
    let mut info = message::outgoing(chat, id, content, 1_600_000_000);
    let key = info.key.as_mut().unwrap();
    key.from_me = Some(false);
    key.participant = participant.map(str::to_owned);
    info.participant = participant.map(str::to_owned);
    info
}

#[tokio::test]
async fn texts_quote_by_id_when_the_store_does_not_hold_the_message_and_mention() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let (_, plain) = sent(
        &mut harness,
        &mut client,
        "send_text",
        json!({"to": "4915100000001", "text": "plain"}),
    )
    .await;
    assert_eq!(plain["message"], json!({"conversation": "plain"}));
    let (_, reply) = sent(
        &mut harness,
        &mut client,
        "send_text",
        json!({"to": "4915100000001", "text": "yes @4915100000002",
               "quote": {"chat": "+49 151 0000-0001", "id": "3AA55DBD30C9CD2FD815", "from_me": false},
               "mentions": ["4915100000002"]}),
    )
    .await;
    assert_eq!(
        reply["message"],
        json!({"extendedTextMessage": {"text": "yes @4915100000002", "contextInfo": {
            "stanzaId": "3AA55DBD30C9CD2FD815", "participant": ALICE, "mentionedJid": [BOB]}}})
    );
    let (_, mention) = sent(
        &mut harness,
        &mut client,
        "send_text",
        json!({"to": GROUP, "text": "@4915100000001", "mentions": [ALICE]}),
    )
    .await;
    assert_eq!(mention["key"]["remoteJid"], GROUP);
    assert_eq!(
        mention["message"]["extendedTextMessage"]["contextInfo"],
        json!({"mentionedJid": [ALICE]})
    );
    for bad in [
        json!({"to": "1", "text": "x", "mentions": [GROUP]}),
        json!({"to": ALICE, "text": "x", "mentions": ["abc"]}),
        json!({"to": ALICE, "text": "x", "quote": {"chat": "x", "id": "A", "from_me": false}}),
        json!({"to": ALICE, "text": "x", "quote": {"chat": ALICE, "id": "A"}}),
    ] {
        let error = client.call("send_text", bad.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{bad}: {error}");
    }
}

#[tokio::test]
async fn a_stored_message_is_quoted_with_its_content_and_forwarded() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let original = incoming(
        GROUP,
        "3AA5GROUP",
        compose::text("lunch?".into(), None),
        Some(ALICE),
    );
    store(&harness, &original);
    let reference = json!({"chat": GROUP, "id": "3AA5GROUP", "from_me": false});
    let (_, reply) = sent(
        &mut harness,
        &mut client,
        "send_text",
        json!({"to": GROUP, "text": "sure", "quote": reference}),
    )
    .await;
    assert_eq!(
        reply["message"]["extendedTextMessage"]["contextInfo"],
        json!({"stanzaId": "3AA5GROUP", "participant": ALICE, "remoteJid": GROUP,
               "quotedMessage": {"conversation": "lunch?"}})
    );
    let (_, forwarded) = sent(
        &mut harness,
        &mut client,
        "forward",
        json!({"to": "4915100000002", "message": reference}),
    )
    .await;
    assert_eq!(forwarded["key"]["remoteJid"], BOB);
    assert_eq!(
        forwarded["message"],
        json!({"extendedTextMessage": {"text": "lunch?", "contextInfo": {"forwardingScore": 1, "isForwarded": true}}})
    );
    // A location forwarded keeps its coordinates.
    let place = compose::location(1.5, 2.5, Some("here".into()), None, None).unwrap();
    store(&harness, &incoming(ALICE, "3AA5PLACE", place, None));
    let (_, forwarded) = sent(
        &mut harness,
        &mut client,
        "forward",
        json!({"to": GROUP, "message": {"chat": ALICE, "id": "3AA5PLACE", "from_me": false}}),
    )
    .await;
    assert_eq!(
        forwarded["message"]["locationMessage"],
        json!({"degreesLatitude": 1.5, "degreesLongitude": 2.5, "name": "here",
               "contextInfo": {"forwardingScore": 1, "isForwarded": true}})
    );
    let error = client
        .call(
            "forward",
            json!({"to": BOB, "message": {"chat": ALICE, "id": "NOPE", "from_me": false}}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (error["code"].clone(), error["data"]["kind"].clone()),
        (json!(-32009), json!("not_found"))
    );
}

#[tokio::test]
async fn locations_and_contact_cards() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let (_, location) = sent(
        &mut harness,
        &mut client,
        "send_location",
        json!({"to": "4915100000001", "latitude": 52.516275, "longitude": 13.377704,
               "name": "Brandenburger Tor", "address": "Pariser Platz, Berlin"}),
    )
    .await;
    assert_eq!(
        location["message"],
        json!({"locationMessage": {"degreesLatitude": 52.516275, "degreesLongitude": 13.377704,
               "name": "Brandenburger Tor", "address": "Pariser Platz, Berlin"}})
    );
    let vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nTEL;type=CELL;waid=4915100000003:+49 151 00000003\nEND:VCARD";
    let (_, one) = sent(
        &mut harness,
        &mut client,
        "send_contact",
        json!({"to": ALICE, "contacts": [{"display_name": "Ada Lovelace", "vcard": vcard}]}),
    )
    .await;
    assert_eq!(
        one["message"],
        json!({"contactMessage": {"displayName": "Ada Lovelace", "vcard": vcard}})
    );
    let (_, two) = sent(
        &mut harness,
        &mut client,
        "send_contact",
        json!({"to": ALICE, "contacts": [{"display_name": "Ada", "vcard": vcard}, {"display_name": "Bob", "vcard": "BEGIN:VCARD\nEND:VCARD"}]}),
    )
    .await;
    let array = &two["message"]["contactsArrayMessage"];
    assert_eq!(array["displayName"], "2 contacts");
    assert_eq!(
        array["contacts"][1],
        json!({"displayName": "Bob", "vcard": "BEGIN:VCARD\nEND:VCARD"})
    );
    for (method, bad) in [
        (
            "send_location",
            json!({"to": ALICE, "latitude": 91.0, "longitude": 0.0}),
        ),
        (
            "send_location",
            json!({"to": ALICE, "latitude": 0.0, "longitude": 181.0}),
        ),
        ("send_contact", json!({"to": ALICE, "contacts": []})),
    ] {
        let error = client.call(method, bad.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{bad}: {error}");
    }
}

#[tokio::test]
async fn a_revoke_deletes_our_message_and_refuses_others() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let (id, _) = sent(
        &mut harness,
        &mut client,
        "send_text",
        json!({"to": ALICE, "text": "oops"}),
    )
    .await;
    let (_, revoke) = sent(
        &mut harness,
        &mut client,
        "revoke",
        json!({"message": {"chat": "4915100000001", "id": id, "from_me": true}}),
    )
    .await;
    assert_eq!(
        revoke["key"]["remoteJid"], ALICE,
        "sent to the message's chat"
    );
    assert_eq!(
        revoke["message"],
        json!({"protocolMessage": {"key": {"remoteJid": ALICE, "fromMe": true, "id": id}, "type": "REVOKE"}})
    );
    let error = client
        .call(
            "revoke",
            json!({"message": {"chat": ALICE, "id": "3AA5", "from_me": false}}),
        )
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32602);
    // The store knows the message is someone else's, whatever the reference claims.
    store(
        &harness,
        &incoming(ALICE, "3AA5THEIRS", compose::text("hi".into(), None), None),
    );
    let error = client
        .call(
            "revoke",
            json!({"message": {"chat": ALICE, "id": "3AA5THEIRS", "from_me": true}}),
        )
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32602);
}

#[tokio::test]
async fn read_unread_and_played_receipts_match_protocol_8_5() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let error = client
        .call("mark_read", json!({"chat": ALICE}))
        .await
        .unwrap_err();
    assert_eq!(
        error["code"], -32009,
        "nothing stored for the chat: {error}"
    );
    let result = client
        .call("mark_read", json!({"chat": "4915100000001", "message": {"chat": ALICE, "id": "3AA5ONE", "from_me": false}}))
        .await
        .unwrap();
    assert_eq!(result, json!({"chat": ALICE, "id": "3AA5ONE"}));
    // DESIGN.md 7.2: the `chat` event follows, as for a read done on the phone.
    assert_eq!(
        client.event("chat").await,
        json!({"type": "chat", "chat": ALICE, "action": "read", "value": null})
    );
    let (metric, flags, child) = set_action(&mut harness, "read").await;
    assert_eq!((metric, flags), (json!(11), json!(0x80)));
    assert_eq!(
        child,
        json!({"tag": "read", "attrs": {"jid": ALICE, "count": "1", "index": "3AA5ONE", "owner": "false"}, "content": null})
    );
    // Without `message`: the newest stored message of the chat; in a group with its author.
    let mut older = incoming(
        GROUP,
        "3AA5OLD",
        compose::text("a".into(), None),
        Some(ALICE),
    );
    older.message_timestamp = Some(1_500_000_000);
    store(&harness, &older);
    store(
        &harness,
        &incoming(GROUP, "3AA5NEW", compose::text("b".into(), None), Some(BOB)),
    );
    let result = client
        .call("mark_read", json!({"chat": GROUP}))
        .await
        .unwrap();
    assert_eq!(result, json!({"chat": GROUP, "id": "3AA5NEW"}));
    let chat = client.event("chat").await;
    assert_eq!(
        (&chat["chat"], &chat["action"]),
        (&json!(GROUP), &json!("read"))
    );
    let (_, _, child) = set_action(&mut harness, "read").await;
    assert_eq!(
        child["attrs"],
        json!({"jid": GROUP, "count": "1", "index": "3AA5NEW", "owner": "false", "participant": BOB})
    );
    let result = client
        .call("mark_unread", json!({"chat": GROUP}))
        .await
        .unwrap();
    assert_eq!(result["id"], "3AA5NEW");
    let chat = client.event("chat").await;
    assert_eq!(
        (&chat["chat"], &chat["action"]),
        (&json!(GROUP), &json!("unread"))
    );
    let (metric, flags, child) = set_action(&mut harness, "read").await;
    assert_eq!((metric, flags), (json!(11), json!(0x80)));
    assert_eq!(child["attrs"]["count"], "-2");
    let voice = json!({"chat": ALICE, "id": "3AA5VOICE", "from_me": false});
    client
        .call("mark_played", json!({"message": voice}))
        .await
        .unwrap();
    let (metric, flags, child) = set_action(&mut harness, "received").await;
    assert_eq!((metric, flags), (json!(13), json!(0x80)));
    assert_eq!(
        child["attrs"],
        json!({"type": "played", "index": "3AA5VOICE", "from": ALICE, "owner": "false", "count": "1"})
    );
    let bad = [
        (
            "mark_played",
            json!({"message": {"chat": ALICE, "id": "X", "from_me": true}}),
        ),
        (
            "mark_played",
            json!({"message": {"chat": GROUP, "id": "3AA5NEW", "from_me": false}}),
        ),
        (
            "mark_read",
            json!({"chat": ALICE, "message": {"chat": BOB, "id": "X", "from_me": false}}),
        ),
    ];
    for (method, params) in bad {
        let error = client.call(method, params.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{params}: {error}");
    }
}

#[tokio::test]
async fn presence_typing_and_presence_subscription() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    // The login announced us available; that line comes first.
    let (metric, flags, _) = set_action(&mut harness, "presence").await;
    assert_eq!((metric, flags), (json!(8), json!(0xA0)));
    for (presence, expected) in [("unavailable", 0x10), ("available", 0xA0)] {
        let result = client
            .call("set_presence", json!({"presence": presence}))
            .await
            .unwrap();
        assert_eq!(result, json!({}));
        let (metric, flags, child) = set_action(&mut harness, "presence").await;
        assert_eq!((metric, flags), (json!(8), json!(expected)), "{presence}");
        assert_eq!(
            child,
            json!({"tag": "presence", "attrs": {"type": presence}, "content": null})
        );
    }
    for state in ["composing", "recording", "paused"] {
        client
            .call(
                "set_typing",
                json!({"chat": "4915100000001", "state": state}),
            )
            .await
            .unwrap();
        let (metric, flags, child) = set_action(&mut harness, "presence").await;
        assert_eq!((metric, flags), (json!(8), json!(0x04)), "{state}");
        assert_eq!(child["attrs"], json!({"type": state, "to": ALICE}));
    }
    assert_eq!(
        client
            .call("subscribe_presence", json!({"jid": "+49 151 0000-0001"}))
            .await
            .unwrap(),
        json!({})
    );
    loop {
        let line = harness.sim_line("received").await;
        if line["json"][0] == "action" {
            assert_eq!(
                line["json"],
                json!(["action", "presence", "subscribe", "4915100000001@c.us"])
            );
            break;
        }
    }
    // The simulator then pushes Alice's presence: a `presence` event once the receive side
    // maps it, a `json` event before.
    loop {
        let line = client.read_line().await.expect("the daemon is there");
        let event = &line["params"];
        if event["type"] == "presence"
            || (event["type"] == "json" && event["payload"][0] == "Presence")
        {
            break;
        }
    }
    for (method, params) in [
        ("set_presence", json!({"presence": "composing"})),
        ("set_typing", json!({"chat": ALICE, "state": "available"})),
        ("subscribe_presence", json!({"jid": GROUP})),
    ] {
        let error = client.call(method, params.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{params}: {error}");
    }
}

#[tokio::test]
async fn the_contact_reads_up_to_a_message_and_the_daemon_reports_ack_3() {
    let mut harness = Harness::start_with(Options {
        auto_read: false,
        ..Options::default()
    })
    .await;
    let mut client = harness.pair().await;
    let (id, _) = sent(
        &mut harness,
        &mut client,
        "send_text",
        json!({"to": ALICE, "text": "read me"}),
    )
    .await;
    for ack in [0, 1, 2] {
        let event = client.event("ack").await;
        assert_eq!(
            (event["id"].as_str(), event["ack"].clone()),
            (Some(id.as_str()), json!(ack))
        );
    }
    let done = harness
        .sim_command(json!({"cmd": "read", "from": "4915100000001", "id": id}))
        .await;
    assert_eq!(done["ids"], json!([id]));
    let event = client.event("ack").await;
    assert_eq!(
        event,
        json!({"type": "ack", "id": id, "ack": 3, "chat": ALICE})
    );
}

#[tokio::test]
async fn receipts_need_the_connection_and_sends_a_session() {
    let harness = Harness::start().await;
    let mut client = harness.client().await;
    for (method, params) in [
        (
            "mark_read",
            json!({"chat": ALICE, "message": {"chat": ALICE, "id": "X", "from_me": false}}),
        ),
        ("set_presence", json!({"presence": "available"})),
        (
            "send_location",
            json!({"to": ALICE, "latitude": 0.0, "longitude": 0.0}),
        ),
        (
            "revoke",
            json!({"message": {"chat": ALICE, "id": "X", "from_me": true}}),
        ),
    ] {
        let error = client.call(method, params).await.unwrap_err();
        assert_eq!(error["data"]["kind"], "not_logged_in", "{method}: {error}");
    }
}

#[tokio::test]
async fn wawebctl_quotes_mentions_sends_a_location_and_types() {
    let mut harness = Harness::start().await;
    let _client = harness.pair().await;
    let socket = harness.socket().to_owned();
    let run = |args: &[&str]| crate::ctl::spawn_ctl(&socket, args);
    let (result, out) = run(&[
        "send",
        "4915100000001",
        "yes @4915100000002",
        "--quote",
        "3AA5CTL",
        "--mention",
        "4915100000002",
    ])
    .await
    .unwrap();
    assert_eq!(result, Ok(()), "{out}");
    let id = out.split_whitespace().nth(1).unwrap().to_owned();
    let line = received(&mut harness, &id).await;
    assert_eq!(
        line["decoded"][0]["message"]["extendedTextMessage"]["contextInfo"],
        json!({"stanzaId": "3AA5CTL", "participant": ALICE, "mentionedJid": [BOB]})
    );
    let (result, out) = run(&[
        "send-location",
        "4915100000001",
        "-33.5",
        "151.25",
        "--name",
        "Opera",
    ])
    .await
    .unwrap();
    assert_eq!(result, Ok(()), "{out}");
    let id = out.split_whitespace().nth(1).unwrap().to_owned();
    assert_eq!(
        received(&mut harness, &id).await["decoded"][0]["message"],
        json!({"locationMessage": {"degreesLatitude": -33.5, "degreesLongitude": 151.25, "name": "Opera"}})
    );
    let (result, out) = run(&["typing", "4915100000001", "recording"])
        .await
        .unwrap();
    assert_eq!(result, Ok(()), "{out}");
    let (metric, flags, child) = set_action(&mut harness, "presence").await;
    // The login's own presence comes first.
    let (metric, flags, child) = if child["attrs"]["type"] == "available" {
        set_action(&mut harness, "presence").await
    } else {
        (metric, flags, child)
    };
    assert_eq!((metric, flags), (json!(8), json!(0x04)));
    assert_eq!(child["attrs"], json!({"type": "recording", "to": ALICE}));
    // Everything sent is stored now: without a message, `read` names the newest of the chat.
    let (result, out) = run(&["read", "4915100000001"]).await.unwrap();
    assert_eq!(result, Ok(()), "{out}");
    let (metric, _, child) = set_action(&mut harness, "read").await;
    assert_eq!(metric, json!(11));
    assert_eq!(child["attrs"]["index"], json!(id));
    assert_eq!(child["attrs"]["owner"], json!("true"));
}
