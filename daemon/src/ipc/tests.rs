//! The socket server against a fake session actor, over real sockets in temp dirs.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use waweb_proto::{
    Event, LoginResult, LogoutResult, MediaDownloadParams, MediaDownloadResult, QueryParams,
    QueryResult, SendStatus, SendTextParams, SendTextResult, State, StatusResult,
};

use super::*;
use crate::session::Command;
use crate::session::handle::Reply;

const DEADLINE: Duration = Duration::from_secs(10);

/// A stand-in for the session actor.
///
/// `status` reports how many `logout`s it saw in `reconnects`; `query` echoes its JSON, after
/// sleeping `sleep_ms` and failing with the error named by `fail`, if given.
fn fake_session() -> SessionHandle {
    let (handle, mut commands) = SessionHandle::new(16);
    let logouts = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while let Some(Command::Call { call, reply }) = commands.recv().await {
            match call {
                Call::Status => {
                    let _ = Reply::new(reply).send(Ok(StatusResult {
                        state: State::Connected,
                        me: None,
                        server_url: "ws://127.0.0.1:1/ws".into(),
                        session_stored: true,
                        session_error: None,
                        last_pong_ms_ago: Some(5),
                        phone_online: Some(true),
                        battery: None,
                        reconnects: logouts.load(Ordering::SeqCst),
                    }));
                }
                Call::Login => {
                    let _ = Reply::new(reply).send(Ok(LoginResult {
                        state: State::Pairing,
                    }));
                }
                Call::Logout => {
                    logouts.fetch_add(1, Ordering::SeqCst);
                    let _ = Reply::new(reply).send(Ok(LogoutResult {
                        server_notified: false,
                    }));
                }
                Call::SendText(SendTextParams { to, text, .. }) => {
                    let _ = Reply::new(reply).send(Ok(SendTextResult {
                        id: format!("{to}:{text}"),
                        status: SendStatus::Server(200),
                        t: Some(1_600_000_000),
                    }));
                }
                Call::Outbox
                | Call::OutboxCancel(_)
                | Call::SendMedia(_)
                | Call::Chats(_)
                | Call::Contacts(_)
                | Call::ChatModify(_) => {
                    let _ = reply.send(Err(SessionError::Internal("no outbox here".into())));
                }
                // Sends and receipts take the send_text path; the socket server treats them alike.
                Call::SendLocation(_)
                | Call::SendContact(_)
                | Call::Forward(_)
                | Call::Revoke(_)
                | Call::MarkRead(_)
                | Call::MarkUnread(_)
                | Call::MarkPlayed(_)
                | Call::SetPresence(_)
                | Call::SetTyping(_)
                | Call::SubscribePresence(_)
                | Call::OnWhatsapp(_)
                | Call::ProfilePicture(_)
                | Call::SetProfilePicture(_)
                | Call::About(_)
                | Call::SetAbout(_)
                | Call::SetPushName(_)
                | Call::Block(_)
                | Call::Unblock(_)
                | Call::Blocklist
                | Call::Messages(_)
                | Call::GetMessage(_)
                | Call::Search(_) => {
                    let _ = reply.send(Err(SessionError::NotConnected));
                }
                Call::GroupInfo(_)
                | Call::GroupCreate(_)
                | Call::GroupParticipants(_)
                | Call::GroupLeave(_)
                | Call::GroupSubject(_)
                | Call::GroupDescription(_)
                | Call::GroupSettings(_)
                | Call::GroupInvite(_)
                | Call::GroupJoin(_) => {
                    let _ = reply.send(Err(SessionError::NotConnected));
                }
                Call::Query(QueryParams { json, .. }) => {
                    let json = json.unwrap_or_default();
                    let reply = Reply::new(reply);
                    tokio::spawn(async move {
                        if let Some(ms) = json["sleep_ms"].as_u64() {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                        }
                        let result = match json["fail"].as_str() {
                            Some(kind) => Err(failure(kind)),
                            None => Ok(QueryResult::Reply(json)),
                        };
                        let _ = reply.send(result);
                    });
                }
                Call::MediaDownload(MediaDownloadParams {
                    media: Some(media),
                    output,
                    ..
                }) => {
                    let _ = Reply::new(reply).send(Ok(MediaDownloadResult {
                        path: output,
                        bytes: media.file_length,
                        sha256: media.file_sha256,
                    }));
                }
                Call::MediaDownload(_) => {
                    let _ = reply.send(Err(SessionError::NotFound("no store here".into())));
                }
                // The socket server answers these itself.
                Call::Version
                | Call::Subscribe(_)
                | Call::Unsubscribe(_)
                | Call::Commit(_)
                | Call::Metrics
                | Call::Consumers
                | Call::Events(_) => {
                    panic!("the socket server sent {} to the session", call.name())
                }
            }
        }
    });
    handle
}

