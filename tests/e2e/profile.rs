//! Profiles end to end: on_whatsapp, pictures, about texts, the push name, the block list,
//! media by message reference (with the URL refresh) and `query` with nodes, each checked
//! against what the simulated phone then holds.

use std::io::Cursor;

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};
use serde_json::{Value, json};

use crate::support::{Client, Harness};

const FIRST: &str = "4915100000001@s.whatsapp.net";
const SECOND: &str = "4915100000002@s.whatsapp.net";
const THIRD: &str = "4915100000003@s.whatsapp.net";

/// The first `blocklist` event (the login's came first) listing exactly `jids`.
async fn blocklist_event(client: &mut Client, jids: Value) {
    while client.event("blocklist").await["jids"] != jids {}
}

async fn code(client: &mut Client, method: &str, params: Value) -> i64 {
    let error = client.call(method, params.clone()).await.unwrap_err();
    error["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("{method} {params}: {error}"))
}

#[tokio::test]
async fn on_whatsapp_knows_contacts_and_added_numbers() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness
        .sim_command(json!({"cmd": "on_whatsapp", "number": "4915100000077", "business": true}))
        .await;
    let result = client
        .call(
            "on_whatsapp",
            json!({"numbers": ["+49 151 00000001", "4915100000099", "4915100000077@c.us"]}),
        )
        .await
        .unwrap();
    assert_eq!(
        result,
        json!({"results": [
            {"input": "+49 151 00000001", "jid": FIRST, "exists": true, "business": false},
            {"input": "4915100000099", "jid": "4915100000099@s.whatsapp.net", "exists": false, "business": false},
            {"input": "4915100000077@c.us", "jid": "4915100000077@s.whatsapp.net", "exists": true, "business": true},
        ]})
    );
    let many: Vec<String> = (0..51).map(|i| format!("49151000001{i:02}")).collect();
    for params in [
        json!({"numbers": []}),
        json!({"numbers": many}),
        json!({"numbers": ["4915100000000-1600000000@g.us"]}),
        json!({"numbers": ["not a number"]}),
    ] {
        assert_eq!(code(&mut client, "on_whatsapp", params).await, -32602);
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = ImageBuffer::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([250u8, 250, 0])
        } else {
            Rgb([0, 0, 250])
        }
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test]
async fn pictures_are_fetched_set_and_served_back() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let output = harness.dir.path().join("first.jpg");
    let result = client
        .call(
            "profile_picture",
            json!({"jid": "4915100000001", "output": output}),
        )
        .await
        .unwrap();
    let url = result["url"]
        .as_str()
        .expect("the first contact has a picture")
        .to_owned();
    let jpeg =
        image::load_from_memory_with_format(&std::fs::read(&output).unwrap(), ImageFormat::Jpeg)
            .unwrap();
    assert_eq!((jpeg.width(), jpeg.height()), (640, 640));
    let held = harness
        .sim_command(json!({"cmd": "profile", "jid": FIRST}))
        .await;
    assert_eq!(held["picture"], url.as_str());
    // No picture: null, and nothing written.
    let none = harness.dir.path().join("second.jpg");
    let result = client
        .call("profile_picture", json!({"jid": SECOND, "output": none}))
        .await
        .unwrap();
    assert_eq!(result, json!({"url": null}));
    assert!(!none.exists());
    let group = client
        .call(
            "profile_picture",
            json!({"jid": "4915100000000-1600000000@g.us"}),
        )
        .await
        .unwrap();
    assert!(group["url"].is_string(), "{group}");
    assert_eq!(
        code(
            &mut client,
            "profile_picture",
            json!({"jid": FIRST, "output": "rel.jpg"})
        )
        .await,
        -32602
    );

    // Our own: a wide PNG becomes the middle square; the phone checks both sizes and serves it.
    let me = client.call("status", json!({})).await.unwrap()["me"]["wid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        client
            .call("profile_picture", json!({"jid": me}))
            .await
            .unwrap(),
        json!({"url": null})
    );
    let source = harness.dir.path().join("me.png");
    std::fs::write(&source, png(900, 300)).unwrap();
    assert_eq!(
        client
            .call("set_profile_picture", json!({"path": source}))
            .await
            .unwrap(),
        json!({})
    );
    let mine = harness.dir.path().join("mine.jpg");
    let result = client
        .call("profile_picture", json!({"jid": me, "output": mine}))
        .await
        .unwrap();
    assert_eq!(
        harness.sim_command(json!({"cmd": "profile"})).await["picture"],
        result["url"]
    );
    let set =
        image::load_from_memory_with_format(&std::fs::read(&mine).unwrap(), ImageFormat::Jpeg)
            .unwrap()
            .to_rgb8();
    assert_eq!(set.dimensions(), (640, 640));
    // The middle third of a half yellow, half blue picture: yellow left, blue right.
    assert!(set.get_pixel(10, 320).0[0] > 200 && set.get_pixel(630, 320).0[2] > 200);

    let text = harness.dir.path().join("note.txt");
    std::fs::write(&text, "not a picture").unwrap();
    for path in [
        text.clone(),
        harness.dir.path().join("absent.png"),
        "relative.png".into(),
    ] {
        assert_eq!(
            code(&mut client, "set_profile_picture", json!({"path": path})).await,
            -32602
        );
    }
}

