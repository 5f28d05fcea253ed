//! The JSON shapes scripts rely on, checked as exact lines.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::message::{Message, MessageKind};
use crate::methods::{self, Status};
use crate::notice;
use crate::*;

fn line<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

fn event_line(event: &Event) -> String {
    line(&Notification::event(event))
}

#[test]
fn state_event_leaves_out_absent_reason() {
    let event = Event::State {
        state: State::Connected,
        reason: None,
        message: None,
    };
    assert_eq!(
        event_line(&event),
        r#"{"jsonrpc":"2.0","method":"event","params":{"type":"state","state":"connected"}}"#
    );
    let event = Event::State {
        state: State::Reconnecting,
        reason: Some(Reason::PongTimeout),
        message: Some(Reason::PongTimeout.description().into()),
    };
    assert_eq!(
        line(&event),
        r#"{"type":"state","state":"reconnecting","reason":"pong_timeout","message":"the server stopped answering keepalives"}"#
    );
}

#[test]
fn qr_event_uses_ref() {
    let event = Event::Qr {
        content: "1@Ab,Cd=,Ef==".into(),
        reference: "1@Ab".into(),
        ttl_ms: 20_000,
        attempt: 1,
        attempts_max: 6,
    };
    let text = line(&event);
    assert_eq!(
        text,
        r#"{"type":"qr","content":"1@Ab,Cd=,Ef==","ref":"1@Ab","ttl_ms":20000,"attempt":1,"attempts_max":6}"#
    );
    assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);
}

#[test]
fn ending_events_write_null_rather_than_leave_out() {
    let disconnected = Event::Disconnected {
        reason: Reason::Replaced,
        retry_in_ms: None,
    };
    assert_eq!(
        line(&disconnected),
        r#"{"type":"disconnected","reason":"replaced","retry_in_ms":null}"#
    );
    let logged_out = Event::LoggedOut {
        reason: Reason::Unpaired,
        status: Some(401),
    };
    assert_eq!(
        line(&logged_out),
        r#"{"type":"logged_out","reason":"unpaired","status":401}"#
    );
}

#[test]
fn message_event_is_flat() {
    let event = Event::Message(Message {
        timestamp: 1_600_000_000,
        push_name: Some("Contact 0".into()),
        text: Some("hi".into()),
        ..Message::new(
            "3EB0A38DBC008F49C0BC",
            "4915100000000@s.whatsapp.net",
            MessageKind::Text,
        )
    });
    let text = line(&event);
    assert_eq!(
        text,
        r#"{"type":"message","id":"3EB0A38DBC008F49C0BC","chat":"4915100000000@s.whatsapp.net","from_me":false,"participant":null,"timestamp":1600000000,"push_name":"Contact 0","kind":"text","text":"hi","media":null,"source":"live"}"#
    );
    assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);
}

#[test]
fn every_event_reads_back_and_names_its_type() {
    let me = Me {
        wid: "4915100000000@s.whatsapp.net".into(),
        pushname: "Ada".into(),
        platform: "android".into(),
        phone: json!({"wa_version": "2.21.23.23"}),
    };
    let events = [
        Event::Connected { me, restored: true },
        Event::Battery(Battery {
            percent: 52,
            plugged: true,
            powersave: false,
        }),
        Event::Ack {
            id: "X".into(),
            ack: -1,
            chat: "1@g.us".into(),
            error: None,
        },
        Event::Node {
            tag: "action".into(),
            attrs: json!({"add": "relay"}),
            content: json!([{"tag": "x", "attrs": {}, "content": {"base64": "AA=="}}]),
            frame_tag: "1.--2".into(),
        },
        Event::Json {
            tag: "s3".into(),
            payload: json!(["Props", {"a": 1}]),
        },
        Event::Error {
            kind: LAGGED.into(),
            message: "behind".into(),
            last_seq: Some(3),
        },
        Event::Revoke(notice::Revoke {
            chat: "4915100000001@s.whatsapp.net".into(),
            id: "3A0B".into(),
            from_me: false,
            participant: None,
            by: Some("4915100000001@s.whatsapp.net".into()),
        }),
        Event::Presence(notice::Presence {
            jid: "4915100000001@s.whatsapp.net".into(),
            chat: Some("1-2@g.us".into()),
            presence: "composing".into(),
            last_seen: None,
        }),
        Event::Group(notice::Group {
            chat: "1-2@g.us".into(),
            action: "add".into(),
            actor: None,
            participants: vec!["4915100000004@s.whatsapp.net".into()],
            subject: None,
            value: None,
        }),
        Event::Chat(notice::Chat {
            chat: "1-2@g.us".into(),
            action: "pin".into(),
            value: Some("1600000000".into()),
        }),
        Event::Contact(notice::Contact {
            jid: "4915100000001@s.whatsapp.net".into(),
            name: None,
            notify: Some("Ali".into()),
            short: None,
        }),
        Event::Blocklist(notice::Blocklist { jids: Vec::new() }),
        Event::Picture(notice::Picture {
            jid: "1-2@g.us".into(),
            removed: true,
        }),
        Event::Call(notice::Call {
            from: "4915100000001@s.whatsapp.net".into(),
            id: "C1".into(),
            status: "offer".into(),
        }),
    ];
    for event in events {
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["type"], json!(event.event_type().as_str()));
        assert_eq!(serde_json::from_value::<Event>(value).unwrap(), event);
    }
    assert_eq!(
        line(&Event::Battery(Battery {
            percent: 52,
            plugged: false,
            powersave: false
        })),
        r#"{"type":"battery","percent":52,"plugged":false,"powersave":false}"#
    );
    assert_eq!(
        line(&Event::Presence(notice::Presence {
            jid: "4915100000001@s.whatsapp.net".into(),
            chat: None,
            presence: "unavailable".into(),
            last_seen: Some(1_600_000_000),
        })),
        r#"{"type":"presence","jid":"4915100000001@s.whatsapp.net","chat":null,"presence":"unavailable","last_seen":1600000000}"#
    );
}