fn failure(kind: &str) -> SessionError {
    match kind {
        "not_logged_in" => SessionError::NotLoggedIn,
        "already_logged_in" => SessionError::AlreadyLoggedIn,
        "not_connected" => SessionError::NotConnected,
        "server_error" => SessionError::Server {
            status: 404,
            message: "not found".into(),
        },
        "timeout" => SessionError::Timeout,
        "integrity" => SessionError::Integrity("bad mac".into()),
        "io" => SessionError::Io("disk full".into()),
        "media_expired" => SessionError::MediaExpired("gone".into()),
        "invalid_params" => SessionError::InvalidParams("bad recipient".into()),
        _ => SessionError::Stopped,
    }
}

/// A running server on a fresh socket.
struct Server {
    _dir: TempDir,
    path: PathBuf,
    bus: Bus,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start() -> Server {
        Server::start_with(Options::default(), Bus::new()).await
    }

    async fn start_with(options: Options, bus: Bus) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("wawebd-ipc")
            .tempdir()
            .unwrap();
        let path = dir.path().join("run").join("wawebd.sock");
        let listener = Listener::bind(&path).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(
            listener,
            fake_session(),
            bus.clone(),
            options,
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            _dir: dir,
            path,
            bus,
            stop: Some(stop),
            task,
        }
    }

    async fn client(&self) -> Client {
        Client::connect(&self.path).await
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        timeout(DEADLINE, &mut self.task).await.unwrap().unwrap();
    }
}

/// A raw line client.
struct Client {
    lines: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl Client {
    async fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).await.unwrap();
        let (read, write) = stream.into_split();
        Client {
            lines: BufReader::new(read).lines(),
            write,
        }
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.write.write_all(bytes).await.unwrap();
    }

    async fn send(&mut self, request: Value) {
        let mut line = request.to_string();
        line.push('\n');
        self.send_raw(line.as_bytes()).await;
    }

    /// The next line as JSON; `None` when the server closed the connection.
    async fn try_recv(&mut self) -> Option<Value> {
        let line = timeout(DEADLINE, self.lines.next_line())
            .await
            .expect("the server answers in time")
            .unwrap_or(None)?;
        Some(serde_json::from_str(&line).unwrap())
    }

    /// The next line; an event's `at` (the time it happened) is checked and taken off, so
    /// tests compare the rest.
    async fn recv(&mut self) -> Value {
        let mut line = self.try_recv().await.expect("a line, not the end");
        if line["method"] == "event"
            && let Some(params) = line["params"].as_object_mut()
        {
            let at = params.remove("at");
            assert!(at.as_ref().is_some_and(Value::is_u64), "{line}");
        }
        line
    }

    /// Sends a request and returns the next line, which must be its reply.
    async fn call(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let reply = self.recv().await;
        assert_eq!(reply["id"], json!(id), "{reply}");
        reply
    }

    async fn expect_error(&mut self, request: Value, code: i64, kind: &str) -> Value {
        self.send(request).await;
        let reply = self.recv().await;
        assert_eq!(reply["jsonrpc"], "2.0");
        assert_eq!(reply["error"]["code"], json!(code), "{reply}");
        assert_eq!(reply["error"]["data"]["kind"], json!(kind), "{reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        reply
    }
}

fn state_event(state: State) -> Event {
    Event::State {
        state,
        reason: None,
        message: None,
    }
}

