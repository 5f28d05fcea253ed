//! The simulator's receiving commands (DESIGN.md 9): each push checked in its PROTOCOL.md wire
//! form as a legacy client decodes it (protobuf fields and JSON as written, not through the
//! daemon's mapping).

mod client;

use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::message::{self, pb};

use client::*;

const ALICE: &str = "4915100000001@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

/// The one relayed message of the next push.
async fn relayed(client: &mut Client) -> pb::WebMessageInfo {
    let (_, node) = client.next_node().await;
    assert_eq!(
        (node.tag.as_ref(), node.get("add")),
        ("action", Some("relay"))
    );
    let children = node.children();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].tag, "message");
    message::decode_web_message_info(children[0].content_bytes().unwrap()).unwrap()
}

async fn done(sim: &waweb_sim::Sim, command: Value) -> Value {
    let line = sim.command(command.clone()).await.unwrap();
    assert_eq!(line["type"], "done", "{command} -> {line}");
    line
}

async fn refused(sim: &waweb_sim::Sim, command: Value) -> String {
    match sim.command(command.clone()).await {
        Err(waweb_sim::CommandError(message)) => message,
        other => panic!("{command} -> {other:?}"),
    }
}

#[tokio::test]
async fn quotes_mentions_locations_contacts_and_revokes_are_relayed_messages() {
    let (sim, mut client) = paired("cmVjZWl2ZXJlY2VpdmVyZQ==").await;
    let first = done(
        &sim,
        json!({"cmd": "send_text", "from": ALICE, "text": "lunch?"}),
    )
    .await;
    relayed(&mut client).await;
    let first_id = first["id"].as_str().unwrap();

    let reply = done(
        &sim,
        json!({"cmd": "send_text", "from": ALICE, "text": "@4915100000002 yes", "quote": first_id,
               "mentions": ["4915100000002"]}),
    )
    .await;
    let info = relayed(&mut client).await;
    assert_eq!(
        info.key.as_ref().unwrap().id.as_deref(),
        reply["id"].as_str()
    );
    let content = info.message.unwrap();
    let extended = content.extended_text_message.unwrap();
    assert_eq!(extended.text.as_deref(), Some("@4915100000002 yes"));
    let context = extended.context_info.unwrap();
    assert_eq!(context.stanza_id.as_deref(), Some(first_id));
    assert_eq!(context.participant.as_deref(), Some(ALICE));
    assert_eq!(
        context.quoted_message.unwrap().conversation.as_deref(),
        Some("lunch?")
    );
    assert_eq!(context.mentioned_jid, ["4915100000002@s.whatsapp.net"]);
    assert_eq!(context.remote_jid, None, "set for group quotes only");

    // Forwarded, and in a chat with disappearing messages: wrapped, with the timer.
    done(&sim, json!({"cmd": "send_text", "from": ALICE, "text": "fwd", "forwarded": true, "ephemeral_s": 86_400})).await;
    let content = relayed(&mut client).await.message.unwrap();
    let inner = content.ephemeral_message.unwrap().message.unwrap();
    let context = inner.extended_text_message.unwrap().context_info.unwrap();
    assert_eq!(
        (context.is_forwarded, context.expiration),
        (Some(true), Some(86_400))
    );

    // A quote of a message the phone does not have goes by id alone.
    done(
        &sim,
        json!({"cmd": "send_text", "from": ALICE, "text": "?", "quote": {"id": "3AUNKNOWN", "from_me": true}, "chat": GROUP}),
    )
    .await;
    let context = relayed(&mut client)
        .await
        .message
        .unwrap()
        .extended_text_message
        .unwrap()
        .context_info
        .unwrap();
    assert_eq!(context.stanza_id.as_deref(), Some("3AUNKNOWN"));
    assert_eq!(
        (context.quoted_message, context.remote_jid.as_deref()),
        (None, Some(GROUP))
    );

    done(
        &sim,
        json!({"cmd": "send_location", "from": ALICE, "latitude": 52.5163, "longitude": 13.3777,
               "name": "Brandenburger Tor", "address": "Pariser Platz"}),
    )
    .await;
    let location = relayed(&mut client)
        .await
        .message
        .unwrap()
        .location_message
        .unwrap();
    assert_eq!(
        (location.degrees_latitude, location.degrees_longitude),
        (Some(52.5163), Some(13.3777))
    );
    assert_eq!(location.name.as_deref(), Some("Brandenburger Tor"));
    assert_eq!(location.address.as_deref(), Some("Pariser Platz"));

    let vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD";
    done(&sim, json!({"cmd": "send_contact", "from": ALICE, "contacts": [{"display_name": "Bob", "vcard": vcard}]})).await;
    let card = relayed(&mut client)
        .await
        .message
        .unwrap()
        .contact_message
        .unwrap();
    assert_eq!(
        (card.display_name.as_deref(), card.vcard.as_deref()),
        (Some("Bob"), Some(vcard))
    );
    done(&sim, json!({"cmd": "send_contact", "from": ALICE, "contacts": [{"display_name": "Bob"}, {"display_name": "Carol"}]})).await;
    let cards = relayed(&mut client)
        .await
        .message
        .unwrap()
        .contacts_array_message
        .unwrap();
    assert_eq!(cards.contacts.len(), 2);

    done(
        &sim,
        json!({"cmd": "revoke", "from": ALICE, "id": first_id}),
    )
    .await;
    let info = relayed(&mut client).await;
    let protocol = info.message.unwrap().protocol_message.unwrap();
    assert_eq!(
        protocol.r#type,
        Some(pb::ProtocolMessageType::Revoke as i32)
    );
    let key = protocol.key.unwrap();
    assert_eq!(
        (key.id.as_deref(), key.remote_jid.as_deref(), key.from_me),
        (Some(first_id), Some(ALICE), Some(false))
    );

    assert_eq!(
        refused(
            &sim,
            json!({"cmd": "send_location", "from": ALICE, "latitude": 1})
        )
        .await,
        "send_location needs \"longitude\""
    );
    assert_eq!(
        refused(
            &sim,
            json!({"cmd": "send_contact", "from": ALICE, "contacts": []})
        )
        .await,
        "send_contact needs at least one contact"
    );
    assert_eq!(
        refused(&sim, json!({"cmd": "revoke", "from": ALICE})).await,
        "revoke needs \"id\""
    );
    assert!(
        refused(
            &sim,
            json!({"cmd": "send_text", "from": ALICE, "text": "x", "quote": {"from_me": true}})
        )
        .await
        .contains("quote")
    );
}

