//! `send_media` end to end (DESIGN.md 7.1): every kind uploaded to the simulator's media host
//! and verified by its phone (`media_ok` on the `received` line: the simulator's check, not
//! ours), an upload host failing once, a refusal by the host, the server's `Props` limits, paths
//! inside the daemon's folders, and idempotency keys that never upload twice.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use waweb_core::message::{self, pb};

use crate::support::{Client, Harness};

const TO: &str = "4915100000001@s.whatsapp.net";

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, 99])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// Bytes that start like a file of that kind and go on with a pattern.
fn file_like(head: &[u8], len: usize) -> Vec<u8> {
    let mut bytes = head.to_vec();
    bytes.extend((0..len.saturating_sub(head.len())).map(|i| (i * 31 % 251) as u8));
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The `received` line of the relay with this message id, and the message it carried.
async fn received(harness: &mut Harness, id: &str) -> (Value, pb::WebMessageInfo) {
    loop {
        let line = harness.sim_line("received").await;
        if line["tag"] != id {
            continue;
        }
        let child = &line["node"]["content"][0];
        assert_eq!(child["tag"], "message", "{line}");
        let bytes = STANDARD
            .decode(child["content"]["base64"].as_str().unwrap())
            .unwrap();
        let info = message::decode_web_message_info(&bytes).unwrap();
        return (line, info);
    }
}

async fn send(client: &mut Client, params: Value) -> Result<Value, Value> {
    client.call("send_media", params).await
}

#[tokio::test]
async fn every_kind_reaches_the_phone_intact() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let dir = harness.dir.path().to_owned();
    let ogg = file_like(
        b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead",
        7_000,
    );
    let cases = [
        ("image", write(&dir, "cat.png", &png(64, 32)), "image/png"),
        (
            "video",
            write(&dir, "clip", &file_like(b"\0\0\0\x20ftypisom", 300_000)),
            "video/mp4",
        ),
        (
            "audio",
            write(&dir, "song.mp3", &file_like(b"ID3\x04", 50_000)),
            "audio/mpeg",
        ),
        (
            "voice",
            write(&dir, "note.ogg", &ogg),
            "audio/ogg; codecs=opus",
        ),
        (
            "document",
            write(&dir, "report.pdf", &file_like(b"%PDF-1.7\n", 100_003)),
            "application/pdf",
        ),
        (
            "sticker",
            write(
                &dir,
                "smile.webp",
                &file_like(b"RIFF\0\0\0\0WEBPVP8 ", 4_000),
            ),
            "image/webp",
        ),
    ];
    for (kind, path, mimetype) in cases {
        let mut params = json!({"to": TO, "kind": kind, "path": path});
        match kind {
            "image" => params["caption"] = json!("a cat"),
            "video" => params["gif"] = json!(true),
            "document" => params["file_name"] = json!("Q3 report.pdf"),
            _ => {}
        }
        let result = send(&mut client, params).await.unwrap();
        let id = result["id"].as_str().unwrap().to_owned();
        assert_eq!(result["status"], 200, "{kind}: {result}");
        let media = &result["media"];
        let expected_kind = if kind == "voice" { "audio" } else { kind };
        assert_eq!(media["kind"], expected_kind, "{kind}: {result}");
        assert_eq!(media["mimetype"], mimetype, "{kind}");
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(media["file_length"], size, "{kind}");
        let (line, info) = received(&mut harness, &id).await;
        assert_eq!(line["media_ok"], true, "{kind}: {line}");
        assert_eq!(line["messages"][0]["media"]["url"], media["url"], "{kind}");
        let content = info.message.unwrap();
        match kind {
            "image" => {
                let image = content.image_message.unwrap();
                assert_eq!((image.width, image.height), (Some(64), Some(32)));
                assert_eq!(image.caption.as_deref(), Some("a cat"));
                let thumbnail = image.jpeg_thumbnail.expect("a thumbnail");
                assert_eq!(&thumbnail[..3], b"\xff\xd8\xff");
                assert_eq!(
                    (media["width"].clone(), media["height"].clone()),
                    (json!(64), json!(32))
                );
                assert!(result.get("thumbnail_skipped").is_none(), "{result}");
            }
            "video" => {
                let video = content.video_message.unwrap();
                assert_eq!(video.gif_playback, Some(true));
                assert!(video.jpeg_thumbnail.is_none());
                assert!(
                    result["thumbnail_skipped"]
                        .as_str()
                        .unwrap()
                        .contains("video frame")
                );
            }
            "audio" => assert_eq!(content.audio_message.unwrap().ptt, None),
            "voice" => assert_eq!(content.audio_message.unwrap().ptt, Some(true)),
            "document" => {
                let document = content.document_message.unwrap();
                assert_eq!(document.file_name.as_deref(), Some("Q3 report.pdf"));
            }
            _ => assert!(content.sticker_message.is_some()),
        }
    }
}

