//! The simulator's profile side as a legacy client sees it (PROTOCOL.md 11.1, 11.2, 10.5):
//! what each set-action changes is what the next query answers.

mod client;

use std::io::Cursor;

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};
use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::message;

use client::*;

const ALICE: &str = "4915100000001@s.whatsapp.net";
const ME: &str = "4915100000000@c.us";

async fn ask(client: &mut Client, tag: &str, payload: Value) -> Value {
    client.send_json(tag, payload).await;
    client.until_tag(tag).await.1
}

/// A set-action with one child; the JSON reply and the frames that came before it.
async fn set(client: &mut Client, tag: &str, metric: u8, flags: u8, child: Node) -> Value {
    let node = Node::new("action")
        .attr("type", "set")
        .attr("epoch", "1")
        .with_content(Content::List(vec![child]));
    client.send_node(tag, metric, flags, &node).await;
    client.until_tag(tag).await.1
}

fn jpeg(side: u32) -> Vec<u8> {
    let image = ImageBuffer::from_pixel(side, side, Rgb([10u8, 200, 10]));
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .unwrap();
    out
}

fn picture(id: &str, image: Vec<u8>, preview: Vec<u8>) -> Node {
    Node::new("picture")
        .attr("jid", ME)
        .attr("id", id.to_owned())
        .attr("type", "set")
        .with_content(Content::List(vec![
            Node::new("image").with_content(Content::Bytes(image)),
            Node::new("preview").with_content(Content::Bytes(preview)),
        ]))
}

#[tokio::test]
async fn exist_knows_contacts_us_and_added_numbers() {
    let (sim, mut client) = paired("cHJvZmlsZWV4aXN0cHJvZg==").await;
    let reply = ask(
        &mut client,
        "e1",
        json!(["query", "exist", "4915100000001@c.us"]),
    )
    .await;
    assert_eq!(
        reply,
        json!({"status": 200, "jid": "4915100000001@c.us", "biz": false})
    );
    let reply = ask(
        &mut client,
        "e2",
        json!(["query", "exist", "4915100000088@c.us"]),
    )
    .await;
    assert_eq!(reply, json!({"status": 404}));
    sim.command(json!({"cmd": "on_whatsapp", "number": "4915100000088", "business": true}))
        .await
        .unwrap();
    let reply = ask(
        &mut client,
        "e3",
        json!(["query", "exist", "4915100000088@c.us"]),
    )
    .await;
    assert_eq!(
        reply,
        json!({"status": 200, "jid": "4915100000088@c.us", "biz": true})
    );
    sim.command(json!({"cmd": "on_whatsapp", "number": "4915100000088", "remove": true}))
        .await
        .unwrap();
    let reply = ask(
        &mut client,
        "e4",
        json!(["query", "exist", "4915100000088@c.us"]),
    )
    .await;
    assert_eq!(reply, json!({"status": 404}));
}

#[tokio::test]
async fn a_picture_set_is_checked_stored_and_served() {
    let (sim, mut client) = paired("cHJvZmlsZXBpY3R1cmVwcg==").await;
    // A contact's picture is served at its eurl; another contact has none.
    let alice = ask(
        &mut client,
        "p1",
        json!(["query", "ProfilePicThumb", "4915100000001@c.us"]),
    )
    .await;
    let served = http_get(alice["eurl"].as_str().unwrap()).await.unwrap();
    assert_eq!(image::guess_format(&served).unwrap(), ImageFormat::Jpeg);
    let none = ask(
        &mut client,
        "p2",
        json!(["query", "ProfilePicThumb", "4915100000002@c.us"]),
    )
    .await;
    assert_eq!(none, json!({"status": 404}));
    assert_eq!(
        ask(&mut client, "p3", json!(["query", "ProfilePicThumb", ME])).await,
        json!({"status": 404})
    );

    // Wrong sizes, or an id that is not the tag: refused, nothing stored.
    let wrong = set(
        &mut client,
        "p4",
        14,
        0x88,
        picture("p4", jpeg(320), jpeg(96)),
    )
    .await;
    assert_eq!(wrong, json!({"status": 400}));
    let untagged = set(
        &mut client,
        "p5",
        14,
        0x88,
        picture("other", jpeg(640), jpeg(96)),
    )
    .await;
    assert_eq!(untagged, json!({"status": 400}));
    let not_jpeg = set(
        &mut client,
        "p6",
        14,
        0x88,
        picture("p6", b"\x89PNG".to_vec(), jpeg(96)),
    )
    .await;
    assert_eq!(not_jpeg, json!({"status": 400}));
    assert_eq!(
        ask(&mut client, "p7", json!(["query", "ProfilePicThumb", ME])).await,
        json!({"status": 404})
    );

    let image = jpeg(640);
    let reply = set(
        &mut client,
        "p8",
        14,
        0x88,
        picture("p8", image.clone(), jpeg(96)),
    )
    .await;
    assert_eq!(reply["status"], 200);
    let ours = ask(&mut client, "p9", json!(["query", "ProfilePicThumb", ME])).await;
    assert_eq!(ours["eurl"], reply["eurl"]);
    assert_eq!(
        http_get(ours["eurl"].as_str().unwrap()).await.unwrap(),
        image
    );
    let state = sim.command(json!({"cmd": "profile"})).await.unwrap();
    assert_eq!(state["picture"], reply["eurl"]);
}

