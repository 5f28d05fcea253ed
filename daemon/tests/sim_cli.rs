//! `wawebd sim` as a script drives it: the listening line first, one answer per command, in
//! order, and a `received` line for what a client sends; with `--tls --cert-out FILE`, a
//! `wawebd run --ca-file FILE` logs in to it over `wss://`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct SimProcess {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl SimProcess {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wawebd"))
            .arg("sim")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value =
                    serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn next(&self) -> Value {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a line in time")
    }

    fn next_of(&self, kind: &str) -> Value {
        loop {
            let line = self.next();
            if line["type"] == kind {
                return line;
            }
        }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn control_channel_answers_every_command_in_order() {
    let mut sim = SimProcess::start(&["--listen", "127.0.0.1:0", "--ttl-ms", "2000"]);
    let listening = sim.next();
    assert_eq!(listening["type"], "listening");
    let ws_url = listening["ws_url"].as_str().unwrap();
    assert!(
        ws_url.starts_with("ws://127.0.0.1:") && ws_url.ends_with("/ws"),
        "{ws_url}"
    );
    assert!(
        listening["media_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );

    sim.send(r#"{"cmd":"challenge_next"}"#);
    sim.send(r#"{"cmd":"frobnicate"}"#);
    sim.send("this is not json");
    sim.send(r#"{"cmd":"send_text","from":"4915100000001","text":"nobody is paired"}"#);
    assert_eq!(sim.next(), json!({"type": "done", "cmd": "challenge_next"}));
    assert_eq!(sim.next()["message"], "unknown command \"frobnicate\"");
    let invalid = sim.next();
    assert_eq!(
        (invalid["type"].as_str(), invalid["cmd"].clone()),
        (Some("error"), Value::Null)
    );
    let error = sim.next();
    assert_eq!(
        (error["type"].as_str(), error["cmd"].as_str()),
        (Some("error"), Some("send_text"))
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no paired client")
    );

    // A raw websocket client: the sim reports the connection and what it sent.
    let address = ws_url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://web.whatsapp.com\r\n\r\n"
    )
    .unwrap();
    let connected = sim.next_of("client_connected");
    // A masked client text frame "?,,".
    let mask = [1u8, 2, 3, 4];
    let payload: Vec<u8> = b"?,,"
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend_from_slice(&payload);
    stream.write_all(&frame).unwrap();
    let received = sim.next_of("received");
    assert_eq!(
        received,
        json!({"type": "received", "conn": connected["conn"], "keepalive": true})
    );
    drop(stream);
    assert_eq!(
        sim.next_of("client_disconnected")["conn"],
        connected["conn"]
    );
}

#[test]
fn bad_flags_are_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(["sim", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let output = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(["sim", "--phone", "12ab"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "wawebd: --phone takes digits only"
    );
}

#[test]
fn tls_certificate_out_lets_the_daemon_log_in_over_wss() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("sim.pem");
    let mut sim = SimProcess::start(&["--tls", "--cert-out", cert.to_str().unwrap()]);
    let listening = sim.next();
    let keys: Vec<&str> = listening
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["type", "ws_url", "media_url"]);
    assert_eq!(listening["type"], "listening");
    let ws_url = listening["ws_url"].as_str().unwrap().to_owned();
    let media_url = listening["media_url"].as_str().unwrap();
    assert!(
        ws_url.starts_with("wss://127.0.0.1:") && ws_url.ends_with("/ws"),
        "{ws_url}"
    );
    assert!(
        media_url.starts_with("https://127.0.0.1:") && media_url.ends_with('/'),
        "{media_url}"
    );
    // The file is complete once the listening line is out: one certificate, no key.
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_eq!(pem.matches("BEGIN").count(), 1, "{pem}");

    let socket = dir.path().join("run/wawebd.sock");
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let daemon = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(["run", "--server-url", &ws_url, "--ca-file"])
        .arg(&cert)
        .arg("--socket")
        .arg(&socket)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path())
        .env("NOTIFY_SOCKET", &notify_path)
        .env_remove("WAWEBD_CONFIG")
        .env_remove("WAWEBD_CA_FILE")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _daemon = KillOnDrop(daemon);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut buf = [0u8; 4096];
        let n = notify.recv(&mut buf).expect("READY=1 in time");
        if String::from_utf8_lossy(&buf[..n]).contains("READY=1") {
            break;
        }
        assert!(Instant::now() < deadline, "no READY=1");
    }

    let mut client = waweb_proto::Client::connect(&socket).unwrap();
    client.call_raw("subscribe", None).unwrap();
    client.call_raw("login", None).unwrap();
    let qr = next_event(&mut client, "qr");
    sim.send(&json!({"cmd": "scan", "qr": qr["content"]}).to_string());
    let connected = next_event(&mut client, "connected");
    assert_eq!(connected["restored"], false);
    assert_eq!(sim.next_of("paired")["type"], "paired");
    let status = client.call_raw("status", None).unwrap();
    assert_eq!(
        (status["state"].as_str(), status["server_url"].as_str()),
        (Some("connected"), Some(ws_url.as_str()))
    );
}

/// The next event of `kind` from the daemon, within 10 s.
fn next_event(client: &mut waweb_proto::Client, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let notification = client
            .recv_notification(Some(left))
            .unwrap()
            .unwrap_or_else(|| panic!("no {kind} event in time"));
        if notification.params["type"] == kind {
            return notification.params;
        }
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
