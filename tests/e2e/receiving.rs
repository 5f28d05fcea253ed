//! Receiving (DESIGN.md 7.3): every message field and every typed push, from a simulator
//! command to the event a subscriber gets, exactly; history at login as `message` events with
//! `source: "history"`; every message stored with its raw `WebMessageInfo` as it arrives.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::{Client, Harness, deadline};

const ALICE: &str = "4915100000001@s.whatsapp.net";
const BOB: &str = "4915100000002@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

/// The stored row of a message (its event and raw bytes), read from `waweb.db` directly,
/// waiting for the journal's writer; `None` when it never appears.
async fn stored(harness: &Harness, chat: &str, id: &str) -> Option<(Value, Option<Vec<u8>>)> {
    let path = harness.config.state_dir.join(wawebd::db::FILE_NAME);
    let started = tokio::time::Instant::now();
    loop {
        let row = {
            let db = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap();
            db.query_row(
                "SELECT event, raw FROM messages WHERE chat = ?1 AND id = ?2",
                [chat, id],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<Vec<u8>>>(1)?)),
            )
            .ok()
        };
        if let Some((event, raw)) = row {
            // The row holds the journaled line: the message, its `type`, and the `seq` and `at`
            // of the version stored.
            let mut event: Value = serde_json::from_str(&event).unwrap();
            let line = event.as_object_mut().unwrap();
            assert_eq!(line.remove("type"), Some(Value::from("message")));
            assert!(line.remove("seq").is_some_and(|seq| seq.as_u64().is_some()));
            assert!(line.remove("at").is_some_and(|at| at.as_u64().is_some()));
            return Some((event, raw));
        }
        if started.elapsed() > deadline() {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The message event without its journal stamp or `type`, as the store keeps it.
fn as_stored(event: &Value) -> Value {
    let mut event = event.clone();
    event.as_object_mut().unwrap().remove("type");
    event
}

async fn message(harness: &Harness, client: &mut Client, command: Value) -> (Value, Value) {
    let done = harness.sim_command(command).await;
    let event = client.event("message").await;
    assert_eq!(event["id"], done["id"], "{event}");
    (done, event)
}

#[tokio::test]
async fn every_message_field_arrives_and_every_message_is_stored_raw() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;

    let (_, first) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_text", "from": ALICE, "text": "lunch?"}),
    )
    .await;
    assert_eq!(first["source"], "live");
    for absent in [
        "quoted",
        "mentions",
        "forwarded",
        "location",
        "contacts",
        "ephemeral_s",
        "raw",
    ] {
        assert!(first.get(absent).is_none(), "{absent} in {first}");
    }
    let (event, raw) = stored(&harness, ALICE, first["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(event, as_stored(&first));
    assert!(
        raw.unwrap().windows(6).any(|w| w == b"lunch?"),
        "raw is the WebMessageInfo"
    );

    let (_, reply) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_text", "from": ALICE, "text": "@4915100000002 yes", "quote": first["id"],
               "mentions": ["4915100000002"]}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"type": "message", "id": reply["id"], "chat": ALICE, "from_me": false, "participant": null,
               "timestamp": reply["timestamp"], "push_name": "Alice", "kind": "text",
               "text": "@4915100000002 yes", "media": null, "source": "live",
               "quoted": {"id": first["id"], "chat": ALICE, "participant": ALICE, "kind": "text", "text": "lunch?"},
               "mentions": [BOB]})
    );

    let (_, forwarded) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_text", "from": ALICE, "text": "pass it on", "forwarded": true, "ephemeral_s": 604_800}),
    )
    .await;
    assert_eq!(
        (
            &forwarded["text"],
            &forwarded["forwarded"],
            &forwarded["ephemeral_s"]
        ),
        (&json!("pass it on"), &json!(true), &json!(604_800))
    );
    assert!(forwarded.get("quoted").is_none() && forwarded.get("mentions").is_none());

    // A status (story) is a message with source status; a re-sent message one with update.
    let (_, status) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_text", "from": BOB, "text": "my day", "chat": "status@broadcast"}),
    )
    .await;
    assert_eq!(
        (&status["source"], &status["participant"]),
        (&json!("status"), &json!(BOB))
    );
    let (_, raw) = stored(&harness, ALICE, first["id"].as_str().unwrap())
        .await
        .unwrap();
    let update = json!({"tag": "action", "attrs": {"add": "update"}, "content": [
        {"tag": "message", "attrs": {}, "content": {"base64": STANDARD.encode(raw.unwrap())}}]});
    harness
        .sim_command(json!({"cmd": "push_node", "node": update}))
        .await;
    let updated = client.event("message").await;
    assert_eq!(
        (&updated["id"], &updated["source"]),
        (&first["id"], &json!("update"))
    );

    let (_, location) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_location", "from": ALICE, "chat": GROUP, "latitude": 52.5163,
               "longitude": 13.3777, "name": "Brandenburger Tor"}),
    )
    .await;
    assert_eq!(
        (
            &location["kind"],
            &location["participant"],
            &location["text"]
        ),
        (&json!("location"), &json!(ALICE), &json!(null))
    );
    assert_eq!(
        location["location"],
        json!({"latitude": 52.5163, "longitude": 13.3777, "name": "Brandenburger Tor", "address": null})
    );

    let vcard =
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nTEL;waid=4915100000002:+49 151 00000002\nEND:VCARD";
    let (_, contact) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_contact", "from": ALICE, "contacts": [{"display_name": "Bob", "vcard": vcard}]}),
    )
    .await;
    assert_eq!(contact["kind"], "contact");
    assert_eq!(
        contact["contacts"],
        json!([{"display_name": "Bob", "vcard": vcard}])
    );
    let (_, cards) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_contact", "from": ALICE, "contacts": [{"display_name": "Bob"}, {"vcard": vcard}]}),
    )
    .await;
    assert_eq!(
        cards["contacts"],
        json!([{"display_name": "Bob", "vcard": null}, {"display_name": null, "vcard": vcard}])
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, b"%PDF-1.4 a tiny report").unwrap();
    let (_, document) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_media", "from": ALICE, "kind": "document", "path": path, "thumbnail": "/9j/4A=="}),
    )
    .await;
    assert_eq!(document["media"]["file_name"], "report.pdf");
    assert_eq!(document["media"]["thumbnail"], "/9j/4A==");
    assert!(document["media"].get("voice").is_none() && document["media"].get("gif").is_none());
    let (_, voice) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_media", "from": ALICE, "kind": "audio", "path": path, "voice": true}),
    )
    .await;
    assert_eq!(
        (&voice["kind"], &voice["media"]["voice"]),
        (&json!("audio"), &json!(true))
    );
    let (_, gif) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_media", "from": ALICE, "kind": "video", "path": path, "gif": true}),
    )
    .await;
    assert_eq!(gif["media"]["gif"], true);

    // Every one of them is in the store with its bytes, as its event said.
    for event in [
        &reply, &forwarded, &status, &location, &contact, &cards, &document, &voice, &gif,
    ] {
        let chat = event["chat"].as_str().unwrap();
        let (row, raw) = stored(&harness, chat, event["id"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(row, as_stored(event));
        assert!(raw.is_some_and(|raw| !raw.is_empty()));
    }

    // Our own message is stored once the server took it, with the bytes we relayed.
    let sent = client
        .call("send_text", json!({"to": ALICE, "text": "see you at noon"}))
        .await
        .unwrap();
    let own = client.event("message").await;
    assert_eq!(
        (&own["id"], &own["from_me"], &own["source"]),
        (&sent["id"], &json!(true), &json!("live"))
    );
    let (row, raw) = stored(&harness, ALICE, sent["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(row, as_stored(&own));
    assert!(raw.unwrap().windows(15).any(|w| w == b"see you at noon"));

    // A contact quotes it back: the quote names us as its author.
    let (_, quoting) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_text", "from": ALICE, "text": "ok!", "quote": {"id": sent["id"], "from_me": true}}),
    )
    .await;
    assert_eq!(
        quoting["quoted"],
        json!({"id": sent["id"], "chat": ALICE, "participant": "4915100000000@s.whatsapp.net",
               "kind": "text", "text": "see you at noon"})
    );
}

#[tokio::test]
async fn unmapped_messages_carry_raw_and_revokes_are_typed() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let (first, _) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_text", "from": ALICE, "text": "oops"}),
    )
    .await;
    harness
        .sim_command(json!({"cmd": "revoke", "from": ALICE, "id": first["id"]}))
        .await;
    assert_eq!(
        client.event("revoke").await,
        json!({"type": "revoke", "chat": ALICE, "id": first["id"], "from_me": false, "participant": null, "by": ALICE})
    );
    harness
        .sim_command(json!({"cmd": "revoke", "from": BOB, "id": "3AOLD", "chat": GROUP}))
        .await;
    assert_eq!(
        client.event("revoke").await,
        json!({"type": "revoke", "chat": GROUP, "id": "3AOLD", "from_me": false, "participant": BOB, "by": BOB})
    );

    // A group-icon change has no event of its own: a message of kind other, raw included.
    let stub = json!({"tag": "action", "attrs": {"add": "relay"}, "content": [
        {"tag": "message", "attrs": {}, "content": {"base64": STANDARD.encode(icon_stub())}}]});
    harness
        .sim_command(json!({"cmd": "push_node", "node": stub}))
        .await;
    let other = client.event("message").await;
    assert_eq!(
        (&other["kind"], &other["id"], &other["chat"]),
        (&json!("other"), &json!("3AICON"), &json!(GROUP))
    );
    assert_eq!(
        STANDARD.decode(other["raw"].as_str().unwrap()).unwrap(),
        icon_stub()
    );
    let (_, raw) = stored(&harness, GROUP, "3AICON").await.unwrap();
    assert_eq!(raw.unwrap(), icon_stub());
}