#[tokio::test]
async fn a_failing_host_is_followed_by_the_next_and_a_refusal_is_reported() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let path = write(harness.dir.path(), "cat.png", &png(8, 8));
    harness
        .sim_command(json!({"cmd": "fail_upload", "status": 503}))
        .await;
    let result = send(
        &mut client,
        json!({"to": TO, "kind": "image", "path": path}),
    )
    .await
    .unwrap();
    let first = harness.sim_line("upload").await;
    let second = harness.sim_line("upload").await;
    assert_eq!(first["status"], 503);
    assert_eq!(second["status"], 200);
    assert_ne!(first["host"], second["host"], "the next host was tried");
    let id = result["id"].as_str().unwrap().to_owned();
    assert_eq!(received(&mut harness, &id).await.0["media_ok"], true);

    // A 4xx is the host refusing this file: no other host is tried, nothing is queued.
    harness
        .sim_command(json!({"cmd": "fail_upload", "status": 413}))
        .await;
    let error = send(
        &mut client,
        json!({"to": TO, "kind": "image", "path": path}),
    )
    .await
    .unwrap_err();
    assert_eq!(error["code"], -32004, "{error}");
    assert_eq!(error["data"]["status"], 413, "{error}");
    assert_eq!(harness.sim_line("upload").await["status"], 413);
    let outbox = client.call("outbox", Value::Null).await.unwrap();
    assert_eq!(outbox["messages"], json!([]));
    // The next upload is the next send's, on the first host again.
    send(
        &mut client,
        json!({"to": TO, "kind": "image", "path": path}),
    )
    .await
    .unwrap();
    let line = harness.sim_line("upload").await;
    assert_eq!(
        (line["status"].clone(), line["host"].clone()),
        (json!(200), first["host"].clone())
    );
}

#[tokio::test]
async fn props_limits_refuse_before_the_upload() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let image = write(
        harness.dir.path(),
        "big.png",
        &file_like(b"\x89PNG\r\n\x1a\n", 3_000),
    );
    let document = write(harness.dir.path(), "small.txt", b"milk\neggs\n");
    harness
        .sim_command(json!({"cmd": "push_json", "payload": ["Props", {"imageMaxKBytes": 2}]}))
        .await;
    loop {
        let event = client.event("json").await;
        if event["payload"][0] == "Props" {
            break;
        }
    }
    let error = send(
        &mut client,
        json!({"to": TO, "kind": "image", "path": image}),
    )
    .await
    .unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("imageMaxKBytes") && message.contains("2048"),
        "{message}"
    );
    // Nothing went to the media host: the next upload is the document's.
    send(
        &mut client,
        json!({"to": TO, "kind": "document", "path": document}),
    )
    .await
    .unwrap();
    assert_eq!(harness.sim_line("upload").await["path"], "/mms/document");
}

#[tokio::test]
async fn files_of_the_daemon_and_bad_params_are_refused() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let dir = harness.dir.path().to_owned();
    let link = dir.join("innocent.json");
    std::os::unix::fs::symlink(harness.session_file(), &link).unwrap();
    let state_link = dir.join("state-link");
    std::os::unix::fs::symlink(&harness.config.state_dir, &state_link).unwrap();
    let cat = write(&dir, "cat.png", &png(4, 4));
    let run_file = write(harness.socket().parent().unwrap(), "notes", b"x");
    for (params, needle) in [
        (
            json!({"kind": "document", "path": harness.session_file()}),
            "state directory",
        ),
        (json!({"kind": "document", "path": link}), "state directory"),
        (
            json!({"kind": "document", "path": state_link.join("waweb.db")}),
            "state directory",
        ),
        (
            json!({"kind": "document", "path": harness.socket()}),
            "socket directory",
        ),
        (
            json!({"kind": "document", "path": run_file}),
            "socket directory",
        ),
        (json!({"kind": "document", "path": "cat.png"}), "absolute"),
        (
            json!({"kind": "document", "path": dir.join("missing")}),
            "cannot read",
        ),
        (
            json!({"kind": "audio", "path": cat, "caption": "x"}),
            "caption",
        ),
        (json!({"kind": "image", "path": cat, "gif": true}), "gif"),
        (
            json!({"kind": "image", "path": cat, "mimetype": "nonsense"}),
            "MIME",
        ),
        (
            json!({"kind": "image", "path": cat, "to": "not a number"}),
            "phone number",
        ),
    ] {
        let mut params = params;
        if params.get("to").is_none() {
            params["to"] = json!(TO);
        }
        let error = send(&mut client, params.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{params}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(needle), "{params}: {message}");
    }
    let outbox = client.call("outbox", Value::Null).await.unwrap();
    assert_eq!(outbox["messages"], json!([]));
}