#[test]
fn event_types_parse_and_print_alike() {
    for kind in EventType::ALL {
        assert_eq!(kind.as_str().parse::<EventType>().unwrap(), kind);
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
    }
    assert!("messages".parse::<EventType>().is_err());
    let params: Result<EventsParams, _> = serde_json::from_value(json!({"events": ["bogus"]}));
    assert!(params.is_err());
}

#[test]
fn unknown_reasons_survive_a_round_trip() {
    let reason: Reason = serde_json::from_value(json!("cosmic_rays")).unwrap();
    assert_eq!(reason, Reason::Other("cosmic_rays".into()));
    assert_eq!(serde_json::to_value(&reason).unwrap(), json!("cosmic_rays"));
    let known: Reason = serde_json::from_value(json!("logged_in_elsewhere")).unwrap();
    assert_eq!(known, Reason::LoggedInElsewhere);
    assert_eq!(Reason::from_status(409), Some(Reason::LoggedInElsewhere));
    assert_eq!(Reason::from_status(500), None);
}

#[test]
fn error_lines_are_exact() {
    let too_long = Response::error(None, RpcError::new(ErrorKind::LineTooLong, "line too long"));
    assert_eq!(
        line(&too_long),
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"line too long","data":{"kind":"line_too_long"}}}"#
    );
    let server = Response::error(
        Some(Id::Number(4)),
        RpcError::server_error(404, "the server answered 404"),
    );
    assert_eq!(
        line(&server),
        r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32004,"message":"the server answered 404","data":{"kind":"server_error","status":404}}}"#
    );
    let ok = Response::ok(Some(Id::from("a")), json!({"server_notified": true}));
    assert_eq!(
        line(&ok),
        r#"{"jsonrpc":"2.0","id":"a","result":{"server_notified":true}}"#
    );
}

#[test]
fn every_kind_has_its_design_code() {
    let table = [
        (ErrorKind::ParseError, -32700, "parse_error"),
        (ErrorKind::InvalidRequest, -32600, "invalid_request"),
        (ErrorKind::LineTooLong, -32600, "line_too_long"),
        (ErrorKind::BatchUnsupported, -32600, "batch_unsupported"),
        (ErrorKind::MethodNotFound, -32601, "method_not_found"),
        (ErrorKind::InvalidParams, -32602, "invalid_params"),
        (ErrorKind::NotLoggedIn, -32001, "not_logged_in"),
        (ErrorKind::AlreadyLoggedIn, -32002, "already_logged_in"),
        (ErrorKind::NotConnected, -32003, "not_connected"),
        (ErrorKind::ServerError, -32004, "server_error"),
        (ErrorKind::Timeout, -32005, "timeout"),
        (ErrorKind::Integrity, -32006, "integrity"),
        (ErrorKind::Io, -32007, "io"),
        (ErrorKind::MediaExpired, -32008, "media_expired"),
        (ErrorKind::NotFound, -32009, "not_found"),
        (
            ErrorKind::TooManyConnections,
            -32000,
            "too_many_connections",
        ),
    ];
    for (kind, code, name) in table {
        assert_eq!(kind.code(), code, "{name}");
        assert_eq!(kind.as_str(), name);
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
        let error = RpcError::new(kind, "x");
        assert_eq!(error.kind(), kind);
    }
    // Errors from a newer daemon, or from a peer that leaves out `data`, still classify.
    let newer: RpcError =
        serde_json::from_value(json!({"code": -32001, "message": "m", "data": {"kind": "new"}}))
            .unwrap();
    assert_eq!(newer.kind(), ErrorKind::NotLoggedIn);
    let bare: RpcError = serde_json::from_value(json!({"code": -32602, "message": "m"})).unwrap();
    assert_eq!(bare.kind(), ErrorKind::InvalidParams);
}