#[tokio::test]
async fn about_name_and_block_set_actions_change_what_is_read_back() {
    let (sim, mut client) = paired("cHJvZmlsZWFib3V0bmFtZQ==").await;
    let alice = ask(
        &mut client,
        "a1",
        json!(["query", "Status", "4915100000001@c.us"]),
    )
    .await;
    assert_eq!(alice, json!({"status": "Hey there! I am using WhatsApp."}));
    let third = ask(
        &mut client,
        "a2",
        json!(["query", "Status", "4915100000003@c.us"]),
    )
    .await;
    assert_eq!(third, json!({"status": 404}));
    let text = "Am Strand 🌊";
    let status = Node::new("status").with_content(Content::Bytes(text.as_bytes().to_vec()));
    assert_eq!(
        set(&mut client, "a3", 10, 0x80, status).await,
        json!({"status": 200})
    );
    assert_eq!(
        ask(&mut client, "a4", json!(["query", "Status", ME])).await,
        json!({"status": text})
    );

    // The name: answered with pushname, then a Conn push carries it (as B saw).
    let profile = Node::new("profile").attr("name", "Neu");
    assert_eq!(
        set(&mut client, "a5", 10, 0x80, profile).await,
        json!({"status": 200, "pushname": "Neu"})
    );
    let (_, conn) = client.next_json().await;
    assert_eq!(conn, json!(["Conn", {"pushname": "Neu"}]));
    assert_eq!(
        sim.command(json!({"cmd": "profile"})).await.unwrap()["pushname"],
        "Neu"
    );

    let block = |kind: &'static str| {
        Node::new("block")
            .attr("type", kind)
            .with_content(Content::List(vec![
                Node::new("user").attr("jid", message::jid_for_json_command(ALICE)),
            ]))
    };
    assert_eq!(
        set(&mut client, "a6", 18, 0x80, block("add")).await,
        json!({"status": 200})
    );
    let (_, list) = client.next_json().await;
    assert_eq!(
        list,
        json!(["Blocklist", {"id": 1, "blocklist": ["4915100000001@c.us"]}])
    );
    assert_eq!(
        set(&mut client, "a7", 18, 0x80, block("remove")).await,
        json!({"status": 200})
    );
    let (_, list) = client.next_json().await;
    assert_eq!(list, json!(["Blocklist", {"id": 1, "blocklist": []}]));
    let odd = Node::new("block").attr("type", "toggle");
    assert_eq!(
        set(&mut client, "a8", 18, 0x80, odd).await,
        json!({"status": 400})
    );
}

#[tokio::test]
async fn a_forgotten_url_is_answered_anew_by_the_media_query_until_it_is_gone_for_good() {
    let (sim, mut client) = paired("cHJvZmlsZW1lZGlhcXVlcg==").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, b"pretend jpeg").unwrap();
    let sent = sim
        .command(json!({"cmd": "send_media", "from": ALICE, "kind": "image", "path": path}))
        .await
        .unwrap();
    let (_, node) = client.next_node().await;
    let info =
        message::decode_web_message_info(node.children()[0].content_bytes().unwrap()).unwrap();
    let url = info.message.unwrap().image_message.unwrap().url.unwrap();
    let body = http_get(&url).await.unwrap();
    let forgotten = sim
        .command(json!({"cmd": "forget_media", "url": url}))
        .await
        .unwrap();
    assert_eq!(http_get(&url).await, Err(410));
    let query = |tag: &str| {
        Node::new("query")
            .attr("type", "media")
            .attr("index", sent["id"].as_str().unwrap().to_owned())
            .attr("owner", "false")
            .attr("jid", ALICE)
            .attr("epoch", tag.to_owned())
    };
    client.send_node("m1", 4, 0x80, &query("1")).await;
    let (tag, reply) = client.next_node().await;
    assert_eq!(tag, "m1");
    let fresh = reply.get("url").unwrap().to_owned();
    assert_eq!(Some(fresh.as_str()), forgotten["url"].as_str());
    assert_eq!(http_get(&fresh).await.unwrap(), body);

    sim.command(json!({"cmd": "forget_media", "url": fresh, "status": 404, "for_good": true}))
        .await
        .unwrap();
    assert_eq!(http_get(&fresh).await, Err(404));
    client.send_node("m2", 4, 0x80, &query("2")).await;
    assert_eq!(client.until_tag("m2").await.1, json!({"status": 404}));
    let refused = sim
        .command(json!({"cmd": "forget_media", "url": fresh, "status": 500}))
        .await;
    assert!(refused.is_err());
}
