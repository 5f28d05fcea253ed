//! The simulator against a scripted legacy client built from our own codecs: every step of
//! PROTOCOL.md section 13, the failure paths, and the control channel of the real binary.

mod client;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use waweb_core::binary::{self, Content, Node};
use waweb_core::crypto::{KeyPair, SessionKeys};
use waweb_core::media::{self, MediaKeys, MediaType};
use waweb_core::message;
use waweb_core::wire::{self, FrameCipher, ServerText};

use client::*;

#[tokio::test]
async fn refuses_upgrades_without_the_web_origin() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let request = sim.ws_url().into_client_request().unwrap();
    let error = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(error.to_string().contains("403"), "{error}");
    assert!(
        wait_for(&mut output, "client_refused").await["reason"]
            .as_str()
            .unwrap()
            .contains("Origin")
    );
    let mut request = sim
        .ws_url()
        .replace("/ws", "/other")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Origin", "https://web.whatsapp.com".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test]
async fn keepalive_pairing_and_login_pushes() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "AAECAwQFBgcICQoLDA0ODw==").await;
    assert!(
        wait_for(&mut output, "client_connected").await["conn"]
            .as_u64()
            .is_some()
    );
    client.send_text("?,,").await;
    match client.next().await {
        Frame::Text(text) => assert!(
            matches!(wire::parse_server_text(&text), Ok(ServerText::Pong(ms)) if ms > 1_600_000_000_000)
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(wait_for(&mut output, "received").await["keepalive"], true);

    let reply = client.init().await;
    assert_eq!(reply["status"], 200);
    assert!(reply["ref"].as_str().unwrap().starts_with("1@"));
    assert_eq!(reply["ttl"], 20000);
    assert_eq!(reply["curr"], "2.2142.12");
    let received = wait_for(&mut output, "received").await;
    assert_eq!(received["json"][1], "init");

    // A QR for a ref nobody shows is refused.
    let bad = sim
        .command(json!({"cmd": "scan", "qr": "1@nope,AAAA,AAECAwQFBgcICQoLDA0ODw=="}))
        .await;
    assert!(bad.unwrap_err().0.contains("no connection"));

    let pair = KeyPair::generate();
    let qr = format!(
        "{},{},{}",
        reply["ref"].as_str().unwrap(),
        BASE64.encode(pair.public()),
        client.client_id
    );
    let done = sim.command(json!({"cmd": "scan", "qr": qr})).await.unwrap();
    assert_eq!(done["wid"], "4915100000000@c.us");
    let (tag, conn) = client.next_json().await;
    assert_eq!(tag, "s1");
    for field in [
        "battery",
        "platform",
        "connected",
        "pushname",
        "wid",
        "lc",
        "phone",
        "plugged",
        "lg",
        "tos",
    ] {
        assert!(!conn[1][field].is_null(), "Conn lacks {field}");
    }
    assert_eq!(conn[1]["phone"].as_object().unwrap().len(), 7);
    let secret = BASE64.decode(conn[1]["secret"].as_str().unwrap()).unwrap();
    assert_eq!(secret.len(), 144);
    client.keys = Some(SessionKeys::from_pairing_secret(&pair, &secret).unwrap());
    assert_eq!(
        client.next_json().await,
        (
            "s2".into(),
            json!(["Blocklist", {"id": 1, "blocklist": []}])
        )
    );
    assert_eq!(
        client.next_json().await.1,
        json!(["Stream", "update", false, "2.2142.12"])
    );
    assert_eq!(client.next_json().await.1[0], "Props");
    let pushes = client.login_pushes().await;
    assert!(pushes[0].0.starts_with("preempt-"));
    assert_eq!(pushes[0].1.get("type"), Some("chat"));
    assert_eq!(pushes[0].1.children().len(), 4);
    assert_eq!(pushes[1].1.get("type"), Some("contacts"));
    let frequent = &pushes[2].1.children()[0];
    assert_eq!(frequent.get("type"), Some("frequent"));
    // Numbers as nibbles, never raw bytes (a legacy client reads raw bytes as a message).
    assert!(
        matches!(&frequent.children()[0].content, Content::Text(number) if number == "4915100000001")
    );
    assert_eq!(pushes[3].1.children()[0].tag, "battery");
    assert_eq!(
        wait_for(&mut output, "paired").await["wid"],
        "4915100000000@c.us"
    );
    let logged_in = wait_for(&mut output, "logged_in").await;
    assert_eq!(
        (
            logged_in["restored"].clone(),
            logged_in["challenged"].clone()
        ),
        (json!(false), json!(false))
    );

    // Queries after login: JSON and binary.
    client.send_json("3.--0", json!(["admin", "test"])).await;
    assert_eq!(
        client.next_json().await,
        ("3.--0".into(), json!(["Pong", true]))
    );
    client
        .send_node(
            "3.--1",
            5,
            0x80,
            &Node::new("query").attr("type", "chat").attr("epoch", "1"),
        )
        .await;
    let (tag, chats) = client.next_node().await;
    assert_eq!((tag.as_str(), chats.get("type")), ("3.--1", Some("chat")));
    let received = wait_for(&mut output, "received").await;
    assert_eq!(received["tag"], "3.--0");
    let received = wait_for(&mut output, "received").await;
    assert_eq!(
        (received["metric"].clone(), received["flags"].clone()),
        (json!(5), json!(128))
    );
    assert_eq!(
        received["node"],
        json!({"tag": "query", "attrs": {"type": "chat", "epoch": "1"}, "content": null})
    );
    client
        .send_json("3.--2", json!(["query", "nonsense"]))
        .await;
    assert_eq!(client.next_json().await.1, json!({"status": 404}));
}

#[tokio::test]
async fn reref_budget_then_429_and_304_on_request() {
    let sim = start().await;
    let mut client = connect(&sim, "cmVyZWZyZXJlZnJlcmVmcg==").await;
    let first = client.init().await;
    let mut refs = vec![first["ref"].as_str().unwrap().to_owned()];
    for attempt in 0..5 {
        client
            .send_json(&format!("r{attempt}"), json!(["admin", "Conn", "reref"]))
            .await;
        let (_, reply) = client.next_json().await;
        assert_eq!(reply["status"], 200, "reref {attempt}");
        refs.push(reply["ref"].as_str().unwrap().to_owned());
    }
    refs.dedup();
    assert_eq!(refs.len(), 6);
    client
        .send_json("r5", json!(["admin", "Conn", "reref"]))
        .await;
    assert_eq!(client.next_json().await.1, json!({"status": 429}));
    // The superseded refs no longer scan; only the newest one would.
    let old = format!(
        "{},{},{}",
        refs[0],
        BASE64.encode([7u8; 32]),
        client.client_id
    );
    assert!(
        sim.command(json!({"cmd": "scan", "qr": old}))
            .await
            .is_err()
    );

    let mut other = connect(&sim, "MzA0MzA0MzA0MzA0MzA0Mw==").await;
    other.init().await;
    sim.command(json!({"cmd": "reref_next", "status": 304}))
        .await
        .unwrap();
    other
        .send_json("q", json!(["admin", "Conn", "reref"]))
        .await;
    assert_eq!(other.next_json().await.1, json!({"status": 304}));
    other
        .send_json("q2", json!(["admin", "Conn", "reref"]))
        .await;
    assert_eq!(other.next_json().await.1["status"], 200);
}

#[tokio::test]
async fn relay_is_acknowledged_then_delivered_and_read() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "cmVsYXlyZWxheXJlbGF5cg==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let id = message::new_message_id();
    let info = message::text_message(
        "4915100000001@s.whatsapp.net",
        &id,
        "hello sim",
        1_600_000_000,
    );
    let node = Node::new("action")
        .attr("type", "relay")
        .attr("epoch", "1")
        .with_content(Content::List(vec![
            Node::new("message").with_content(Content::Bytes(message::encode(&info))),
        ]));
    client.send_node(&id, 16, 0x80, &node).await;
    // An empty acknowledgement first, then the real answer on the message id.
    match client.next().await {
        Frame::Text(text) => assert_eq!(text, format!("{id},")),
        other => panic!("{other:?}"),
    }
    let (tag, reply) = client.next_json().await;
    assert_eq!(
        (tag.as_str(), reply["status"].clone()),
        (id.as_str(), json!(200))
    );
    assert!(reply["t"].as_u64().unwrap() > 1_600_000_000);
    for ack in [2, 3] {
        let (tag, push) = client.next_json().await;
        assert!(tag.starts_with('s'));
        assert_eq!(push[0], "Msg");
        assert_eq!(push[1]["cmd"], "ack");
        assert_eq!(push[1]["id"], id.as_str());
        assert_eq!(push[1]["ack"], ack);
        assert_eq!(push[1]["to"], "4915100000001@c.us");
        assert_eq!(push[1]["from"], "4915100000000@c.us");
    }
    let received = loop {
        let line = wait_for(&mut output, "received").await;
        if line["tag"] == id.as_str() {
            break line;
        }
    };
    assert_eq!(
        (received["metric"].clone(), received["flags"].clone()),
        (json!(16), json!(128))
    );
    assert_eq!(received["messages"][0]["text"], "hello sim");

    // History answers with what was sent, oldest first; an unknown anchor is 404.
    let query = Node::new("query")
        .attr("type", "message")
        .attr("jid", "4915100000001@s.whatsapp.net")
        .attr("kind", "before")
        .attr("count", "10")
        .attr("epoch", "2");
    client.send_node("h1", 7, 0x80, &query).await;
    let (_, history) = client.next_node().await;
    assert_eq!(history.get("type"), Some("message"));
    assert_eq!(history.children().len(), 1);
    client
        .send_node(
            "h2",
            7,
            0x80,
            &query.clone().attr("index", "NOPE").attr("owner", "true"),
        )
        .await;
    assert_eq!(
        client.next_json().await,
        ("h2".into(), json!({"status": 404}))
    );
}