#[tokio::test]
async fn about_texts_and_the_push_name() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    assert_eq!(
        client.call("about", json!({"jid": FIRST})).await.unwrap(),
        json!({"text": "Hey there! I am using WhatsApp."})
    );
    // The third contact has none: the server's 404, as server_error.
    let error = client
        .call("about", json!({"jid": THIRD}))
        .await
        .unwrap_err();
    assert_eq!(
        (error["code"].as_i64(), error["data"]["status"].as_i64()),
        (Some(-32004), Some(404))
    );
    assert_eq!(
        code(
            &mut client,
            "about",
            json!({"jid": "4915100000000-1600000000@g.us"})
        )
        .await,
        -32602
    );

    assert_eq!(
        client
            .call("set_about", json!({"text": "Schwimmen 🏊"}))
            .await
            .unwrap(),
        json!({})
    );
    assert_eq!(
        harness.sim_command(json!({"cmd": "profile"})).await["about"],
        "Schwimmen 🏊"
    );
    let me = client.call("status", json!({})).await.unwrap()["me"]["wid"].clone();
    assert_eq!(
        client.call("about", json!({"jid": me})).await.unwrap()["text"],
        "Schwimmen 🏊"
    );
    for text in ["", "two\nlines", &"x".repeat(140)] {
        assert_eq!(
            code(&mut client, "set_about", json!({"text": text})).await,
            -32602
        );
    }

    assert_eq!(
        client
            .call("set_push_name", json!({"name": "Ada L."}))
            .await
            .unwrap(),
        json!({})
    );
    let status = client.call("status", json!({})).await.unwrap();
    assert_eq!(status["me"]["pushname"], "Ada L.");
    assert_eq!(
        harness.sim_command(json!({"cmd": "profile"})).await["pushname"],
        "Ada L."
    );
    assert_eq!(
        code(
            &mut client,
            "set_push_name",
            json!({"name": "x".repeat(26)})
        )
        .await,
        -32602
    );
}