#[test]
fn responses_read_back_including_null_results() {
    let null_result: Response =
        serde_json::from_str(r#"{"jsonrpc":"2.0","id":1,"result":null}"#).unwrap();
    assert_eq!(null_result.reply, Ok(Value::Null));
    let both = serde_json::from_str::<Response>(
        r#"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}"#,
    );
    assert!(both.is_err());
    let wrong_version = serde_json::from_str::<Response>(r#"{"jsonrpc":"1.0","id":1,"result":1}"#);
    assert!(wrong_version.is_err());
}

#[test]
fn requests_leave_out_absent_id_and_params() {
    assert_eq!(
        line(&Request::notification("logout", None)),
        r#"{"jsonrpc":"2.0","method":"logout"}"#
    );
    assert_eq!(
        line(&Request::new(1, "status", Some(json!({})))),
        r#"{"jsonrpc":"2.0","id":1,"method":"status","params":{}}"#
    );
}

#[test]
fn results_have_the_design_fields() {
    let status = StatusResult {
        state: State::LoggedOut,
        me: None,
        server_url: "wss://web.whatsapp.com/ws".into(),
        session_stored: false,
        session_error: None,
        last_pong_ms_ago: None,
        phone_online: None,
        battery: None,
        reconnects: 0,
    };
    assert_eq!(
        line(&status),
        r#"{"state":"logged_out","me":null,"server_url":"wss://web.whatsapp.com/ws","session_stored":false,"session_error":null,"last_pong_ms_ago":null,"phone_online":null,"battery":null,"reconnects":0}"#
    );
    assert_eq!(
        line(&QueryResult::ReplyNode(
            json!({"tag": "response", "attrs": {}, "content": null})
        )),
        r#"{"reply_node":{"tag":"response","attrs":{},"content":null}}"#
    );
    assert_eq!(
        line(&QueryResult::Reply(json!({"status": 200}))),
        r#"{"reply":{"status":200}}"#
    );
    assert_eq!(
        line(&VersionResult {
            daemon: "0.1.0".into(),
            protocol: PROTOCOL_VERSION,
            wa_version: [2, 2142, 12]
        }),
        r#"{"daemon":"0.1.0","protocol":1,"wa_version":[2,2142,12]}"#
    );
    assert_eq!(methods::METHODS.len(), 50);
}

#[test]
fn params_refuse_unknown_fields() {
    let typo = serde_json::from_value::<SendTextParams>(json!({"to": "1", "txt": "hi"}));
    assert!(typo.is_err());
    let no_params: NoParams = serde_json::from_value(json!({})).unwrap();
    assert_eq!(no_params, NoParams);
    assert!(serde_json::from_value::<NoParams>(json!({"x": 1})).is_err());
    assert_eq!(line(&NoParams), "{}");
}

#[test]
fn socket_path_prefers_the_explicit_variable_and_never_guesses() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    };
    let both = socket_path_from(env(&[
        ("WAWEBD_SOCKET", "/tmp/x.sock"),
        ("XDG_RUNTIME_DIR", "/run/user/1"),
    ]));
    assert_eq!(both.unwrap().to_str(), Some("/tmp/x.sock"));
    let xdg = socket_path_from(env(&[
        ("WAWEBD_SOCKET", ""),
        ("XDG_RUNTIME_DIR", "/run/user/1"),
    ]));
    assert_eq!(
        xdg.unwrap().to_str(),
        Some("/run/user/1/wawebd/wawebd.sock")
    );
    assert_eq!(socket_path_from(env(&[])), Err(SocketPathError::Unset));
    assert!(matches!(
        socket_path_from(env(&[("XDG_RUNTIME_DIR", "run")])),
        Err(SocketPathError::RelativeRuntimeDir(_))
    ));
}

#[test]
fn account_names_are_safe_file_names_and_pick_their_socket() {
    for good in ["alice", "Work_2", "a", "0-x", &"a".repeat(ACCOUNT_NAME_MAX)] {
        let name = AccountName::new(good).unwrap();
        assert_eq!(name.as_str(), good);
        assert_eq!(
            AccountName::of_socket_file(&name.socket_file()),
            Some(Some(name))
        );
    }
    let long = "a".repeat(ACCOUNT_NAME_MAX + 1);
    for (bad, error) in [
        ("", AccountNameError::Empty),
        (
            long.as_str(),
            AccountNameError::TooLong(ACCOUNT_NAME_MAX + 1),
        ),
        ("a/b", AccountNameError::Character('/')),
        ("..", AccountNameError::Character('.')),
        (".hidden", AccountNameError::Character('.')),
        ("x.sock", AccountNameError::Character('.')),
        ("a b", AccountNameError::Character(' ')),
        ("foo\\x2dbar", AccountNameError::Character('\\')),
        ("é", AccountNameError::Character('é')),
        ("-v", AccountNameError::Start('-')),
        ("_x", AccountNameError::Start('_')),
        ("wawebd", AccountNameError::Reserved("wawebd".into())),
        ("config", AccountNameError::Reserved("config".into())),
    ] {
        assert_eq!(AccountName::new(bad), Err(error.clone()), "{bad:?}");
        assert!(error.to_string().starts_with("invalid account name: "));
    }
    assert_eq!(AccountName::of_socket_file(DEFAULT_SOCKET_FILE), Some(None));
    for other in [
        "alice",
        "x.sock.sock",
        ".sock",
        "wawebd.sock.tmp",
        "a b.sock",
    ] {
        assert_eq!(AccountName::of_socket_file(other), None, "{other:?}");
    }
}

