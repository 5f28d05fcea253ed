//! TLS end to end: the simulator serves `wss://` and `https://` with a self-signed certificate,
//! the daemon trusts it through `ca_file`. Pairing, restore, media and the HTTP logout work over
//! it; a certificate that does not verify is retried with backoff and never downgraded.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use waweb_sim as sim;
use wawebd::transport::Net;

use crate::support::{DEADLINE, Harness, Options};

/// The first byte of a TLS handshake record; a plain upgrade would start with `G` of `GET`.
const TLS_HANDSHAKE: u8 = 0x16;

fn tls() -> Options {
    Options {
        tls: true,
        ..Options::default()
    }
}

#[tokio::test]
async fn pairing_restore_and_media_download_over_wss_and_https() {
    let mut harness = Harness::start_with(tls()).await;
    assert!(harness.sim.ws_url().starts_with("wss://127.0.0.1:"));
    assert!(harness.sim.media_url().starts_with("https://127.0.0.1:"));
    let mut client = harness.pair().await;
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["server_url"], harness.sim.ws_url());

    let source = harness.dir.path().join("cat.jpg");
    let plaintext: Vec<u8> = (0..200_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(&source, &plaintext).unwrap();
    harness
        .sim_command(
            json!({"cmd": "send_media", "from": "4915100000003", "kind": "image", "path": source}),
        )
        .await;
    let media = client.event("message").await["media"].clone();
    let url = media["url"].as_str().unwrap();
    assert!(url.starts_with(harness.sim.media_url()), "{url}");
    let output = harness.dir.path().join("downloaded.jpg");
    let result = client
        .call("media_download", json!({"media": media, "output": output}))
        .await
        .unwrap();
    assert_eq!(result["bytes"], 200_000);
    assert_eq!(result["sha256"], media["file_sha256"]);
    assert_eq!(std::fs::read(&output).unwrap(), plaintext);

    // A drop: the daemon reconnects over wss and restores.
    harness.sim_command(json!({"cmd": "drop"})).await;
    assert!(client.event("disconnected").await["retry_in_ms"].is_u64());
    assert_eq!(client.event("connected").await["restored"], true);
    while harness.sim_line("logged_in").await["restored"] != true {}

    // A restart restores from the stored session over wss.
    drop(client);
    harness.stop_daemon().await;
    harness.start_daemon().await;
    let mut client = harness.client().await;
    client.call("subscribe", json!({})).await.unwrap();
    assert_eq!(client.event("connected").await["restored"], true);
    while harness.sim_line("logged_in").await["restored"] != true {}
}

#[tokio::test]
async fn logout_without_a_connection_goes_over_https() {
    let mut harness = Harness::start_with(tls()).await;
    let mut client = harness.pair().await;
    harness.sim_command(json!({"cmd": "replace"})).await;
    client.state("replaced").await;
    let result = client.call("logout", Value::Null).await.unwrap();
    assert_eq!(result, json!({"server_notified": true}));
    assert_eq!(harness.sim_line("logged_out").await["by"], "http");
    assert!(!harness.session_file().exists());
}

#[tokio::test]
async fn the_error_names_the_certificate() {
    let harness = Harness::start_with(tls()).await;
    let other = harness.dir.path().join("other.pem");
    std::fs::write(&other, sim::Tls::self_signed().unwrap().certificate_pem()).unwrap();
    let media = format!("{}d/nothing", harness.sim.media_url());
    for ca_file in [None, Some(other.as_path())] {
        let net = Net::new(ca_file).unwrap();
        let error = net
            .connect(harness.sim.ws_url(), DEADLINE)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(harness.sim.ws_url()) && error.contains("invalid peer certificate"),
            "{ca_file:?}: {error}"
        );
        let error = net.http.get(&media).await.unwrap_err().to_string();
        assert!(
            error.contains("invalid peer certificate"),
            "{ca_file:?}: {error}"
        );
    }
    // The trusted certificate passes; the 404 is the media host's answer.
    let net = Net::new(harness.config.ca_file.as_deref()).unwrap();
    assert_eq!(net.http.get(&media).await.unwrap().status().as_u16(), 404);
}

