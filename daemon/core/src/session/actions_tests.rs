//! Set-actions and the presence subscription on a connection, frame by frame: the nodes,
//! metrics and flags of PROTOCOL.md 1.4, 8.5 and 11.2, and the verified bytes of 7.8.

use serde_json::{Value, json};
use waweb_proto::{ChatState, Presence};

use super::actions::{self, SetAction};
use super::connection::*;
use super::connection_tests::{Conn, connected, nodes, texts};
use crate::hex;
use crate::testing::{Ms, keys};
use crate::wire::FrameCipher;

const PEER: &str = "491234567890@s.whatsapp.net";

/// Sends `action` and returns (tag, metric, flags, node as JSON, node bytes as hex).
fn sent(
    conn: &mut Conn,
    action: SetAction,
    waiter: &'static str,
) -> (String, u8, u8, Value, String) {
    let out = conn.set(action, waiter, Ms(100));
    let [Output::Send(Frame::Binary(frame))] = &out[..] else {
        panic!("{out:?}")
    };
    let opened = FrameCipher::new(&keys()).open_client_frame(frame).unwrap();
    let (tag, metric, flags, node) = nodes(&out).remove(0);
    assert_eq!((Some(metric), Some(flags)), (opened.metric, opened.flags));
    let json = serde_json::to_value(&node).unwrap();
    (tag, metric, flags, json, hex::encode(&opened.node))
}

fn set(epoch: &str, child: Value) -> Value {
    json!({"tag": "action", "attrs": {"type": "set", "epoch": epoch}, "content": [child]})
}

#[test]
fn receipts_presence_and_typing_go_out_as_b_sent_them() {
    let mut conn = connected();
    // Epochs 2 to 5 (the login's presence had 1).
    let cases = [
        (
            actions::presence(Presence::Available),
            (8, 0xA0),
            json!({"tag": "presence", "attrs": {"type": "available"}, "content": null}),
        ),
        (
            actions::presence(Presence::Unavailable),
            (8, 0x10),
            json!({"tag": "presence", "attrs": {"type": "unavailable"}, "content": null}),
        ),
        (
            actions::played(PEER, "3AA5", None),
            (13, 0x80),
            json!({"tag": "received", "attrs": {"type": "played", "index": "3AA5", "from": PEER,
                   "owner": "false", "count": "1"}, "content": null}),
        ),
        (
            actions::unread("1-2@g.us", "3AA5", true, Some(PEER)),
            (11, 0x80),
            json!({"tag": "read", "attrs": {"jid": "1-2@g.us", "index": "3AA5", "owner": "true",
                   "count": "-2", "participant": PEER}, "content": null}),
        ),
    ];
    for (epoch, (action, (metric, flags), child)) in (2..).zip(cases) {
        let (_, sent_metric, sent_flags, node, _) = sent(&mut conn, action, "w");
        assert_eq!((sent_metric, sent_flags), (metric, flags), "{child}");
        assert_eq!(node, set(&epoch.to_string(), child));
    }
    // PROTOCOL.md 7.8 `presence_composing` (epoch 6) and `read_receipt` (epoch 7), byte for byte.
    let (_, metric, flags, _, bytes) =
        sent(&mut conn, actions::typing(PEER, ChatState::Composing), "w");
    assert_eq!((metric, flags), (8, 0x04));
    assert_eq!(
        bytes,
        "f806095b526bfc0136f801f805415b1659faff0649123456789050"
    );
    let (_, metric, flags, _, bytes) = sent(
        &mut conn,
        actions::read(PEER, "3AA55DBD30C9CD2FD815", false, None),
        "w",
    );
    assert_eq!((metric, flags), (11, 0x80));
    assert_eq!(
        bytes,
        "f806095b526bfc0137f801f809462dfaff064912345678905018fc01312afc1433414135354442443330433943443246443831353c20"
    );
    for state in [ChatState::Recording, ChatState::Paused] {
        let (_, metric, flags, node, _) = sent(&mut conn, actions::typing(PEER, state), "w");
        assert_eq!((metric, flags), (8, 0x04));
        assert_eq!(
            node["content"][0]["attrs"],
            json!({"type": state.as_str(), "to": PEER})
        );
    }
}

#[test]
fn a_set_action_resolves_on_status_200_and_fails_on_anything_else() {
    let mut conn = connected();
    let (tag, ..) = sent(&mut conn, actions::presence(Presence::Available), "ok");
    let out = conn.on_text(&format!(r#"{tag},{{"status":200}}"#), Ms(110));
    assert!(
        matches!(&out[..], [Output::Resolve("ok", Ok(Answer::Done))]),
        "{out:?}"
    );
    let (tag, ..) = sent(&mut conn, actions::read(PEER, "X", false, None), "refused");
    let out = conn.on_text(&format!(r#"{tag},{{"status":403}}"#), Ms(110));
    assert!(matches!(
        &out[..],
        [Output::Resolve(
            "refused",
            Err(RequestError::Server { status: 403, .. })
        )]
    ));
    sent(&mut conn, actions::played(PEER, "X", None), "slow");
    let expired = conn.tick(Ms(100 + 10_000));
    assert!(
        expired
            .iter()
            .any(|o| matches!(o, Output::Resolve("slow", Err(RequestError::Timeout))))
    );
    sent(
        &mut conn,
        actions::presence(Presence::Unavailable),
        "dropped",
    );
    assert!(matches!(
        &conn.close()[..],
        [Output::Resolve("dropped", Err(RequestError::NotConnected))]
    ));
    let (fresh, _) = Conn::start(
        super::connection_tests::settings(),
        Start::Restore(crate::testing::credentials()),
        Ms(0),
        7,
    );
    let mut fresh = fresh;
    assert!(matches!(
        &fresh.set(actions::presence(Presence::Available), "early", Ms(1))[..],
        [Output::Resolve("early", Err(RequestError::NotReady))]
    ));
}

#[test]
fn presence_subscription_is_the_json_command_with_the_c_us_spelling() {
    let mut conn = connected();
    let out = conn.command(&actions::subscribe_presence(PEER), "sub", Ms(50));
    assert_eq!(
        texts(&out),
        [r#"7.--4,["action","presence","subscribe","491234567890@c.us"]"#]
    );
    let out = conn.on_text(r#"7.--4,{"status":200}"#, Ms(60));
    assert!(matches!(
        &out[..],
        [Output::Resolve("sub", Ok(Answer::Done))]
    ));
    conn.command(&actions::subscribe_presence("1-2@g.us"), "group", Ms(70));
    let out = conn.on_text(r#"7.--5,{"status":401}"#, Ms(80));
    assert!(matches!(
        &out[..],
        [Output::Resolve(
            "group",
            Err(RequestError::Server { status: 401, .. })
        )]
    ));
}