fn json_event(tag: &str) -> Event {
    Event::Json {
        tag: tag.into(),
        payload: json!(null),
    }
}

#[tokio::test]
async fn version_is_answered_by_the_server_and_status_by_the_session() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let version = client.call(1, "version", json!(null)).await;
    assert_eq!(
        version["result"],
        json!({"daemon": env!("CARGO_PKG_VERSION"), "protocol": 1, "wa_version": [2, 2142, 12]})
    );
    let status = client.call(2, "status", json!({})).await;
    assert_eq!(status["result"]["state"], "connected");
    assert_eq!(status["result"]["battery"], Value::Null);
    let send = client
        .call(3, "send_text", json!({"to": "+49 1", "text": "hi"}))
        .await;
    assert_eq!(send["result"]["id"], "+49 1:hi");
    let login = client.call(4, "login", json!(null)).await;
    assert_eq!(login["result"], json!({"state": "pairing"}));
    server.stop().await;
}

#[tokio::test]
async fn malformed_lines_get_their_errors_and_the_connection_goes_on() {
    let server = Server::start().await;
    let mut client = server.client().await;

    client.send_raw(b"{not json\n").await;
    let reply = client.recv().await;
    assert_eq!(reply["id"], Value::Null);
    assert_eq!(reply["error"]["code"], -32700);
    assert_eq!(reply["error"]["data"]["kind"], "parse_error");

    client.send_raw(b"\xff\xfe\n").await;
    assert_eq!(client.recv().await["error"]["code"], -32700);

    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "status"}]);
    let reply = client
        .expect_error(batch, -32600, "batch_unsupported")
        .await;
    assert_eq!(reply["id"], Value::Null);
    client
        .expect_error(json!([]), -32600, "batch_unsupported")
        .await;

    client
        .expect_error(json!(42), -32600, "invalid_request")
        .await;
    let reply = client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 5}),
            -32600,
            "invalid_request",
        )
        .await;
    assert_eq!(reply["id"], 5, "a readable id is echoed");
    client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 5, "method": 7}),
            -32600,
            "invalid_request",
        )
        .await;
    client
        .expect_error(
            json!({"jsonrpc": "1.0", "id": 5, "method": "status"}),
            -32600,
            "invalid_request",
        )
        .await;
    let reply = client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": null, "method": "status"}),
            -32600,
            "invalid_request",
        )
        .await;
    assert_eq!(reply["id"], Value::Null);
    client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 1.5, "method": "status"}),
            -32600,
            "invalid_request",
        )
        .await;
    // Invalid requests are answered even without an id.
    client
        .expect_error(json!({"jsonrpc": "2.0"}), -32600, "invalid_request")
        .await;

    let reply = client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": "s", "method": "reboot"}),
            -32601,
            "method_not_found",
        )
        .await;
    assert_eq!(reply["id"], "s");

    for params in [
        json!({"to": "1"}),
        json!({"to": "1", "text": "hi", "extra": true}),
        json!("to"),
        json!({"to": 1, "text": "hi"}),
    ] {
        client
            .expect_error(
                json!({"jsonrpc": "2.0", "id": 9, "method": "send_text", "params": params}),
                -32602,
                "invalid_params",
            )
            .await;
    }
    client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 9, "method": "status", "params": {"verbose": true}}),
            -32602,
            "invalid_params",
        )
        .await;
    client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 9, "method": "media_download", "params": {"media": {"kind": "text"}, "output": "/x"}}),
            -32602,
            "invalid_params",
        )
        .await;

    // Still serving.
    let status = client.call(10, "status", json!(null)).await;
    assert_eq!(status["result"]["state"], "connected");
    server.stop().await;
}