#[test]
fn the_account_variable_picks_a_socket_beside_the_default_one() {
    let env = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|&(key, value)| (key.to_owned(), OsString::from(value)))
            .collect();
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        }
    };
    let run = ("XDG_RUNTIME_DIR", "/run/user/1");
    let path = |pairs: &[(&str, &str)]| {
        socket_path_from(env(pairs)).map(|path| path.display().to_string())
    };
    assert_eq!(
        path(&[run, ("WAWEBD_ACCOUNT", "alice")]).unwrap(),
        "/run/user/1/wawebd/alice.sock"
    );
    // An empty variable is unset; WAWEBD_SOCKET wins over WAWEBD_ACCOUNT.
    assert_eq!(
        path(&[run, ("WAWEBD_ACCOUNT", "")]).unwrap(),
        "/run/user/1/wawebd/wawebd.sock"
    );
    assert_eq!(
        path(&[run, ("WAWEBD_ACCOUNT", "alice"), ("WAWEBD_SOCKET", "/s")]).unwrap(),
        "/s"
    );
    let error = path(&[run, ("WAWEBD_ACCOUNT", "../x")]).unwrap_err();
    assert_eq!(
        error,
        SocketPathError::Account(AccountNameError::Character('.'))
    );
    assert!(
        error
            .to_string()
            .starts_with("WAWEBD_ACCOUNT: invalid account name")
    );
    // An explicit account ignores both variables.
    let bob = AccountName::new("bob").unwrap();
    let explicit = account_socket_path_from(&bob, env(&[run, ("WAWEBD_SOCKET", "/s")]));
    assert_eq!(
        explicit.unwrap().to_str(),
        Some("/run/user/1/wawebd/bob.sock")
    );
    assert_eq!(
        account_socket_path_from(&bob, env(&[])),
        Err(SocketPathError::Unset)
    );
}

/// A peer that answers the first request only after sending two events and a stray reply.
#[test]
fn client_keeps_events_that_arrive_before_the_reply() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let peer = thread::spawn(move || {
        let mut reader = BufReader::new(theirs.try_clone().unwrap());
        let mut writer = theirs;
        let mut request = String::new();
        reader.read_line(&mut request).unwrap();
        let request: Value = serde_json::from_str(&request).unwrap();
        assert_eq!(request["method"], "status");
        let id = request["id"].clone();
        let status = json!({"state":"connected","me":null,"server_url":"ws://x","session_stored":true,
            "last_pong_ms_ago":5,"phone_online":true,"battery":null,"reconnects":2});
        let lines = [
            r#"{"jsonrpc":"2.0","method":"event","params":{"type":"state","state":"connected"}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":999,"result":{}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","method":"event","params":{"type":"from_the_future"}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","method":"event","params":{"type":"ack","id":"M","ack":2,"chat":"1@s.whatsapp.net"}}"#.to_owned(),
            json!({"jsonrpc":"2.0","id":id,"result":status}).to_string(),
        ];
        for text in lines {
            writer.write_all(text.as_bytes()).unwrap();
            writer.write_all(b"\n").unwrap();
        }
        // Half a line, then the rest after the client's first timeout.
        let last = r#"{"jsonrpc":"2.0","method":"event","params":{"type":"json","tag":"s9","payload":["Props","é"]}}"#;
        let split = last.find('é').unwrap() + 1;
        writer.write_all(&last.as_bytes()[..split]).unwrap();
        thread::sleep(Duration::from_millis(300));
        writer.write_all(&last.as_bytes()[split..]).unwrap();
        writer.write_all(b"\n").unwrap();
    });

    let mut client = Client::from_stream(ours).unwrap();
    let status = client.call::<Status>(&NoParams).unwrap();
    assert_eq!(status.reconnects, 2);
    assert!(matches!(
        client.recv_event(None).unwrap(),
        Some(Event::State {
            state: State::Connected,
            ..
        })
    ));
    assert!(matches!(
        client.recv_event(None).unwrap(),
        Some(Event::Ack { ack: 2, .. })
    ));
    assert_eq!(
        client.recv_event(Some(Duration::from_millis(50))).unwrap(),
        None
    );
    let Some(Event::Json { payload, .. }) =
        client.recv_event(Some(Duration::from_secs(5))).unwrap()
    else {
        panic!("expected the json event");
    };
    assert_eq!(payload, json!(["Props", "é"]));
    peer.join().unwrap();
    assert!(matches!(client.recv_event(None), Err(ClientError::Closed)));
}

