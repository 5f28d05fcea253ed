//! Pairing, restore, and every way a session or connection ends.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Harness, Options};

#[tokio::test]
async fn pairing_stores_the_session_and_reports_connected() {
    let harness = Harness::start().await;
    let mut client = harness.client().await;
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["state"], "logged_out");
    assert_eq!(status["session_stored"], false);
    client
        .call("subscribe", json!({"events": ["state", "qr", "connected"]}))
        .await
        .unwrap();
    assert_eq!(
        client.event("state").await["state"],
        "logged_out",
        "the snapshot comes first"
    );
    client.call("login", Value::Null).await.unwrap();
    let qr = client.event("qr").await;
    let content = qr["content"].as_str().unwrap();
    let parts: Vec<&str> = content.split(',').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], qr["ref"].as_str().unwrap());
    assert_eq!(parts[2].len(), 24);
    assert_eq!(
        (
            qr["attempt"].clone(),
            qr["attempts_max"].clone(),
            qr["ttl_ms"].clone()
        ),
        (json!(1), json!(6), json!(20000))
    );
    // While pairing, login re-emits the current QR.
    assert_eq!(
        client.call("login", Value::Null).await.unwrap(),
        json!({"state": "pairing"})
    );
    assert_eq!(client.event("qr").await["content"], qr["content"]);

    harness
        .sim_command(json!({"cmd": "scan", "qr": content}))
        .await;
    let connected = client.event("connected").await;
    assert_eq!(connected["restored"], false);
    assert_eq!(connected["me"]["wid"], "4915100000000@s.whatsapp.net");
    assert_eq!(connected["me"]["pushname"], "Sim Phone");
    assert_eq!(connected["me"]["platform"], "android");
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["state"], "connected");
    assert_eq!(status["session_stored"], true);
    assert_eq!(
        status["battery"],
        json!({"percent": 87, "plugged": false, "powersave": false})
    );
    assert!(status["last_pong_ms_ago"].is_u64() || status["last_pong_ms_ago"].is_null());
    let mode = std::fs::metadata(harness.session_file())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(harness.session_file()).unwrap()).unwrap();
    assert_eq!(stored["clientId"], parts[2]);
    assert_eq!(
        client.call("login", Value::Null).await.unwrap_err()["code"],
        -32002
    );
    // The phone answers the daemon's probe.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    // The phone answers the daemon's probe, and the server the first keepalive.
    loop {
        let status = client.call("status", Value::Null).await.unwrap();
        if status["phone_online"] == true && status["last_pong_ms_ago"].is_u64() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "phone_online never became true"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn qr_budget_runs_out_without_a_loop() {
    // Real 20 s codes: six of them take two virtual minutes.
    let mut harness = Harness::start_with(Options {
        paused: true,
        ..Options::default()
    })
    .await;
    let mut client = harness.client().await;
    client
        .call(
            "subscribe",
            json!({"events": ["qr", "logged_out", "state"]}),
        )
        .await
        .unwrap();
    client.call("login", Value::Null).await.unwrap();
    let mut refs = Vec::new();
    for attempt in 1..=6 {
        let qr = client.event("qr").await;
        assert_eq!(qr["attempt"], attempt);
        assert_eq!(qr["ttl_ms"], 20_000);
        refs.push(qr["ref"].as_str().unwrap().to_owned());
    }
    refs.dedup();
    assert_eq!(refs.len(), 6);
    let logged_out = client.event("logged_out").await;
    assert_eq!(
        logged_out,
        json!({"type": "logged_out", "reason": "pairing_expired", "status": null})
    );
    client.state("logged_out").await;
    assert_eq!(
        client.call("status", Value::Null).await.unwrap()["state"],
        "logged_out"
    );
    // The connection is closed and not retried.
    harness.sim_line("client_disconnected").await;
    let status = harness.sim_command(json!({"cmd": "status"})).await;
    assert_eq!(status["connections"], 0);
}

#[tokio::test]
async fn server_429_ends_pairing_with_its_status() {
    let mut harness = Harness::start_with(Options {
        reref_budget: 10,
        paused: true,
        ..Options::default()
    })
    .await;
    let mut client = harness.client().await;
    client
        .call("subscribe", json!({"events": ["qr", "logged_out"]}))
        .await
        .unwrap();
    client.call("login", Value::Null).await.unwrap();
    let logged_out = client.event("logged_out").await;
    assert_eq!(
        (logged_out["reason"].clone(), logged_out["status"].clone()),
        (json!("pairing_expired"), json!(429))
    );
    harness.sim_line("client_disconnected").await;
}

#[tokio::test]
async fn restart_restores_and_a_drop_reconnects() {
    // The backoff of a real deployment (1 s, doubling to 120 s), in paused time.
    let mut harness = Harness::start_with(Options {
        paused: true,
        ..Options::default()
    })
    .await;
    let client = harness.pair().await;
    drop(client);
    harness.stop_daemon().await;
    assert!(
        harness.session_file().exists(),
        "SIGTERM-like stop keeps the session"
    );
    assert!(!harness.socket().exists(), "the socket is removed");
    harness.start_daemon().await;
    let mut client = harness.client().await;
    client.call("subscribe", json!({})).await.unwrap();
    let connected = client.event("connected").await;
    assert_eq!(connected["restored"], true);
    while harness.sim_line("logged_in").await["restored"] != true {}

    harness.sim_command(json!({"cmd": "drop"})).await;
    let disconnected = client.event("disconnected").await;
    assert!(
        ["connection_lost", "server_closed"].contains(&disconnected["reason"].as_str().unwrap()),
        "{disconnected}"
    );
    let retry_in_ms = disconnected["retry_in_ms"].as_u64().unwrap();
    assert!((250..=1000).contains(&retry_in_ms), "{disconnected}");
    assert_eq!(client.event("connected").await["restored"], true);
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["reconnects"], 1);
    assert_eq!(status["state"], "connected");
}

