//! Messages in and out, acknowledgements, queries and media downloads.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn messages_arrive_as_events() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let done = harness
        .sim_command(json!({"cmd": "send_text", "from": "4915100000001@s.whatsapp.net", "text": "hello daemon"}))
        .await;
    let message = client.event("message").await;
    assert_eq!(
        message,
        json!({"type": "message", "id": done["id"], "chat": "4915100000001@s.whatsapp.net", "from_me": false,
               "participant": null, "timestamp": message["timestamp"], "push_name": "Alice", "kind": "text",
               "text": "hello daemon", "media": null, "source": "live"})
    );
    harness
        .sim_command(json!({"cmd": "send_text", "from": "4915100000002", "text": "in the group", "chat": "4915100000000-1600000000@g.us"}))
        .await;
    let message = client.event("message").await;
    assert_eq!(message["chat"], "4915100000000-1600000000@g.us");
    assert_eq!(message["participant"], "4915100000002@s.whatsapp.net");
}

#[tokio::test]
async fn send_text_waits_for_the_server_ack_then_reports_delivery_and_read() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let result = client
        .call(
            "send_text",
            json!({"to": "+49 151 0000-0001", "text": "hi from the daemon"}),
        )
        .await
        .unwrap();
    let id = result["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("3EB0") && id.len() == 20, "{id}");
    assert_eq!(result["status"], 200);
    assert!(result["t"].as_u64().unwrap() > 1_600_000_000);
    let received = loop {
        let line = harness.sim_line("received").await;
        if line["tag"] == id.as_str() {
            break line;
        }
    };
    assert_eq!(
        (received["metric"].clone(), received["flags"].clone()),
        (json!(16), json!(128))
    );
    assert_eq!(received["messages"][0]["text"], "hi from the daemon");
    assert_eq!(
        received["messages"][0]["chat"],
        "4915100000001@s.whatsapp.net"
    );
    // Queued in the outbox (0), acknowledged by the server (1), delivered (2), read (3).
    for ack in [0, 1, 2, 3] {
        let event = client.event("ack").await;
        assert_eq!(
            event,
            json!({"type": "ack", "id": id, "ack": ack, "chat": "4915100000001@s.whatsapp.net"})
        );
    }
    for bad in ["", "abc", "12", "x@y.z", "123@broadcast"] {
        let error = client
            .call("send_text", json!({"to": bad, "text": "x"}))
            .await
            .unwrap_err();
        assert_eq!(error["code"], -32602, "{bad}");
    }
    for to in [
        "4915100000002@c.us",
        "4915100000000-1600000000@g.us",
        "4915100000003",
    ] {
        assert_eq!(
            client
                .call("send_text", json!({"to": to, "text": "x"}))
                .await
                .unwrap()["status"],
            200,
            "{to}"
        );
    }
}

#[tokio::test]
async fn query_returns_the_servers_reply() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let reply = client
        .call(
            "query",
            json!({"json": ["query", "exist", "4915100000001@c.us"]}),
        )
        .await
        .unwrap();
    assert_eq!(
        reply,
        json!({"reply": {"status": 200, "jid": "4915100000001@c.us", "biz": false}})
    );
    let reply = client
        .call(
            "query",
            json!({"json": ["query", "Status", "4915100000001@c.us"]}),
        )
        .await
        .unwrap();
    assert_eq!(reply["reply"]["status"], "Hey there! I am using WhatsApp.");
    assert_eq!(
        client.call("query", json!({})).await.unwrap_err()["code"],
        -32602
    );
}

