//! The websocket front: a hyper service that checks the upgrade the way the real service did
//! (path `/ws`, `Origin: https://web.whatsapp.com`, else 403), takes it through hyper, and moves
//! frames between the upgraded socket and the core. It also answers the HTTP logout of
//! PROTOCOL.md section 6 on `/logout`, and 404 anywhere else. Plain or TLS: see [`http::serve`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, UPGRADE};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, frame::coding::CloseCode};

use super::core::Input;
use super::http::{self, Request, Response};
use crate::tasks::Tasks;

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
    /// Tell `reached` once every step before this one is on the socket (a flood's pacing waits
    /// for it, so a slow client holds the flood back instead of filling this queue).
    Mark { reached: oneshot::Sender<()> },
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// The websocket front's connection, once upgraded (plain or TLS underneath).
type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Serves `/ws` (the upgrade) and `/logout` on `listener`, through `tls` when given.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    core: mpsc::Sender<Input>,
    tasks: Tasks,
) {
    let connections = tasks.clone();
    http::serve(listener, tls, "websocket front", tasks, move |request| {
        let route = route(request, core.clone(), connections.clone());
        async move { Ok(route.await) }
    })
    .await;
}

async fn route(request: Request, core: mpsc::Sender<Input>, tasks: Tasks) -> Response {
    match request.uri().path() {
        "/logout" => logout(request, core).await,
        "/ws" => upgrade(request, core, tasks).await,
        _ => http::respond(404, "text/plain", "not found\n"),
    }
}

/// The HTTP logout of PROTOCOL.md section 6: `?t=<browserToken>&m=<logoutToken>`.
async fn logout(request: Request, core: mpsc::Sender<Input>) -> Response {
    let query = http::parse_query(request.uri().query());
    let (reply, answer) = oneshot::channel();
    let (status, body) = match core.send(Input::HttpLogout { query, reply }).await {
        Ok(()) => answer.await.unwrap_or((503, "{\"status\":503}".into())),
        Err(_) => (503, "{\"status\":503}".into()),
    };
    http::respond(status, "application/json", body)
}

/// Checks the upgrade the way the real service did, answers 101 and hands the upgraded
/// connection to a task of its own.
async fn upgrade(mut request: Request, core: mpsc::Sender<Input>, tasks: Tasks) -> Response {
    let upgrade = http::header(&request, "upgrade")
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    let key = http::header(&request, "sec-websocket-key");
    let (true, Some(key)) = (upgrade, key) else {
        return http::respond(400, "text/plain", "websocket upgrade required\n");
    };
    let origin = http::header(&request, "origin");
    if origin.as_deref() != Some(ORIGIN) {
        // The real service refused upgrades without the web client's Origin.
        let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
        let _ = core
            .send(Input::Refused {
                conn,
                reason: format!("bad Origin {:?}", origin.unwrap_or_default()),
            })
            .await;
        return http::respond(403, "text/plain", "forbidden: wrong Origin\n");
    }
    let upgraded = hyper::upgrade::on(&mut request);
    let connection = tasks.clone();
    tasks.spawn(async move {
        match upgraded.await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                let socket = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
                run_connection(socket, core, connection).await;
            }
            Err(error) => tracing::debug!("sim: the websocket upgrade failed: {error}"),
        }
    });
    let mut response = Response::new(http::full(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

async fn run_connection(socket: Socket, core: mpsc::Sender<Input>, tasks: Tasks) {
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
    let (stop_writer, mut writer_stopped) = oneshot::channel::<()>();
    // Not cancelled at shutdown: it ends once the core drops its sender, after the close
    // frames the core queued on the way out.
    tasks.spawn_to_end(async move {
        write_steps(&mut sink, &mut out_rx, &mut writer_stopped).await;
        // Ends the reader too: without a close frame this is a plain TCP cut.
        let _ = cut_tx.send(());
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
    drop(stop_writer);
    let _ = core.send(Input::Closed { conn, reason }).await;
}

/// Carries out the core's steps in order until its queue closes, a close is done or the reader
/// ends (the client went away). Frames are flushed when the queue runs dry, before a delay and
/// at a mark, so a burst goes out in few writes and nothing waits behind a gap.
async fn write_steps(
    sink: &mut SplitSink<Socket, Message>,
    out: &mut mpsc::UnboundedReceiver<Outgoing>,
    reader_ended: &mut oneshot::Receiver<()>,
) {
    loop {
        let step = tokio::select! {
            step = out.recv() => match step {
                Some(step) => step,
                None => return,
            },
            _ = &mut *reader_ended => return,
        };
        let (delay, message) = match step {
            Outgoing::Text { delay, text } => (delay, Message::text(text)),
            Outgoing::Binary { delay, data } => (delay, Message::binary(data)),
            Outgoing::Close {
                delay,
                handshake: true,
            } => (
                delay,
                Message::Close(Some(CloseFrame {
                    code: CloseCode::Normal,
                    reason: "".into(),
                })),
            ),
            Outgoing::Close {
                delay,
                handshake: false,
            } => {
                let _ = sink.flush().await;
                tokio::time::sleep(delay).await;
                return;
            }
            Outgoing::Mark { reached } => {
                if sink.flush().await.is_err() {
                    return;
                }
                let _ = reached.send(());
                continue;
            }
        };
        if !delay.is_zero() {
            if sink.flush().await.is_err() {
                return;
            }
            tokio::time::sleep(delay).await;
        }
        let closing = matches!(message, Message::Close(_));
        if sink.feed(message).await.is_err() {
            return;
        }
        if closing {
            let _ = sink.flush().await;
            return;
        }
        if out.is_empty() && sink.flush().await.is_err() {
            return;
        }
    }
}
