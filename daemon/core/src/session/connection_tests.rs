//! The connection machine frame by frame: the server's side is played with the real codec and
//! cipher, so every frame the machine sends is opened and checked the way a server would.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use waweb_proto::{Battery, Event, Reason, State};

use super::actions::SetAction;
use super::connection::*;
use crate::binary::{self, Content, Node};
use crate::crypto::KeyPair;
use crate::login;
use crate::media::upload::Limits;
use crate::testing::{Ms, credentials, keys};
use crate::wire::{FrameCipher, flags, metric};

const S: u64 = 1000;

pub(super) fn settings() -> Settings {
    Settings {
        login: login::Settings {
            version: [2, 2142, 12],
            browser: ["Linux".into(), "wawebd".into(), "0.1.0".into()],
            reref_budget: 1,
        },
        keepalive: Duration::from_secs(20),
        pong_timeout: Duration::from_secs(25),
        request_timeout: Duration::from_secs(10),
        login_timeout: Duration::from_secs(30),
        phone_probe: Duration::from_secs(120),
    }
}

pub(super) type Conn = Connection<&'static str, Ms>;

pub(super) fn texts(out: &[Output<&'static str>]) -> Vec<String> {
    out.iter()
        .filter_map(|output| match output {
            Output::Send(Frame::Text(text)) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Binary frames, opened as the server opens them: (tag, metric, flags, node).
pub(super) fn nodes(out: &[Output<&'static str>]) -> Vec<(String, u8, u8, Node)> {
    let cipher = FrameCipher::new(&keys());
    out.iter()
        .filter_map(|output| match output {
            Output::Send(Frame::Binary(frame)) => {
                let opened = cipher.open_client_frame(frame).unwrap();
                let node = binary::decode(&opened.node).unwrap();
                Some((opened.tag.to_owned(), opened.metric?, opened.flags?, node))
            }
            _ => None,
        })
        .collect()
}

fn server_frame(tag: &str, node: &Node) -> Vec<u8> {
    FrameCipher::new(&keys()).seal_server_frame(tag, &binary::encode(node))
}

/// A restored connection at `t=0`, its tokens stored, with the frames of the login drained.
pub(super) fn connected() -> Conn {
    let (mut conn, out) = Conn::start(settings(), Start::Restore(credentials()), Ms(0), 7);
    let sent = texts(&out);
    assert_eq!(sent.len(), 2, "init and login go out back to back");
    assert!(sent[1].starts_with(r#"7.--1,["admin","login","ct1","1@st1","#));
    assert!(conn.on_text(r#"7.--0,{"status":200}"#, Ms(10)).is_empty());
    let out = conn.on_text(
        r#"s1,["Conn",{"clientToken":"ct2","serverToken":"1@st2","secret":"x","wid":"4915100000000@c.us","pushname":"Ada","battery":80,"plugged":true}]"#,
        Ms(20),
    );
    assert!(out.is_empty(), "the login waits for the reply to login");
    let out = conn.on_text(r#"7.--1,{"status":200}"#, Ms(30));
    match &out[..] {
        [
            Output::Me(me),
            Output::Battery(Battery {
                percent: 80,
                plugged: true,
                ..
            }),
            Output::Save(saved),
        ] => {
            assert_eq!(me.wid, "4915100000000@s.whatsapp.net");
            assert_eq!(saved.client_token.expose(), "ct2");
        }
        other => panic!("{other:?}"),
    }
    assert!(!conn.is_usable(), "not before the tokens are on disk");
    let out = conn.saved(true, Ms(40));
    assert!(matches!(&out[1], Output::State(State::Connected, None)));
    assert!(matches!(
        &out[2],
        Output::Emit(Event::Connected { restored: true, .. })
    ));
    let presence = nodes(&out);
    assert_eq!(presence.len(), 1);
    let (_, presence_metric, presence_flags, node) = &presence[0];
    assert_eq!(
        (*presence_metric, *presence_flags),
        (metric::PRESENCE, flags::IGNORE | flags::AVAILABLE)
    );
    assert_eq!(
        (node.get("type"), node.get("epoch")),
        (Some("set"), Some("1"))
    );
    assert_eq!(texts(&out), [r#"7.--3,["admin","test"]"#]);
    assert!(conn.is_usable());
    conn
}

#[test]
fn restore_logs_in_only_once_the_tokens_are_stored() {
    let mut conn = connected();
    // The probe's answer says whether the phone is online.
    let out = conn.on_text(r#"7.--3,["Pong",true]"#, Ms(50));
    assert!(matches!(&out[..], [Output::PhoneOnline(Some(true))]));
    assert!(matches!(conn.login_call(), LoginCall::AlreadyLoggedIn));
    assert_eq!(
        conn.logout(),
        Logout::Goodbye(Frame::Text(
            r#"goodbye,,["admin","Conn","disconnect"]"#.into()
        ))
    );
}

#[test]
fn a_failed_save_holds_the_connection_and_retries_with_growing_pauses() {
    let (mut conn, _) = Conn::start(settings(), Start::Restore(credentials()), Ms(0), 7);
    conn.on_text(r#"7.--0,{"status":200}"#, Ms(1));
    conn.on_text(
        r#"s1,["Conn",{"clientToken":"ct2","serverToken":"1@st2"}]"#,
        Ms(1),
    );
    let out = conn.on_text(r#"7.--1,{"status":200}"#, Ms(1));
    assert!(matches!(out.last(), Some(Output::Save(_))));
    let out = conn.saved(false, Ms(100));
    assert!(matches!(
        &out[1],
        Output::State(State::LoggingIn, Some(Reason::SessionNotStored))
    ));
    let out = relay_text(
        &mut conn,
        "3EB0AA",
        "4915100000001@s.whatsapp.net",
        "hi",
        "w",
        Ms(100),
    );
    assert!(matches!(
        &out[..],
        [Output::Resolve("w", Err(RequestError::NotReady))]
    ));
    assert_eq!(conn.next_wake(), Ms(0), "the first keepalive is still due");
    conn.tick(Ms(100));
    assert_eq!(conn.next_wake(), Ms(100 + S));
    let out = conn.tick(Ms(100 + S));
    assert!(matches!(&out[..], [Output::Save(_)]));
    conn.saved(false, Ms(100 + S));
    assert_eq!(conn.next_wake(), Ms(100 + 3 * S), "the pause doubled");
    assert!(matches!(&conn.tick(Ms(100 + 3 * S))[..], [Output::Save(_)]));
    let out = conn.saved(true, Ms(100 + 3 * S));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::State(State::Connected, None)))
    );
    assert!(conn.is_usable());
}

#[test]
fn a_later_conn_rotates_the_tokens_and_never_shows_them() {
    let mut conn = connected();
    let out = conn.on_text(
        r#"s2,["Conn",{"clientToken":"ct3","serverToken":"1@st3","secret":"x","pushname":"Bea"}]"#,
        Ms(50),
    );
    match &out[..] {
        [
            Output::Me(me),
            Output::Save(saved),
            Output::Emit(Event::Json { tag, payload }),
        ] => {
            assert_eq!(me.pushname, "Bea");
            assert_eq!(saved.client_token.expose(), "ct3");
            assert_eq!(tag, "s2");
            assert_eq!(payload, &json!(["Conn", {"pushname": "Bea"}]));
        }
        other => panic!("{other:?}"),
    }
    assert!(!conn.is_usable());
    let out = conn.saved(true, Ms(60));
    assert!(matches!(&out[..], [Output::State(State::Connected, None)]));
    assert!(conn.is_usable());
}

#[test]
fn a_relay_goes_out_tagged_with_its_id_and_resolves_on_the_ack() {
    let mut conn = connected();
    let out = relay_text(
        &mut conn,
        "3EB0C0FFEE",
        "4915100000001@s.whatsapp.net",
        "hello",
        "w",
        Ms(50),
    );
    let sent = nodes(&out);
    let (id, message_metric, message_flags, action) = &sent[0];
    assert_eq!(
        (*message_metric, *message_flags),
        (metric::MESSAGE, flags::IGNORE)
    );
    assert_eq!(
        (action.get("type"), action.get("epoch")),
        (Some("relay"), Some("2"))
    );
    let Content::List(children) = &action.content else {
        panic!("{action:?}")
    };
    let info =
        crate::message::decode_web_message_info(children[0].content_bytes().unwrap()).unwrap();
    assert_eq!(id, "3EB0C0FFEE");
    assert_eq!(info.key.as_ref().unwrap().id.as_deref(), Some(id.as_str()));
    let out = conn.on_text(&format!(r#"{id},{{"status":200,"t":1600000124}}"#), Ms(60));
    match &out[..] {
        [
            Output::Message {
                event: message,
                raw,
            },
            Output::Resolve("w", Ok(Answer::Sent(sent))),
        ] => {
            assert_eq!(
                raw,
                children[0].content_bytes().unwrap(),
                "stored as relayed"
            );
            assert!(message.from_me);
            assert_eq!(message.chat, "4915100000001@s.whatsapp.net");
            assert_eq!(message.text.as_deref(), Some("hello"));
            assert_eq!(
                (sent.id.as_str(), sent.t),
                (id.as_str(), Some(1_600_000_124))
            );
            assert_eq!(message.timestamp, 1_600_000_124, "the server's time");
        }
        other => panic!("{other:?}"),
    }
    // To ourselves the server acks with the relay's tag: ask for it.
    let out = relay_text(
        &mut conn,
        "3EB0BB",
        "4915100000000@s.whatsapp.net",
        "me",
        "x",
        Ms(70),
    );
    assert_eq!(nodes(&out)[0].2, flags::ACK_REQUEST);
    let id = nodes(&out)[0].0.clone();
    let out = conn.on_text(&format!(r#"{id},{{"status":404}}"#), Ms(80));
    assert!(matches!(
        &out[..],
        [Output::Resolve(
            "x",
            Err(RequestError::Server { status: 404, .. })
        )]
    ));
    // The same id again (a resend after a lost ack) goes out the same way.
    let out = relay_text(
        &mut conn,
        "3EB0BB",
        "4915100000000@s.whatsapp.net",
        "me",
        "y",
        Ms(90),
    );
    assert_eq!(nodes(&out)[0].0, "3EB0BB");
}

/// Relays a text message with id `id` to `jid`.
fn relay_text(
    conn: &mut Conn,
    id: &str,
    jid: &str,
    text: &str,
    waiter: &'static str,
    now: Ms,
) -> Vec<Output<&'static str>> {
    let info = crate::message::text_message(jid, id, text, 1_600_000_123);
    conn.relay(id, jid, &crate::message::encode(&info), waiter, now)
}

#[test]
fn queries_resolve_with_json_or_a_node_time_out_or_fail_with_the_connection() {
    let mut conn = connected();
    let json = |value| ServerRequest::Json(value);
    let out = conn.request(json(json!(["query", "exist", "49@c.us"])), "a", Ms(50));
    assert_eq!(texts(&out), [r#"7.--4,["query","exist","49@c.us"]"#]);
    let out = conn.on_text(r#"7.--4,{"status":200}"#, Ms(51));
    assert!(matches!(
        &out[..],
        [Output::Resolve("a", Ok(Answer::Raw(ServerReply::Json(v))))] if v == &json!({"status": 200})
    ));
    conn.request(json(json!(["query", "chat"])), "b", Ms(60));
    let reply = server_frame("7.--5", &Node::new("response").attr("type", "chat"));
    let out = conn.on_binary(&reply);
    assert!(matches!(
        &out[..],
        [Output::Resolve("b", Ok(Answer::Raw(ServerReply::Node(node))))] if node.tag == "response"
    ));
    conn.request(json(json!(["query", "slow"])), "c", Ms(60));
    conn.request(json(json!(["query", "slower"])), "d", Ms(65));
    let expired: Vec<_> = conn
        .tick(Ms(60 + 10 * S))
        .into_iter()
        .filter_map(|o| match o {
            Output::Resolve(w, Err(RequestError::Timeout)) => Some(w),
            _ => None,
        })
        .collect();
    assert_eq!(expired, ["c"]);
    let out = conn.close();
    assert!(matches!(
        &out[..],
        [Output::Resolve("d", Err(RequestError::NotConnected))]
    ));
}

#[test]
fn requests_come_back_as_they_came_with_an_epoch_and_a_tag_named_in_the_child() {
    let mut conn = connected();
    let query = Node::new("query")
        .attr("type", "message")
        .attr("count", "2");
    let out = conn.request(
        ServerRequest::Node {
            node: query,
            metric: metric::QUERY_MESSAGES,
            flags: flags::IGNORE,
        },
        "history",
        Ms(50),
    );
    let sent = nodes(&out);
    let (tag, sent_metric, _, node) = &sent[0];
    assert_eq!(*sent_metric, metric::QUERY_MESSAGES);
    assert_eq!(
        node.get("epoch"),
        Some("2"),
        "the login's presence had epoch 1"
    );
    let page = Node::new("response")
        .attr("type", "message")
        .with_content(Content::List(vec![Node::new("message")]));
    let out = conn.on_binary(&server_frame(tag, &page));
    assert!(matches!(
        &out[..],
        [Output::Resolve("history", Ok(Answer::Raw(ServerReply::Node(node))))] if *node == page
    ));

    let group = SetAction {
        child: Node::new("group").attr("id", "").attr("type", "leave"),
        metric: metric::GROUP,
        flags: flags::IGNORE,
    };
    let out = conn.request(
        ServerRequest::Set {
            action: group,
            id_is_tag: true,
        },
        "leave",
        Ms(60),
    );
    let (tag, _, _, action) = &nodes(&out)[0];
    assert_eq!(action.get("type"), Some("set"));
    assert_eq!(action.children()[0].get("id"), Some(tag.as_str()));
    let out = conn.on_text(&format!(r#"{tag},{{"status":401}}"#), Ms(61));
    assert!(matches!(
        &out[..],
        [Output::Resolve("leave", Ok(Answer::Raw(ServerReply::Json(v))))] if v["status"] == 401
    ));

    let exist = ServerRequest::Json(json!(["query", "exist", "49@c.us"]));
    let out = conn.request(exist.clone(), "exist", Ms(70));
    assert_eq!(texts(&out).len(), 1);
    assert!(matches!(
        &conn.close()[..],
        [Output::Resolve("exist", Err(RequestError::NotConnected))]
    ));
    let start = Start::Pair {
        client_id: "c".into(),
        keys: KeyPair::from_private(&[9; 32]),
    };
    let (mut pairing, _) = Conn::start(settings(), start, Ms(0), 7);
    assert!(matches!(
        &pairing.request(exist, "early", Ms(1))[..],
        [Output::Resolve("early", Err(RequestError::NotReady))]
    ));
}

#[test]
fn keepalives_and_a_missing_pong_end_the_connection() {
    let mut conn = connected();
    assert_eq!(texts(&conn.tick(Ms(40))), ["?,,"]);
    assert!(matches!(
        &conn.on_text("!1600000000", Ms(41))[..],
        [Output::Pong]
    ));
    assert_eq!(texts(&conn.tick(Ms(40 + 20 * S))), ["?,,"]);
    let out = conn.tick(Ms(40 + 45 * S));
    assert!(matches!(
        out.last(),
        Some(Output::End(Ended::Lost(Reason::PongTimeout)))
    ));
}

#[test]
fn the_phone_is_probed_every_two_minutes() {
    let mut conn = connected();
    conn.on_text(r#"7.--3,["Pong",false]"#, Ms(41));
    let mut at = 40;
    let mut probes = Vec::new();
    while at < 40 + 121 * S {
        at = conn.next_wake().0.max(at);
        let out = conn.tick(Ms(at));
        probes.extend(texts(&out).into_iter().filter(|t| t.contains("admin")));
        conn.on_text("!1", Ms(at));
        at += 1;
    }
    assert_eq!(probes, [r#"7.--4,["admin","test"]"#]);
}

#[test]
fn pushes_become_events_and_a_disconnect_ends_the_connection() {
    let mut conn = connected();
    let battery = Node::new("action").with_content(Content::List(vec![
        Node::new("battery")
            .attr("value", "52")
            .attr("live", "false"),
    ]));
    let out = conn.on_binary(&server_frame("p1", &battery));
    assert!(matches!(
        &out[..],
        [Output::Battery(Battery { percent: 52, .. })]
    ));
    let out = conn.on_text(
        r#"s3,["Msg",{"cmd":"ack","id":"A","ack":2,"from":"4915100000000@c.us","to":"49@c.us"}]"#,
        Ms(1),
    );
    assert!(
        matches!(&out[..], [Output::Emit(Event::Ack { chat, .. })] if chat == "49@s.whatsapp.net")
    );
    let out = conn.on_text(r#"s4,["Presence",{"id":"49@c.us"}]"#, Ms(1));
    assert!(matches!(&out[..], [Output::Emit(Event::Json { .. })]));
    let out = conn.on_text(
        r#"s5,["Cmd",{"type":"disconnect","kind":"replaced"}]"#,
        Ms(1),
    );
    assert!(matches!(&out[..], [Output::End(Ended::Replaced)]));
    let out = conn.on_text(r#"s6,["Cmd",{"type":"disconnect"}]"#, Ms(1));
    assert!(matches!(&out[..], [Output::End(Ended::Unpaired)]));
}

#[test]
fn pairing_shows_the_qr_again_rerefs_and_cancels_quietly() {
    let keys = KeyPair::from_private(&[9; 32]);
    let start = Start::Pair {
        client_id: "cid==".into(),
        keys,
    };
    let (mut conn, out) = Conn::start(settings(), start, Ms(0), 7);
    assert!(texts(&out)[0].starts_with(r#"7.--0,["admin","init",[2,2142,12]"#));
    assert_eq!(conn.login_call(), LoginCall::Pairing(None));
    let out = conn.on_text(r#"7.--0,{"status":200,"ref":"1@a","ttl":5000}"#, Ms(10));
    assert!(matches!(&out[0], Output::State(State::Pairing, None)));
    let Output::Emit(qr) = &out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(
        conn.login_call(),
        LoginCall::Pairing(Some(Box::new(qr.clone())))
    );
    assert_eq!(conn.logout(), Logout::CancelPairing);
    let out = conn.tick(Ms(10 + 5 * S));
    assert!(texts(&out).contains(&r#"7.--1,["admin","Conn","reref"]"#.to_owned()));
    // Nobody scans: the server is given the QR's ttl plus the login timeout, then it is over.
    conn.on_text(
        r#"7.--1,{"status":200,"ref":"1@b","ttl":5000}"#,
        Ms(20 + 5 * S),
    );
    conn.on_text("!1", Ms(20 + 5 * S));
    let out = conn.tick(Ms(20 + 10 * S));
    assert!(
        matches!(&out[..], [Output::End(Ended::Failed(f))] if f.reason == Reason::PairingExpired)
    );
}

#[test]
fn a_restore_the_server_never_completes_times_out() {
    let (mut conn, _) = Conn::start(settings(), Start::Restore(credentials()), Ms(0), 7);
    assert_eq!(conn.logout(), Logout::Restoring);
    conn.tick(Ms(0));
    conn.on_text("!1", Ms(1));
    conn.tick(Ms(20 * S));
    conn.on_text("!1", Ms(20 * S));
    let out = conn.tick(Ms(30 * S));
    assert!(matches!(
        out.last(),
        Some(Output::End(Ended::Lost(Reason::ConnectionLost)))
    ));
}

#[test]
fn a_refused_restore_ends_with_the_failure() {
    let (mut conn, _) = Conn::start(settings(), Start::Restore(credentials()), Ms(0), 7);
    let out = conn.on_text(r#"7.--1,{"status":401}"#, Ms(1));
    assert!(matches!(&out[..], [Output::End(Ended::Failed(f))] if f.erase_session));
}

#[test]
fn garbage_is_logged_and_dropped() {
    let mut conn = connected();
    for text in [
        "",
        ",",
        "no comma",
        "t,{not json",
        "t,[\"Conn\"",
        "7.--99,{}",
    ] {
        let out = conn.on_text(text, Ms(1));
        assert!(
            out.iter()
                .all(|o| matches!(o, Output::Log(..) | Output::Emit(Event::Json { .. }))),
            "{text}: {out:?}"
        );
    }
    let mut sealed = server_frame("p1", &Node::new("action"));
    sealed[10] ^= 1;
    // Logged sparingly (garbage.rs): a warning or nothing, never anything else.
    for frame in [&sealed[..], b""] {
        let out = conn.on_binary(frame);
        assert!(
            out.iter().all(|o| matches!(o, Output::Log(Level::Warn, _))),
            "{out:?}"
        );
    }
    let (mut fresh, _) = Conn::start(settings(), Start::Restore(credentials()), Ms(0), 7);
    assert!(matches!(
        &fresh.on_binary(&server_frame("x", &Node::new("a")))[..],
        [Output::Log(Level::Warn, _)]
    ));
}

#[test]
fn a_connection_sending_only_garbage_is_closed() {
    use crate::session::garbage::GARBAGE_LIMIT;
    let mut conn = connected();
    let mut bad = server_frame("p1", &Node::new("action"));
    bad[10] ^= 1;
    let ends = |out: &[Output<&'static str>]| out.iter().any(|o| matches!(o, Output::End(_)));
    for _ in 1..GARBAGE_LIMIT {
        assert!(!ends(&conn.on_binary(&bad)));
    }
    // One readable frame (binary or text) between keeps the connection.
    assert!(!ends(
        &conn.on_binary(&server_frame("p2", &Node::new("action")))
    ));
    for _ in 1..GARBAGE_LIMIT {
        assert!(!ends(&conn.on_text("no comma", Ms(1))));
    }
    assert!(!ends(&conn.on_text("p3,[\"Props\",{}]", Ms(1))));
    let mut logged = 0;
    for n in 1..=GARBAGE_LIMIT {
        let out = conn.on_binary(&bad);
        logged += out.iter().filter(|o| matches!(o, Output::Log(..))).count();
        if n < GARBAGE_LIMIT {
            assert!(!ends(&out), "{n}");
        } else {
            assert!(
                out.iter()
                    .any(|o| matches!(o, Output::End(Ended::Lost(Reason::ProtocolError)))),
                "{out:?}"
            );
        }
    }
    // Frames 127 to 190: no power of ten among them, so the closing line is the only one.
    assert_eq!(logged, 1);
}

proptest! {
    #[test]
    fn any_frame_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in ".{0,80}") {
        let mut conn = connected();
        conn.on_binary(&bytes);
        conn.on_text(&text, Ms(1));
        let mut framed = b"p1,".to_vec();
        framed.extend(&bytes);
        conn.on_binary(&framed);
    }
}

#[test]
fn props_set_the_media_limits_and_are_still_published() {
    let mut conn = connected();
    assert_eq!(conn.media_limits(), Limits::default());
    let out = conn.on_text(r#"s9,["Props",{"imageMaxKBytes":2,"media":3}]"#, Ms(50));
    let limits = Limits::default().with_props(&json!({"imageMaxKBytes": 2, "media": 3}));
    assert_eq!(limits.image, 2048);
    assert!(
        matches!(&out[..], [Output::Limits(l), Output::Emit(Event::Json { .. })] if *l == limits)
    );
    assert_eq!(conn.media_limits(), limits);
    // A later Props changes only what it names.
    conn.on_text(r#"s10,["Props",{"maxFileSize":1}]"#, Ms(51));
    assert_eq!(conn.media_limits().image, 2048);
    assert_eq!(conn.media_limits().document, 1024 * 1024);
}