#[tokio::test]
async fn a_repeated_key_returns_the_first_send_without_uploading_again() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let dir = harness.dir.path().to_owned();
    let cat = write(&dir, "cat.png", &png(16, 16));
    let other = write(&dir, "other.txt", b"another file");
    let params = json!({"to": TO, "kind": "image", "path": cat, "idempotency_key": "cat-1"});
    // Two at once: one upload, one message, both answered with it.
    let mut second = harness.client().await;
    let (first, again) = tokio::join!(
        send(&mut client, params.clone()),
        send(&mut second, params.clone())
    );
    let (first, again) = (first.unwrap(), again.unwrap());
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["media"], again["media"]);
    // And once more later, from the outbox.
    let later = send(&mut client, params).await.unwrap();
    assert_eq!(later["id"], first["id"]);
    assert_eq!(later["media"], first["media"]);
    assert_eq!(later["status"], 200);
    // One image upload and one relay only, up to the next send's.
    let next = send(
        &mut client,
        json!({"to": TO, "kind": "document", "path": other}),
    )
    .await
    .unwrap();
    let (mut uploads, mut relays) = (Vec::new(), 0);
    loop {
        let line = tokio::time::timeout(crate::support::deadline(), harness.sim_output.recv())
            .await
            .unwrap()
            .unwrap();
        match line["type"].as_str() {
            Some("upload") => uploads.push(line["path"].clone()),
            Some("relayed") if line["id"] == first["id"] => relays += 1,
            Some("relayed") if line["id"] == next["id"] => break,
            _ => {}
        }
    }
    assert_eq!(uploads, [json!("/mms/image"), json!("/mms/document")]);
    assert_eq!(relays, 1);
}

#[tokio::test]
async fn uploads_go_over_https_when_the_server_speaks_tls() {
    let mut harness = Harness::start_with(crate::support::Options {
        tls: true,
        ..crate::support::Options::default()
    })
    .await;
    let mut client = harness.pair().await;
    let path = write(harness.dir.path(), "cat.png", &png(8, 8));
    let result = send(
        &mut client,
        json!({"to": TO, "kind": "image", "path": path}),
    )
    .await
    .unwrap();
    assert!(
        result["media"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://"),
        "{result}"
    );
    let id = result["id"].as_str().unwrap().to_owned();
    assert_eq!(received(&mut harness, &id).await.0["media_ok"], true);
}

#[tokio::test]
async fn without_a_connection_and_without_upload_hosts_it_is_not_connected() {
    let mut harness = Harness::start_with(crate::support::Options {
        paused: true,
        ..crate::support::Options::default()
    })
    .await;
    let mut client = harness.pair().await;
    let path = write(harness.dir.path(), "cat.png", &png(8, 8));
    harness.sim_command(json!({"cmd": "drop"})).await;
    client.event("disconnected").await;
    let error = send(
        &mut client,
        json!({"to": TO, "kind": "image", "path": path}),
    )
    .await
    .unwrap_err();
    assert_eq!(error["code"], -32003, "{error}");
    let outbox = client.call("outbox", Value::Null).await.unwrap();
    assert_eq!(outbox["messages"], json!([]));
}

#[tokio::test]
async fn an_image_quotes_and_mentions_like_a_text_and_a_bad_mention_uploads_nothing() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let dir = harness.dir.path().to_owned();
    let path = write(&dir, "cat.png", &png(16, 16));
    let other = "4915100000002@s.whatsapp.net";
    let params = json!({
        "to": TO, "kind": "image", "path": path, "caption": "@4915100000002 look",
        "quote": {"chat": TO, "id": "3AA5NOTSTORED", "from_me": false},
        "mentions": [other],
    });
    let result = send(&mut client, params).await.unwrap();
    let id = result["id"].as_str().unwrap().to_owned();
    let (line, info) = received(&mut harness, &id).await;
    assert_eq!(line["media_ok"], true, "{line}");
    let image = info.message.unwrap().image_message.unwrap();
    let context = image.context_info.expect("the quote and mentions");
    assert_eq!(context.stanza_id.as_deref(), Some("3AA5NOTSTORED"));
    assert_eq!(context.participant.as_deref(), Some(TO));
    assert_eq!(context.mentioned_jid, [other]);
    // What the phone decoded says the same.
    assert_eq!(
        line["messages"][0]["quoted"]["id"], "3AA5NOTSTORED",
        "{line}"
    );
    assert_eq!(line["messages"][0]["mentions"], json!([other]), "{line}");

    // A mention that is not a person is refused before anything is read or uploaded.
    let params = json!({"to": TO, "kind": "image", "path": path, "mentions": ["1-2@g.us"]});
    let error = send(&mut client, params).await.unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");
    // Nothing was queued for it, and the first image, answered, is done.
    let outbox = client.call("outbox", json!({})).await.unwrap();
    assert_eq!(outbox["messages"], json!([]), "{outbox}");
}