/// A `WebMessageInfo` written by hand (PROTOCOL.md 9.1): key {remoteJid: the group, fromMe:
/// false, id: 3AICON}, participant Alice, messageStubType 22 (GROUP_CHANGE_ICON).
fn icon_stub() -> Vec<u8> {
    let mut key = Vec::new();
    for (tag, value) in [(0x0a, GROUP.as_bytes()), (0x1a, b"3AICON".as_slice())] {
        key.push(tag);
        key.push(value.len() as u8);
        key.extend_from_slice(value);
    }
    key.extend_from_slice(&[0x10, 0x00]);
    let mut info = vec![0x0a, key.len() as u8];
    info.extend_from_slice(&key);
    info.push(0x2a); // 5: participant
    info.push(ALICE.len() as u8);
    info.extend_from_slice(ALICE.as_bytes());
    info.extend_from_slice(&[0xc0, 0x01, 22]); // 24: messageStubType = 22
    info
}

#[tokio::test]
async fn presence_group_chat_contact_blocklist_picture_and_call_events() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let mut expect = async |harness: &Harness, command: Value, kind: &str, event: Value| {
        harness.sim_command(command).await;
        let mut wanted = event;
        wanted["type"] = json!(kind);
        assert_eq!(client.event(kind).await, wanted);
    };
    expect(
        &harness,
        json!({"cmd": "presence", "from": ALICE, "presence": "available"}),
        "presence",
        json!({"jid": ALICE, "chat": null, "presence": "available", "last_seen": null}),
    )
    .await;
    expect(&harness, json!({"cmd": "presence", "from": ALICE, "presence": "unavailable", "last_seen": 1_600_000_000}), "presence",
           json!({"jid": ALICE, "chat": null, "presence": "unavailable", "last_seen": 1_600_000_000})).await;
    expect(
        &harness,
        json!({"cmd": "typing", "from": BOB, "chat": GROUP, "state": "recording"}),
        "presence",
        json!({"jid": BOB, "chat": GROUP, "presence": "recording", "last_seen": null}),
    )
    .await;

    let group = |action: &str, actor: Value, participants: Value, subject: Value, value: Value| json!({"chat": GROUP, "action": action, "actor": actor, "participants": participants, "subject": subject, "value": value});
    let me = json!("4915100000000@s.whatsapp.net");
    expect(&harness, json!({"cmd": "group", "action": "add", "chat": GROUP, "actor": "4915100000000", "participants": ["4915100000004"]}), "group",
           group("add", me.clone(), json!(["4915100000004@s.whatsapp.net"]), json!(null), json!(null))).await;
    expect(&harness, json!({"cmd": "group", "action": "remove", "chat": GROUP, "actor": "4915100000000", "participants": ["4915100000004"]}), "group",
           group("remove", me.clone(), json!(["4915100000004@s.whatsapp.net"]), json!(null), json!(null))).await;
    expect(&harness, json!({"cmd": "group", "action": "promote", "chat": GROUP, "actor": "4915100000000", "participants": [ALICE]}), "group",
           group("promote", me.clone(), json!([ALICE]), json!(null), json!(null))).await;
    expect(&harness, json!({"cmd": "group", "action": "demote", "chat": GROUP, "actor": "4915100000000", "participants": [ALICE]}), "group",
           group("demote", me.clone(), json!([ALICE]), json!(null), json!(null))).await;
    expect(&harness, json!({"cmd": "group", "action": "subject", "chat": GROUP, "actor": ALICE, "subject": "Lunch"}), "group",
           group("subject", json!(ALICE), json!([]), json!("Lunch"), json!(null))).await;
    expect(&harness, json!({"cmd": "group", "action": "description", "chat": GROUP, "actor": ALICE, "value": "noon, daily"}), "group",
           group("description", json!(ALICE), json!([]), json!(null), json!("noon, daily"))).await;
    expect(&harness, json!({"cmd": "group", "action": "create", "chat": GROUP, "actor": ALICE, "participants": [BOB], "subject": "New"}), "group",
           group("create", json!(ALICE), json!([ALICE, BOB]), json!("New"), json!(null))).await;
    for (action, value) in [
        ("announce", "on"),
        ("restrict", "off"),
        ("ephemeral", "604800"),
        ("invite", "AbCdEf"),
    ] {
        expect(&harness, json!({"cmd": "group", "action": action, "chat": GROUP, "actor": ALICE, "value": value}), "group",
               group(action, json!(ALICE), json!([]), json!(null), json!(value))).await;
    }
    expect(
        &harness,
        json!({"cmd": "group", "action": "leave", "chat": GROUP, "actor": BOB}),
        "group",
        group("leave", json!(BOB), json!([BOB]), json!(null), json!(null)),
    )
    .await;

    let chat =
        |action: &str, value: Value| json!({"chat": ALICE, "action": action, "value": value});
    for (command, event) in [
        (json!({"action": "archive"}), chat("archive", json!(null))),
        (
            json!({"action": "unarchive"}),
            chat("unarchive", json!(null)),
        ),
        (
            json!({"action": "pin", "value": "1600000000"}),
            chat("pin", json!("1600000000")),
        ),
        (json!({"action": "unpin"}), chat("unpin", json!(null))),
        (
            json!({"action": "mute", "value": "1600086400"}),
            chat("mute", json!("1600086400")),
        ),
        (json!({"action": "unmute"}), chat("unmute", json!(null))),
        (json!({"action": "read"}), chat("read", json!(null))),
        (json!({"action": "unread"}), chat("unread", json!(null))),
        (
            json!({"action": "star", "messages": ["3A01", "3A02"]}),
            chat("star", json!("3A01,3A02")),
        ),
        (json!({"action": "clear"}), chat("clear", json!(null))),
        (json!({"action": "delete"}), chat("delete", json!(null))),
    ] {
        let mut command = command;
        command["cmd"] = json!("phone_action");
        command["chat"] = json!(ALICE);
        expect(&harness, command, "chat", event).await;
    }

    expect(
        &harness,
        json!({"cmd": "block", "jid": BOB}),
        "blocklist",
        json!({"jids": [BOB]}),
    )
    .await;
    expect(
        &harness,
        json!({"cmd": "block", "jid": BOB, "unblock": true}),
        "blocklist",
        json!({"jids": []}),
    )
    .await;

    // A contact renamed on the phone and a picture change: pushes any legacy client gets,
    // sent in their PROTOCOL.md forms (8.2 `user`, 3.5 `Cmd picture`).
    let user = json!({"tag": "action", "attrs": {}, "content": [
        {"tag": "user", "attrs": {"jid": ALICE, "name": "Alice Liddell", "notify": "Alice", "short": "Alice"}, "content": null}]});
    expect(
        &harness,
        json!({"cmd": "push_node", "node": user}),
        "contact",
        json!({"jid": ALICE, "name": "Alice Liddell", "notify": "Alice", "short": "Alice"}),
    )
    .await;
    expect(&harness, json!({"cmd": "push_json", "payload": ["Cmd", {"type": "picture", "jid": "4915100000001@c.us", "tag": "removed"}]}), "picture",
           json!({"jid": ALICE, "removed": true})).await;

    let offer = harness
        .sim_command(json!({"cmd": "call", "from": ALICE}))
        .await;
    assert_eq!(
        client.event("call").await,
        json!({"type": "call", "from": ALICE, "id": offer["id"], "status": "offer"})
    );
    let missed = harness
        .sim_command(json!({"cmd": "call", "from": ALICE, "status": "missed"}))
        .await;
    assert_eq!(
        client.event("call").await,
        json!({"type": "call", "from": ALICE, "id": missed["id"], "status": "missed"})
    );

    // None of these pushes came out as node or json events any more; only what is unmapped.
    harness
        .sim_command(json!({"cmd": "push_json", "payload": ["Props", {"imageMaxKBytes": 1}]}))
        .await;
    let json_event = client.event("json").await;
    assert_eq!(json_event["payload"][0], "Props", "{json_event}");
}