#[tokio::test]
async fn the_block_list_follows_our_changes_and_the_phones() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    assert_eq!(
        client.call("blocklist", json!({})).await.unwrap(),
        json!({"jids": []})
    );
    assert_eq!(
        client
            .call("block", json!({"jid": "4915100000003"}))
            .await
            .unwrap(),
        json!({})
    );
    assert_eq!(
        client.call("blocklist", json!({})).await.unwrap(),
        json!({"jids": [THIRD]})
    );
    assert_eq!(
        harness.sim_command(json!({"cmd": "profile"})).await["blocklist"],
        json!(["4915100000003@c.us"])
    );
    blocklist_event(&mut client, json!([THIRD])).await;
    // The phone blocks someone too: the pushed list is what the daemon answers.
    harness
        .sim_command(json!({"cmd": "block", "jid": SECOND}))
        .await;
    blocklist_event(&mut client, json!([SECOND, THIRD])).await;
    assert_eq!(
        client.call("blocklist", json!({})).await.unwrap(),
        json!({"jids": [SECOND, THIRD]})
    );
    assert_eq!(
        client.call("unblock", json!({"jid": THIRD})).await.unwrap(),
        json!({})
    );
    assert_eq!(
        client.call("blocklist", json!({})).await.unwrap(),
        json!({"jids": [SECOND]})
    );
    assert_eq!(
        harness.sim_command(json!({"cmd": "profile"})).await["blocklist"],
        json!(["4915100000002@c.us"])
    );
    assert_eq!(
        code(
            &mut client,
            "block",
            json!({"jid": "4915100000000-1600000000@g.us"})
        )
        .await,
        -32602
    );

    // A restarted daemon knows nothing until the restore's Blocklist push, then the phone's list.
    harness.stop_daemon().await;
    harness.start_daemon().await;
    let mut client = harness.client().await;
    let deadline = tokio::time::Instant::now() + crate::support::deadline();
    loop {
        match client.call("blocklist", json!({})).await {
            Ok(list) => break assert_eq!(list, json!({"jids": [SECOND]})),
            // Before the push: not connected yet, never an empty guess.
            Err(error) => assert_eq!(error["code"], -32003),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no block list after the restore"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // Logged out, there is no list to answer from.
    client.call("logout", json!({})).await.unwrap();
    assert_eq!(code(&mut client, "blocklist", json!({})).await, -32001);
    assert_eq!(
        code(&mut client, "block", json!({"jid": THIRD})).await,
        -32001
    );
}

#[tokio::test]
async fn media_of_a_stored_message_is_refreshed_once_when_the_host_lost_it() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let source = harness.dir.path().join("cat.jpg");
    let plaintext: Vec<u8> = (0..50_000u32).map(|i| (i * 13 % 256) as u8).collect();
    std::fs::write(&source, &plaintext).unwrap();
    harness
        .sim_command(json!({"cmd": "send_media", "from": THIRD, "kind": "image", "path": source}))
        .await;
    let message = client.event("message").await;
    let url = message["media"]["url"].as_str().unwrap().to_owned();
    let reference = json!({"chat": THIRD, "id": message["id"], "from_me": false});
    let output = harness.dir.path().join("out.jpg");
    let params = json!({"message": reference, "output": output});
    let result = client.call("media_download", params.clone()).await.unwrap();
    assert_eq!(result["bytes"], 50_000);
    assert_eq!(std::fs::read(&output).unwrap(), plaintext);

    // The host forgets the URL (410): one media query, then the new URL works.
    std::fs::remove_file(&output).unwrap();
    let forgotten = harness
        .sim_command(json!({"cmd": "forget_media", "url": url}))
        .await;
    assert!(forgotten["url"].is_string(), "{forgotten}");
    assert_eq!(
        client.call("media_download", params.clone()).await.unwrap()["bytes"],
        50_000
    );
    assert_eq!(std::fs::read(&output).unwrap(), plaintext);
    // The media object alone cannot be refreshed: media_expired.
    let old = json!({"media": message["media"], "output": output});
    assert_eq!(code(&mut client, "media_download", old).await, -32008);

    // Gone for good (404 at the host, and the phone has lost it too): media_expired.
    let fresh = forgotten["url"].as_str().unwrap();
    harness
        .sim_command(json!({"cmd": "forget_media", "url": fresh, "status": 404, "for_good": true}))
        .await;
    let error = client.call("media_download", params).await.unwrap_err();
    assert_eq!(
        (error["code"].as_i64(), error["data"]["kind"].as_str()),
        (Some(-32008), Some("media_expired"))
    );

    // Not stored, stored without media, wrong owner, both or neither.
    harness
        .sim_command(json!({"cmd": "send_text", "from": THIRD, "text": "plain"}))
        .await;
    let text = client.event("message").await;
    for (params, expected) in [
        (
            json!({"message": {"chat": THIRD, "id": "NOPE", "from_me": false}, "output": output}),
            -32009,
        ),
        (
            json!({"message": {"chat": THIRD, "id": message["id"], "from_me": true}, "output": output}),
            -32009,
        ),
        (
            json!({"message": {"chat": THIRD, "id": text["id"], "from_me": false}, "output": output}),
            -32602,
        ),
        (
            json!({"message": reference, "media": message["media"], "output": output}),
            -32602,
        ),
        (json!({"output": output}), -32602),
    ] {
        assert_eq!(
            code(&mut client, "media_download", params.clone()).await,
            expected,
            "{params}"
        );
    }
}