#[tokio::test]
async fn contacts_send_text_and_media_through_the_media_host() {
    let sim = start().await;
    let mut client = connect(&sim, "bWVkaWFtZWRpYW1lZGlhbQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let done = sim
        .command(
            json!({"cmd": "send_text", "from": "4915100000001@s.whatsapp.net", "text": "hi there"}),
        )
        .await
        .unwrap();
    let (tag, node) = client.next_node().await;
    assert!(!tag.starts_with("preempt"));
    assert_eq!(node.get("add"), Some("relay"));
    let info =
        message::decode_web_message_info(node.children()[0].content_bytes().unwrap()).unwrap();
    let event = message::into_event(info).unwrap();
    assert_eq!(event.id, done["id"].as_str().unwrap());
    assert_eq!(event.text.as_deref(), Some("hi there"));
    assert_eq!(event.push_name.as_deref(), Some("Alice"));
    assert_eq!(event.chat, "4915100000001@s.whatsapp.net");
    assert!(!event.from_me);

    // A group message names its author as participant.
    sim.command(json!({"cmd": "send_text", "from": "4915100000002", "text": "group hi", "chat": "4915100000000-1600000000@g.us"}))
        .await
        .unwrap();
    let (_, node) = client.next_node().await;
    let event = message::into_event(
        message::decode_web_message_info(node.children()[0].content_bytes().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (event.chat.as_str(), event.participant.as_deref()),
        (
            "4915100000000-1600000000@g.us",
            Some("4915100000002@s.whatsapp.net")
        )
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    let plaintext: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &plaintext).unwrap();
    sim.command(json!({"cmd": "send_media", "from": "4915100000003", "kind": "image", "path": path, "caption": "look"}))
        .await
        .unwrap();
    let (_, node) = client.next_node().await;
    let event = message::into_event(
        message::decode_web_message_info(node.children()[0].content_bytes().unwrap()).unwrap(),
    )
    .unwrap();
    let media_event = event.media.unwrap();
    assert_eq!(media_event.caption.as_deref(), Some("look"));
    let body = http_get(media_event.url.as_deref().unwrap()).await.unwrap();
    assert_eq!(
        BASE64.encode(waweb_core::crypto::sha256(&body)),
        media_event.file_enc_sha256
    );
    let keys = MediaKeys::derive(
        &BASE64.decode(&media_event.media_key).unwrap(),
        MediaType::Image,
    )
    .unwrap();
    assert_eq!(
        media::decrypt(&keys, &body, &media::Expected::default()).unwrap(),
        plaintext
    );

    // Expired media answers 410 until the phone re-uploads it on a `media` query.
    sim.command(json!({"cmd": "expire_media"})).await.unwrap();
    assert_eq!(
        http_get(media_event.url.as_deref().unwrap())
            .await
            .unwrap_err(),
        410
    );
    let query = Node::new("query")
        .attr("type", "media")
        .attr("index", event.id.clone())
        .attr("owner", "false")
        .attr("jid", event.chat.clone())
        .attr("epoch", "3");
    client.send_node("m1", 4, 0x80, &query).await;
    let (_, reply) = client.next_node().await;
    assert_eq!(reply.get("url"), media_event.url.as_deref());
    assert!(http_get(media_event.url.as_deref().unwrap()).await.is_ok());
}

#[tokio::test]
async fn uploads_follow_media_conn() {
    let sim = start().await;
    let mut client = connect(&sim, "dXBsb2FkdXBsb2FkdXBsbw==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    client.send_json("u1", json!(["query", "mediaConn"])).await;
    let (_, reply) = client.next_json().await;
    let conn = &reply["media_conn"];
    let host = conn["hosts"][0]["hostname"].as_str().unwrap();
    let auth = conn["auth"].as_str().unwrap();
    let body = b"encrypted body bytes".to_vec();
    let token = URL_SAFE_NO_PAD.encode(waweb_core::crypto::sha256(&body));
    let auth_query: String = auth
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let url = format!("http://{host}/mms/image/{token}?auth={auth_query}&token={token}");
    let (status, reply) = http_post(&url, &body).await;
    assert_eq!(status, 200, "{reply}");
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        http_get(reply["url"].as_str().unwrap()).await.unwrap(),
        body
    );
    let (status, _) = http_post(&url, b"other body").await;
    assert_eq!(status, 400);
    let (status, _) = http_post(
        &format!("http://{host}/mms/image/{token}?auth=wrong&token={token}"),
        &body,
    )
    .await;
    assert_eq!(status, 401);
}

/// Percent-encodes a query value the strict way.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn two_upload_hosts_a_failure_on_demand_and_every_relayed_blob_verified() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "dmVyaWZ5dmVyaWZ5dmVyaQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    client.send_json("u1", json!(["query", "mediaConn"])).await;
    let (_, reply) = client.next_json().await;
    let hosts: Vec<&str> = reply["media_conn"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|host| host["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(hosts.len(), 2);
    assert_ne!(hosts[0], hosts[1]);
    let auth = query_value(reply["media_conn"]["auth"].as_str().unwrap());

    let plaintext = b"a picture, honestly".to_vec();
    let media_key = [9u8; 32];
    let keys = MediaKeys::derive(&media_key, MediaType::Image).unwrap();
    let sealed = media::encrypt(&keys, &plaintext, false).unwrap();
    let token = URL_SAFE_NO_PAD.encode(sealed.encrypted.file_enc_sha256);
    let path = format!("/mms/image/{token}?auth={auth}&token={token}");

    // The first host fails once; the second takes the body.
    let done = sim
        .command(json!({"cmd": "fail_upload", "status": 503}))
        .await
        .unwrap();
    assert_eq!(done["status"], 503);
    let (status, _) = http_post(&format!("http://{}{path}", hosts[0]), &sealed.body).await;
    assert_eq!(status, 503);
    let line = wait_for(&mut output, "upload").await;
    assert_eq!(
        (
            line["host"].as_str(),
            line["status"].as_u64(),
            line["path"].as_str()
        ),
        (Some(hosts[0]), Some(503), Some("/mms/image"))
    );
    let (status, reply) = http_post(&format!("http://{}{path}", hosts[1]), &sealed.body).await;
    assert_eq!(status, 200, "{reply}");
    let line = wait_for(&mut output, "upload").await;
    assert_eq!(
        (line["host"].as_str(), line["status"].as_u64()),
        (Some(hosts[1]), Some(200))
    );
    assert_eq!(line["bytes"].as_u64(), Some(sealed.body.len() as u64));
    let url = serde_json::from_str::<Value>(&reply).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sim.command(json!({"cmd": "fail_upload", "status": 7}))
            .await
            .is_err()
    );

    // Built as the protobuf itself, so the test reads like the wire.
    let media = |file_sha256: Vec<u8>, url: &str| waweb_core::message::pb::Message {
        image_message: Some(Box::new(waweb_core::message::pb::ImageMessage {
            url: Some(url.to_owned()),
            media_key: Some(media_key.to_vec()),
            mimetype: Some("image/jpeg".into()),
            file_sha256: Some(file_sha256),
            file_enc_sha256: Some(sealed.encrypted.file_enc_sha256.to_vec()),
            file_length: Some(plaintext.len() as u64),
            ..Default::default()
        })),
        ..Default::default()
    };
    let good = media(sealed.encrypted.file_sha256.to_vec(), &url);
    let bad_hash = media(vec![0; 32], &url);
    let missing = media(sealed.encrypted.file_sha256.to_vec(), &format!("{url}x"));
    for (content, verdict) in [
        (good, None),
        (bad_hash, Some("fileSha256")),
        (missing, Some("has no blob")),
    ] {
        let id = message::new_message_id();
        let mut wmi =
            message::outgoing("4915100000001@s.whatsapp.net", &id, content, 1_600_000_000);
        wmi.status = Some(1);
        let node = Node::new("action")
            .attr("type", "relay")
            .attr("epoch", "1")
            .with_content(Content::List(vec![
                Node::new("message").with_content(Content::Bytes(message::encode(&wmi))),
            ]));
        client.send_node(&id, 16, 0x80, &node).await;
        let received = loop {
            let line = wait_for(&mut output, "received").await;
            if line["tag"] == id.as_str() {
                break line;
            }
        };
        match verdict {
            None => assert_eq!(received["media_ok"], true, "{received}"),
            Some(why) => {
                assert_eq!(received["media_ok"], false, "{received}");
                let error = received["media_error"].as_str().unwrap();
                assert!(error.contains(why), "{error}");
            }
        }
    }
}

#[tokio::test]
async fn restore_rotates_tokens_sends_conn_before_200_and_replaces_the_old_browser() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut first = connect(&sim, "cmVzdG9yZXJlc3RvcmVyZQ==").await;
    let conn = first.pair(&sim).await;
    first.login_pushes().await;

    let mut second = connect(&sim, "cmVzdG9yZXJlc3RvcmVyZQ==").await;
    second.keys = first.keys.clone();
    second.restore(&conn, "takeover").await;
    let (tag, _) = second.next_json().await;
    assert_eq!(tag, "2.--0");
    let (tag, new_conn) = second.next_json().await;
    assert_eq!(tag, "s1", "Conn comes before the login reply");
    assert_eq!(new_conn[0], "Conn");
    assert!(new_conn[1].get("secret").is_none());
    assert_ne!(new_conn[1]["clientToken"], conn["clientToken"]);
    assert_ne!(new_conn[1]["serverToken"], conn["serverToken"]);
    assert_eq!(
        second.next_json().await,
        ("2.--1".into(), json!({"status": 200}))
    );
    // The first browser is told it was replaced, then closed.
    let (_, replaced) = first.until_tag("s5").await;
    let _ = replaced;
    first.expect_closed().await;
    assert!(wait_for(&mut output, "replaced").await["conn"].is_u64());

    // The old tokens now need the challenge; a wrong answer is 401.
    let mut third = connect(&sim, "cmVzdG9yZXJlc3RvcmVyZQ==").await;
    third.keys = first.keys.clone();
    third.restore(&conn, "takeover").await;
    third.next_json().await;
    let (tag, challenge) = third.next_json().await;
    assert_eq!(
        (tag.as_str(), challenge[1]["type"].as_str()),
        ("s1", Some("challenge"))
    );
    third
        .send_json(
            "2.--2",
            json!([
                "admin",
                "challenge",
                "d3Jvbmc=",
                conn["serverToken"],
                third.client_id
            ]),
        )
        .await;
    assert_eq!(
        third.next_json().await,
        ("2.--2".into(), json!({"status": 401}))
    );
    assert_eq!(
        third.next_json().await,
        ("2.--1".into(), json!({"status": 401}))
    );

    // Unknown tokens are 401 outright.
    let mut fourth = connect(&sim, "cmVzdG9yZXJlc3RvcmVyZQ==").await;
    fourth
        .restore(&json!({"clientToken": "x", "serverToken": "y"}), "takeover")
        .await;
    fourth.next_json().await;
    assert_eq!(
        fourth.next_json().await,
        ("2.--1".into(), json!({"status": 401}))
    );
}

#[tokio::test]
async fn challenge_next_is_answered_with_hmac_of_mac_key() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "Y2hhbGxlbmdlY2hhbGxlbg==").await;
    let conn = client.pair(&sim).await;
    client.login_pushes().await;
    sim.command(json!({"cmd": "drop"})).await.unwrap();
    client.expect_closed().await;

    sim.command(json!({"cmd": "challenge_next"})).await.unwrap();
    let mut again = connect(&sim, "Y2hhbGxlbmdlY2hhbGxlbg==").await;
    again.keys = client.keys.clone();
    again.restore(&conn, "takeover").await;
    again.next_json().await;
    let (tag, challenge) = again.next_json().await;
    assert_eq!(tag, "s1");
    let bytes = BASE64
        .decode(challenge[1]["challenge"].as_str().unwrap())
        .unwrap();
    let answer = again.keys.as_ref().unwrap().challenge_answer(&bytes);
    again
        .send_json(
            "2.--2",
            json!([
                "admin",
                "challenge",
                answer,
                conn["serverToken"],
                again.client_id
            ]),
        )
        .await;
    assert_eq!(
        again.next_json().await,
        ("2.--2".into(), json!({"status": 200}))
    );
    let (tag, new_conn) = again.next_json().await;
    assert_eq!((tag.as_str(), new_conn[0].as_str()), ("s2", Some("Conn")));
    assert_eq!(
        again.next_json().await,
        ("2.--1".into(), json!({"status": 200}))
    );
    let logged_in = loop {
        let line = wait_for(&mut output, "logged_in").await;
        if line["restored"] == true {
            break line;
        }
    };
    assert_eq!(logged_in["challenged"], true);
}

