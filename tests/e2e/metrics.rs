//! Metrics (issue 15): after a login against the simulator, two texts and a picture received
//! (the picture downloaded), a document and a text sent, the `metrics` socket method and
//! `GET /metrics` on `--metrics-listen 127.0.0.1:0` say the same, and the text parses as the
//! Prometheus text format; a dropped connection counts one reconnect. The endpoint answers 404
//! and 405 where it should, refuses oversized headers, and a client that connects and sends
//! nothing holds nobody up.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::support::{Client, Harness, Options, deadline};

const ALICE: &str = "4915100000001@s.whatsapp.net";

/// `metrics`, again and again until `done` holds for its result (counters follow the journal's
/// commits, a moment after the events that caused them).
async fn metrics_when(client: &mut Client, done: impl Fn(&Value) -> bool) -> Value {
    let started = tokio::time::Instant::now();
    loop {
        let result = client.call("metrics", Value::Null).await.unwrap();
        if done(&result) {
            return result;
        }
        assert!(
            started.elapsed() < deadline(),
            "metrics never got there: {result}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// One HTTP/1.1 request, the connection closed after it: the status line, the headers and
/// the body.
async fn http(address: SocketAddr, request: &str) -> (String, HashMap<String, String>, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    timeout(deadline(), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

/// The value of the sample `name` with these labels in a parsed scrape.
fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = scrape.samples.iter().find(|sample| {
        sample.metric == name
            && labels
                .iter()
                .all(|(key, value)| sample.labels.get(key) == Some(*value))
    });
    match found.map(|sample| &sample.value) {
        Some(
            prometheus_parse::Value::Counter(value)
            | prometheus_parse::Value::Gauge(value)
            | prometheus_parse::Value::Untyped(value),
        ) => *value,
        other => panic!("no sample {name} {labels:?}: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_over_the_socket_and_over_http_agree_with_what_happened() {
    let mut harness = Harness::start_with(Options {
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..Options::default()
    })
    .await;
    let mut client = harness.pair().await;
    for text in ["one", "two"] {
        harness
            .sim_command(json!({"cmd": "send_text", "from": ALICE, "text": text}))
            .await;
        let event = client.event("message").await;
        assert_eq!(event["text"], text);
    }
    // A picture in, downloaded; a document out, uploaded.
    let picture = harness.dir.path().join("in.jpg");
    std::fs::write(&picture, vec![7u8; 3000]).unwrap();
    harness
        .sim_command(json!({"cmd": "send_media", "from": ALICE, "kind": "image", "path": picture}))
        .await;
    let event = client.event("message").await;
    let output = harness.dir.path().join("out.jpg");
    let downloaded = client
        .call(
            "media_download",
            json!({"media": event["media"], "output": output}),
        )
        .await
        .unwrap();
    assert_eq!(downloaded["bytes"], 3000);
    let document = harness.dir.path().join("notes.txt");
    std::fs::write(&document, "minutes of the meeting\n").unwrap();
    client
        .call(
            "send_media",
            json!({"to": "4915100000001", "kind": "document", "path": document}),
        )
        .await
        .unwrap();
    client
        .call("send_text", json!({"to": "4915100000001", "text": "back"}))
        .await
        .unwrap();
    // Two error replies: bad params, and an unknown method.
    let error = client
        .call("send_text", json!({"to": "abc", "text": "x"}))
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");
    client.call("reboot", Value::Null).await.unwrap_err();
    client
        .call("commit", json!({"consumer": "bot", "seq": 1}))
        .await
        .unwrap();

    let result = metrics_when(&mut client, |result| {
        result["acks"]["3"] == 2
            && result["messages_sent"]["text"] == 1
            && result["messages_sent"]["document"] == 1
    })
    .await;
    assert_eq!(result["messages_received"]["text"], 2, "{result}");
    assert_eq!(result["messages_received"]["image"], 1);
    assert_eq!(result["messages_sent"]["text"], 1);
    for level in ["0", "1", "2", "3"] {
        assert_eq!(result["acks"][level], 2, "{result}");
    }
    assert_eq!(result["acks"]["-1"], 0);
    assert_eq!(result["reconnects"], json!({}));
    assert_eq!(result["state"], "connected");
    assert!(result["last_pong_age_s"].is_number(), "{result}");
    assert_eq!(
        result["socket_errors"],
        json!({"invalid_params": 1, "method_not_found": 1})
    );
    assert_eq!(result["subscribers"], 1);
    assert_eq!(result["outbox_depth"], 0);
    let head = result["journal"]["head"].as_u64().unwrap();
    assert!(head > 5, "{result}");
    // Nothing pruned yet: every seq from 1 to the head is kept.
    assert_eq!(result["journal"]["events"], head);
    assert!(result["journal"]["database_bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        result["consumers"],
        json!([{"name": "bot", "lag": head - 1}])
    );
    assert_eq!(result["media_bytes"]["downloaded"], 3000);
    // Encrypted: the text padded to the AES block, and the MAC.
    let uploaded = result["media_bytes"]["uploaded"].as_u64().unwrap();
    assert_eq!(uploaded, 32 + 10, "{result}");
    let address: SocketAddr = result["listen"].as_str().unwrap().parse().unwrap();
    assert!(
        address.ip().is_loopback() && address.port() != 0,
        "{address}"
    );

    // A client that connects and says nothing holds a slot, not the endpoint.
    let _silent = TcpStream::connect(address).await.unwrap();
    let (status, headers, body) = http(address, &get("/metrics")).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    let lines = body.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let value = |name, labels: &[(&str, &str)]| sample(&scrape, name, labels);
    assert_eq!(
        value("waweb_messages_received_total", &[("kind", "text")]),
        2.0
    );
    assert_eq!(value("waweb_messages_sent_total", &[("kind", "text")]), 1.0);
    assert_eq!(value("waweb_acks_total", &[("level", "3")]), 2.0);
    assert_eq!(
        value("waweb_messages_received_total", &[("kind", "image")]),
        1.0
    );
    assert_eq!(
        value("waweb_messages_sent_total", &[("kind", "document")]),
        1.0
    );
    assert_eq!(value("waweb_state", &[("state", "connected")]), 1.0);
    assert_eq!(value("waweb_state", &[("state", "pairing")]), 0.0);
    assert_eq!(
        value("waweb_socket_errors_total", &[("code", "invalid_params")]),
        1.0
    );
    // The scrape's own `metrics` calls and this one are no errors; the lag grew by what the
    // journal took since (at least nothing).
    let lag = value("waweb_consumer_lag_events", &[("consumer", "bot")]);
    assert!(lag >= (head - 1) as f64, "{lag}");
    assert_eq!(value("waweb_socket_subscribers", &[]), 1.0);
    assert_eq!(value("waweb_outbox_messages", &[]), 0.0);
    assert!(value("waweb_last_pong_age_seconds", &[]) >= 0.0);
    assert!(value("waweb_journal_head", &[]) >= head as f64);
    assert_eq!(
        value("waweb_media_bytes_total", &[("direction", "downloaded")]),
        3000.0
    );
    assert_eq!(
        value("waweb_media_bytes_total", &[("direction", "uploaded")]),
        uploaded as f64
    );

    let (status, _, _) = http(address, &get("/")).await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let post = "POST /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let (status, headers, _) = http(address, post).await;
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(headers["allow"], "GET, HEAD");
    // Headers past the bound are refused, not buffered.
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let mut stream = TcpStream::connect(address).await.unwrap();
    let _ = stream.write_all(huge.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = timeout(deadline(), stream.read_to_end(&mut answer))
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );

    // A dropped connection is one reconnect, by the reason the daemon gave.
    harness.sim_command(json!({"cmd": "drop"})).await;
    let disconnected = client.event("disconnected").await;
    let reason = disconnected["reason"].as_str().unwrap().to_owned();
    client.event("connected").await;
    let result = metrics_when(&mut client, |result| result["state"] == "connected").await;
    assert_eq!(
        result["reconnects"],
        json!({reason.as_str(): 1}),
        "{result}"
    );
    let (_, _, body) = http(address, &get("/metrics")).await;
    let lines = body.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let reconnects = sample(&scrape, "waweb_reconnects_total", &[("reason", &reason)]);
    assert_eq!(reconnects, 1.0);
}