#[tokio::test]
async fn challenge_is_answered_on_reconnect() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "challenge_next"})).await;
    harness.sim_command(json!({"cmd": "drop"})).await;
    client.event("disconnected").await;
    assert_eq!(client.event("connected").await["restored"], true);
    loop {
        let line = harness.sim_line("logged_in").await;
        if line["restored"] == true {
            assert_eq!(line["challenged"], true);
            break;
        }
    }
}

#[tokio::test]
async fn unpair_erases_the_session_and_never_retries() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "unpair"})).await;
    let logged_out = client.event("logged_out").await;
    assert_eq!(logged_out["reason"], "unpaired");
    assert_eq!(client.state("logged_out").await["reason"], "unpaired");
    assert!(!harness.session_file().exists());
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(
        (status["state"].clone(), status["session_stored"].clone()),
        (json!("logged_out"), json!(false))
    );
    assert_eq!(
        client
            .call("send_text", json!({"to": "4915100000001", "text": "x"}))
            .await
            .unwrap_err()["code"],
        -32001
    );
}

#[tokio::test]
async fn unpaired_while_stopped_gives_401_at_restore() {
    let mut harness = Harness::start().await;
    drop(harness.pair().await);
    harness.stop_daemon().await;
    harness.sim_command(json!({"cmd": "unpair"})).await;
    harness.start_daemon().await;
    let mut client = harness.client().await;
    client
        .call("subscribe", json!({"events": ["logged_out"]}))
        .await
        .unwrap();
    let logged_out = client.event("logged_out").await;
    assert_eq!(
        logged_out,
        json!({"type": "logged_out", "reason": "unpaired", "status": 401})
    );
    assert!(!harness.session_file().exists());
}