#[tokio::test]
async fn pushes_without_a_typed_event_come_out_as_json_and_node() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "push_json", "payload": ["Status", {"id": "4915100000001@c.us", "status": "busy"}]})).await;
    // Stream and Props of the login came as json events too (Blocklist is typed: `blocklist`).
    let event = loop {
        let event = client.event("json").await;
        if event["payload"][0] == "Status" {
            break event;
        }
        assert!(
            ["Stream", "Props"].contains(&event["payload"][0].as_str().unwrap()),
            "{event}"
        );
    };
    assert_eq!(
        event["payload"],
        json!(["Status", {"id": "4915100000001@c.us", "status": "busy"}])
    );
    assert!(event["tag"].as_str().unwrap().starts_with('s'));
    let node = json!({"tag": "action", "attrs": {"add": "relay"}, "content": [{"tag": "label", "attrs": {"id": "1", "name": "Work"}, "content": null}]});
    harness
        .sim_command(json!({"cmd": "push_node", "node": node}))
        .await;
    let event = client.event("node").await;
    assert_eq!(
        (
            event["tag"].clone(),
            event["attrs"].clone(),
            event["content"].clone()
        ),
        (
            node["tag"].clone(),
            node["attrs"].clone(),
            node["content"].clone()
        )
    );
    harness
        .sim_command(json!({"cmd": "battery", "percent": 42, "plugged": true}))
        .await;
    assert_eq!(
        client.event("battery").await,
        json!({"type": "battery", "percent": 42, "plugged": true, "powersave": false})
    );
    // Garbage from the server is dropped with a log line; the session stays up.
    harness.sim_command(json!({"cmd": "garbage"})).await;
    harness
        .sim_command(json!({"cmd": "send_text", "from": "4915100000001", "text": "still here"}))
        .await;
    assert_eq!(client.event("message").await["text"], "still here");
}

#[tokio::test]
async fn media_download_verifies_and_writes_atomically() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let source = harness.dir.path().join("cat.jpg");
    let plaintext: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&source, &plaintext).unwrap();
    harness
        .sim_command(json!({"cmd": "send_media", "from": "4915100000003", "kind": "image", "path": source, "caption": "a cat"}))
        .await;
    let message = client.event("message").await;
    assert_eq!(message["kind"], "image");
    let media = message["media"].clone();
    assert_eq!(
        (
            media["kind"].as_str(),
            media["caption"].as_str(),
            media["file_length"].as_u64()
        ),
        (Some("image"), Some("a cat"), Some(300_000))
    );
    let output = harness.dir.path().join("downloaded.jpg");
    let result = client
        .call("media_download", json!({"media": media, "output": output}))
        .await
        .unwrap();
    assert_eq!(result["path"], output.to_str().unwrap());
    assert_eq!(result["bytes"], 300_000);
    assert_eq!(result["sha256"], media["file_sha256"]);
    assert_eq!(std::fs::read(&output).unwrap(), plaintext);

    // A wrong key fails the MAC: integrity, and the existing file is untouched.
    let mut wrong = media.clone();
    wrong["media_key"] = json!(STANDARD.encode([9u8; 32]));
    let error = client
        .call("media_download", json!({"media": wrong, "output": output}))
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32006);
    assert_eq!(std::fs::read(&output).unwrap(), plaintext);
    let fresh = harness.dir.path().join("never.jpg");
    client
        .call("media_download", json!({"media": wrong, "output": fresh}))
        .await
        .unwrap_err();
    assert!(!fresh.exists());
    let files: Vec<_> = std::fs::read_dir(harness.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(
        files
            .iter()
            .all(|name| !name.to_string_lossy().contains("tmp")),
        "{files:?}"
    );

    for (params, code) in [
        (json!({"media": media, "output": "relative.jpg"}), -32602),
        (
            json!({"media": media, "output": "/nonexistent-dir/x.jpg"}),
            -32602,
        ),
        (
            json!({"media": {"kind": "image"}, "output": output}),
            -32602,
        ),
    ] {
        assert_eq!(
            client.call("media_download", params).await.unwrap_err()["code"],
            code
        );
    }

    // Expired media is reported as such, not as a crypto error.
    harness.sim_command(json!({"cmd": "expire_media"})).await;
    let error = client
        .call("media_download", json!({"media": media, "output": output}))
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32008);
    assert_eq!(error["data"]["kind"], "media_expired");
}