#[tokio::test]
async fn presence_typing_block_and_group_pushes_are_json_as_written() {
    let (sim, mut client) = paired("cHJlc2VuY2VwcmVzZW5jZQ==").await;
    done(
        &sim,
        json!({"cmd": "presence", "from": ALICE, "presence": "available"}),
    )
    .await;
    let (_, push) = client.next_json().await;
    assert_eq!(
        push,
        json!(["Presence", {"id": "4915100000001@c.us", "type": "available"}])
    );
    done(&sim, json!({"cmd": "presence", "from": ALICE, "presence": "unavailable", "last_seen": 1_600_000_000})).await;
    let (_, push) = client.next_json().await;
    assert_eq!(push[1]["t"], 1_600_000_000);
    done(
        &sim,
        json!({"cmd": "typing", "from": ALICE, "chat": GROUP, "state": "composing"}),
    )
    .await;
    let (_, push) = client.next_json().await;
    assert_eq!(
        push,
        json!(["Presence", {"id": GROUP, "type": "composing", "participant": "4915100000001@c.us"}])
    );
    done(
        &sim,
        json!({"cmd": "typing", "from": ALICE, "chat": ALICE, "state": "paused"}),
    )
    .await;
    let (_, push) = client.next_json().await;
    assert_eq!(
        push,
        json!(["Presence", {"id": "4915100000001@c.us", "type": "paused"}])
    );
    assert!(
        refused(
            &sim,
            json!({"cmd": "typing", "from": ALICE, "chat": ALICE, "state": "dancing"})
        )
        .await
        .contains("composing")
    );

    let line = done(&sim, json!({"cmd": "block", "jid": ALICE})).await;
    assert_eq!(line["blocklist"], json!(["4915100000001@c.us"]));
    let (_, push) = client.next_json().await;
    assert_eq!(
        push,
        json!(["Blocklist", {"id": 1, "blocklist": ["4915100000001@c.us"]}])
    );
    done(&sim, json!({"cmd": "block", "jid": ALICE, "unblock": true})).await;
    let (_, push) = client.next_json().await;
    assert_eq!(push[1]["blocklist"], json!([]));

    done(
        &sim,
        json!({"cmd": "group", "action": "add", "chat": GROUP, "actor": "4915100000000",
                      "participants": ["4915100000004"]}),
    )
    .await;
    let (_, push) = client.next_json().await;
    assert_eq!(
        push,
        json!(["Chat", {"id": GROUP, "cmd": "action",
                        "data": ["add", "4915100000000@c.us", {"participants": ["4915100000004@c.us"]}]}])
    );
    done(&sim, json!({"cmd": "group", "action": "subject", "chat": GROUP, "actor": ALICE, "subject": "Lunch"})).await;
    let (_, push) = client.next_json().await;
    assert_eq!(
        (&push[1]["data"][0], &push[1]["data"][2]["subject"]),
        (&json!("subject"), &json!("Lunch"))
    );
    done(&sim, json!({"cmd": "group", "action": "description", "chat": GROUP, "actor": ALICE, "value": "about"})).await;
    let (_, push) = client.next_json().await;
    assert_eq!(
        (&push[1]["data"][0], &push[1]["data"][2]["desc"]),
        (&json!("desc_add"), &json!("about"))
    );
    done(&sim, json!({"cmd": "group", "action": "create", "chat": GROUP, "actor": ALICE, "participants": ["4915100000002"], "subject": "New"})).await;
    let (_, push) = client.next_json().await;
    assert_eq!(push[1]["data"][2]["admins"], json!(["4915100000001@c.us"]));
    assert_eq!(
        push[1]["data"][2]["regulars"],
        json!(["4915100000002@c.us"])
    );

    // What the Chat push has no form for comes as a stub message in the group.
    done(
        &sim,
        json!({"cmd": "group", "action": "announce", "chat": GROUP, "actor": ALICE, "value": "on"}),
    )
    .await;
    let info = relayed(&mut client).await;
    assert_eq!(
        info.message_stub_type,
        Some(pb::WebMessageInfoStubType::GroupChangeAnnounce as i32)
    );
    assert_eq!(info.message_stub_parameters, ["on"]);
    assert_eq!(
        (info.participant.as_deref(), info.message),
        (Some(ALICE), None)
    );
    done(
        &sim,
        json!({"cmd": "group", "action": "leave", "chat": GROUP, "actor": ALICE}),
    )
    .await;
    let info = relayed(&mut client).await;
    assert_eq!(
        info.message_stub_type,
        Some(pb::WebMessageInfoStubType::GroupParticipantLeave as i32)
    );
    assert_eq!(info.message_stub_parameters, [ALICE]);
    assert!(
        refused(
            &sim,
            json!({"cmd": "group", "action": "dance", "chat": GROUP})
        )
        .await
        .contains("dance")
    );
    assert!(
        refused(
            &sim,
            json!({"cmd": "group", "action": "restrict", "chat": GROUP})
        )
        .await
        .contains("actor")
    );
}

