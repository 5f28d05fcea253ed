//! `wawebd sim` as a script drives it: the listening line first, one answer per command, in
//! order, and a `received` line for what a client sends.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

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
