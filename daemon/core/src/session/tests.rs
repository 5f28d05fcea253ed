//! The push mapping at the byte level: nodes are encoded and decoded with the real codec, and
//! messages are real `WebMessageInfo` protobufs.

use serde_json::json;
use waweb_proto::message::Source;
use waweb_proto::{Battery, Event};

use super::push::{self, Push};
use crate::binary::{self, Content, Node};
use crate::message;

const ME: &str = "4915100000000@s.whatsapp.net";

/// Through the codec, as a frame from the server would arrive.
fn wire(node: &Node) -> Node {
    binary::decode(&binary::encode(node)).unwrap()
}

fn action(add: Option<&'static str>, children: Vec<Node>) -> Node {
    let mut node = Node::new("action");
    if let Some(add) = add {
        node = node.attr("add", add);
    }
    wire(&node.with_content(Content::List(children)))
}

fn message_node(id: &str, text: &str) -> Node {
    let info = message::text_message("4915100000001@s.whatsapp.net", id, text, 1_600_000_000);
    Node::new("message").with_content(Content::Bytes(message::encode(&info)))
}

#[test]
fn acks_name_the_other_side_as_chat_and_fan_out_over_ids() {
    let payload = json!(["Msg", {"cmd": "acks", "id": ["A", "B"], "ack": 3,
        "from": "4915100000000@c.us", "to": "4915100000001@c.us"}]);
    let pushes = push::json_push("1", payload, ME);
    let chats: Vec<_> = pushes
        .iter()
        .map(|push| match push {
            Push::Event(Event::Ack { id, ack, chat, .. }) => (id.as_str(), *ack, chat.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        chats,
        [
            ("A", 3, "4915100000001@s.whatsapp.net"),
            ("B", 3, "4915100000001@s.whatsapp.net")
        ]
    );
    // Incoming: the sender is the chat.
    let payload = json!(["MsgInfo", {"cmd": "ack", "id": "C", "ack": 2,
        "from": "4915100000002@c.us", "to": "4915100000000@c.us"}]);
    assert_eq!(
        push::json_push("2", payload, ME),
        [Push::Event(Event::Ack {
            id: "C".into(),
            ack: 2,
            chat: "4915100000002@s.whatsapp.net".into(),
            error: None,
        })]
    );
}

#[test]
fn json_pushes_without_a_meaning_are_kept_whole() {
    for payload in [
        json!(["Msg", {"cmd": "ack"}]),
        json!(["Props", {"imageMaxKBytes": 1024}]),
        json!("not even an array"),
        json!(["Cmd", {"type": "picture"}]),
    ] {
        assert_eq!(
            push::json_push("t", payload.clone(), ME),
            [Push::Event(Event::Json {
                tag: "t".into(),
                payload
            })]
        );
    }
    let pong = push::json_push("t", json!(["Pong", true]), ME);
    assert_eq!(pong[0], Push::PhoneOnline(Some(true)));
    assert!(matches!(pong[1], Push::Event(Event::Json { .. })));
}

#[test]
fn disconnect_orders_tell_replaced_from_unpaired() {
    let replaced = json!(["Cmd", {"type": "disconnect", "kind": "replaced"}]);
    assert_eq!(
        push::json_push("t", replaced, ME),
        [Push::Disconnect { replaced: true }]
    );
    let unpaired = json!(["Cmd", {"type": "disconnect"}]);
    assert_eq!(
        push::json_push("t", unpaired, ME),
        [Push::Disconnect { replaced: false }]
    );
}

#[test]
fn live_actions_map_child_by_child_and_keep_the_rest_as_one_node() {
    let node = action(
        Some("relay"),
        vec![
            message_node("3EB0A", "hello"),
            Node::new("received")
                .attr("index", "3EB0B")
                .attr("jid", "4915100000001@c.us")
                .attr("type", "read"),
            Node::new("battery")
                .attr("value", "152")
                .attr("live", "true"),
            Node::new("chat").attr("jid", "x"),
            Node::new("battery").attr("value", "many"),
        ],
    );
    let pushes = push::node_push("frame", node);
    let Push::Message {
        event: message,
        raw,
    } = &pushes[0]
    else {
        panic!("{:?}", pushes[0]);
    };
    assert_eq!(
        (message.id.as_str(), message.text.as_deref()),
        ("3EB0A", Some("hello"))
    );
    assert_eq!(message.source, Source::Live);
    assert_eq!(
        message::decode_web_message_info(raw)
            .unwrap()
            .key
            .unwrap()
            .id
            .as_deref(),
        Some("3EB0A")
    );
    assert_eq!(
        pushes[1],
        Push::Event(Event::Ack {
            id: "3EB0B".into(),
            ack: 3,
            chat: "4915100000001@s.whatsapp.net".into(),
            error: None,
        })
    );
    assert_eq!(
        pushes[2],
        Push::Battery(Battery {
            percent: 100,
            plugged: true,
            powersave: false
        })
    );
    assert!(matches!(&pushes[3], Push::Undecodable { what, .. } if what == "battery"));
    let Push::Event(Event::Node {
        tag,
        content,
        frame_tag,
        ..
    }) = &pushes[4]
    else {
        panic!("{:?}", pushes[4]);
    };
    assert_eq!((tag.as_str(), frame_tag.as_str()), ("action", "frame"));
    let kept: Vec<_> = content
        .as_array()
        .unwrap()
        .iter()
        .map(|child| child["tag"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["chat", "battery"]);
    assert_eq!(pushes.len(), 5);
}

#[test]
fn history_batches_are_messages_and_other_nodes_go_out_whole() {
    for (add, source) in [
        ("last", Source::History),
        ("before", Source::History),
        ("after", Source::History),
        ("unread", Source::History),
        ("update", Source::Update),
    ] {
        let batch = action(
            Some(add),
            vec![
                message_node("OLD", "earlier"),
                message_node("OLDER", "before"),
            ],
        );
        let pushes = push::node_push("f", batch);
        let sources: Vec<(&str, Source)> = pushes
            .iter()
            .map(|push| match push {
                Push::Message { event, .. } => (event.id.as_str(), event.source),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sources, [("OLD", source), ("OLDER", source)], "{add}");
    }
    let unknown = action(Some("someday"), vec![message_node("OLD", "earlier")]);
    assert!(
        matches!(&push::node_push("f", unknown)[..], [Push::Event(Event::Node { tag, attrs, .. })] if tag == "action" && attrs["add"] == "someday")
    );
    let other = wire(&Node::new("response").attr("type", "emoji"));
    assert!(matches!(
        &push::node_push("f", other)[..],
        [Push::Event(Event::Node { tag, .. })] if tag == "response"
    ));
    // A contact list is stored by the daemon and still goes out as a node (DESIGN.md 4.1).
    let contacts = wire(&Node::new("response").attr("type", "contacts"));
    assert!(matches!(
        &push::node_push("f", contacts)[..],
        [Push::List(_), Push::Event(Event::Node { tag, .. })] if tag == "response"
    ));
    let broken = action(
        None,
        vec![Node::new("message").with_content(Content::Bytes(vec![0xff, 0x01]))],
    );
    let pushes = push::node_push("f", broken);
    assert!(matches!(&pushes[0], Push::Undecodable { what, .. } if what == "message"));
    assert!(matches!(&pushes[1], Push::Event(Event::Node { .. })));
}

#[test]
fn conn_loses_its_secrets_and_gives_its_battery() {
    let payload = json!(["Conn", {"secret": "s", "clientToken": "c", "serverToken": "t",
        "browserToken": "b", "pushname": "Ada", "battery": 87, "plugged": true}]);
    assert_eq!(
        push::conn_battery(&payload[1]),
        Some(Battery {
            percent: 87,
            plugged: true,
            powersave: false
        })
    );
    assert_eq!(
        push::redact_conn(payload),
        json!(["Conn", {"pushname": "Ada", "battery": 87, "plugged": true}])
    );
    assert_eq!(push::conn_battery(&json!({})), None);
}