#[tokio::test]
async fn replaced_stops_without_retaking_the_session() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "replace"})).await;
    let disconnected = client.event("disconnected").await;
    assert_eq!(
        disconnected,
        json!({"type": "disconnected", "reason": "replaced", "retry_in_ms": null})
    );
    assert_eq!(client.state("replaced").await["reason"], "replaced");
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(
        (status["state"].clone(), status["session_stored"].clone()),
        (json!("replaced"), json!(true))
    );
    assert_eq!(
        client
            .call("send_text", json!({"to": "4915100000001", "text": "x"}))
            .await
            .unwrap_err()["code"],
        -32003
    );
    // Logging out now goes over HTTP, which the simulator answers.
    let result = client.call("logout", Value::Null).await.unwrap();
    assert_eq!(result, json!({"server_notified": true}));
    assert!(!harness.session_file().exists());
    assert_eq!(client.event("logged_out").await["reason"], "logout");
}

#[tokio::test]
async fn half_open_connection_is_detected_by_the_pong_deadline() {
    // The real 20 s keepalive and 25 s pong deadline, in paused time.
    let mut harness = Harness::start_with(Options {
        paused: true,
        ..Options::default()
    })
    .await;
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "half_open"})).await;
    let disconnected = client.event("disconnected").await;
    assert_eq!(disconnected["reason"], "pong_timeout");
    assert_eq!(client.event("connected").await["restored"], true);
}

#[tokio::test]
async fn logout_while_connected_says_goodbye() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    assert_eq!(
        client.call("logout", Value::Null).await.unwrap(),
        json!({"server_notified": true})
    );
    assert_eq!(
        client.event("logged_out").await,
        json!({"type": "logged_out", "reason": "logout", "status": null})
    );
    let line = harness.sim_line("logged_out").await;
    assert_eq!(line["by"], "goodbye");
    assert!(!harness.session_file().exists());
    assert_eq!(
        client.call("logout", Value::Null).await.unwrap_err()["code"],
        -32001
    );
    // A fresh pairing works afterwards.
    client.call("login", Value::Null).await.unwrap();
    client.event("qr").await;
}

#[tokio::test]
async fn login_refusals_end_in_named_states() {
    for (status, reason, erased, retried) in [
        (403, "forbidden", false, false),
        (419, "session_invalid", true, false),
        (409, "logged_in_elsewhere", false, true),
        (405, "already_logged_in", false, true),
    ] {
        let mut harness = Harness::start().await;
        drop(harness.pair().await);
        harness.stop_daemon().await;
        harness
            .sim_command(json!({"cmd": "refuse_next", "status": status}))
            .await;
        harness.start_daemon().await;
        let mut client = harness.client().await;
        client
            .call(
                "subscribe",
                json!({"events": ["logged_out", "disconnected", "connected"]}),
            )
            .await
            .unwrap();
        if retried {
            let disconnected = client.event("disconnected").await;
            assert_eq!(disconnected["reason"], reason, "{status}");
            assert!(disconnected["retry_in_ms"].is_u64());
            assert_eq!(
                client.event("connected").await["restored"],
                true,
                "{status}"
            );
        } else {
            let logged_out = client.event("logged_out").await;
            assert_eq!(
                (logged_out["reason"].as_str(), logged_out["status"].as_u64()),
                (Some(reason), Some(status))
            );
            assert_eq!(harness.session_file().exists(), !erased, "{status}");
        }
    }
}

#[tokio::test]
async fn a_pairing_that_loses_its_connection_retries_with_a_new_qr() {
    let harness = Harness::start().await;
    let mut client = harness.client().await;
    client
        .call(
            "subscribe",
            json!({"events": ["qr", "disconnected", "logged_out", "state"]}),
        )
        .await
        .unwrap();
    client.call("login", Value::Null).await.unwrap();
    let first = client.event("qr").await;
    harness.sim_command(json!({"cmd": "drop"})).await;
    let disconnected = client.event("disconnected").await;
    assert!(disconnected["retry_in_ms"].is_u64(), "{disconnected}");
    assert!(
        ["connection_lost", "server_closed"].contains(&disconnected["reason"].as_str().unwrap())
    );
    client.state("reconnecting").await;
    // DESIGN.md 14.4: the pairing goes on with a new QR (daemon/tests/faults_drops.rs covers
    // the end after five lost connections).
    let second = client.event("qr").await;
    assert_ne!(first["content"], second["content"]);
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["state"], "pairing", "{status}");
}
