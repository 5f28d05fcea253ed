//! The simulator's `drop_at`: the cut comes at the moment named, once, is reported, and what the
//! client still sent on the dead connection changes nothing (a restore's tokens stay valid).

mod client;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use client::*;
use waweb_sim::Sim;

const CLIENT_ID: &str = "ZHJvcGRyb3Bkcm9wZHJvcA==";

/// A restore on a new connection with `conn`'s tokens is accepted at once: `Conn`, no
/// challenge (stale tokens would be challenged); the new `Conn`, with the rotated tokens.
async fn restores_cleanly(sim: &Sim, conn: &Value) -> Value {
    let mut client = connect(sim, CLIENT_ID).await;
    client.restore(conn, "takeover").await;
    let (tag, _) = client.next_json().await;
    assert_eq!(tag, "2.--0");
    let (tag, push) = client.next_json().await;
    assert_eq!((tag.as_str(), &push[0]), ("s1", &json!("Conn")), "{push}");
    push[1].clone()
}

/// A restore with stale tokens (`conn`'s, from before the last rotation): challenged, answered
/// with `paired`'s keys; the new `Conn`.
async fn restores_challenged(sim: &Sim, paired: &Client, conn: &Value) -> Value {
    let mut client = connect(sim, CLIENT_ID).await;
    client.keys = paired.keys.clone();
    client.restore(conn, "takeover").await;
    client.next_json().await;
    let (tag, challenge) = client.next_json().await;
    assert_eq!(
        (tag.as_str(), challenge[1]["type"].as_str()),
        ("s1", Some("challenge")),
        "{challenge}"
    );
    let bytes = BASE64
        .decode(challenge[1]["challenge"].as_str().unwrap())
        .unwrap();
    let answer = client.keys.as_ref().unwrap().challenge_answer(&bytes);
    let frame = json!(["admin", "challenge", answer, conn["serverToken"], CLIENT_ID]);
    client.send_json("2.--2", frame).await;
    assert_eq!(
        client.next_json().await,
        ("2.--2".into(), json!({"status": 200}))
    );
    let (tag, push) = client.next_json().await;
    assert_eq!((tag.as_str(), &push[0]), ("s2", &json!("Conn")), "{push}");
    push[1].clone()
}

/// A client killed between a restore's `Conn` and storing its tokens comes back with the
/// tokens it stored; killed again after that (challenged) restore, it still has them: the
/// server forgets a pair only once the client has logged in with the newer one.
#[tokio::test]
async fn tokens_a_client_never_stored_leave_its_stored_ones_valid() {
    let sim = start().await;
    let mut client = connect(&sim, CLIENT_ID).await;
    let stored = client.pair(&sim).await;
    client.login_pushes().await;
    let lost = restores_cleanly(&sim, &stored).await;
    assert_ne!(lost["clientToken"], stored["clientToken"]);
    for _ in 0..3 {
        restores_challenged(&sim, &client, &stored).await;
    }
    // Stored at last: the newest pair restores without a challenge, and after that the
    // pair stored first is stale for good.
    let newest = restores_challenged(&sim, &client, &stored).await;
    restores_cleanly(&sim, &newest).await;
    restores_challenged(&sim, &client, &newest).await;
    let mut old = connect(&sim, CLIENT_ID).await;
    old.restore(&stored, "takeover").await;
    old.next_json().await;
    assert_eq!(
        old.next_json().await,
        ("2.--1".into(), json!({"status": 401}))
    );
}

#[tokio::test]
async fn a_cut_at_init_or_mid_restore_leaves_the_session_as_it_was() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, CLIENT_ID).await;
    let mut conn = client.pair(&sim).await;
    client.login_pushes().await;
    for at in ["init", "restore"] {
        let armed = sim.command(json!({"cmd": "drop_at", "at": at})).await;
        assert_eq!(armed.unwrap()["at"], at);
        let mut cut = connect(&sim, CLIENT_ID).await;
        // init and login back to back, as clients send them: neither is answered.
        cut.restore(&conn, "takeover").await;
        if at == "restore" {
            let (tag, _) = cut.next_json().await;
            assert_eq!(tag, "2.--0", "the init is answered");
        }
        cut.expect_closed().await;
        let dropped = wait_for(&mut output, "dropped").await;
        assert_eq!(dropped["at"], at);
        // The login behind the cut rotated nothing: the same tokens restore without challenge.
        conn = restores_cleanly(&sim, &conn).await;
    }
}

#[tokio::test]
async fn a_cut_fires_once() {
    let sim = start().await;
    let mut client = connect(&sim, CLIENT_ID).await;
    let conn = client.pair(&sim).await;
    client.login_pushes().await;
    sim.command(json!({"cmd": "drop_at", "at": "restore"}))
        .await
        .unwrap();
    let mut cut = connect(&sim, CLIENT_ID).await;
    cut.restore(&conn, "takeover").await;
    cut.expect_closed().await;
    let conn = restores_cleanly(&sim, &conn).await;
    restores_cleanly(&sim, &conn).await;
}

#[tokio::test]
async fn a_bad_moment_is_an_error() {
    let sim = start().await;
    for (command, error) in [
        (json!({"cmd": "drop_at"}), "drop_at needs \"at\""),
        (json!({"cmd": "drop_at", "at": 1}), "drop_at needs \"at\""),
        (
            json!({"cmd": "drop_at", "at": "download"}),
            "drop_at: at is init, qr, restore, send, send_before or upload",
        ),
    ] {
        let refused = sim.command(command).await.unwrap_err();
        assert!(refused.to_string().contains(error), "{refused}");
    }
}