#[test]
fn client_reports_rpc_errors_and_absent_daemons() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let peer = thread::spawn(move || {
        let mut reader = BufReader::new(theirs.try_clone().unwrap());
        let mut writer = theirs;
        let mut request = String::new();
        reader.read_line(&mut request).unwrap();
        let request: Value = serde_json::from_str(&request).unwrap();
        let reply = json!({"jsonrpc":"2.0","id":request["id"],"error":{"code":-32001,"message":"not logged in","data":{"kind":"not_logged_in"}}});
        writeln!(writer, "{reply}").unwrap();
    });
    let mut client = Client::from_stream(ours).unwrap();
    let error = client
        .call::<methods::Logout>(&NoParams)
        .expect_err("the peer refuses");
    let ClientError::Rpc(error) = error else {
        panic!("expected an rpc error, got {error:?}");
    };
    assert_eq!(error.kind(), ErrorKind::NotLoggedIn);
    peer.join().unwrap();

    let dir = std::env::temp_dir().join(format!("waweb-proto-{}", std::process::id()));
    let absent = Client::connect(dir.join("nothing.sock")).expect_err("nobody listens");
    assert!(absent.is_daemon_absent());
}

/// One call of every method, with params where it takes some.
fn every_call() -> Vec<Call> {
    let media = serde_json::from_value(
        json!({"kind":"image","url":"https://mmg.whatsapp.net/d/f/Ab.enc",
        "direct_path":null,"media_key":"AAEC","mimetype":"image/jpeg","file_sha256":"47DE",
        "file_enc_sha256":"n4bQ","file_length":1024}),
    )
    .unwrap();
    vec![
        Call::Version,
        Call::Status,
        Call::Login,
        Call::Logout,
        Call::Subscribe(SubscribeParams::only([EventType::Qr, EventType::State])),
        Call::Unsubscribe(EventsParams::all()),
        Call::SendText(SendTextParams::new("+49 151 2345-678", "hi")),
        Call::Query(QueryParams::json(json!([
            "query",
            "exist",
            "4915100000000@c.us"
        ]))),
        Call::MediaDownload(MediaDownloadParams {
            media: Some(media),
            message: None,
            output: "/tmp/photo.jpg".into(),
        }),
        Call::Commit(CommitParams {
            consumer: ConsumerName::new("bot").unwrap(),
            seq: 7,
        }),
        Call::Consumers,
        Call::Events(JournalParams {
            since: Some(1),
            limit: Some(2),
            ..JournalParams::default()
        }),
        Call::Outbox,
        Call::OutboxCancel(OutboxCancelParams { id: "3EB0".into() }),
        Call::SendLocation(crate::SendLocationParams {
            to: "1".into(),
            latitude: 52.5,
            longitude: 13.4,
            name: None,
            address: None,
            quote: None,
            mentions: None,
            idempotency_key: None,
            wait: None,
            timeout_ms: None,
        }),
        Call::SendContact(crate::SendContactParams {
            to: "1".into(),
            contacts: vec![],
            quote: None,
            mentions: None,
            idempotency_key: None,
            wait: None,
            timeout_ms: None,
        }),
        Call::Forward(crate::ForwardParams {
            to: "2".into(),
            message: crate::MessageRef::new("1", "A", false),
            quote: None,
            mentions: None,
            idempotency_key: None,
            wait: None,
            timeout_ms: None,
        }),
        Call::Revoke(crate::RevokeParams {
            message: crate::MessageRef::new("1", "A", true),
            idempotency_key: None,
            wait: None,
            timeout_ms: None,
        }),
        Call::MarkRead(crate::MarkReadParams {
            chat: "1".into(),
            message: None,
        }),
        Call::MarkUnread(crate::MarkUnreadParams { chat: "1".into() }),
        Call::MarkPlayed(crate::MarkPlayedParams {
            message: crate::MessageRef::new("1", "A", false),
        }),
        Call::SetPresence(crate::SetPresenceParams {
            presence: crate::Presence::Available,
        }),
        Call::SetTyping(crate::SetTypingParams {
            chat: "1".into(),
            state: crate::ChatState::Paused,
        }),
        Call::SubscribePresence(crate::SubscribePresenceParams { jid: "1".into() }),
        Call::SendMedia(crate::SendMediaParams::new(
            "4915100000001",
            crate::SendMediaKind::Image,
            "/home/ada/cat.jpg",
        )),
    ]
    .into_iter()
    .chain(crate::profile::every_call())
    .chain([
        Call::GroupInfo(crate::group::GroupParams {
            chat: "1-2@g.us".into(),
        }),
        Call::GroupCreate(crate::group::GroupCreateParams {
            subject: "S".into(),
            participants: vec!["1".into()],
        }),
        Call::GroupParticipants(crate::group::GroupParticipantsParams {
            chat: "1-2@g.us".into(),
            action: crate::group::ParticipantAction::Demote,
            participants: vec!["1".into()],
        }),
        Call::GroupLeave(crate::group::GroupParams {
            chat: "1-2@g.us".into(),
        }),
        Call::GroupSubject(crate::group::GroupSubjectParams {
            chat: "1-2@g.us".into(),
            subject: "S".into(),
        }),
        Call::GroupDescription(crate::group::GroupDescriptionParams {
            chat: "1-2@g.us".into(),
            description: "D".into(),
        }),
        Call::GroupSettings(crate::group::GroupSettingsParams {
            chat: "1-2@g.us".into(),
            announce: Some(true),
            restrict: None,
            ephemeral_s: Some(0),
        }),
        Call::GroupInvite(crate::group::GroupInviteParams {
            chat: "1-2@g.us".into(),
            reset: true,
        }),
        Call::GroupJoin(crate::group::GroupJoinParams {
            code: Some("C".into()),
            link: None,
        }),
    ])
    .chain([
        Call::Messages(crate::history::MessagesParams {
            chat: "1".into(),
            before: Some(crate::MessageRef::new("1", "3A01", false)),
            after: None,
            count: Some(10),
        }),
        Call::GetMessage(crate::MessageRef::new("1", "3A01", true)),
        Call::Search(crate::history::SearchParams {
            text: "lunch".into(),
            chat: None,
            count: None,
            page: Some(2),
        }),
        Call::Chats(crate::ChatsParams {
            archived: Some(false),
            limit: Some(10),
            before: None,
        }),
        Call::Contacts(crate::ContactsParams {
            query: Some("ali".into()),
        }),
        Call::ChatModify(crate::ChatModifyParams {
            chat: "4915100000001".into(),
            action: crate::ChatAction::Mute,
            until: Some(1_600_086_400),
            message: None,
        }),
        Call::Metrics,
    ])
    .collect()
}

