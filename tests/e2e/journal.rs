//! The journal over the socket: slow subscribers served from it, replays, cursors, retention
//! and a corrupt database (DESIGN.md 6.1).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Harness, Options};

const FROM: &str = "4915100000001@s.whatsapp.net";

async fn send(harness: &Harness, text: String) {
    harness
        .sim_command(json!({"cmd": "send_text", "from": FROM, "text": text}))
        .await;
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_through_heavy_traffic_loses_nothing() {
    let mut harness = Harness::start_with(Options {
        paused: true,
        ..Options::default()
    })
    .await;
    let mut reader = harness.pair().await;
    // 10,000 messages over a virtual minute while the reader reads nothing: far more than the
    // socket buffer, the connection's queue (4,096 lines) and the bus's ring (4,096) hold.
    for n in 0..10_000 {
        send(&harness, format!("m{n}")).await;
        if n % 170 == 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let mut next = 0;
    while next < 10_000 {
        let message = reader.event("message").await;
        assert_eq!(message["text"], format!("m{next}"), "in order, none lost");
        next += 1;
    }
    let status = reader.call("status", Value::Null).await.unwrap();
    assert_eq!(
        status["state"], "connected",
        "still subscribed and answered"
    );
}

#[tokio::test]
async fn since_replays_then_goes_live_and_consumers_keep_their_place() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    for n in 0..20 {
        send(&harness, format!("m{n}")).await;
    }
    while client.event("message").await["text"] != "m19" {}
    let mut seqs = Vec::new();
    let journal = client
        .call("events", json!({"types": ["message"]}))
        .await
        .unwrap();
    for event in journal["events"].as_array().unwrap() {
        seqs.push(event["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs.len(), 20);
    let head = journal["head"].as_u64().unwrap();

    let mut replay = harness.client().await;
    let subscribed = replay
        .call(
            "subscribe",
            json!({"events": ["message"], "since": seqs[9]}),
        )
        .await
        .unwrap();
    assert_eq!(
        (subscribed["head"].as_u64(), subscribed["gap"].clone()),
        (Some(head), json!(false))
    );
    for n in 10..20 {
        assert_eq!(replay.event("message").await["text"], format!("m{n}"));
    }
    send(&harness, "live".into()).await;
    assert_eq!(replay.event("message").await["text"], "live");

    let refused = replay
        .call("subscribe", json!({"since": head + 1000}))
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32602);
    // Out-of-range windows are empty, never an error of the database.
    for window in [
        json!({"since": u64::MAX}),
        json!({"since": 5, "until": 3}),
        json!({"until": u64::MAX, "limit": 0, "types": ["qr"]}),
    ] {
        let read = replay.call("events", window.clone()).await.unwrap();
        assert_eq!(read["events"], json!([]), "{window}");
    }
    let refused = replay
        .call("events", json!({"limit": -1}))
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32602);
    let refused = replay
        .call("commit", json!({"consumer": "bot", "seq": head + 1000}))
        .await
        .unwrap_err();
    assert_eq!(refused["data"]["kind"], "invalid_params");
    let refused = replay
        .call("subscribe", json!({"consumer": "Not Valid"}))
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32602);

    let committed = replay
        .call("commit", json!({"consumer": "bot", "seq": seqs[4]}))
        .await
        .unwrap();
    assert_eq!(committed["seq"].as_u64(), Some(seqs[4]));
    let listed = replay.call("consumers", Value::Null).await.unwrap();
    assert_eq!(listed["consumers"][0]["name"], "bot");
    let mut bot = harness.client().await;
    bot.call(
        "subscribe",
        json!({"events": ["message"], "consumer": "bot"}),
    )
    .await
    .unwrap();
    assert_eq!(bot.event("message").await["text"], "m5");
}

#[tokio::test]
async fn retention_prunes_the_oldest_and_gap_says_so() {
    let mut harness = Harness::start_with(Options {
        journal: wawebd::journal::Retention {
            max_bytes: 20_000,
            check_every: Duration::ZERO,
            ..wawebd::journal::Retention::default()
        },
        ..Options::default()
    })
    .await;
    let mut client = harness.pair().await;
    for n in 0..200 {
        send(&harness, format!("m{n}")).await;
    }
    while client.event("message").await["text"] != "m199" {}
    let mut late = harness.client().await;
    let subscribed = late
        .call("subscribe", json!({"events": ["message"], "since": 0}))
        .await
        .unwrap();
    assert_eq!(subscribed["gap"], true);
    let first = late.event("message").await;
    assert_ne!(first["text"], "m0", "the oldest are gone");
    let kept = client
        .call("events", json!({"types": ["message"], "limit": 1000}))
        .await
        .unwrap();
    let kept = kept["events"].as_array().unwrap().len();
    assert!((10..200).contains(&kept), "{kept} kept");
}

#[tokio::test]
async fn a_corrupt_database_is_moved_aside_and_the_daemon_still_starts() {
    let mut harness = Harness::start().await;
    harness.stop_daemon().await;
    let db = harness.config.state_dir.join("waweb.db");
    let _ = std::fs::remove_file(harness.config.state_dir.join("waweb.db-wal"));
    let _ = std::fs::remove_file(harness.config.state_dir.join("waweb.db-shm"));
    std::fs::write(&db, vec![0x5a; 8192]).unwrap();
    harness.start_daemon().await;
    let mut client = harness.pair().await;
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["state"], "connected");
    let names: HashSet<String> = std::fs::read_dir(&harness.config.state_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|name| name.starts_with("waweb.db.corrupt-")),
        "{names:?}"
    );
    let aside = names
        .iter()
        .find(|name| name.starts_with("waweb.db.corrupt-"))
        .unwrap();
    let kept = std::fs::read(harness.config.state_dir.join(aside)).unwrap();
    assert_eq!(kept, vec![0x5a; 8192], "the broken file is kept as it was");
}
