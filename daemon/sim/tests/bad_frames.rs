//! The simulator's `bad_frames`: each kind of damage, exactly as many frames as asked for, and
//! the connection still carries good frames after them.

mod client;

use serde_json::json;

use client::*;
use waweb_core::wire::FrameCipher;

#[tokio::test]
async fn bad_frames_are_damaged_as_named_and_counted() {
    let sim = start().await;
    let mut client = connect(&sim, "YmFkZnJhbWVzYmFkZnJhbQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let cipher = FrameCipher::new(client.keys.as_ref().unwrap());

    for kind in ["hmac", "truncated"] {
        let done = sim
            .command(json!({"cmd": "bad_frames", "kind": kind, "count": 3}))
            .await
            .unwrap();
        assert_eq!(done["frames"], 3);
        for _ in 0..3 {
            let Frame::Binary(data) = client.next().await else {
                panic!("{kind}: a binary frame");
            };
            // The tag is whole; the rest does not open.
            assert!(data.starts_with(b"bad-"), "{kind}: {data:?}");
            assert!(cipher.open_server_frame(&data).is_err(), "{kind} opened");
        }
    }

    sim.command(json!({"cmd": "bad_frames", "kind": "tiny", "count": 500}))
        .await
        .unwrap();
    for _ in 0..500 {
        let Frame::Binary(data) = client.next().await else {
            panic!("a tiny binary frame");
        };
        assert!((1..=3).contains(&data.len()), "{data:?}");
    }
    // Nothing more than asked for: the next frame is a good one again.
    sim.command(json!({"cmd": "battery", "percent": 42}))
        .await
        .unwrap();
    // It opens and decodes (next_node fails otherwise).
    let (tag, _) = client.next_node().await;
    assert!(!tag.starts_with("bad-"), "{tag}");

    for (bad, says) in [
        (json!({"cmd": "bad_frames", "kind": "huge"}), "kind is"),
        (json!({"cmd": "bad_frames"}), "kind"),
        (
            json!({"cmd": "bad_frames", "kind": "tiny", "count": 0}),
            "count must be",
        ),
        (
            json!({"cmd": "bad_frames", "kind": "tiny", "count": 1_000_001}),
            "count must be",
        ),
    ] {
        let error = sim.command(bad.clone()).await.unwrap_err().0;
        assert!(error.contains(says), "{bad}: {error}");
    }
}