#[tokio::test]
async fn phone_actions_and_calls_are_action_children() {
    let (sim, mut client) = paired("cGhvbmVwaG9uZXBob25lcA==").await;
    let child = |node: Node| -> Node {
        assert_eq!(node.tag, "action");
        let children = node.children();
        assert_eq!(children.len(), 1);
        children[0].clone()
    };
    let cases = [
        (
            json!({"action": "archive"}),
            "chat",
            vec![("type", "archive")],
        ),
        (
            json!({"action": "pin", "value": "1600000000"}),
            "chat",
            vec![("type", "pin"), ("pin", "1600000000")],
        ),
        (
            json!({"action": "unpin", "value": "1600000000"}),
            "chat",
            vec![("type", "pin"), ("previous", "1600000000")],
        ),
        (
            json!({"action": "mute", "value": "1600086400"}),
            "chat",
            vec![("type", "mute"), ("mute", "1600086400")],
        ),
        (json!({"action": "unmute"}), "chat", vec![("type", "mute")]),
        (json!({"action": "read"}), "read", vec![]),
        (json!({"action": "unread"}), "read", vec![("type", "false")]),
    ];
    for (mut command, tag, attrs) in cases {
        command["cmd"] = json!("phone_action");
        command["chat"] = json!(ALICE);
        done(&sim, command.clone()).await;
        let (_, node) = client.next_node().await;
        let node = child(node);
        assert_eq!(node.tag, tag, "{command}");
        assert_eq!(node.get("jid"), Some(ALICE));
        for (name, value) in attrs {
            assert_eq!(node.get(name), Some(value), "{command}");
        }
        if command["action"] == "unmute" {
            assert_eq!(node.get("mute"), None);
        }
    }
    done(
        &sim,
        json!({"cmd": "phone_action", "action": "star", "chat": ALICE, "messages": ["3A01"]}),
    )
    .await;
    let (_, node) = client.next_node().await;
    let star = child(node);
    assert_eq!(star.children()[0].get("index"), Some("3A01"));
    assert!(
        refused(
            &sim,
            json!({"cmd": "phone_action", "action": "frob", "chat": ALICE})
        )
        .await
        .contains("frob")
    );

    let line = done(&sim, json!({"cmd": "call", "from": ALICE})).await;
    let (_, node) = client.next_node().await;
    let call = child(node);
    assert_eq!((call.tag.as_ref(), call.get("from")), ("call", Some(ALICE)));
    assert_eq!(call.get("id"), line["id"].as_str());
    let offer = &call.children()[0];
    assert_eq!(
        (offer.tag.as_ref(), offer.get("call-id")),
        ("offer", line["id"].as_str())
    );

    let line = done(
        &sim,
        json!({"cmd": "call", "from": ALICE, "status": "missed"}),
    )
    .await;
    let info = relayed(&mut client).await;
    assert_eq!(
        info.message_stub_type,
        Some(pb::WebMessageInfoStubType::CallMissedVoice as i32)
    );
    assert_eq!(info.key.unwrap().id.as_deref(), line["id"].as_str());
    assert!(matches!(offer.content, Content::Null));
}

