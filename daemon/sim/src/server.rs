//! The websocket front: accepts loopback connections, checks the upgrade the way the real service
//! did (path `/ws`, `Origin: https://web.whatsapp.com`), and moves frames between the socket and
//! the core. It also answers the HTTP logout of PROTOCOL.md section 6 on `/logout`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, frame::coding::CloseCode};

use super::core::Input;
use super::http;

/// The only origin the real service accepted.
pub const ORIGIN: &str = "https://web.whatsapp.com";

/// What the core asks a connection to do, in order; `delay` is waited before the step.
#[derive(Debug)]
pub enum Outgoing {
    /// Send a text frame.
    Text { delay: Duration, text: String },
    /// Send a binary frame.
    Binary { delay: Duration, data: Vec<u8> },
    /// Close with a close frame (`handshake`) or cut the TCP connection without one.
    Close { delay: Duration, handshake: bool },
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

pub async fn accept_loop(listener: TcpListener, core: mpsc::Sender<Input>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let core = core.clone();
        tokio::spawn(async move {
            if let Err(error) = handle(stream, core).await {
                tracing::debug!("sim: connection ended before the upgrade: {error}");
            }
        });
    }
}

async fn handle(mut stream: TcpStream, core: mpsc::Sender<Input>) -> Result<(), http::Error> {
    let request = http::read_request(&mut stream).await?;
    if request.path == "/logout" {
        let (reply, answer) = oneshot::channel();
        let query = request.query.clone();
        if core.send(Input::HttpLogout { query, reply }).await.is_err() {
            return Ok(());
        }
        let (status, body) = answer.await.unwrap_or((503, "{\"status\":503}".into()));
        http::respond(&mut stream, status, "application/json", body.as_bytes()).await?;
        return Ok(());
    }
    if request.path != "/ws" {
        http::respond(&mut stream, 404, "text/plain", b"not found\n").await?;
        return Ok(());
    }
    let upgrade = request
        .header("upgrade")
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    let key = request.header("sec-websocket-key");
    let (true, Some(key)) = (upgrade, key) else {
        http::respond(
            &mut stream,
            400,
            "text/plain",
            b"websocket upgrade required\n",
        )
        .await?;
        return Ok(());
    };
    if request.header("origin") != Some(ORIGIN) {
        // The real service refused upgrades without the web client's Origin.
        let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
        let _ = core
            .send(Input::Refused {
                conn,
                reason: format!("bad Origin {:?}", request.header("origin").unwrap_or("")),
            })
            .await;
        http::respond(&mut stream, 403, "text/plain", b"forbidden: wrong Origin\n").await?;
        return Ok(());
    }
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, response.as_bytes()).await?;
    let socket = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    run_connection(socket, core).await;
    Ok(())
}

async fn run_connection(socket: WebSocketStream<TcpStream>, core: mpsc::Sender<Input>) {
    let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    if core
        .send(Input::Opened { conn, out: out_tx })
        .await
        .is_err()
    {
        return;
    }
    let (mut sink, mut stream) = socket.split();
    let (cut_tx, mut cut_rx) = oneshot::channel::<()>();
    let writer = tokio::spawn(async move {
        let mut cut = Some(cut_tx);
        while let Some(step) = out_rx.recv().await {
            let (delay, message) = match step {
                Outgoing::Text { delay, text } => (delay, Some(Message::text(text))),
                Outgoing::Binary { delay, data } => (delay, Some(Message::binary(data))),
                Outgoing::Close {
                    delay,
                    handshake: true,
                } => (
                    delay,
                    Some(Message::Close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "".into(),
                    }))),
                ),
                Outgoing::Close {
                    delay,
                    handshake: false,
                } => {
                    tokio::time::sleep(delay).await;
                    break;
                }
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if let Some(message) = message {
                let closing = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || closing {
                    break;
                }
            }
        }
        // Ends the reader too: without a close frame this is a plain TCP cut.
        if let Some(cut) = cut.take() {
            let _ = cut.send(());
        }
        drop(sink);
    });
    let reason = loop {
        let next = tokio::select! {
            next = stream.next() => next,
            _ = &mut cut_rx => break "closed by the server".to_owned(),
        };
        let input = match next {
            Some(Ok(Message::Text(text))) => Input::Text {
                conn,
                text: text.as_str().to_owned(),
            },
            Some(Ok(Message::Binary(data))) => Input::Binary {
                conn,
                data: data.to_vec(),
            },
            Some(Ok(Message::Close(frame))) => {
                break match frame {
                    Some(frame) => format!("client closed ({})", frame.code),
                    None => "client closed".to_owned(),
                };
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => break format!("connection error: {error}"),
            None => break "connection lost".to_owned(),
        };
        if core.send(input).await.is_err() {
            break "simulator stopped".to_owned();
        }
    };
    writer.abort();
    let _ = core.send(Input::Closed { conn, reason }).await;
}