#[tokio::test]
async fn array_params_are_bad_params_for_every_method() {
    let server = Server::start().await;
    let mut client = server.client().await;
    // Positional params once slipped through for some methods: `[]` for those without params,
    // `["1","hi"]` for send_text. Params are objects, for every method alike.
    for (n, method) in Call::NAMES.iter().enumerate() {
        for params in [json!([]), json!(["1", "hi"])] {
            let reply = client
                .expect_error(
                    json!({"jsonrpc": "2.0", "id": n, "method": method, "params": params}),
                    -32602,
                    "invalid_params",
                )
                .await;
            assert_eq!(reply["id"], n);
            assert_eq!(reply["error"]["message"], "`params` must be an object");
        }
    }
    // The list of methods in -32601 is the enum's.
    let reply = client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 1, "method": "reboot", "params": []}),
            -32601,
            "method_not_found",
        )
        .await;
    assert_eq!(
        reply["error"]["message"],
        format!(
            "no method \"reboot\"; the methods are {}",
            Call::NAMES.join(", ")
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn session_errors_keep_their_codes() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let cases = [
        ("not_logged_in", -32001),
        ("already_logged_in", -32002),
        ("not_connected", -32003),
        ("server_error", -32004),
        ("timeout", -32005),
        ("integrity", -32006),
        ("io", -32007),
        ("media_expired", -32008),
        ("invalid_params", -32602),
        ("internal_error", -32603),
    ];
    for (n, (kind, code)) in (1..).zip(cases) {
        let request = json!({"jsonrpc": "2.0", "id": n, "method": "query", "params": {"json": {"fail": kind}}});
        let reply = client.expect_error(request, code, kind).await;
        assert_eq!(reply["id"], json!(n));
        if kind == "server_error" {
            assert_eq!(reply["error"]["data"]["status"], 404);
        } else {
            assert!(reply["error"]["data"].get("status").is_none());
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_gone_session_is_an_internal_error_not_a_hang() {
    let dir = tempfile::Builder::new()
        .prefix("wawebd-ipc")
        .tempdir()
        .unwrap();
    let path = dir.path().join("wawebd.sock");
    let listener = Listener::bind(&path).unwrap();
    let (handle, commands) = SessionHandle::new(1);
    drop(commands);
    let server = tokio::spawn(serve(listener, handle, Bus::new(), std::future::pending()));
    let mut client = Client::connect(&path).await;
    let reply = client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 1, "method": "status"}),
            -32603,
            "internal_error",
        )
        .await;
    assert_eq!(reply["id"], 1);
    server.abort();
}

#[tokio::test]
async fn replies_come_as_soon_as_they_are_ready() {
    let server = Server::start().await;
    let mut client = server.client().await;
    client
        .send(json!({"jsonrpc": "2.0", "id": "slow", "method": "query", "params": {"json": {"sleep_ms": 400}}}))
        .await;
    client
        .send(json!({"jsonrpc": "2.0", "id": "fast", "method": "status"}))
        .await;
    let first = client.recv().await;
    let second = client.recv().await;
    assert_eq!(first["id"], "fast");
    assert_eq!(second["id"], "slow");
    assert_eq!(second["result"], json!({"reply": {"sleep_ms": 400}}));
    server.stop().await;
}

#[tokio::test]
async fn notifications_run_but_are_never_answered() {
    let server = Server::start().await;
    let mut client = server.client().await;
    client
        .send(json!({"jsonrpc": "2.0", "method": "logout"}))
        .await;
    client
        .send(json!({"jsonrpc": "2.0", "method": "logout", "params": null}))
        .await;
    // Unknown methods and bad params in notifications are not answered either.
    client
        .send(json!({"jsonrpc": "2.0", "method": "nonsense"}))
        .await;
    client
        .send(json!({"jsonrpc": "2.0", "method": "send_text", "params": {}}))
        .await;
    client
        .send(json!({"jsonrpc": "2.0", "method": "query", "params": {"json": {"fail": "timeout"}}}))
        .await;
    // Blank lines are skipped.
    client.send_raw(b"\n  \r\n").await;
    // The notifications ran (the fake counts logouts in `reconnects`); wait for both, since they
    // run concurrently with this request.
    let mut reconnects = 0;
    for n in 1..=50 {
        let status = client.call(n, "status", json!(null)).await;
        reconnects = status["result"]["reconnects"].as_u64().unwrap();
        if reconnects == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(reconnects, 2);
    server.stop().await;
}

#[tokio::test]
async fn an_over_long_line_is_refused_and_the_next_one_served() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let mut long = vec![b'x'; MAX_LINE + 10];
    long.push(b'\n');
    client.send_raw(&long).await;
    client
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": "status"}))
        .await;
    let refused = client.recv().await;
    assert_eq!(
        refused,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": refused["error"]["message"], "data": {"kind": "line_too_long"}}})
    );
    assert_eq!(client.recv().await["id"], 1);

    // Exactly at the limit is fine (and here a valid request, padded with spaces).
    let mut at_limit = br#"{"jsonrpc":"2.0","id":2,"method":"status"}"#.to_vec();
    at_limit.resize(MAX_LINE, b' ');
    at_limit.push(b'\n');
    client.send_raw(&at_limit).await;
    assert_eq!(client.recv().await["id"], 2);

    // A long line arriving in pieces, the newline last.
    client.send_raw(&vec![b'['; MAX_LINE / 2]).await;
    client.send_raw(&vec![b'['; MAX_LINE / 2]).await;
    client.send_raw(b"[[\n").await;
    assert_eq!(
        client.recv().await["error"]["data"]["kind"],
        "line_too_long"
    );
    assert_eq!(client.call(3, "status", json!(null)).await["id"], 3);
    server.stop().await;
}

#[tokio::test]
async fn a_last_request_without_newline_is_answered_after_the_client_stops_sending() {
    let server = Server::start().await;
    let mut client = server.client().await;
    client
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": "query", "params": {"json": {"sleep_ms": 100}}}))
        .await;
    client
        .send_raw(br#"{"jsonrpc":"2.0","id":2,"method":"status"}"#)
        .await;
    client.write.shutdown().await.unwrap();
    let mut ids = vec![
        client.recv().await["id"].clone(),
        client.recv().await["id"].clone(),
    ];
    ids.sort_by_key(|id| id.as_i64());
    assert_eq!(ids, [json!(1), json!(2)]);
    assert_eq!(client.try_recv().await, None, "then the server closes");
    server.stop().await;
}

#[tokio::test]
async fn subscribe_filters_replace_and_unsubscribe() {
    let server = Server::start().await;
    server.bus.publish(state_event(State::Connected));
    let mut client = server.client().await;

    let reply = client
        .call(1, "subscribe", json!({"events": ["json", "qr"]}))
        .await;
    assert_eq!(
        reply["result"],
        json!({"events": ["qr", "json"], "head": 0})
    );
    server.bus.publish(state_event(State::Reconnecting));
    server.bus.publish(json_event("a"));
    let event = client.recv().await;
    assert_eq!(
        event,
        json!({"jsonrpc": "2.0", "method": "event", "params": {"type": "json", "tag": "a", "payload": null}})
    );

    // A second subscribe replaces the filter.
    let reply = client
        .call(2, "subscribe", json!({"events": ["state"]}))
        .await;
    assert_eq!(reply["result"], json!({"events": ["state"], "head": 0}));
    server.bus.publish(json_event("b"));
    server.bus.publish(state_event(State::Connected));
    assert_eq!(client.recv().await["params"]["state"], "connected");

    // Unknown types are refused and leave the filter alone.
    client
        .expect_error(
            json!({"jsonrpc": "2.0", "id": 3, "method": "subscribe", "params": {"events": ["state", "gossip"]}}),
            -32602,
            "invalid_params",
        )
        .await;

    // Everything, then drop some.
    let reply = client.call(4, "subscribe", json!({"events": []})).await;
    assert_eq!(
        reply["result"]["events"].as_array().unwrap().len(),
        EventType::ALL.len()
    );
    let reply = client
        .call(
            5,
            "unsubscribe",
            json!({"events": ["qr", "connected", "disconnected", "logged_out", "battery", "message", "revoke", "presence",
                "group", "chat", "contact", "blocklist", "picture", "call", "ack", "node", "error", "state"]}),
        )
        .await;
    assert_eq!(reply["result"], json!({"events": ["json"]}));
    server.bus.publish(state_event(State::Reconnecting));
    server.bus.publish(json_event("c"));
    assert_eq!(client.recv().await["params"]["tag"], "c");

    let reply = client.call(6, "unsubscribe", json!(null)).await;
    assert_eq!(reply["result"], json!({"events": []}));
    server.bus.publish(json_event("d"));
    // Nothing arrives before the next reply.
    let reply = client.call(7, "status", json!(null)).await;
    assert!(reply.get("result").is_some());

    // A fresh subscription starts again with the current state.
    let reply = client.call(8, "subscribe", json!(null)).await;
    assert_eq!(reply["result"]["events"][0], "state");
    let snapshot = client.recv().await;
    assert_eq!(
        snapshot["params"],
        json!({"type": "state", "state": "reconnecting"})
    );
    server.stop().await;
}

#[tokio::test]
async fn the_snapshot_follows_the_subscribe_reply() {
    let server = Server::start().await;
    server.bus.publish(state_event(State::Pairing));
    let mut client = server.client().await;
    client
        .send(json!({"jsonrpc": "2.0", "method": "subscribe", "params": {"events": ["state"]}}))
        .await;
    // A notification subscribe is not answered, but the snapshot still comes.
    assert_eq!(client.recv().await["params"]["state"], "pairing");

    let mut other = server.client().await;
    let reply = other
        .call(1, "subscribe", json!({"events": ["state"]}))
        .await;
    assert_eq!(reply["result"]["events"], json!(["state"]));
    assert_eq!(other.recv().await["params"]["state"], "pairing");
    server.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_is_dropped_and_the_others_carry_on() {
    let options = Options {
        queue_lines: 32,
        evict_grace: Duration::from_secs(5),
        ..Options::default()
    };
    let server = Server::start_with(options, Bus::with_capacity(64)).await;
    let mut sleepy = server.client().await;
    let mut reader = server.client().await;
    sleepy
        .call(1, "subscribe", json!({"events": ["json"]}))
        .await;
    reader
        .call(1, "subscribe", json!({"events": ["json"]}))
        .await;

    // The reading subscriber drains in its own task and reports each event it got.
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let reading = tokio::spawn(async move {
        while let Some(event) = reader.try_recv().await {
            let _ = seen_tx.send(event);
        }
    });

    // 2 KiB per event: the socket buffers fill after a few hundred events at most.
    let padding = "x".repeat(2048);
    let total = 2000;
    for n in 0..total {
        server.bus.publish(Event::Json {
            tag: n.to_string(),
            payload: json!(padding),
        });
        // Keep the reading subscriber within the bus capacity: wait until it has this event.
        let event = timeout(DEADLINE, seen.recv()).await.unwrap().unwrap();
        assert_eq!(event["params"]["tag"], n.to_string());
    }

    // The sleepy one gets what fit, then the error event, then the end.
    let mut last = Value::Null;
    let mut count = 0;
    while let Some(line) = sleepy.try_recv().await {
        count += 1;
        last = line;
    }
    assert!(count < total, "it cannot have received everything");
    assert_eq!(last["method"], "event");
    assert_eq!(last["params"]["type"], "error");
    assert_eq!(last["params"]["kind"], "lagged");

    // The other subscriber is unaffected.
    server.bus.publish(json_event("after"));
    let event = timeout(DEADLINE, seen.recv()).await.unwrap().unwrap();
    assert_eq!(event["params"]["tag"], "after");
    server.stop().await;
    reading.await.unwrap();
}

#[tokio::test]
async fn media_download_passes_the_media_object_through() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let media = json!({"kind": "image", "url": "https://h/x.enc", "direct_path": null, "media_key": "AAEC",
        "mimetype": "image/jpeg", "file_sha256": "c2hh", "file_enc_sha256": "ZW5j", "file_length": 3});
    let reply = client
        .call(
            1,
            "media_download",
            json!({"media": media, "output": "/tmp/out.jpg"}),
        )
        .await;
    assert_eq!(
        reply["result"],
        json!({"path": "/tmp/out.jpg", "bytes": 3, "sha256": "c2hh"})
    );
    server.stop().await;
}

#[tokio::test]
async fn the_socket_is_private_and_cleaned_up() {
    let server = Server::start().await;
    let path = server.path.clone();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);

    let mut client = server.client().await;
    let _ = client.call(1, "status", json!(null)).await;
    server.stop().await;
    assert!(!path.exists(), "the socket file is removed on shutdown");
    assert_eq!(
        client.try_recv().await,
        None,
        "connections are closed on shutdown"
    );
}

#[tokio::test]
async fn a_live_socket_is_refused_and_a_stale_one_replaced() {
    let dir = tempfile::Builder::new()
        .prefix("wawebd-ipc")
        .tempdir()
        .unwrap();
    let path = dir.path().join("wawebd.sock");

    let first = Listener::bind(&path).unwrap();
    let error = Listener::bind(&path).unwrap_err();
    assert!(matches!(error, ListenerError::AlreadyRunning { .. }));
    assert_eq!(
        error.to_string(),
        format!("another wawebd is running on {}", path.display())
    );
    assert!(path.exists(), "the live daemon's socket is left alone");

    // A socket file nobody listens on: what a crashed daemon leaves behind.
    let stale = std::os::unix::net::UnixListener::bind(dir.path().join("stale.sock")).unwrap();
    drop(stale);
    let stale_path = dir.path().join("stale.sock");
    assert!(stale_path.exists());
    let replaced = Listener::bind(&stale_path).unwrap();
    let mut client = Client::connect(&stale_path).await;
    drop(replaced);
    assert_eq!(client.try_recv().await, None);
    assert!(!stale_path.exists());

    drop(first);
    assert!(!path.exists(), "dropping the listener removes the socket");
}

#[tokio::test]
async fn other_files_are_never_replaced() {
    let dir = tempfile::Builder::new()
        .prefix("wawebd-ipc")
        .tempdir()
        .unwrap();
    let path = dir.path().join("precious");
    fs::write(&path, b"data").unwrap();
    let error = Listener::bind(&path).unwrap_err();
    assert!(matches!(error, ListenerError::NotASocket { .. }), "{error}");
    assert_eq!(fs::read(&path).unwrap(), b"data");

    let not_a_dir = path.join("wawebd.sock");
    assert!(Listener::bind(not_a_dir).is_err());
}

#[tokio::test]
async fn drop_leaves_a_successors_socket_alone() {
    let dir = tempfile::Builder::new()
        .prefix("wawebd-ipc")
        .tempdir()
        .unwrap();
    let path = dir.path().join("wawebd.sock");
    let old = Listener::bind(&path).unwrap();
    // Someone removed our file and a new daemon bound the path.
    fs::remove_file(&path).unwrap();
    let new = Listener::bind(&path).unwrap();
    drop(old);
    assert!(path.exists());
    drop(new);
    assert!(!path.exists());
}

#[test]
fn only_our_user_and_root_may_connect() {
    assert!(peer_allowed(1000, 1000));
    assert!(peer_allowed(0, 1000));
    assert!(!peer_allowed(1001, 1000));
    assert!(peer_allowed(0, 0));
    assert!(!peer_allowed(1000, 0));
}

#[tokio::test]
async fn line_reader_bounds_lines_and_keeps_the_rest() {
    let input: &[u8] = b"short\nthis line is too long\nok\n\n  \nlast";
    let mut reader = LineReader::new(input, 8, LineBudget::new(usize::MAX));
    assert_eq!(
        reader.next().await.unwrap(),
        Some(Line::Text(b"short".to_vec()))
    );
    assert_eq!(reader.next().await.unwrap(), Some(Line::TooLong));
    assert_eq!(
        reader.next().await.unwrap(),
        Some(Line::Text(b"ok".to_vec()))
    );
    assert_eq!(
        reader.next().await.unwrap(),
        Some(Line::Text(b"last".to_vec()))
    );
    assert_eq!(reader.next().await.unwrap(), None);
}

#[tokio::test]
async fn unfinished_lines_of_all_connections_share_one_budget() {
    let budget = LineBudget::new(10);
    let (mut first_tx, first_rx) = tokio::io::duplex(64);
    let (mut second_tx, second_rx) = tokio::io::duplex(64);
    let mut first = LineReader::new(first_rx, 1 << 20, budget.clone());
    let mut second = LineReader::new(second_rx, 1 << 20, budget.clone());
    let pending = Duration::from_millis(50);

    // The first client holds 8 bytes of an unfinished line.
    first_tx.write_all(b"aaaaaaaa").await.unwrap();
    assert!(timeout(pending, first.next()).await.is_err());
    assert_eq!(budget.held(), 8);
    // The second one's unfinished line would go over the budget: dropped, and the rest of it too.
    second_tx.write_all(b"bbbbb").await.unwrap();
    assert_eq!(second.next().await.unwrap(), Some(Line::Busy));
    second_tx.write_all(b"bb\n").await.unwrap();
    // Whole lines need no budget at all.
    second_tx.write_all(b"{\"id\":1}\n").await.unwrap();
    assert_eq!(
        second.next().await.unwrap(),
        Some(Line::Text(b"{\"id\":1}".to_vec()))
    );
    // The first line ends: its share comes back, and the second client may hold one again.
    first_tx.write_all(b"a\n").await.unwrap();
    assert_eq!(
        first.next().await.unwrap(),
        Some(Line::Text(b"aaaaaaaaa".to_vec()))
    );
    assert_eq!(budget.held(), 0);
    second_tx.write_all(b"cccccc").await.unwrap();
    assert!(timeout(pending, second.next()).await.is_err());
    assert_eq!(budget.held(), 6);
    // A connection that goes away mid-line gives its share back.
    drop(second);
    assert_eq!(budget.held(), 0);
}

/// Connects until the server takes the client (its cleanup of closed clients is asynchronous),
/// and returns it with its `status` answered.
async fn served_client(server: &Server) -> Client {
    timeout(DEADLINE, async {
        loop {
            let mut client = server.client().await;
            client
                .send(json!({"jsonrpc": "2.0", "id": 1, "method": "status"}))
                .await;
            if let Some(reply) = client.try_recv().await
                && reply["id"] == json!(1)
            {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("a place frees up once closed clients are reclaimed")
}

#[tokio::test]
async fn subscribers_that_hang_up_are_reclaimed_at_once_whatever_their_filter() {
    let options = Options {
        max_connections: 3,
        ..Options::default()
    };
    let server = Server::start_with(options, Bus::new()).await;
    // No event of these types ever comes: only the hang-up itself can end the connections.
    for round in 0..300 {
        let mut client = served_client(&server).await;
        client
            .call(2, "subscribe", json!({"events": ["logged_out"]}))
            .await;
        if round % 2 == 0 {
            // Half-close first, then go: the hang-up still counts.
            client.write.shutdown().await.unwrap();
        }
        drop(client);
    }
    // All three places are free again, and a fourth client is told why it is refused.
    let mut kept = fill_places(&server, 3).await;
    let mut refused = server.client().await;
    let line = refused.recv().await;
    assert_eq!(line["id"], Value::Null);
    assert_eq!(line["error"]["code"], -32000, "{line}");
    assert_eq!(line["error"]["data"]["kind"], "too_many_connections");
    assert!(
        line["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 3")
    );
    assert_eq!(refused.try_recv().await, None, "then it is closed");
    // The clients that were let in are still served.
    for client in &mut kept {
        assert_eq!(
            client.call(9, "status", Value::Null).await["result"]["state"],
            "connected"
        );
    }
    server.stop().await;
}

/// `places` clients, each served.
async fn fill_places(server: &Server, places: usize) -> Vec<Client> {
    let mut kept = Vec::new();
    for _ in 0..places {
        kept.push(served_client(server).await);
    }
    kept
}

#[tokio::test]
async fn a_half_closed_subscriber_that_still_reads_keeps_its_events() {
    let server = Server::start().await;
    let mut client = server.client().await;
    client
        .call(1, "subscribe", json!({"events": ["json"]}))
        .await;
    client.write.shutdown().await.unwrap();
    // Give the server time to see the end of input; it must not take it for a hang-up.
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.bus.publish(json_event("still-here"));
    let event = client.recv().await;
    assert_eq!(event["params"]["tag"], "still-here");
    server.stop().await;
}