#[tokio::test]
async fn media_carry_file_name_voice_gif_and_thumbnail_as_phones_sent_them() {
    let (sim, mut client) = paired("bWVkaWFleHRyYXNtZWRpYQ==").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, b"%PDF-1.4 tiny").unwrap();
    done(&sim, json!({"cmd": "send_media", "from": ALICE, "kind": "document", "path": path, "thumbnail": "/9j/4A=="})).await;
    let document = relayed(&mut client)
        .await
        .message
        .unwrap()
        .document_message
        .unwrap();
    assert_eq!(document.file_name.as_deref(), Some("report.pdf"));
    assert_eq!(
        document.jpeg_thumbnail.as_deref(),
        Some(&[0xFF, 0xD8, 0xFF, 0xE0][..])
    );
    done(
        &sim,
        json!({"cmd": "send_media", "from": ALICE, "kind": "audio", "path": path, "voice": true}),
    )
    .await;
    let audio = relayed(&mut client)
        .await
        .message
        .unwrap()
        .audio_message
        .unwrap();
    assert_eq!(audio.ptt, Some(true));
    done(&sim, json!({"cmd": "send_media", "from": ALICE, "kind": "video", "path": path, "gif": true, "caption": "loop"})).await;
    let video = relayed(&mut client)
        .await
        .message
        .unwrap()
        .video_message
        .unwrap();
    assert_eq!(
        (video.gif_playback, video.caption.as_deref()),
        (Some(true), Some("loop"))
    );
    assert!(refused(&sim, json!({"cmd": "send_media", "from": ALICE, "kind": "image", "path": path, "thumbnail": "%%"})).await.contains("base64"));
}