#[test]
fn metrics_results_read_as_documented() {
    let line = r#"{"messages_received":{"text":2},"messages_sent":{"text":1},"acks":{"1":1},"reconnects":{},"state":"connected","last_pong_age_s":1.2,"journal":{"head":41,"events":40,"database_bytes":122880},"consumers":[{"name":"bot","lag":4}],"outbox_depth":0,"subscribers":1,"socket_unwritten_bytes":7,"socket_clients_cut":1,"socket_errors":{},"media_bytes":{"downloaded":0,"uploaded":0},"listen":"127.0.0.1:9464"}"#;
    let result: crate::MetricsResult = serde_json::from_str(line).unwrap();
    assert_eq!(
        (result.socket_unwritten_bytes, result.socket_clients_cut),
        (7, 1)
    );
    // A daemon from before the backlog metrics leaves them out: zero.
    let older = line.replace(r#""socket_unwritten_bytes":7,"socket_clients_cut":1,"#, "");
    let older: crate::MetricsResult = serde_json::from_str(&older).unwrap();
    assert_eq!(
        (older.socket_unwritten_bytes, older.socket_clients_cut),
        (0, 0)
    );
    assert_eq!(result.messages_received["text"], 2);
    assert_eq!(result.state, Some(crate::State::Connected));
    assert_eq!(result.consumers[0].lag, 4);
    assert_eq!(result.listen.as_deref(), Some("127.0.0.1:9464"));
    assert_eq!(serde_json::to_string(&result).unwrap(), line);
}

#[test]
fn consumer_names_and_journaled_events() {
    for bad in ["", "Bot", "a b", "x".repeat(65).as_str(), "é"] {
        assert!(ConsumerName::new(bad).is_err(), "{bad:?}");
        let params = json!({"consumer": bad});
        assert!(serde_json::from_value::<SubscribeParams>(params).is_err());
    }
    assert!(ConsumerName::new("bridge_1-x").is_ok());
    let journaled = Journaled {
        event: Event::Ack {
            id: "A".into(),
            ack: 2,
            chat: "49@s.whatsapp.net".into(),
            error: None,
        },
        seq: Some(7),
        at: Some(1_600_000_000_123),
    };
    let text = line(&journaled);
    assert_eq!(
        text,
        r#"{"type":"ack","id":"A","ack":2,"chat":"49@s.whatsapp.net","seq":7,"at":1600000000123}"#
    );
    assert_eq!(serde_json::from_str::<Journaled>(&text).unwrap(), journaled);
    let result = SubscribeResult {
        events: vec![EventType::Message],
        head: 3,
        gap: None,
    };
    assert_eq!(line(&result), r#"{"events":["message"],"head":3}"#);
}

#[test]
fn every_method_has_one_name_in_the_list() {
    assert_eq!(
        Call::NAMES,
        [
            "version",
            "status",
            "login",
            "logout",
            "subscribe",
            "unsubscribe",
            "send_text",
            "query",
            "media_download",
            "commit",
            "consumers",
            "events",
            "outbox",
            "outbox_cancel",
            "send_location",
            "send_contact",
            "forward",
            "revoke",
            "mark_read",
            "mark_unread",
            "mark_played",
            "set_presence",
            "set_typing",
            "subscribe_presence",
            "send_media",
            "on_whatsapp",
            "profile_picture",
            "set_profile_picture",
            "about",
            "set_about",
            "set_push_name",
            "block",
            "unblock",
            "blocklist",
            "group_info",
            "group_create",
            "group_participants",
            "group_leave",
            "group_subject",
            "group_description",
            "group_settings",
            "group_invite",
            "group_join",
            "messages",
            "message",
            "search",
            "chats",
            "contacts",
            "chat_modify",
            "metrics"
        ]
    );
    assert_eq!(methods::METHODS, Call::NAMES);
    let names: Vec<&str> = every_call().iter().map(Call::name).collect();
    assert_eq!(
        names,
        Call::NAMES,
        "every_call covers every method, in order"
    );
}

#[test]
fn calls_round_trip_through_requests() {
    for call in every_call() {
        let params = call.params().unwrap();
        assert_eq!(Call::parse(call.name(), params.clone()).unwrap(), call);
        // And as a line on the wire, the way the daemon reads it.
        let line = line(&call.request(7).unwrap());
        let request: Request = serde_json::from_str(&line).unwrap();
        assert_eq!(request.method, call.name());
        assert_eq!(request.params, params);
        assert_eq!(Call::parse(&request.method, request.params).unwrap(), call);
    }
    assert_eq!(
        line(&Call::Status.request(1).unwrap()),
        r#"{"jsonrpc":"2.0","id":1,"method":"status"}"#
    );
    assert_eq!(
        line(&every_call()[6].request("s").unwrap()),
        r#"{"jsonrpc":"2.0","id":"s","method":"send_text","params":{"to":"+49 151 2345-678","text":"hi"}}"#
    );
    assert_eq!(
        line(&Call::Unsubscribe(EventsParams::all()).request(2).unwrap()),
        r#"{"jsonrpc":"2.0","id":2,"method":"unsubscribe","params":{}}"#
    );
}

#[test]
fn typed_methods_build_the_matching_call() {
    fn check<M: Method>(params: M::Params) {
        let call = M::call(params);
        assert_eq!(call.name(), M::NAME);
    }
    check::<methods::Version>(NoParams);
    check::<methods::Status>(NoParams);
    check::<methods::Login>(NoParams);
    check::<methods::Logout>(NoParams);
    check::<methods::Subscribe>(SubscribeParams::all());
    check::<methods::Unsubscribe>(EventsParams::all());
    check::<methods::SendText>(SendTextParams::new("1", "hi"));
    check::<methods::Query>(QueryParams::json(json!(1)));
    let Some(Call::MediaDownload(params)) = every_call()
        .into_iter()
        .find(|call| matches!(call, Call::MediaDownload(_)))
    else {
        unreachable!()
    };
    check::<methods::Consumers>(NoParams);
    check::<methods::MediaDownload>(params.clone());
    assert_eq!(
        methods::MediaDownload::call(params.clone()),
        Call::MediaDownload(params)
    );
    assert_eq!(methods::Logout::call(NoParams), Call::Logout);
}

#[test]
fn absent_or_null_params_mean_none() {
    for params in [None, Some(Value::Null), Some(json!({}))] {
        assert_eq!(Call::parse("status", params.clone()).unwrap(), Call::Status);
        assert_eq!(
            Call::parse("version", params.clone()).unwrap(),
            Call::Version
        );
        assert_eq!(
            Call::parse("subscribe", params.clone()).unwrap(),
            Call::Subscribe(SubscribeParams::all())
        );
        let error = Call::parse("send_text", params).unwrap_err();
        assert_eq!(
            error.message,
            "bad params for send_text: missing field `to`"
        );
    }
}

#[test]
fn an_unknown_method_names_every_method() {
    let error = Call::parse("reboot", Some(json!({"now": true}))).unwrap_err();
    assert_eq!(error.code, -32601);
    assert_eq!(error.kind(), ErrorKind::MethodNotFound);
    assert_eq!(
        error.message,
        "no method \"reboot\"; the methods are version, status, login, logout, subscribe, \
         unsubscribe, send_text, query, media_download, commit, consumers, events, outbox, outbox_cancel, \
         send_location, send_contact, forward, revoke, mark_read, mark_unread, mark_played, \
         set_presence, set_typing, subscribe_presence, send_media, on_whatsapp, profile_picture, \
         set_profile_picture, about, set_about, set_push_name, block, unblock, blocklist, group_info, \
         group_create, group_participants, group_leave, group_subject, group_description, \
         group_settings, group_invite, group_join, messages, message, search, \
         chats, contacts, chat_modify, metrics"
    );
    // The list in the message is the enum's list, whatever it grows to.
    let listed = error
        .message
        .strip_prefix("no method \"reboot\"; the methods are ")
        .unwrap();
    assert_eq!(listed.split(", ").collect::<Vec<_>>(), Call::NAMES);
    // Names are matched exactly.
    assert_eq!(Call::parse("Status", None).unwrap_err().code, -32601);
    assert_eq!(Call::parse("", None).unwrap_err().code, -32601);
}

#[test]
fn bad_params_say_which_method_and_why() {
    let cases = [
        (
            "send_text",
            json!({"to": "1"}),
            "bad params for send_text: missing field `text`",
        ),
        (
            "send_text",
            json!({"to": "1", "text": "hi", "extra": true}),
            "bad params for send_text: unknown field `extra`, expected one of `to`, `text`, `quote`, `mentions`, `idempotency_key`, `wait`, `timeout_ms`",
        ),
        (
            "send_text",
            json!({"to": 1, "text": "hi"}),
            "bad params for send_text: invalid type: integer `1`, expected a string",
        ),
        (
            "status",
            json!({"verbose": true}),
            "bad params for status: this method takes no params, but `verbose` was given",
        ),
        ("send_text", json!("to"), "`params` must be an object"),
        ("status", json!(true), "`params` must be an object"),
    ];
    for (method, params, message) in cases {
        let error = Call::parse(method, Some(params)).unwrap_err();
        assert_eq!(error.code, -32602, "{method}");
        assert_eq!(error.kind(), ErrorKind::InvalidParams);
        assert_eq!(error.message, message);
    }
    let error = Call::parse("subscribe", Some(json!({"events": ["state", "gossip"]}))).unwrap_err();
    assert_eq!(error.code, -32602);
    assert!(
        error.message.starts_with(
            "bad params for subscribe: unknown variant `gossip`, expected one of `state`"
        ),
        "{}",
        error.message
    );
}

#[test]
fn array_params_are_refused_by_every_method() {
    // Positional params used to slip through for some methods (an empty array for those without
    // params, `["1","hi"]` for send_text); params are objects for all of them.
    for method in Call::NAMES {
        for params in [json!([]), json!(["1", "hi"]), json!([{"events": []}])] {
            let error = Call::parse(method, Some(params)).unwrap_err();
            assert_eq!(error.code, -32602, "{method}");
            assert_eq!(error.kind(), ErrorKind::InvalidParams);
            assert_eq!(error.message, "`params` must be an object");
        }
    }
}

#[test]
fn error_messages_do_not_echo_unbounded_input() {
    // A megabyte method name or a megabyte value serde refuses comes back cut, not whole.
    let huge = "é".repeat(500_000);
    let error = Call::parse(&huge, None).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MethodNotFound);
    assert!(
        error.message.len() <= RpcError::MAX_MESSAGE,
        "{}",
        error.message.len()
    );
    assert!(
        error.message.starts_with("no method \"éé"),
        "{}",
        &error.message[..40]
    );
    assert!(error.message.contains("the methods are version, status"));

    let error = Call::parse("send_text", Some(json!({"to": 5, "text": huge}))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidParams);
    assert!(error.message.len() <= RpcError::MAX_MESSAGE);
    let error = Call::parse("subscribe", Some(json!({"events": [huge]}))).unwrap_err();
    assert!(error.message.len() <= RpcError::MAX_MESSAGE);
    assert!(error.message.ends_with('…'), "{}", &error.message[..60]);
}

/// A daemon that reads the request and never answers: a call with a timeout gives up.
#[test]
fn a_call_timeout_gives_up_on_a_silent_peer() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut client = Client::from_stream(ours).unwrap();
    client
        .set_reply_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let started = std::time::Instant::now();
    match client.call_raw("status", None) {
        Err(ClientError::TimedOut(limit)) => assert_eq!(limit, Duration::from_millis(50)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // The request did go out.
    let mut line = String::new();
    BufReader::new(theirs).read_line(&mut line).unwrap();
    assert!(line.contains("\"status\""), "{line}");
}

#[test]
fn kind_and_source_names_are_their_serde_names() {
    use crate::message::Source;
    for kind in MessageKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    for source in [
        Source::Live,
        Source::History,
        Source::Update,
        Source::Status,
    ] {
        assert_eq!(serde_json::to_value(source).unwrap(), source.as_str());
    }
}
