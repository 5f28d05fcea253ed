//! What the simulator's tests share: a scripted legacy client built from our own codecs (the
//! websocket, the login steps, frames opened and sealed as a legacy client did), and small
//! HTTP helpers for the media host.

#![allow(dead_code)] // each test file uses its own part

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use waweb_core::binary::{self, Node};
use waweb_core::crypto::{KeyPair, SessionKeys};
use waweb_core::message;
use waweb_core::wire::{self, FrameCipher, ServerText};
use waweb_sim::{Config, Sim};

pub const DEADLINE: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
    Closed,
}

pub struct Client {
    pub socket: Socket,
    pub client_id: String,
    pub keys: Option<SessionKeys>,
}

pub async fn start() -> Sim {
    Sim::start(Config {
        reply_gap: Duration::from_millis(5),
        push_delay: Duration::from_millis(5),
        ..Config::default()
    })
    .await
    .unwrap()
}

/// A simulator with a client paired to it, past the login pushes.
pub async fn paired(client_id: &str) -> (Sim, Client) {
    let sim = start().await;
    let mut client = connect(&sim, client_id).await;
    client.pair(&sim).await;
    client.login_pushes().await;
    (sim, client)
}

pub async fn connect(sim: &Sim, client_id: &str) -> Client {
    let mut request = sim.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Origin", "https://web.whatsapp.com".parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    Client {
        socket,
        client_id: client_id.to_owned(),
        keys: None,
    }
}