#[tokio::test]
async fn query_sends_nodes_and_set_actions() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let reply = client
        .call("query", json!({"node": {"tag": "query", "attrs": {"type": "contacts"}, "content": null}, "metric": 6}))
        .await
        .unwrap();
    assert_eq!(reply["reply_node"]["tag"], "response");
    assert_eq!(reply["reply_node"]["attrs"]["type"], "contacts");
    let line = loop {
        let line = harness.sim_line("received").await;
        if line["node"]["attrs"]["type"] == "contacts" && line["metric"].is_u64() {
            break line;
        }
    };
    assert_eq!(
        (line["metric"].as_u64(), line["flags"].as_u64()),
        (Some(6), Some(0x80))
    );
    assert!(line["node"]["attrs"]["epoch"].is_string(), "{line}");

    let reply = client
        .call(
            "query",
            json!({"set": {"tag": "profile", "attrs": {"name": "Raw"}}, "metric": 10}),
        )
        .await
        .unwrap();
    assert_eq!(reply["reply"], json!({"status": 200, "pushname": "Raw"}));
    assert_eq!(
        harness.sim_command(json!({"cmd": "profile"})).await["pushname"],
        "Raw"
    );
    let reply = client
        .call(
            "query",
            json!({"json": ["query", "exist", "4915100000099@c.us"]}),
        )
        .await
        .unwrap();
    assert_eq!(reply, json!({"reply": {"status": 404}}));
    for params in [
        json!({"node": {"tag": "query"}}),
        json!({"node": {"attrs": {}}, "metric": 5}),
        json!({"json": [1], "set": {"tag": "x"}, "metric": 5}),
        json!({"set": {"tag": "x", "content": {"base64": "!!"}}, "metric": 5}),
    ] {
        assert_eq!(code(&mut client, "query", params).await, -32602);
    }
}

#[tokio::test]
async fn wawebctl_profile_commands_against_the_real_daemon() {
    let mut harness = Harness::start().await;
    let _client = harness.pair().await;
    let socket = harness.socket().to_owned();
    let ctl = |args: &'static [&'static str]| crate::ctl::spawn_ctl(&socket, args);
    let (result, out) = ctl(&["on-whatsapp", "4915100000001", "4915100000099"])
        .await
        .unwrap();
    assert_eq!(result, Ok(()));
    assert_eq!(
        out,
        "NUMBER        JID                          ON WHATSAPP BUSINESS\n\
         4915100000001 4915100000001@s.whatsapp.net yes         no\n\
         4915100000099 4915100000099@s.whatsapp.net no          no\n"
    );
    let (result, out) = ctl(&["about", "4915100000001"]).await.unwrap();
    assert_eq!(
        (result, out.as_str()),
        (Ok(()), "Hey there! I am using WhatsApp.\n")
    );
    assert_eq!(ctl(&["block", "4915100000003"]).await.unwrap().0, Ok(()));
    let (_, out) = ctl(&["blocklist"]).await.unwrap();
    assert_eq!(out, format!("JID\n{THIRD}\n"));
    let (_, out) = ctl(&["--json", "picture", "4915100000002"]).await.unwrap();
    assert_eq!(out, "{\"url\":null}\n");
    assert_eq!(ctl(&["set-name", "Ctl"]).await.unwrap().0, Ok(()));
    assert_eq!(
        harness.sim_command(json!({"cmd": "profile"})).await["pushname"],
        "Ctl"
    );
}

#[tokio::test]
async fn a_server_that_stops_answering_is_a_timeout_and_no_connection_not_connected() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "half_open"})).await;
    let error = client
        .call("about", json!({"jid": FIRST}))
        .await
        .unwrap_err();
    assert_eq!(
        (error["code"].as_i64(), error["data"]["kind"].as_str()),
        (Some(-32005), Some("timeout"))
    );
    // Without the daemon's connection (it is stopped and started with the server unreachable).
    harness.stop_daemon().await;
    // A port the OS just gave out and nobody listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    harness.config.server_url = format!("ws://{closed}/ws");
    harness.start_daemon().await;
    let mut client = harness.client().await;
    for (method, params) in [
        ("on_whatsapp", json!({"numbers": [FIRST]})),
        ("profile_picture", json!({"jid": FIRST})),
        ("set_about", json!({"text": "x"})),
        ("block", json!({"jid": FIRST})),
        ("blocklist", json!({})),
    ] {
        assert_eq!(code(&mut client, method, params).await, -32003, "{method}");
    }
}