#[tokio::test]
async fn an_untrusted_certificate_is_retried_with_backoff_and_never_downgraded() {
    let mut harness = Harness::start_with(tls()).await;
    drop(harness.pair().await);
    harness.stop_daemon().await;
    let trusted = harness.config.ca_file.clone();
    let other = harness.dir.path().join("other.pem");
    std::fs::write(&other, sim::Tls::self_signed().unwrap().certificate_pem()).unwrap();
    let ws_url = harness.sim.ws_url().to_owned();
    for ca_file in [None, Some(other)] {
        let (relay_url, mut attempts) = first_byte_relay(&ws_url).await;
        harness.config.server_url = relay_url;
        harness.config.ca_file = ca_file.clone();
        while harness.sim_output.try_recv().is_ok() {}
        harness.start_daemon().await;
        let retries = refused_attempts(&mut harness, 3).await;
        harness.stop_daemon().await;
        // Every attempt opened with a TLS handshake, each after the announced backoff.
        let mut seen = Vec::new();
        while let Ok(attempt) = attempts.try_recv() {
            seen.push(attempt);
        }
        assert!(seen.len() > retries.len(), "{ca_file:?}: {seen:?}");
        assert!(
            seen.iter().all(|(byte, _)| *byte == TLS_HANDSHAKE),
            "{ca_file:?}: a plain attempt in {seen:?}"
        );
        for (pair, retry) in seen.windows(2).zip(&retries) {
            let gap = pair[1].1 - pair[0].1;
            assert!(
                gap + Duration::from_millis(2) >= Duration::from_millis(*retry),
                "{ca_file:?}: retried after {gap:?}, announced {retry} ms"
            );
        }
        // Nothing ever reached the simulator's websocket.
        while let Ok(line) = harness.sim_output.try_recv() {
            assert_ne!(line["type"], "client_connected", "{ca_file:?}");
        }
        assert!(harness.session_file().exists(), "the session is kept");
    }
    // With the right certificate the kept session restores.
    harness.config.server_url = ws_url;
    harness.config.ca_file = trusted;
    harness.start_daemon().await;
    let mut client = harness.client().await;
    client.call("subscribe", json!({})).await.unwrap();
    assert_eq!(client.event("connected").await["restored"], true);
}

/// Follows the daemon through `count` failed connection attempts: only `connecting` and
/// `reconnecting` states (after the snapshot), a `disconnected` with a bounded `retry_in_ms` for
/// each, `status.reconnects` growing. Returns the announced delays.
async fn refused_attempts(harness: &mut Harness, count: usize) -> Vec<u64> {
    let mut client = harness.client().await;
    client
        .call(
            "subscribe",
            json!({"events": ["state", "disconnected", "connected", "logged_out"]}),
        )
        .await
        .unwrap();
    let mut retries = Vec::new();
    let mut snapshot = true;
    while retries.len() < count {
        let line = client.read_line().await.expect("the daemon stays up");
        let event = &line["params"];
        match event["type"].as_str() {
            Some("state") => {
                let state = event["state"].as_str().unwrap();
                assert!(
                    ["connecting", "reconnecting"].contains(&state)
                        || (snapshot && state == "logged_out"),
                    "{event}"
                );
            }
            Some("disconnected") => {
                assert_eq!(event["reason"], "connection_lost", "{event}");
                let retry = event["retry_in_ms"].as_u64().expect("a retry is announced");
                // Initial 40 ms, capped at 300 ms, jittered down to a quarter of the initial.
                assert!((10..=300).contains(&retry), "{event}");
                retries.push(retry);
            }
            _ => panic!("unexpected {line}"),
        }
        snapshot = false;
    }
    let first = client.call("status", Value::Null).await.unwrap();
    assert!(
        ["connecting", "reconnecting"].contains(&first["state"].as_str().unwrap()),
        "{first}"
    );
    assert!(
        first["reconnects"].as_u64().unwrap() >= count as u64,
        "{first}"
    );
    assert_eq!(first["session_stored"], true);
    client.event("disconnected").await;
    let later = client.call("status", Value::Null).await.unwrap();
    assert!(
        later["reconnects"].as_u64() > first["reconnects"].as_u64(),
        "{first} then {later}"
    );
    retries
}

/// A TCP relay in front of the simulator's websocket port that reports the first byte of every
/// connection, and when it came. Returns its `wss://` URL.
async fn first_byte_relay(ws_url: &str) -> (String, mpsc::UnboundedReceiver<(u8, Instant)>) {
    let target = ws_url
        .trim_start_matches("wss://")
        .trim_end_matches("/ws")
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("wss://{}/ws", listener.local_addr().unwrap());
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let sender = sender.clone();
            let target = target.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if let Ok(1) = inbound.peek(&mut first).await {
                    let _ = sender.send((first[0], Instant::now()));
                }
                if let Ok(mut outbound) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (url, receiver)
}