impl Client {
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .unwrap();
    }

    pub async fn send_json(&mut self, tag: &str, payload: Value) {
        self.send_text(&wire::text_frame(tag, &payload.to_string()))
            .await;
    }

    pub async fn send_node(&mut self, tag: &str, metric: u8, flags: u8, node: &Node) {
        let cipher = FrameCipher::new(self.keys.as_ref().unwrap());
        let frame = cipher.seal_client_frame(tag, metric, flags, &binary::encode(node));
        self.socket.send(Message::binary(frame)).await.unwrap();
    }

    pub async fn next(&mut self) -> Frame {
        loop {
            match timeout(DEADLINE, self.socket.next())
                .await
                .expect("a frame in time")
            {
                Some(Ok(Message::Text(text))) => return Frame::Text(text.as_str().to_owned()),
                Some(Ok(Message::Binary(data))) => return Frame::Binary(data.to_vec()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Frame::Closed,
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next text frame as (tag, json), skipping nothing.
    pub async fn next_json(&mut self) -> (String, Value) {
        match self.next().await {
            Frame::Text(text) => match wire::parse_server_text(&text).unwrap() {
                ServerText::Json { tag, json } => {
                    (tag.to_owned(), serde_json::from_str(json).unwrap())
                }
                other => panic!("expected a JSON frame, got {other:?}"),
            },
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// The next binary frame, opened with the session keys.
    pub async fn next_node(&mut self) -> (String, Node) {
        match self.next().await {
            Frame::Binary(data) => {
                let cipher = FrameCipher::new(self.keys.as_ref().unwrap());
                let (tag, bytes) = cipher.open_server_frame(&data).unwrap();
                (tag.to_owned(), binary::decode(&bytes).unwrap())
            }
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }

    /// Reads frames until a text frame with `tag` arrives, returning what came before it.
    pub async fn until_tag(&mut self, tag: &str) -> (Vec<Frame>, Value) {
        let mut before = Vec::new();
        loop {
            match self.next().await {
                Frame::Text(text) if text.starts_with(&format!("{tag},")) => {
                    if let ServerText::Json { json, .. } = wire::parse_server_text(&text).unwrap() {
                        return (before, serde_json::from_str(json).unwrap());
                    }
                }
                Frame::Closed => panic!("closed while waiting for {tag}; before: {before:?}"),
                frame => before.push(frame),
            }
        }
    }

    pub async fn expect_closed(&mut self) {
        loop {
            if let Frame::Closed = self.next().await {
                return;
            }
        }
    }

    /// This client's `admin init` command.
    fn init_command(&self) -> Value {
        json!([
            "admin",
            "init",
            [2, 2142, 12],
            ["Linux", "test", "1.0"],
            self.client_id,
            true
        ])
    }

    pub async fn init(&mut self) -> Value {
        self.send_json("1.--0", self.init_command()).await;
        let (tag, reply) = self.next_json().await;
        assert_eq!(tag, "1.--0");
        reply
    }

    /// Pairs through the simulated phone and reads the JSON login pushes; returns Conn.
    pub async fn pair(&mut self, sim: &Sim) -> Value {
        let reply = self.init().await;
        let pair = KeyPair::generate();
        let qr = format!(
            "{},{},{}",
            reply["ref"].as_str().unwrap(),
            BASE64.encode(pair.public()),
            self.client_id
        );
        sim.command(json!({"cmd": "scan", "qr": qr})).await.unwrap();
        let (tag, conn) = self.next_json().await;
        assert_eq!(tag, "s1");
        assert_eq!(conn[0], "Conn");
        let secret = BASE64.decode(conn[1]["secret"].as_str().unwrap()).unwrap();
        self.keys = Some(SessionKeys::from_pairing_secret(&pair, &secret).unwrap());
        for (expected_tag, kind) in [("s2", "Blocklist"), ("s3", "Stream"), ("s4", "Props")] {
            let (tag, push) = self.next_json().await;
            assert_eq!(
                (tag.as_str(), push[0].as_str().unwrap()),
                (expected_tag, kind)
            );
        }
        conn[1].clone()
    }

    /// Reads the five binary login-time pushes of PROTOCOL.md 8.3 (no history yet).
    pub async fn login_pushes(&mut self) -> Vec<(String, Node)> {
        let mut pushes = Vec::new();
        for _ in 0..4 {
            pushes.push(self.next_node().await);
        }
        pushes
    }

    /// `init` and the restore `login`, back to back in one write, as clients send them.
    pub async fn restore(&mut self, conn: &Value, mode: &str) {
        let login = json!([
            "admin",
            "login",
            conn["clientToken"],
            conn["serverToken"],
            self.client_id,
            mode
        ]);
        for (tag, payload) in [("2.--0", self.init_command()), ("2.--1", login)] {
            let text = wire::text_frame(tag, &payload.to_string());
            self.socket.feed(Message::text(text)).await.unwrap();
        }
        self.socket.flush().await.unwrap();
    }
}

pub async fn wait_for(receiver: &mut tokio::sync::broadcast::Receiver<Value>, kind: &str) -> Value {
    timeout(DEADLINE, async {
        loop {
            let line = receiver.recv().await.unwrap();
            if line["type"] == kind {
                return line;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} line in time"))
}

pub async fn http_get(url: &str) -> Result<Vec<u8>, u16> {
    let (status, body) = http_request("GET", url, b"").await;
    if status == 200 { Ok(body) } else { Err(status) }
}

pub async fn http_post(url: &str, body: &[u8]) -> (u16, String) {
    let (status, body) = http_request("POST", url, body).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

pub async fn http_request(method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    timeout(DEADLINE, stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status: u16 = String::from_utf8_lossy(&response[9..12]).parse().unwrap();
    (status, response[split + 4..].to_vec())
}

impl Client {
    /// Reads `count` live relays, each a frame of its own with one message, as message events.
    pub async fn relays(&mut self, count: usize) -> Vec<waweb_proto::message::Message> {
        let mut events = Vec::with_capacity(count);
        for _ in 0..count {
            let (tag, node) = self.next_node().await;
            assert!(!tag.starts_with("preempt"), "{tag}");
            assert_eq!((&*node.tag, node.get("add")), ("action", Some("relay")));
            let [child] = node.children() else {
                panic!("a relay with {} children", node.children().len());
            };
            let info = message::decode_web_message_info(child.content_bytes().unwrap()).unwrap();
            events.push(message::into_event(info).unwrap());
        }
        events
    }
}