#[tokio::test]
async fn unpair_goodbye_and_http_logout_end_sessions() {
    let sim = start().await;
    let mut client = connect(&sim, "dW5wYWlydW5wYWlydW5wYQ==").await;
    let conn = client.pair(&sim).await;
    client.login_pushes().await;
    sim.command(json!({"cmd": "unpair"})).await.unwrap();
    let (_, push) = client.until_tag("s5").await;
    assert_eq!(push, json!(["Cmd", {"type": "disconnect"}]));
    client.expect_closed().await;
    let mut again = connect(&sim, "dW5wYWlydW5wYWlydW5wYQ==").await;
    again.restore(&conn, "takeover").await;
    again.next_json().await;
    assert_eq!(again.next_json().await.1, json!({"status": 401}));

    let mut client = connect(&sim, "Z29vZGJ5ZWdvb2RieWVnbw==").await;
    let conn = client.pair(&sim).await;
    client.login_pushes().await;
    client
        .send_text("goodbye,,[\"admin\",\"Conn\",\"disconnect\"]")
        .await;
    client.expect_closed().await;
    let mut again = connect(&sim, "Z29vZGJ5ZWdvb2RieWVnbw==").await;
    again.restore(&conn, "takeover").await;
    again.next_json().await;
    assert_eq!(again.next_json().await.1, json!({"status": 401}));

    let mut client = connect(&sim, "aHR0cGh0dHBodHRwaHR0cA==").await;
    let conn = client.pair(&sim).await;
    client.login_pushes().await;
    let keys = client.keys.clone().unwrap();
    let logout = sim
        .ws_url()
        .replace("ws://", "http://")
        .replace("/ws", "/logout");
    let encode = |text: &str| {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let (status, _) = http_post(
        &format!(
            "{logout}?t={}&m=wrong",
            encode(conn["browserToken"].as_str().unwrap())
        ),
        b"",
    )
    .await;
    assert_eq!(status, 401);
    let url = format!(
        "{logout}?t={}&m={}",
        encode(conn["browserToken"].as_str().unwrap()),
        encode(&keys.logout_token())
    );
    let (status, _) = http_post(&url, b"").await;
    assert_eq!(status, 200);
    client.until_tag("s5").await;
    client.expect_closed().await;
}

#[tokio::test]
async fn refuse_next_answers_the_requested_status() {
    let sim = start().await;
    let mut client = connect(&sim, "cmVmdXNlcmVmdXNlcmVmdQ==").await;
    let conn = client.pair(&sim).await;
    client.login_pushes().await;
    for status in [403, 405, 409, 419, 500] {
        sim.command(json!({"cmd": "refuse_next", "status": status}))
            .await
            .unwrap();
        let mut again = connect(&sim, "cmVmdXNlcmVmdXNlcmVmdQ==").await;
        again.restore(&conn, "takeover").await;
        again.next_json().await;
        let (_, reply) = again.next_json().await;
        assert_eq!(reply["status"], status);
    }
}

#[tokio::test]
async fn bad_client_frames_close_the_connection_and_the_sim_survives() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "YmFkbWFjYmFkbWFjYmFkbQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let cipher = FrameCipher::new(client.keys.as_ref().unwrap());
    let mut frame = cipher.seal_client_frame("x1", 5, 0x80, &binary::encode(&Node::new("query")));
    let last = frame.len() - 1;
    frame[last] ^= 1;
    client.socket.send(Message::binary(frame)).await.unwrap();
    client.expect_closed().await;
    let error = loop {
        let line = wait_for(&mut output, "received").await;
        if line.get("error").is_some() {
            break line;
        }
    };
    assert_eq!(error["error"], "frame HMAC mismatch");

    // Garbage of every kind from a fresh client: text, binary before login, broken JSON.
    let mut rude = connect(&sim, "cnVkZXJ1ZGVydWRlcnVkZQ==").await;
    for text in [
        "",
        ",",
        "no-comma",
        "t,[",
        "t,{}",
        "t,[1,2]",
        "t,[\"admin\"]",
        "t,[\"admin\",\"login\",1,2,3,4]",
        "t,[\"admin\",\"challenge\"]",
    ] {
        rude.send_text(text).await;
    }
    rude.socket
        .send(Message::binary(vec![0xff; 100]))
        .await
        .unwrap();
    rude.expect_closed().await;
    let status = sim.command(json!({"cmd": "status"})).await.unwrap();
    assert!(status["sessions"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn fault_knobs_garbage_drop_and_half_open() {
    let sim = start().await;
    let mut client = connect(&sim, "ZmF1bHRzZmF1bHRzZmF1bA==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    sim.command(json!({"cmd": "garbage"})).await.unwrap();
    let cipher = FrameCipher::new(client.keys.as_ref().unwrap());
    let mut failures = 0;
    for _ in 0..4 {
        match client.next().await {
            Frame::Binary(data) => {
                let opened = cipher.open_server_frame(&data);
                if opened.is_err() || binary::decode(&opened.unwrap().1).is_err() {
                    failures += 1;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(failures, 4);
    assert!(matches!(client.next().await, Frame::Text(text) if text.starts_with("garbage-5,")));

    sim.command(json!({"cmd": "half_open"})).await.unwrap();
    client.send_text("?,,").await;
    assert!(
        timeout(Duration::from_millis(300), client.socket.next())
            .await
            .is_err(),
        "no pong while half-open"
    );

    sim.command(json!({"cmd": "drop"})).await.unwrap();
    client.expect_closed().await;
    assert!(
        sim.command(json!({"cmd": "frobnicate"}))
            .await
            .unwrap_err()
            .0
            .contains("unknown command")
    );
    assert!(
        sim.command(json!({"cmd": "send_text", "from": "1"}))
            .await
            .unwrap_err()
            .0
            .contains("text")
    );
}

#[tokio::test]
async fn offline_messages_wait_for_the_next_login() {
    let sim = start().await;
    let mut client = connect(&sim, "b2ZmbGluZW9mZmxpbmVvZg==").await;
    let conn = client.pair(&sim).await;
    client.login_pushes().await;
    sim.command(json!({"cmd": "drop"})).await.unwrap();
    client.expect_closed().await;
    sim.command(
        json!({"cmd": "send_text", "from": "4915100000002", "text": "while you were away"}),
    )
    .await
    .unwrap();
    let mut again = connect(&sim, "b2ZmbGluZW9mZmxpbmVvZg==").await;
    again.keys = client.keys.clone();
    again.restore(&conn, "takeover").await;
    let (before, _) = again.until_tag("2.--1").await;
    assert!(before.len() >= 2);
    for _ in 0..3 {
        again.next_json().await;
    }
    // Chat list, contacts, the last message of each chat, frequent contacts, battery, then
    // the message that waited.
    let mut tags = Vec::new();
    let relay = loop {
        let (_, node) = again.next_node().await;
        if node.get("add") == Some("relay") {
            break node;
        }
        tags.push(
            node.get("add")
                .or(node.get("type"))
                .unwrap_or_default()
                .to_owned(),
        );
        assert!(tags.len() < 8, "{tags:?}");
    };
    assert!(tags.contains(&"last".to_owned()), "{tags:?}");
    let info =
        message::decode_web_message_info(relay.children()[0].content_bytes().unwrap()).unwrap();
    assert_eq!(
        message::into_event(info).unwrap().text.as_deref(),
        Some("while you were away")
    );
}

#[tokio::test]
async fn shutdown_closes_connections_and_leaves_nothing_listening() {
    let sim = start().await;
    let mut client = connect(&sim, "c1").await;
    let ws_addr = sim
        .ws_url()
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .to_owned();
    let media_addr = sim
        .media_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    tokio::time::timeout(Duration::from_secs(10), sim.shutdown())
        .await
        .expect("every task ends");
    client.expect_closed().await;
    for addr in [ws_addr, media_addr] {
        assert!(
            tokio::net::TcpStream::connect(&addr).await.is_err(),
            "{addr} still accepts"
        );
    }
    assert!(sim.command(json!({"cmd": "status"})).await.is_err());
}