#[tokio::test]
async fn history_at_login_arrives_as_messages_with_source_history_and_is_stored() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let (live, _) = message(
        &harness,
        &mut client,
        json!({"cmd": "send_text", "from": BOB, "text": "before you left"}),
    )
    .await;
    // The connection drops; the daemon restores, and the server pushes the last message of
    // each chat (PROTOCOL.md 8.3 add="last").
    harness.sim_command(json!({"cmd": "drop"})).await;
    let history = loop {
        let event = client.event("message").await;
        if event["id"] == live["id"] {
            break event;
        }
    };
    assert_eq!(history["source"], "history");
    assert_eq!(
        (&history["chat"], &history["text"]),
        (&json!(BOB), &json!("before you left"))
    );
    let (row, raw) = stored(&harness, BOB, live["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(row, as_stored(&history), "the later version wins");
    assert!(raw.is_some());
}

#[tokio::test]
async fn login_history_batches_are_stored_as_history() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let seeded = harness
        .sim_command(json!({"cmd": "seed_history", "chat": BOB, "count": 5}))
        .await;
    let set = harness
        .sim_command(json!({"cmd": "login_history", "per_chat": 3}))
        .await;
    assert_eq!(set["per_chat"], 3);
    for bad in [
        json!({"cmd": "login_history"}),
        json!({"cmd": "login_history", "per_chat": 1001}),
    ] {
        let error = harness.sim.command(bad.clone()).await;
        assert!(error.is_err(), "{bad}: {error:?}");
    }
    // The next login (a restore after the drop) pushes Bob's three newest: history 3 to 5.
    harness.sim_command(json!({"cmd": "drop"})).await;
    let mut texts = Vec::new();
    while texts.len() < 3 {
        let event = client.event("message").await;
        if event["chat"] == BOB && event["source"] == "history" {
            texts.push(event["text"].as_str().unwrap().to_owned());
        }
    }
    texts.sort();
    texts.dedup();
    assert_eq!(texts, ["history 3", "history 4", "history 5"]);
    let (row, _) = stored(&harness, BOB, seeded["last_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(row["text"], "history 5");
}
